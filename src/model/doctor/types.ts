// What `podnet doctor` works with: what a node should hold (NodeExpectation, derived from what the
// node says about itself — a lab's plan and leases, or a real node's subnet.env and CNI config),
// what its kernel holds (NodeObservation, read by src/inspect/doctor), and what is wrong
// (Finding: one per root cause, with evidence and a pasteable fix). Pure data.
import type { Addr, FdbEntry, Link, Neigh, Route } from '../kernel.js';
import type { IptablesDump } from '../netfilter-iptables.js';
import type { NftRuleset } from '../netfilter-nft.js';

/** error: something is broken now; warning: a risk, a cost, or a problem only some traffic meets. */
export type Severity = 'error' | 'warning';

/** How much a finding breaks, most first: every node, one node, two nodes, a Service, a pod, only speed. */
export type Reach = 'cluster' | 'node' | 'peer' | 'service' | 'pod' | 'speed';
export const REACH_ORDER: readonly Reach[] = ['cluster', 'node', 'peer', 'service', 'pod', 'speed'];

/** A value read and the command that shows it. */
export interface Evidence {
  command: string;
  value: string;
}

/** One root cause. */
export interface Finding {
  /** The kind of problem, stable across runs (`ip-forward-off`, `vtep-mtu`, …: docs/doctor.md). */
  id: string;
  severity: Severity;
  /** The node it is on (`server`, `this host`, `underlay`); several nodes joined by ", " after merging. */
  node: string;
  reach: Reach;
  /** What is wrong, one sentence. */
  what: string;
  /** What it breaks, one sentence. */
  breaks: string;
  evidence: Evidence[];
  /** Commands that fix it, pasteable in order. */
  fix: string[];
  /** What it is about within the node (a peer, a pod, a Service), for merging and for tests. */
  subject?: string;
}

/** Where a node's (or pod's) commands run: a pinned namespace, a path, or the namespace podnet runs in. */
export interface NsRef {
  name?: string;
  path?: string;
  current?: boolean;
}

/** A remote node as flannel programs it. */
export interface RemoteNode {
  /** The node's name when known, else its IP. */
  name: string;
  subnet: string;
  vtepIP: string;
  vtepMac: string;
  publicIP: string;
  /** A lease no live node holds (reported once, as a stale lease; its entries are not checked). */
  stale?: boolean;
}

/** A lease as the store holds it. */
export interface LeaseFact {
  subnet: string;
  publicIP: string;
  vtepMac: string;
  vni: number;
}

/** One rule set flannel's table should hold: a chain and its rules as `nft list` prints them. */
export interface ChainRules {
  chain: string;
  rules: string[];
}

/** What a node should hold. Absent fields are unknown and not checked. */
export interface NodeExpectation {
  node: string;
  /** A K3s node (or a lab node): forwarding, bridged netfilter, hairpin and flannel's layout apply. */
  k3s: boolean;
  /** A lab node: its lab's underlay is checked instead of counters that keep earlier faults' history. */
  lab?: boolean;
  clusterCIDR?: string;
  podCIDR?: string;
  bridge: string;
  /** cni0's address with its prefix (10.42.0.1/24). */
  bridgeIP?: string;
  /** The pods' MTU (FLANNEL_MTU). */
  podMtu?: number;
  hairpin: boolean;
  /** The node's underlay IP (flannel's PublicIP), bare. */
  publicIP?: string;
  /** The uplink by name (lab: eth0); else found as the link holding publicIP. */
  uplink?: string;
  vtep?: { device: string; mac?: string; vni: number; port: number };
  /** Every other node's lease; undefined when leases cannot be read (then only consistency is checked). */
  remotes?: RemoteNode[];
  /** flannel's nftables table `ip flannel`, chain by chain; undefined: not checked. */
  flannelRules?: ChainRules[];
  /** The whole ruleset flannel applies (what the fix pastes). */
  flannelRuleset?: string;
  /** The pods the node should run (a lab's record). */
  pods?: { name: string; ip?: string; containerId: string }[];
}

/** A pod as read from the kernel. */
export interface PodObservation {
  name: string;
  ns: NsRef;
  containerId?: string;
  /** The pod's interface toward the node (eth0), with its IPv4 addresses (CIDRs). */
  iface?: { name: string; mtu: number; up: boolean; addrs: string[] };
  /** Its host-side veth (with its bridge-port flags). */
  hostVeth?: Link;
  error?: string;
}

/** A reservation in host-local's store. */
export interface IpamEntry {
  ip: string;
  containerId: string;
  file: string;
}

/** What a node's kernel holds. */
export interface NodeObservation {
  node: string;
  ns: NsRef;
  /** Set when the node's namespace could not be read at all. */
  error?: string;
  links: Link[];
  addrs: Addr[];
  routes: Route[];
  neighs: Neigh[];
  fdb: FdbEntry[];
  /** /proc/sys keys (`net/ipv4/ip_forward`) → value; a key the kernel lacks is absent. */
  sysctls: Record<string, string>;
  /** /proc/net/snmp's Udp counters. */
  udp?: Record<string, number>;
  conntrack?: { count: number; max: number; stats: Record<string, number> };
  iptables?: IptablesDump;
  nft?: NftRuleset;
  /** ethtool -k of the VXLAN device: feature → on. */
  vtepFeatures?: Record<string, boolean>;
  pods: PodObservation[];
  ipam?: { dir: string; entries: IpamEntry[] };
}

/** What a lab adds around its nodes: its leases, its nodes' addresses, its underlay switch. */
export interface ClusterFacts {
  /** Every lease in the store (when it cannot be read: the leases the lab planned). */
  leases: LeaseFact[];
  /** Why the store could not be read, when it could not. */
  storeError?: string;
  /** The lab's nodes: name, underlay IP, pod subnet. */
  nodes: { name: string; ip: string; podCIDR: string }[];
  /** The underlay switch: its namespace and the nftables tables in it (a lab's switch has none). */
  underlay?: { ns: NsRef; nft?: NftRuleset; error?: string };
}

/** The report `podnet doctor` prints. */
export interface DoctorReport {
  kind: 'DoctorReport';
  /** `lab "demo"`, `this host`, a namespace. */
  target: string;
  nodes: string[];
  takenAt: string;
  findings: Finding[];
}
