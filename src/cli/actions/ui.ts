// The work of `podnet ui` (loaded only when the verb runs): serve until Ctrl-C, then stop at once.
import { secureRandom } from '../../host/random.js';
import { Host } from '../../host/host.js';
import { VerboseRunner } from '../../host/runner.js';
import { ShellRunner } from '../../host/shell-runner.js';
import { resolveTarget, targetLabel } from '../../lab/target.js';
import { stateRoot } from '../../lab/state.js';
import type { LabDeps } from '../../lab/deps.js';
import { UserError } from '../../model/errors.js';
import { startUi } from '../../web/server.js';
import { DEFAULT_LAB, out, requireRoot, say, type GlobalOptions } from '../flags.js';

/** The flags of `podnet ui`. */
export interface UiFlags {
  lab?: string;
  name?: string;
  host?: boolean;
  port: number;
  allowChanges?: boolean;
}

/** The lab's dependencies as labDeps makes them (no --dry-run here), keeping hold of the shells so
 * they can be stopped at once on Ctrl-C. */
function uiDeps(g: GlobalOptions): { deps: LabDeps; shells: ShellRunner } {
  const shells = new ShellRunner(8);
  const runner = g.verbose ? new VerboseRunner(shells, say) : shells;
  return { shells, deps: { host: new Host(runner), stateRoot: stateRoot(), random: secureRandom } };
}

/** `podnet ui`: a lab that is not up is an error (start it, or look at --host). On SIGINT or SIGTERM
 * the server stops (a scan under way is abandoned; a trace or a change under way finishes), then the
 * shells, and nothing is left to keep podnet alive: it exits by itself. */
export async function uiVerb(g: GlobalOptions, o: UiFlags): Promise<void> {
  if (o.host && (o.lab || o.name)) throw new UserError('conflict', 'give one of --lab or --host');
  if (o.lab && o.name && o.lab !== o.name) throw new UserError('conflict', 'give one of --lab or --name');
  requireRoot('ui', 'reads every network namespace');
  const { deps, shells } = uiDeps(g);
  try {
    const target = await resolveTarget(deps.stateRoot, { lab: o.lab ?? o.name ?? DEFAULT_LAB, labExplicit: true, host: o.host });
    const ui = await startUi({ deps, target, allowChanges: !!o.allowChanges, port: o.port });
    say(`podnet ui: serving ${targetLabel(target)}${o.allowChanges ? ' (changes allowed)' : ', read-only'} on 127.0.0.1:${ui.port}; open this URL once (Ctrl-C stops it):`);
    out(`${ui.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await ui.close();
  } finally {
    await shells.stop();
  }
  say('podnet ui: stopped');
}
