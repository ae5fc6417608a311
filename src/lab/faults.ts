// `podnet lab break FAULT` and `podnet lab heal`: real faults made with the kernel's own tools on a
// lab's node (or its lease store), each recorded with exactly how to undo it in the lab's own
// faults.json, beside state.json; heal undoes every one, the last first. `lab down` needs nothing
// extra: the namespaces, and the lab's directory with faults.json, go away. A fault is one registry
// entry (./faults/*.ts); bad input is one line naming the flag and the fix, changing nothing.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { UserError } from '../model/errors.js';
import { checkpoint, Interrupted, now, type LabDeps } from './deps.js';
import { requireUp } from './lifecycle.js';
import { withLabLock } from './lock.js';
import { labFlag } from './names.js';
import { LabDir, type LabState } from './state.js';
import { linkFaults } from './faults/link-faults.js';
import { nodeFaults } from './faults/node-faults.js';
import { overlayFaults } from './faults/overlay-faults.js';
import { policyFaults } from './faults/policy-faults.js';
import { serviceFaults } from './faults/service-faults.js';
import { MTU_TARGETS, type FaultContext, type FaultDef, type MtuTarget } from './faults/types.js';
import { applyUndo, undoSchema, type UndoStep } from './faults/undo.js';

/** Every fault, in the order `--list` shows them. */
export const FAULTS: readonly FaultDef[] = [...nodeFaults, ...linkFaults, ...overlayFaults, ...serviceFaults, ...policyFaults];

/** What `lab break` was asked for. */
export interface BreakRequest {
  fault: string;
  node?: string;
  pod?: string;
  on?: string;
  peer?: string;
}

/** A fault that was injected: what, where, when, and how to undo it. */
export interface InjectedFault {
  fault: string;
  node: string;
  pod?: string;
  on?: string;
  peer?: string;
  at: string;
  undo: UndoStep[];
}

/** The file a lab's injected faults are kept in. */
export const faultsFile = (dir: LabDir): string => dir.faultsFile;

function fileSchema(lab: string) {
  return z.object({
    version: z.literal(1),
    faults: z.array(z.object({ fault: z.string(), node: z.string(), pod: z.string().optional(), on: z.string().optional(), peer: z.string().optional(), at: z.string(), undo: z.array(undoSchema(lab)) })),
  });
}

