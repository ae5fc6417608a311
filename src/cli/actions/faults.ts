// The work of `podnet lab break` and `podnet lab heal` (loaded only when the verb runs).
import { labDeps } from '../context.js';
import { FAULTS, labBreak, labHeal, checkRequest, type BreakRequest } from '../../lab/faults.js';
import { labFlag } from '../../lab/names.js';
import { UserError } from '../../model/errors.js';
import { renderTable } from '../../render/table.js';
import { out, requireRoot, say, terminalWidth, type GlobalOptions } from '../flags.js';
import { interruptible } from '../interrupt.js';

/** The flags of `lab break`. */
export interface BreakFlags {
  list?: boolean;
  name: string;
  node?: string;
  pod?: string;
  on?: string;
  peer?: string;
}

/** `podnet lab break --list`: one line per fault. */
function list(): void {
  out(renderTable(FAULTS.map((f) => ({ ...f, note: f.unavailable ? ` (not here: ${f.unavailable.split(':')[0]})` : '' })), [
    { header: 'FAULT', cell: (f) => f.name },
    { header: 'WHAT IT DOES', cell: (f) => `${f.summary}${f.note}`, elastic: true },
  ], '', terminalWidth()));
}

/** `podnet lab break FAULT`. */
export async function labBreakVerb(g: GlobalOptions, fault: string | undefined, o: BreakFlags): Promise<void> {
  if (o.list) return list();
  if (!fault) throw new UserError('usage', 'FAULT: name the fault to inject (podnet lab break --list shows them)');
  const req: BreakRequest = { fault, ...(o.node !== undefined ? { node: o.node } : {}), ...(o.pod !== undefined ? { pod: o.pod } : {}), ...(o.on !== undefined ? { on: o.on } : {}), ...(o.peer !== undefined ? { peer: o.peer } : {}) };
  checkRequest(req);
  requireRoot('lab break', 'changes a network namespace');
  const { deps } = labDeps(g);
  const rec = await interruptible(`lab break ${fault}`, `podnet lab heal${labFlag(o.name)}`, (signal) => labBreak({ ...deps, signal }, o.name, req));
  if (!rec) return;
  const where = [rec.node === 'cluster' ? 'the cluster' : `node ${rec.node}`, rec.pod && `pod ${rec.pod}`, rec.on && `on ${rec.on}`, rec.peer && `peer ${rec.peer}`].filter(Boolean).join(', ');
  say(`fault ${rec.fault} injected (${where}): \`podnet doctor${labFlag(o.name)}\` shows it, \`podnet lab heal${labFlag(o.name)}\` undoes it`);
}

/** `podnet lab heal`. */
export async function labHealVerb(g: GlobalOptions, o: { name: string }): Promise<void> {
  requireRoot('lab heal', 'changes a network namespace');
  const { deps } = labDeps(g);
  const healed = await interruptible(`lab heal`, `podnet lab heal${labFlag(o.name)}`, (signal) => labHeal({ ...deps, signal }, o.name));
  if (!healed) return;
  say(healed.length ? `healed ${healed.map((f) => `${f.fault}${f.node === 'cluster' ? '' : ` (${f.node})`}`).join(', ')} in lab "${o.name}"` : `lab "${o.name}" has no injected fault: nothing to heal`);
}
