// What `podnet inspect` and `podnet graph` look at, scanned and identified into Snapshots: a lab
// node, the namespace podnet runs in (--host), or any other namespace (--netns); or a whole lab,
// every node at once, split into one Snapshot per node (inspectLab).
import type { Host } from '../host/host.js';
import { CURRENT_NETNS, type Netns } from '../host/netns.js';
import { addressOf } from '../model/ip.js';
import { UserError } from '../model/errors.js';
import { peerKey, resolvePeers, type NetnsSnapshot, type Snapshot, type VethPeer } from '../model/snapshot.js';
import { labNamespaces, type LabState } from '../lab/state.js';
import { labNetns } from '../lab/names.js';
import type { Target } from '../lab/target.js';
import { POD_VIEW_SCAN, scanHost } from './scan.js';
import { defaultEvidence, identify } from './identify.js';

/** The namespace a target scans as the host, and what else it scans (a lab: only its own namespaces). */
function scope(t: Target): { host: Netns; only?: string[]; state?: LabState } {
  if (t.kind === 'host') return { host: CURRENT_NETNS };
  if (t.kind === 'netns') return { host: t.netns };
  const node = t.node ? t.state.plan.nodes.find((n) => n.name === t.node)! : t.state.plan.nodes[0];
  if (!node) throw new UserError('state', `lab "${t.lab}" has no node to inspect`);
  return { host: labNetns(node.netns), only: labNamespaces(t.state), state: t.state };
}

/** Scans and identifies the target's namespaces: a lab node with its lab's namespaces; --host and
 * --netns with every namespace on the machine. */
export async function inspectTarget(h: Host, t: Target, stateRoot: string, o: { podsOnly?: boolean } = {}): Promise<Snapshot> {
  // podsOnly: `inspect`'s pod rows, read as the pod views read.
  const { host, only, state } = scope(t);
  return identify(await scanHost(h, { host, ...(only ? { only } : {}), ...(o.podsOnly ? POD_VIEW_SCAN : {}) }), { ...defaultEvidence(stateRoot), ...(state ? { states: [state] } : {}) });
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

/** Scans every node of a lab (or only `nodes`) in one pass — each namespace read once, all of them in
 * parallel — and splits the result into one snapshot per node. */
export async function inspectLab(h: Host, state: LabState, stateRoot: string, opts: { nodes?: readonly string[]; podsOnly?: boolean } = {}): Promise<LabScan> {
  const unknown = (opts.nodes ?? []).filter((n) => !state.plan.nodes.some((x) => x.name === n));
  if (unknown.length) throw new UserError('not-found', `unknown node "${unknown[0]}" in lab "${state.lab}" (nodes: ${state.plan.nodes.map((n) => n.name).join(', ')})`);
  const nodes = state.plan.nodes.filter((n) => !opts.nodes?.length || opts.nodes.includes(n.name));
  if (!nodes.length) return { lab: state.lab, takenAt: new Date().toISOString(), nodes: [] };
  // podsOnly (get pods/nodes): the nodes and their pods, without the underlay switch, read as the pod views read.
  const only = labNamespaces(state, nodes.map((n) => n.name)).filter((ns) => !opts.podsOnly || ns !== state.plan.underlay.netns);
  const scan = await scanHost(h, { host: labNetns(nodes[0].netns), only, ...(opts.podsOnly ? POD_VIEW_SCAN : {}) });
  const whole = await identify(scan, { ...defaultEvidence(stateRoot), states: [state] });
  const peers = resolvePeers(whole);
  return {
    lab: state.lab,
    takenAt: whole.takenAt,
    nodes: nodes.map((n) => ({ name: n.name, ip: addressOf(n.ip), podCIDR: n.podCIDR, vtepMac: n.vtepMac ?? '', snapshot: nodeSnapshot(whole, peers, n.netns) })),
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

/** A lab's underlay switch as the host: every node snapshot holds the switch (a veth joins each node
 * to it), so their union holds the switch and every node end of its ports. Undefined without one. */
export function underlayView(nodes: readonly Snapshot[], netns: string): Snapshot | undefined {
  const byId = new Map<string, NetnsSnapshot>();
  for (const s of nodes) for (const ns of s.namespaces) if (!byId.has(ns.id)) byId.set(ns.id, ns);
  const sw = [...byId.values()].find((n) => n.names.includes(netns));
  return sw && nodes[0] ? { ...nodes[0], namespaces: [...byId.values()], host: sw.id } : undefined;
}

/** A lab as one drawing's input: a snapshot hosted on each node, and the switch's. */
export async function inspectCluster(h: Host, state: LabState, stateRoot: string): Promise<{ nodes: Snapshot[]; underlay?: Snapshot; takenAt: string }> {
  const scan = await inspectLab(h, state, stateRoot);
  const nodes = scan.nodes.map((n) => n.snapshot).filter((s) => s.host !== '');
  const underlay = underlayView(nodes, state.plan.underlay.netns);
  return { nodes, ...(underlay ? { underlay } : {}), takenAt: scan.takenAt };
}
