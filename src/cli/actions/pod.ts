// The work of `podnet run`, `podnet delete pod` and `podnet exec` (loaded only when the verb runs).
import { labDeps } from '../context.js';
import { podDelete, podOf, podRun } from '../../lab/pods.js';
import { labFlag, labNetns, outsideNetnsName } from '../../lab/names.js';
import { OUTSIDE, outsideExists } from '../../lab/outside.js';
import { interruptible } from '../interrupt.js';
import { LabDir, requireUp } from '../../lab/state.js';
import { attachedArgv, processRunAttached, withResolvConf } from '../../host/process.js';
import { podResolvConf, usesClusterDns } from '../../lab/dns.js';
import { formatCommand } from '../../host/runner.js';
import { out, requireRoot, say, type GlobalOptions } from '../flags.js';
import { UserError } from '../../model/errors.js';
import type { ContainerPort } from '../../model/k8s.js';

/** The flags of `podnet run`. */
export interface RunFlags {
  name: string;
  node?: string;
  namespace: string;
  labels?: string;
  port: string[];
  dryRun?: boolean;
}

/** `--labels app=web,tier=front` as a map; one line naming the flag when a pair is not KEY=VALUE. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]{0,62})=([-A-Za-z0-9_.]{0,63})$/.exec(pair.trim());
    if (!m) throw new UserError('usage', `--labels: "${pair}" is not KEY=VALUE (like app=web)`);
    out[m[1]] = m[2];
  }
  return out;
}

/** `--port http=8080/TCP` (or `8080`, `dns=53/UDP`) as a container port. */
export function parsePort(text: string): ContainerPort {
  const m = /^(?:([a-z0-9-]{1,15})=)?(\d{1,5})(?:\/(TCP|UDP|tcp|udp))?$/.exec(text);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new UserError('usage', `--port: "${text}" is not [NAME=]PORT[/UDP] (like http=8080)`);
  return { ...(m[1] ? { name: m[1] } : {}), containerPort: port, protocol: (m[3]?.toUpperCase() ?? 'TCP') as 'TCP' | 'UDP' };
}

/** `podnet run POD [-- CMD…]`. */
export async function runVerb(g: GlobalOptions, pod: string, command: string[], o: RunFlags): Promise<void> {
  const spec = { namespace: o.namespace, labels: parseLabels(o.labels), ports: o.port.map(parsePort), ...(command.length ? { commands: [command] } : {}) };
  if (!o.dryRun) requireRoot('run');
  const { deps, recorder } = labDeps({ ...g, dryRun: o.dryRun });
  const p = await interruptible(`run of pod "${pod}"`, `podnet delete pod ${pod}${labFlag(o.name)}`, (signal) => podRun({ ...deps, signal }, o.name, pod, o.node, spec));
  if (!p) return;
  if (recorder) out(`${recorder.script()}\n`);
  else say(`pod/${p.name} created on ${p.node}: ${p.ip ?? '?'} (${p.hostVeth ?? '?'})`);
}

/** `podnet delete pod POD`. */
export async function deletePodVerb(g: GlobalOptions, pod: string, o: { name: string; dryRun?: boolean }): Promise<void> {
  if (!o.dryRun) requireRoot('delete pod');
  const { deps, recorder } = labDeps({ ...g, dryRun: o.dryRun });
  await podDelete(deps, o.name, pod);
  if (recorder) out(`${recorder.script()}\n`);
  else say(`pod "${pod}" deleted`);
}

/** `podnet exec POD -- CMD…`: the command runs in the pod's namespace with this terminal; its exit
 * code becomes podnet's. `outside` (when no pod has that name) is the lab's outside host. */
export async function execVerb(g: GlobalOptions, pod: string, command: string[], o: { name: string }): Promise<void> {
  requireRoot('exec', 'enters a network namespace');
  const { deps } = labDeps(g);
  const dir = new LabDir(deps.stateRoot, o.name);
  const state = await requireUp(dir, o.name);
  const outside = pod === OUTSIDE && !state.pods.some((p) => p.name === pod);
  if (outside && !(await outsideExists(deps, o.name))) throw new UserError('not-found', `lab "${o.name}" has no outside host (labs get one at \`podnet lab up\`; this one may predate it or have a node named "outside")`);
  const ns = labNetns(outside ? outsideNetnsName(o.name) : podOf(state, pod).netns);
  // As kubectl exec: a pod's command sees its resolv.conf (kubelet's), in a mount namespace of its own.
  const target = outside ? undefined : podOf(state, pod);
  const argv = target && usesClusterDns(target) ? withResolvConf(await podResolvConf(dir, state, target), command) : command;
  if (g.verbose) say(`+ ${formatCommand({ argv: attachedArgv(ns, argv), mutates: false })}`);
  // Like a shell waiting for its foreground job: a Ctrl-C reaches the command, which decides; podnet
  // ends with the command's code.
  const wait = () => undefined;
  process.on('SIGINT', wait);
  process.on('SIGTERM', wait);
  try {
    process.exitCode = await processRunAttached(ns, argv, (m) => say(`error: ${m}`));
  } finally {
    process.off('SIGINT', wait);
    process.off('SIGTERM', wait);
  }
}
