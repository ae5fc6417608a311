// The work of `podnet ui` (loaded only when the verb runs): serve until Ctrl-C.
import { labDeps } from '../context.js';
import { resolveTarget, targetLabel } from '../../lab/target.js';
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

/** `podnet ui`: a lab that is not up is an error (start it, or look at --host). */
export async function uiVerb(g: GlobalOptions, o: UiFlags): Promise<void> {
  if (o.host && (o.lab || o.name)) throw new UserError('conflict', 'give one of --lab or --host');
  if (o.lab && o.name && o.lab !== o.name) throw new UserError('conflict', 'give one of --lab or --name');
  requireRoot('ui', 'reads every network namespace');
  const { deps } = labDeps(g, 8);
  const target = await resolveTarget(deps.stateRoot, { lab: o.lab ?? o.name ?? DEFAULT_LAB, labExplicit: true, host: o.host });
  const ui = await startUi({ deps, target, allowChanges: !!o.allowChanges, port: o.port });
  say(`podnet ui: serving ${targetLabel(target)}${o.allowChanges ? ' (changes allowed)' : ', read-only'} on 127.0.0.1:${ui.port}; open this URL once (Ctrl-C stops it):`);
  out(`${ui.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await ui.close();
  say('podnet ui: stopped');
}
