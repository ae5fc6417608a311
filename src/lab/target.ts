// What a reading command looks at, resolved once per command (by the CLI or the UI server) and
// passed down with the lab state it loaded: a lab (or one node of it), the namespace podnet runs in
// (--host), or another namespace (--netns). A lab named explicitly that is not up is an error, never
// a silent switch to this host.
import { existsSync } from 'node:fs';
import { CURRENT_NETNS, netnsAt, netnsNamed, type Netns } from '../host/netns.js';
import { UserError } from '../model/errors.js';
import { DEFAULT_LAB, labFlag } from './names.js';
import { LabDir, type LabState } from './state.js';

/** A resolved target. */
export type Target =
  | { kind: 'lab'; lab: string; state: LabState; node?: string }
  | { kind: 'host' }
  | { kind: 'netns'; netns: Netns; label: string };

/** What the user asked for. `labExplicit`: --name was given (so a lab that is not up is an error). */
export interface TargetRequest {
  lab?: string;
  labExplicit?: boolean;
  node?: string;
  host?: boolean;
  netns?: string;
}

/** A namespace given as a name under /run/netns or as a path, checked to exist. */
export function netnsFromFlag(value: string, flag = '--netns'): Netns {
  const ns = value.includes('/') ? netnsAt(value) : netnsNamed(value);
  if (!existsSync(ns.path)) throw new UserError('not-found', `${flag} ${value}: no such namespace (give a name under /run/netns or a path like /proc/PID/ns/net)`);
  return ns;
}

/** Resolves what to look at: --netns, --host, a node of the lab, or the lab. With nothing given, the
 * default lab when it is up, else this host. */
export async function resolveTarget(stateRoot: string, r: TargetRequest): Promise<Target> {
  if ([r.node !== undefined, !!r.host, !!r.netns].filter(Boolean).length > 1) throw new UserError('conflict', 'give one of NODE, --host or --netns');
  if (r.netns) return { kind: 'netns', netns: netnsFromFlag(r.netns), label: r.netns };
  if (r.host) return { kind: 'host' };
  const lab = r.lab ?? DEFAULT_LAB;
  const state = await new LabDir(stateRoot, lab).read();
  if (!state) {
    if (r.labExplicit) throw new UserError('state', `lab "${lab}" is not up: \`podnet lab list\` shows the labs, \`podnet lab up${labFlag(lab)}\` makes it`);
    if (r.node !== undefined) throw new UserError('state', `lab "${lab}" is not up, so there is no node "${r.node}" (use --host to look at this machine)`);
    return { kind: 'host' };
  }
  if (r.node !== undefined && !state.plan.nodes.some((n) => n.name === r.node)) {
    throw new UserError('not-found', `unknown node "${r.node}" in lab "${lab}" (nodes: ${state.plan.nodes.map((n) => n.name).join(', ')})`);
  }
  return { kind: 'lab', lab, state, ...(r.node !== undefined ? { node: r.node } : {}) };
}

/** The namespace a target treats as "the host" when it is not a whole lab. */
export function targetNetns(t: Exclude<Target, { kind: 'lab' }>): Netns {
  return t.kind === 'host' ? CURRENT_NETNS : t.netns;
}

/** How a target is named in messages: `lab "demo"`, `lab "demo", node agent1`, `this host`, a namespace. */
export function targetLabel(t: Target): string {
  if (t.kind === 'lab') return `lab "${t.lab}"${t.node ? `, node ${t.node}` : ''}`;
  return t.kind === 'host' ? 'this host' : t.label;
}
