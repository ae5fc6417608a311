// What `podnet inspect` and `podnet graph` look at: a lab node, the namespace podnet runs in
// (--host), or any other namespace (--netns); scanned and identified into one Snapshot.
import { existsSync } from 'node:fs';
import type { Runner } from '../host/runner.js';
import { CURRENT_NETNS, netnsAt, netnsNamed, type Netns } from '../host/netns.js';
import type { Snapshot } from '../model/snapshot.js';
import { LabDir } from '../lab/state.js';
import { LabError } from '../lab/errors.js';
import { scanHost } from './scan.js';
import { defaultEvidence, identify } from './identify.js';

/** Which namespace is "the host" of an inspection. */
export interface InspectTarget {
  /** A lab node (with `lab`). */
  node?: string;
  lab: string;
  /** The namespace podnet runs in. */
  host?: boolean;
  /** Another namespace: a name under /run/netns or a path. */
  netns?: string;
}

/** Resolves the target: a lab node scans only its lab's namespaces; --host and --netns scan every
 * namespace on the machine. With nothing given: the lab's first node if the lab is up, else --host. */
async function resolveTarget(t: InspectTarget, stateRoot: string): Promise<{ host: Netns; only?: string[]; label: string }> {
  if (t.netns) {
    const ns = t.netns.includes('/') ? netnsAt(t.netns) : netnsNamed(t.netns);
    if (!existsSync(ns.path)) throw new LabError(`--netns ${t.netns}: no such namespace (give a name under /run/netns or a path like /proc/PID/ns/net)`);
    return { host: ns, label: t.netns };
  }
  if (t.host) return { host: CURRENT_NETNS, label: 'this host' };
  const state = await new LabDir(stateRoot, t.lab).read();
  if (!state) {
    if (t.node) throw new LabError(`lab "${t.lab}" is not up, so there is no node "${t.node}" (use --host to inspect this machine)`);
    return { host: CURRENT_NETNS, label: 'this host' };
  }
  const node = t.node ? state.plan.nodes.find((n) => n.name === t.node) : state.plan.nodes[0];
  if (!node) throw new LabError(`unknown node "${t.node}" in lab "${t.lab}" (nodes: ${state.plan.nodes.map((n) => n.name).join(', ')})`);
  const only = [state.plan.underlay.netns, ...state.plan.nodes.map((n) => n.netns), ...state.pods.map((p) => p.netns)];
  return { host: netnsNamed(node.netns), only, label: `${t.lab}/${node.name}` };
}

/** Scans and identifies the target's namespaces. */
export async function inspectTarget(runner: Runner, t: InspectTarget, stateRoot: string): Promise<{ snapshot: Snapshot; label: string }> {
  const { host, only, label } = await resolveTarget(t, stateRoot);
  const snapshot = await identify(await scanHost(runner, { host, ...(only ? { only } : {}) }), defaultEvidence(stateRoot));
  return { snapshot, label };
}