/** The lab's injected faults (none when there is no file); a damaged file is one line naming the field. */
export async function readFaults(dir: LabDir): Promise<InjectedFault[]> {
  let raw: string;
  try {
    raw = await readFile(faultsFile(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new UserError('state', `${faultsFile(dir)} is not JSON: remove it and run \`podnet lab down${labFlag(dir.lab)}\` to reset the lab`);
  }
  const r = fileSchema(dir.lab).safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError('state', `${faultsFile(dir)}: ${i.path.join('.') || 'the top level'}: ${i.message}; remove it and run \`podnet lab down${labFlag(dir.lab)}\` to reset the lab`);
  }
  return r.data.faults;
}

async function writeFaults(dir: LabDir, faults: readonly InjectedFault[]): Promise<void> {
  if (faults.length === 0) {
    await rm(faultsFile(dir), { force: true });
    return;
  }
  const tmp = `${faultsFile(dir)}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ version: 1, faults }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, faultsFile(dir));
}

/** The fault named `name`, or a usage error listing them. */
export function faultOf(name: string): FaultDef {
  const f = FAULTS.find((x) => x.name === name);
  if (!f) throw new UserError('usage', `fault "${name}": no such fault (use one of ${FAULTS.map((x) => x.name).join(', ')}; podnet lab break --list)`);
  return f;
}

/** Checks the options a fault takes before the lab is looked at. */
export function checkRequest(r: BreakRequest): FaultDef {
  const f = faultOf(r.fault);
  for (const opt of ['pod', 'on', 'peer'] as const) {
    if (r[opt] !== undefined && !f.options?.includes(opt)) throw new UserError('usage', `--${opt}: fault "${f.name}" takes no --${opt} (leave it out)`);
  }
  if (r.on !== undefined && !(MTU_TARGETS as readonly string[]).includes(r.on)) throw new UserError('usage', `--on "${r.on}": use ${MTU_TARGETS.join(', ')}`);
  if (f.scope === 'cluster' && r.node !== undefined) throw new UserError('usage', `--node: fault "${f.name}" is the cluster's, not a node's (leave --node out)`);
  if (f.unavailable) throw new UserError('conflict', `fault "${f.name}" cannot be made here: ${f.unavailable}; nothing was changed`);
  return f;
}

/** The node, pod, peer and MTU target a request names, checked against the lab; one line per mistake. */
function resolve(state: LabState, f: FaultDef, r: BreakRequest): Omit<FaultContext, 'deps' | 'dir' | 'state' | 'undo'> {
  const nodes = state.plan.nodes;
  const names = nodes.map((n) => n.name).join(', ');
  const node = r.node === undefined ? nodes[0] : nodes.find((n) => n.name === r.node);
  if (!node) throw new UserError('not-found', `--node "${r.node}": no such node in lab "${state.lab}" (nodes: ${names})`);
  const out: Omit<FaultContext, 'deps' | 'dir' | 'state' | 'undo'> = { node };
  if (f.options?.includes('on')) out.on = (r.on ?? 'flannel.1') as MtuTarget;
  const needsPod = f.options?.includes('pod') && (out.on === undefined || out.on === 'pod');
  if (needsPod) {
    const here = state.pods.filter((p) => p.node === node.name && p.ip);
    const pod = r.pod === undefined ? here[f.name === 'duplicate-ip' ? 1 : 0] : here.find((p) => p.name === r.pod);
    if (!pod) {
      throw new UserError('not-found', r.pod === undefined
        ? `--pod: node ${node.name} has ${here.length ? 'only one pod' : 'no pod'} for fault "${f.name}" (run one: podnet run NAME --node ${node.name}${labFlag(state.lab)})`
        : `--pod "${r.pod}": no such pod on node ${node.name} (pods there: ${here.map((p) => p.name).join(', ') || 'none'})`);
    }
    out.pod = pod;
  } else if (r.pod !== undefined) throw new UserError('usage', `--pod: only --on pod takes a pod (leave --pod out, or give --on pod)`);
  if (f.options?.includes('peer')) {
    const peer = r.peer === undefined ? nodes.find((n) => n.name !== node.name) : nodes.find((n) => n.name === r.peer);
    if (!peer || peer.name === node.name) {
      throw new UserError(nodes.length < 2 ? 'state' : 'not-found', nodes.length < 2
        ? `fault "${f.name}" needs a second node: add one (podnet node add agent1${labFlag(state.lab)})`
        : `--peer "${r.peer}": ${peer ? 'is the node itself' : 'no such node'} (give another node: ${nodes.filter((n) => n.name !== node.name).map((n) => n.name).join(', ')})`);
    }
    out.peer = peer;
  }
  return out;
}

/** Undoes steps, the last first; every step is tried, the first failure is thrown afterwards. */
async function undoAll(deps: LabDeps, dir: LabDir, state: LabState, steps: readonly UndoStep[]): Promise<void> {
  let first: unknown;
  for (const s of [...steps].reverse()) {
    try {
      await applyUndo(deps, dir, state, s);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/** Injects a fault into a lab that is up; a failure (or Ctrl-C) part-way undoes what was made. */
export async function labBreak(deps: LabDeps, lab: string, r: BreakRequest): Promise<InjectedFault> {
  const f = checkRequest(r);
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab);
    const where = resolve(state, f, r);
    const faults = await readFaults(dir);
    const nodeName = f.scope === 'cluster' ? 'cluster' : where.node.name;
    if (faults.some((x) => x.fault === f.name && x.node === nodeName && x.pod === where.pod?.name && x.on === where.on && x.peer === where.peer?.name)) {
      throw new UserError('exists', `fault "${f.name}" is already injected${f.scope === 'node' ? ` on node ${nodeName}` : ''}: run \`podnet lab heal${labFlag(lab)}\` first`);
    }
    checkpoint(deps);
    const ctx: FaultContext = { deps, dir, state, ...where, undo: [] };
    try {
      await f.inject(ctx);
      if (deps.signal?.aborted) throw new Interrupted();
    } catch (e) {
      await undoAll(deps, dir, state, ctx.undo).catch(() => undefined);
      throw e;
    }
    const rec: InjectedFault = { fault: f.name, node: nodeName, ...(where.pod ? { pod: where.pod.name } : {}), ...(where.on ? { on: where.on } : {}), ...(where.peer ? { peer: where.peer.name } : {}), at: now(), undo: ctx.undo };
    if (!deps.host.dryRun) await writeFaults(dir, [...faults, rec]);
    return rec;
  });
}

/** Undoes every injected fault, the last first; resolves with what was healed. */
export function labHeal(deps: LabDeps, lab: string): Promise<InjectedFault[]> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab, true);
    const faults = await readFaults(dir);
    const healed: InjectedFault[] = [];
    for (const f of [...faults].reverse()) {
      await undoAll(deps, dir, state, f.undo);
      healed.push(f);
      if (!deps.host.dryRun) await writeFaults(dir, faults.filter((x) => !healed.includes(x)));
    }
    return healed;
  });
}

/** What `lab down` undoes itself: the faults that live outside the lab's namespaces and directory (a
 * stale lease in an outside etcd); everything else goes with the namespaces and faults.json. */
export async function undoOutsideLab(deps: LabDeps, dir: LabDir, state: LabState): Promise<void> {
  const steps = (await readFaults(dir)).flatMap((f) => f.undo).filter((s) => s.op === 'lease-delete');
  await undoAll(deps, dir, state, steps);
}
