// The work of `podnet run`, `podnet delete pod` and `podnet exec` (loaded only when the verb runs).
import { labDeps } from '../context.js';
import { podDelete, podOf, podRun } from '../../lab/pods.js';
import { requireUp } from '../../lab/lifecycle.js';
import { labFlag, labNetns } from '../../lab/names.js';
import { interruptible } from '../interrupt.js';
import { LabDir } from '../../lab/state.js';
import { attachedArgv, processRunAttached } from '../../host/process.js';
import { out, requireRoot, say, type GlobalOptions } from '../flags.js';

/** `podnet run POD`. */
export async function runVerb(g: GlobalOptions, pod: string, o: { name: string; node?: string; dryRun?: boolean }): Promise<void> {
  if (!o.dryRun) requireRoot('run');
  const { deps, recorder } = labDeps({ ...g, dryRun: o.dryRun });
  const p = await interruptible(`run of pod "${pod}"`, `podnet delete pod ${pod}${labFlag(o.name)}`, (signal) => podRun({ ...deps, signal }, o.name, pod, o.node));
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
 * code becomes podnet's. */
export async function execVerb(g: GlobalOptions, pod: string, command: string[], o: { name: string }): Promise<void> {
  requireRoot('exec', 'enters a network namespace');
  const { deps } = labDeps(g);
  const state = await requireUp(new LabDir(deps.stateRoot, o.name), o.name);
  const ns = labNetns(podOf(state, pod).netns);
  if (g.verbose) say(`+ ${attachedArgv(ns, command).join(' ')}`);
  // Like a shell waiting for its foreground job: a Ctrl-C reaches the command, which decides; podnet
  // ends with the command's code.
  const wait = () => undefined;
  process.on('SIGINT', wait);
  process.on('SIGTERM', wait);
  try {
    process.exitCode = await processRunAttached(ns, command, (m) => say(`error: ${m}`));
  } finally {
    process.off('SIGINT', wait);
    process.off('SIGTERM', wait);
  }
}
