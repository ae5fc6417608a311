// The data of a trace: where it captures, what each capture point saw, and the journey that results.
// Pure types shared by the path finder, the capture orchestration, the correlator and the renderers.
import type { DecodedFrame } from './packet.js';
import type { TraceEvidence } from './trace-evidence.js';

export type { ConntrackSeen, DropSeen, RuleHit, TraceEvidence } from './trace-evidence.js';

/** What a capture point is on the path: a pod's interface, its host veth, the node's bridge, the
 * node's VXLAN device, the node's underlay interface, the underlay switch between nodes, the interface
 * of a host outside the cluster (the lab's outside host). */
export type PointRole = 'pod-eth0' | 'host-veth' | 'bridge' | 'vxlan' | 'node-uplink' | 'underlay' | 'host';

/** One place tcpdump listens: an interface in a namespace, at a position on the path. */
export interface CapturePoint {
  /** `owner/iface`, e.g. `pod1/eth0`, `server/veth82ebd960`, `server/cni0`: the pcapng if_name. */
  id: string;
  /** Who owns the namespace (pod or node name). */
  owner: string;
  /** A path that opens the namespace. */
  netns: string;
  iface: string;
  role: PointRole;
  /** 0-based position from the source pod towards the destination. */
  position: number;
  /** The interface's own MAC (a bridge's, a VXLAN device's), when the path needs it. */
  mac?: string;
}

/** One side of an overlay crossing: a node, its underlay IP, and (when known) its VXLAN device and uplink. */
export interface OverlayEnd {
  /** The node's name, or its underlay IP when no name is known. */
  node: string;
  ip: string;
  /** The VXLAN device (flannel.1), its MAC, VNI and UDP port. */
  device?: string;
  deviceMac?: string;
  vni?: number;
  port?: number;
  /** The underlay interface that carries the encapsulated packets (eth0). */
  uplink?: string;
}

/** How a packet crosses from one node to another, in the kernel's words: the sending node's route into
 * the VXLAN device, its neighbour entry for the route's gateway (the remote VTEP IP → VTEP MAC), the
 * FDB entry of that MAC (→ the remote node's IP), and the receiving node's route to the destination. */
export interface OverlayLeg {
  from: OverlayEnd;
  to: OverlayEnd;
  /** The sending node's route: `10.42.1.0/24 via 10.42.1.0 dev flannel.1 onlink`. */
  route?: string;
  neighbour?: { ip: string; mac: string; state: string };
  fdb?: { mac: string; dst: string };
  /** The receiving node's route to the destination: `10.42.1.0/24 dev cni0 proto kernel scope link src 10.42.1.1`. */
  deliver?: string;
}

/** The capture points between a source and a destination, in order. */
export interface TracePath {
  src: { owner: string; ip: string; mac: string };
  /** The host the packet is delivered to: behind a Service, the endpoint the kernel chose. */
  dst: { owner: string; ip: string; mac?: string };
  points: CapturePoint[];
  /** What the user addressed when it is not `dst` itself: a Service's ClusterIP, a NodePort on a node. */
  addressed?: AddressedService;
  /** When the path crosses nodes: the crossing of requests (src → dst) and of replies (dst → src). */
  overlay?: { request?: OverlayLeg; reply?: OverlayLeg };
  /** A pod reaching itself through its Service: the bridge port it leaves and comes back through, and
   * whether hairpin mode is on there (the bridge sends a frame back out its ingress port only then). */
  hairpin?: { node: string; bridge: string; port: string; on: boolean };
  /** The destination is a pod on another node, but the source node does not route it into the overlay:
   * the path follows the route it has instead (`route` absent: none) and ends where that goes. */
  misroute?: { node: string; dst: string; dstNode: string; route?: string; overlayRoute?: string };
}

/** A Service (or a NodePort of one) a trace was sent to, and the endpoint behind it. */
export interface AddressedService {
  /** `default/web`. */
  service: string;
  /** The address and port the probe was sent to: the ClusterIP, or a node's IP for a NodePort. */
  ip: string;
  port: number;
  via: 'cluster-ip' | 'node-port';
  /** The node a NodePort was sent to. */
  node?: string;
  /** Every endpoint the Service had (`10.42.1.2:8080 (w2 on agent1)`), and which of them the kernel chose. */
  endpoints: string[];
  chosen?: string;
  /** The endpoint's port (targetPort resolved). */
  targetPort?: number;
}

/** One frame seen at one capture point. */
export interface TraceEvent {
  point: string;
  /** Capture time, ns since the epoch. */
  tsNs: bigint;
  frame: DecodedFrame;
  /** Index of the frame in its point's capture (for the pcapng writer). */
  index: number;
}

/** Which way a packet goes on the path. */
export type Direction = 'request' | 'reply';

/** One packet followed across points. */
export interface TracedPacket {
  /** What identifies it across hops: `icmp 10.42.0.2>10.42.0.3 id 7 seq 1 echo-request ipid 4660`, `arp who-has 10.42.0.3 tell 10.42.0.2`, … */
  key: string;
  kind: 'arp' | 'icmp' | 'tcp' | 'udp' | 'other';
  direction: Direction;
  summary: string;
  /** A short name for diagrams and verdicts: `ICMP echo request`, `ARP who-has 10.42.0.3`, `TCP SYN,ACK`. */
  label?: string;
  /** Network source and destination: IPv4 addresses, `ip:port` for TCP and UDP (ARP: sender and target IPs); absent for non-IP frames. */
  src?: string;
  dst?: string;
  /** The exchange it belongs to, the same for a request and its reply: `icmp 10.42.0.2<>10.42.0.3 id 7 seq 1`, `tcp 10.42.0.2:40000<>10.42.0.3:80`. */
  flow?: string;
  /** ICMP type and code. */
  icmpType?: number;
  icmpCode?: number;
  /** TCP flags, in the order SYN FIN RST PSH ACK URG ECE CWR. */
  tcpFlags?: string[];
  /** Where it was seen, in causal order along the path (a hop after the hop it came from; capture
   * times, which are per interface, may run backwards). */
  hops: TraceHop[];
}

