// The work of `podnet node add|delete` (loaded only when the verb runs).
import { labDeps } from '../context.js';
import { nodeAdd, nodeDelete } from '../../lab/nodes.js';
import { addressOf } from '../../model/ip.js';
import { out, requireRoot, say, type GlobalOptions } from '../flags.js';
import { interruptible } from '../interrupt.js';
import { labFlag } from '../../lab/names.js';

/** `podnet node add NODE`. */
export async function nodeAddVerb(g: GlobalOptions, name: string, o: { name: string; dryRun?: boolean }): Promise<void> {
  if (!o.dryRun) requireRoot('node add');
  const { deps, recorder } = labDeps({ ...g, dryRun: o.dryRun });
  const t = performance.now();
  const n = await interruptible(`node add of "${name}"`, `podnet node delete ${name}${labFlag(o.name)}`, (signal) => nodeAdd({ ...deps, signal }, o.name, name));
  if (!n) return;
  if (recorder) out(`${recorder.script()}\n`);
  else say(`node/${n.name} added: ${addressOf(n.ip)}, pod CIDR ${n.podCIDR}, VTEP ${n.vtepMac}; all nodes converged in ${Math.round(performance.now() - t)} ms`);
}

/** `podnet node delete NODE`. */
export async function nodeDeleteVerb(g: GlobalOptions, name: string, o: { name: string }): Promise<void> {
  requireRoot('node delete');
  const { deps } = labDeps(g);
  await nodeDelete(deps, o.name, name);
  say(`node/${name} deleted`);
}
