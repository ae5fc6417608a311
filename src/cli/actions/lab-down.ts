// The work of `podnet lab down` (loaded only when the verb runs): apart from the other lab verbs, so
// that taking a lab down loads what that needs and not what brings one up.
import { labDeps } from '../context.js';
import { labDown } from '../../lab/down.js';
import { out, requireRoot, say, type GlobalOptions } from '../flags.js';

/** `podnet lab down`. */
export async function labDownVerb(g: GlobalOptions, o: { name: string; dryRun?: boolean }): Promise<void> {
  const opts = { ...g, dryRun: o.dryRun };
  if (!opts.dryRun) requireRoot('lab down');
  const { deps, recorder } = labDeps(opts);
  deps.warn = (line) => say(`warning: ${line}`);
  const removed = await labDown(deps, o.name);
  if (recorder) out(`${recorder.script()}\n`);
  else say(removed ? `lab "${o.name}" is down` : `lab "${o.name}" is not up: nothing to remove`);
}