/** One sighting of a packet. */
export interface TraceHop {
  point: string;
  role: PointRole;
  position: number;
  tsNs: bigint;
  /** ns since the first event of the trace. */
  sinceStartNs: number;
  srcMac: string;
  dstMac: string;
  ttl?: number;
  /** The VXLAN encapsulation the packet was seen in at this point (node uplinks, the underlay); srcMac, dstMac and ttl are the inner frame's. */
  outer?: OuterHeader;
  /** True for a frame seen again at a point it already passed (a hairpin reflection). */
  reflected?: boolean;
  /** The kernel's reason for this hop, filled by the explainer. */
  explanation?: string;
  /** The packet's addresses here (`10.42.0.2:39738 > 10.42.1.2:8080`), set on every hop of a packet
   * NAT rewrote on the way (they differ before and after the rewrite). */
  addrs?: string;
}

/** The outer headers of a VXLAN-encapsulated frame. */
export interface OuterHeader {
  srcMac: string;
  dstMac: string;
  /** Outer IPv4 source and destination: the two nodes' underlay IPs. */
  src: string;
  dst: string;
  ttl: number;
  srcPort: number;
  dstPort: number;
  vni: number;
}

/** The protocols a trace probes with. */
export type TraceProtocol = 'icmp' | 'tcp' | 'udp';

/** What a user asks a trace for (the CLI's arguments, the UI's request body). */
export interface TraceAsk {
  /** A pod name, or `outside` (the lab's outside host). */
  src: string;
  /** A pod name, an IPv4 address, a Service (`web`, `web.default`, `web.default.svc.cluster.local`),
   * `CLUSTERIP:PORT`, a NodePort (`NODEIP:PORT`, `NODE:PORT`) or `outside`. */
  dst: string;
  /** Absent: ICMP, or the protocol of the Service port the destination names. */
  protocol?: TraceProtocol;
  /** For tcp and udp (a Service or HOST:PORT destination names its own). */
  port?: number;
  /** Flush neighbours and the learned FDB first (ARP, flooding, learning). */
  cold?: boolean;
  /** Collect no evidence beside the captures (rule tracing, conntrack, drop reasons): faster. */
  noEvidence?: boolean;
  /** The ICMP echo's payload in bytes, sent with DF set (default: ping's 56). */
  size?: number;
}

/** What the trace concluded. */
export interface TraceResult {
  path: TracePath;
  protocol: TraceProtocol;
  port?: number;
  cold: boolean;
  startedAt: string;
  packets: TracedPacket[];
  /** True when a reply (or, for TCP, SYN-ACK) came back to the source. */
  answered: boolean;
  /** One line when nothing came back: `no reply, last seen at server/cni0 (+0.21 ms)`. */
  verdict: string;
  /** Learned FDB entries of the bridges on the path before and after (MAC → port), for --cold explanations. */
  fdbBefore: FdbSeen[];
  fdbAfter: FdbSeen[];
  /** What the kernel said while the trace ran (rule tracing, connection tracking, drop reasons). */
  evidence?: TraceEvidence;
  /** One sentence on why the probe failed, from the evidence: `dropped at agent1/eth0 → kernel: …`. */
  cause?: string;
}

/** A learned FDB entry of a bridge on the path: MAC → port, and the bridge's capture point id
 * (`server/cni0`); an entry without `bridge` belongs to the path's first bridge. */
export interface FdbSeen {
  mac: string;
  port: string;
  bridge?: string;
}

/** Orders capture times. */
export const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** One hop of the whole trace, in the timeline's order. */
export interface TimelineEntry {
  packet: TracedPacket;
  packetIndex: number;
  hop: TraceHop;
  hopIndex: number;
}

/** Every hop of every packet: each packet's hops in their (causal) order, the packets merged by time —
 * the next hop listed is, of each packet's next hop, the one captured first (ties: packet order). So
 * separate packets follow each other in time (a reply after its request, an ARP exchange in the middle
 * of the packet that waited for it), while one packet's hops keep the path's order even where a point
 * stamped its copy later than the next one did. */
export function timeline(packets: readonly TracedPacket[]): TimelineEntry[] {
  const next = packets.map(() => 0);
  const out: TimelineEntry[] = [];
  const total = packets.reduce((n, p) => n + p.hops.length, 0);
  while (out.length < total) {
    let best = -1;
    for (let i = 0; i < packets.length; i++) {
      const hop = packets[i].hops[next[i]];
      if (hop && (best < 0 || hop.tsNs < packets[best].hops[next[best]].tsNs)) best = i;
    }
    const hopIndex = next[best]++;
    out.push({ packet: packets[best], packetIndex: best, hop: packets[best].hops[hopIndex], hopIndex });
  }
  return out;
}

/** True when a hop of the timeline shows an earlier capture time than a hop listed before it (capture
 * times are per interface: they are not the order of the path). */
export function timesOutOfOrder(entries: readonly TimelineEntry[]): boolean {
  let latest: bigint | undefined;
  for (const { hop } of entries) {
    if (latest !== undefined && hop.tsNs < latest) return true;
    if (latest === undefined || hop.tsNs > latest) latest = hop.tsNs;
  }
  return false;
}

/** Milliseconds with 3 decimals, from ns. */
export const formatMs = (ns: number | bigint): string => (Number(ns) / 1e6).toFixed(3);
