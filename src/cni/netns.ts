// Opening CNI_NETNS: the spec gives a path; the plugin must fail clearly if it cannot be opened or is
// not a network namespace (a regular file, a directory), and a path iproute2's batch input cannot
// carry is refused before anything is made.
import { netnsAt, type Netns } from '../host/netns.js';
import { netnsKind } from '../host/namespaces.js';
import { batchArgProblem } from '../host/ip-lines.js';
import type { Host } from '../host/host.js';
import { CniError, ErrorCode } from './spec.js';

/** A handle for CNI_NETNS: code 5 when it is not there or is not a network namespace, code 4 when
 * iproute2 cannot be given the path. Equivalent to: `test -e PATH`. */
export async function openNetns(host: Host, path: string): Promise<Netns> {
  const problem = batchArgProblem(path);
  if (problem) throw new CniError(ErrorCode.InvalidEnv, `CNI_NETNS "${path}" ${problem}: use a plain path such as /run/netns/NAME`);
  if (host.dryRun) return netnsAt(path);
  const kind = await netnsKind(path);
  if (kind === 'missing') throw new CniError(ErrorCode.IoFailure, `failed to open netns "${path}": no such file or directory`);
  if (kind === 'not-netns') throw new CniError(ErrorCode.IoFailure, `failed to open netns "${path}": it is not a network namespace (a namespace file is made by \`ip netns add\` or found at /proc/PID/ns/net)`);
  return netnsAt(path);
}
