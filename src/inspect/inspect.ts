// What `podnet inspect` and `podnet graph` look at: a lab node, the namespace podnet runs in
// (--host), or any other namespace (--netns), scanned and identified into one Snapshot; or a whole
// lab, every node at once, split into one Snapshot per node (inspectLab).
import { existsSync } from 'node:fs';
import type { Runner } from '../host/runner.js';
import { CURRENT_NETNS, netnsAt, netnsNamed, type Netns } from '../host/netns.js';
import { peerKey, resolvePeers, type NetnsSnapshot, type Snapshot, type VethPeer } from '../model/snapshot.js';
import { LabDir, type LabState } from '../lab/state.js';
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

/** One node of a lab scan: what the lab state says of it, and what its namespace holds. */
export interface LabNodeScan {
  name: string;
  /** Its underlay IP, bare. */
  ip: string;
  podCIDR: string;
  vtepMac: string;
  /** The node as the host: its namespace, and every namespace a veth joins to it (its pods, the
   * underlay switch). Empty (host '') when the node's namespace could not be read. */
  snapshot: Snapshot;
}

/** A whole lab, scanned at once. */
export interface LabScan {
  lab: string;
  takenAt: string;
  nodes: LabNodeScan[];
}

/** Reads lab `lab`'s state, or a one-line error when it is not up. */
async function upLab(lab: string, stateRoot: string): Promise<LabState> {
  const state = await new LabDir(stateRoot, lab).read();
  if (!state) throw new LabError(`lab "${lab}" is not up (podnet lab up --name ${lab})`);
  return state;
}

/** Scans every node of a lab (or only `opts.nodes`) in one pass — each namespace read once, all of
 * them in parallel — and splits the result into one snapshot per node. */
export async function inspectLab(runner: Runner, lab: string, stateRoot: string, opts: { nodes?: readonly string[] } = {}): Promise<LabScan> {
  const state = await upLab(lab, stateRoot);
  const unknown = (opts.nodes ?? []).filter((n) => !state.plan.nodes.some((x) => x.name === n));
  if (unknown.length) throw new LabError(`unknown node "${unknown[0]}" in lab "${lab}" (nodes: ${state.plan.nodes.map((n) => n.name).join(', ')})`);
  const nodes = state.plan.nodes.filter((n) => !opts.nodes?.length || opts.nodes.includes(n.name));
  const only = [state.plan.underlay.netns, ...nodes.map((n) => n.netns), ...state.pods.filter((p) => nodes.some((n) => n.name === p.node)).map((p) => p.netns)];
  const whole = await identify(await scanHost(runner, { host: netnsNamed(nodes[0].netns), only }), defaultEvidence(stateRoot));
  const peers = resolvePeers(whole);
  return {
    lab,
    takenAt: whole.takenAt,
    nodes: nodes.map((n) => ({ name: n.name, ip: n.ip.split('/')[0], podCIDR: n.podCIDR, vtepMac: n.vtepMac ?? '', snapshot: nodeSnapshot(whole, peers, n.netns) })),
  };
}

/** The part of a whole-lab snapshot that belongs to the node pinned as `netns`: its namespace as the
 * host, and every namespace with a veth whose peer is in it. */
function nodeSnapshot(whole: Snapshot, peers: Map<string, VethPeer>, netns: string): Snapshot {
  const node = whole.namespaces.find((n) => n.names.includes(netns));
  const base = { takenAt: whole.takenAt, ...(whole.nodes ? { nodes: whole.nodes } : {}) };
  if (!node) return { ...base, host: '', namespaces: [] };
  const joined = (ns: NetnsSnapshot) => ns.links.some((l) => l.kind === 'veth' && peers.get(peerKey(ns.id, l.index))?.netns === node.id);
  return { ...base, host: node.id, namespaces: [node, ...whole.namespaces.filter((ns) => ns !== node && joined(ns))] };
}
