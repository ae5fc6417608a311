// What the user sees, as plain data built from what the kernel reported (never from the plan):
// kubectl-like rows, the node's interfaces as the blog lists them, the topology diagram's model.
import type { Addr, FdbEntry, Link } from './kernel.js';
import { fdbKind } from './kernel.js';
import { isMulticastMac } from './mac.js';

/** One namespace as observed: its links and addresses. */
export interface ObservedNetns {
  netns: string;
  links: Link[];
  addrs: Addr[];
}

/** A pod as observed. */
export interface ObservedPod extends ObservedNetns {
  name: string;
  node: string;
  createdAt: string;
  running: boolean;
}

/** A node as observed. */
export interface ObservedNode extends ObservedNetns {
  name: string;
  createdAt: string;
  roles: string;
  /** The forwarding database of the node's bridges (`bridge fdb show`). */
  fdb: FdbEntry[];
}

/** A lab as observed. */
export interface ObservedLab {
  lab: string;
  nodes: ObservedNode[];
  pods: ObservedPod[];
}

/** `kubectl get pods -o wide` row. */
export interface PodRow {
  name: string;
  ready: string;
  status: string;
  restarts: number;
  age: string;
  ip: string;
  node: string;
  netns: string;
  iface: string;
  hostVeth: string;
}

/** `kubectl get nodes -o wide` row. */
export interface NodeRow {
  name: string;
  status: string;
  roles: string;
  age: string;
  version: string;
  internalIP: string;
  podCIDR: string;
  /** flannel.1's MAC (the node's VTEP), as the kernel has it. */
  vtepMac: string;
  osImage: string;
  kernelVersion: string;
  containerRuntime: string;
}

/** One interface of a node, named as `ip link` shows it (`veth82ebd960@if2`), with what it connects to. */
export interface InterfaceRow {
  node: string;
  name: string;
  kind: string;
  master: string;
  mac: string;
  mtu: number;
  state: string;
  addresses: string;
  peer: string;
}

/** The blog's diagram: the node's interface, its bridge, and each pod's veth pair. */
export interface NodeDiagram {
  node: string;
  host: { name: string; ip: string };
  bridge: { name: string; ip: string };
  pods: { pod: string; eth0: string; ip: string; veth: string }[];
}

/** One entry of a bridge's forwarding database, with the interface that owns the MAC. */
export interface FdbRow {
  mac: string;
  port: string;
  kind: 'learned' | 'permanent' | 'self';
  owner: string;
}

/** The unicast FDB entries of a node's bridge ports, each MAC joined to what owns it: a pod's eth0
 * (learned on that pod's host veth), or a host veth itself (the bridge's own, permanent entry). */
export function fdbRows(lab: ObservedLab, nodeName: string, bridge = 'cni0'): FdbRow[] {
  const node = lab.nodes.find((n) => n.name === nodeName);
  if (!node) return [];
  const pods = lab.pods.filter((p) => p.node === nodeName);
  const owners = new Map<string, string>();
  for (const { pod, eth0, veth } of vethPairs(node, pods)) {
    owners.set(eth0.mac, `${pod.name} ${ipLinkName(eth0)}`);
    owners.set(veth.mac, `host veth of ${pod.name}`);
  }
  for (const l of node.links) if (!owners.has(l.mac)) owners.set(l.mac, l.name);
  return node.fdb
    .filter((e) => !isMulticastMac(e.mac) && (e.master === bridge || e.dev === bridge))
    .map((e) => ({ mac: e.mac, port: e.dev, kind: fdbKind(e), owner: owners.get(e.mac) ?? '?' }))
    .sort((a, b) => Number(a.kind !== 'learned') - Number(b.kind !== 'learned') || a.port.localeCompare(b.port));
}

