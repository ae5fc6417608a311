// The work of `podnet doctor` (loaded only when the verb runs): the target resolved once (the only
// lab that is up when none is named; a lab node's namespace given as --netns is that lab's node),
// one read-only collection, the report in the chosen format, exit 1 when something was found.
import type { Command } from 'commander';
import { labDeps } from '../context.js';
import { resolveTarget, type Target } from '../../lab/target.js';
import { LabDir, listLabDirs } from '../../lab/state.js';
import { doctor } from '../../inspect/doctor/index.js';
import { UserError } from '../../model/errors.js';
import { renderDoctor } from '../../render/doctor.js';
import { renderData } from '../../render/output.js';
import { labChoice, out, outputFormat, requireRoot, terminalWidth, type GlobalOptions } from '../flags.js';

/** The flags of `podnet doctor`. */
export interface DoctorOptions {
  host?: boolean;
  netns?: string;
  name: string;
  output: string;
}

/** The labs that are up under `root`. */
async function labsUp(root: string): Promise<string[]> {
  const states = await Promise.all((await listLabDirs(root)).map((l) => new LabDir(root, l).read().catch(() => undefined)));
  return states.filter((s) => s?.status === 'up').map((s) => s!.lab);
}

/** A lab node's namespace given as --netns: that node of that lab (its plan and leases say what it should hold). */
async function labNodeOf(root: string, netns: string): Promise<Target | undefined> {
  const name = netns.replace(/^\/run\/netns\//, '');
  for (const lab of await listLabDirs(root)) {
    const state = await new LabDir(root, lab).read().catch(() => undefined);
    const node = state?.plan.nodes.find((n) => n.netns === name);
    if (state && node) return { kind: 'lab', lab, state, node: node.name };
  }
  return undefined;
}

/** What doctor looks at. */
async function target(root: string, node: string | undefined, o: DoctorOptions, cmd: Command): Promise<Target> {
  const choice = labChoice(cmd, o.name);
  if (o.netns && node === undefined && !o.host) {
    const lab = await labNodeOf(root, o.netns);
    if (lab) return lab;
  }
  if (!choice.labExplicit && !o.host && !o.netns) {
    const up = await labsUp(root);
    if (up.length > 1 && !up.includes(choice.lab)) throw new UserError('conflict', `${up.length} labs are up (${up.join(', ')}): give one with --name`);
    if (up.length === 1) return resolveTarget(root, { lab: up[0], labExplicit: true, ...(node !== undefined ? { node } : {}) });
  }
  return resolveTarget(root, { ...choice, ...(node !== undefined ? { node } : {}), host: o.host, netns: o.netns });
}

/** `podnet doctor [NODE]`. */
export async function doctorVerb(g: GlobalOptions, node: string | undefined, o: DoctorOptions, cmd: Command): Promise<void> {
  const format = outputFormat(o.output, ['table', 'wide', 'json', 'yaml'] as const);
  requireRoot('doctor', 'reads every network namespace');
  const { deps } = labDeps(g, 8);
  const t = await target(deps.stateRoot, node, o, cmd);
  const report = await doctor(deps.host, t, deps.stateRoot);
  out(format === 'json' || format === 'yaml' ? renderData(report, format) : renderDoctor(report, { wide: format === 'wide', width: terminalWidth() }));
  const n = report.findings.length;
  if (n > 0) throw new UserError('findings', `${n} problem${n === 1 ? '' : 's'} found on ${report.target}`);
}
