// Opening CNI_NETNS: the spec gives a path; the plugin must fail clearly if it cannot be opened.
import { netnsAt, type Netns } from '../host/netns.js';
import type { Host } from '../host/host.js';
import { CniError, ErrorCode } from './spec.js';

/** A handle for CNI_NETNS, or code 5 when it is not there. Equivalent to: `test -e PATH`. */
export async function openNetns(host: Host, path: string): Promise<Netns> {
  if (!(await host.exists(path))) throw new CniError(ErrorCode.IoFailure, `failed to open netns "${path}": no such file or directory`);
  return netnsAt(path);
}