/** The kubectl age of something created at `createdAt`, seen at `now`: 5s, 3m, 2h, 4d. */
export function age(createdAt: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(createdAt)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const v4 = (addrs: Addr[], link: string) => addrs.filter((a) => a.link === link && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`);
/** A link's name as `ip link` prints it: veths get `@ifN` (their peer's ifindex). */
export const ipLinkName = (l: Link) => (l.kind === 'veth' && l.peerIndex ? `${l.name}@if${l.peerIndex}` : l.name);

/** Pairs each pod's eth0 with its host veth on the node: pod eth0's peer index is the host veth's
 * ifindex, and the host veth's peer index is eth0's ifindex. */
export function vethPairs(node: ObservedNode, pods: ObservedPod[]): { pod: ObservedPod; eth0: Link; veth: Link }[] {
  const out: { pod: ObservedPod; eth0: Link; veth: Link }[] = [];
  for (const pod of pods) {
    const eth0 = pod.links.find((l) => l.name === 'eth0' && l.kind === 'veth');
    if (!eth0 || eth0.kind !== 'veth') continue;
    const veth = node.links.find((l) => l.kind === 'veth' && l.index === eth0.peerIndex && l.peerIndex === eth0.index);
    if (veth) out.push({ pod, eth0, veth });
  }
  return out;
}

/** `get pods -o wide` rows. */
export function podRows(lab: ObservedLab, now: Date): PodRow[] {
  return lab.pods.map((pod) => {
    const node = lab.nodes.find((n) => n.name === pod.node);
    const pair = node ? vethPairs(node, [pod])[0] : undefined;
    const eth0 = pod.links.find((l) => l.name === 'eth0');
    const ok = pod.running && eth0?.up === true;
    return {
      name: pod.name,
      ready: ok ? '1/1' : '0/1',
      status: pod.running ? (eth0 ? 'Running' : 'ContainerCreating') : 'Error',
      restarts: 0,
      age: age(pod.createdAt, now),
      ip: v4(pod.addrs, 'eth0')[0]?.split('/')[0] ?? '<none>',
      node: pod.node,
      netns: pod.netns,
      iface: eth0 ? ipLinkName(eth0) : '<none>',
      hostVeth: pair ? ipLinkName(pair.veth) : '<none>',
    };
  });
}

/** `get nodes -o wide` rows; `host` carries what is the same for every node (OS, kernel). */
export function nodeRows(lab: ObservedLab, host: { osImage: string; kernelVersion: string; version: string }, now: Date, podCIDRs: Record<string, string>): NodeRow[] {
  return lab.nodes.map((n) => {
    const eth0 = n.links.find((l) => l.name === 'eth0');
    const cni0 = n.links.find((l) => l.name === 'cni0');
    return {
      name: n.name,
      status: eth0?.up ? 'Ready' : 'NotReady',
      roles: n.roles,
      age: age(n.createdAt, now),
      version: host.version,
      internalIP: v4(n.addrs, 'eth0')[0]?.split('/')[0] ?? '<none>',
      podCIDR: podCIDRs[n.name] ?? (cni0 ? v4(n.addrs, 'cni0')[0] ?? '<none>' : '<none>'),
      vtepMac: n.links.find((l) => l.name === 'flannel.1')?.mac ?? '<none>',
      osImage: host.osImage,
      kernelVersion: host.kernelVersion,
      containerRuntime: `podnet://${host.version.replace(/^v/, '').replace(/\+.*/, '')}`,
    };
  });
}

/** The node's interfaces as the blog lists them, each host veth matched to its pod's `eth0@ifN`. */
export function interfaceRows(lab: ObservedLab, nodeName: string): InterfaceRow[] {
  const node = lab.nodes.find((n) => n.name === nodeName);
  if (!node) return [];
  const pairs = vethPairs(node, lab.pods.filter((p) => p.node === nodeName));
  return node.links.map((l) => {
    const pair = pairs.find((p) => p.veth.index === l.index);
    let peer = '';
    if (pair) peer = `${pair.pod.name}: ${ipLinkName(pair.eth0)} ${v4(pair.pod.addrs, 'eth0').join(' ')}`.trim();
    else if (l.name === 'eth0') peer = 'underlay switch';
    return {
      node: nodeName,
      name: ipLinkName(l),
      kind: l.kind === 'generic' ? l.infoKind : l.kind,
      master: l.master ?? '',
      mac: l.mac,
      mtu: l.mtu,
      state: l.operstate,
      addresses: v4(node.addrs, l.name).join(' '),
      peer,
    };
  });
}

/** The model of the blog's diagram for one node. */
export function nodeDiagram(lab: ObservedLab, nodeName: string): NodeDiagram | undefined {
  const node = lab.nodes.find((n) => n.name === nodeName);
  if (!node) return undefined;
  return {
    node: nodeName,
    host: { name: 'eth0', ip: v4(node.addrs, 'eth0')[0]?.split('/')[0] ?? '' },
    bridge: { name: 'cni0', ip: v4(node.addrs, 'cni0')[0] ?? '' },
    pods: vethPairs(node, lab.pods.filter((p) => p.node === nodeName)).map(({ pod, eth0, veth }) => ({
      pod: pod.name,
      eth0: ipLinkName(eth0),
      ip: v4(pod.addrs, 'eth0')[0]?.split('/')[0] ?? '',
      veth: ipLinkName(veth),
    })),
  };
}
