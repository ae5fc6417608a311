// The data of a trace: where it captures, what each capture point saw, and the journey that results.
// Pure types shared by the path finder, the capture orchestration, the correlator and the renderers.
import type { DecodedFrame } from './packet.js';

/** What a capture point is on the path. */
export type PointRole = 'pod-eth0' | 'host-veth' | 'bridge' | 'vxlan' | 'node-uplink';

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
}

/** The capture points between a source and a destination, in order. */
export interface TracePath {
  src: { owner: string; ip: string; mac: string };
  dst: { owner: string; ip: string; mac?: string };
  points: CapturePoint[];
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
  /** Where it was seen, in path order (ties in time broken by position). */
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
  /** True for a frame seen again at a point it already passed (a hairpin reflection). */
  reflected?: boolean;
  /** The kernel's reason for this hop, filled by the explainer. */
  explanation?: string;
}

/** What the trace concluded. */
export interface TraceResult {
  path: TracePath;
  protocol: 'icmp' | 'tcp' | 'udp';
  port?: number;
  cold: boolean;
  startedAt: string;
  packets: TracedPacket[];
  /** True when a reply (or, for TCP, SYN-ACK) came back to the source. */
  answered: boolean;
  /** One line when nothing came back: `no reply, last seen at server/cni0 (+0.21 ms)`. */
  verdict: string;
  /** FDB entries of the bridges on the path before and after (MAC → port), for --cold explanations. */
  fdbBefore: { mac: string; port: string }[];
  fdbAfter: { mac: string; port: string }[];
}

/** Orders capture times. */
export const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** One hop of the whole trace, in time order across packets. */
export interface TimelineEntry {
  packet: TracedPacket;
  packetIndex: number;
  hop: TraceHop;
  hopIndex: number;
}

/** Every hop of every packet in time order (ties: packet order, then hop order). */
export function timeline(packets: readonly TracedPacket[]): TimelineEntry[] {
  const all = packets.flatMap((packet, packetIndex) => packet.hops.map((hop, hopIndex) => ({ packet, packetIndex, hop, hopIndex })));
  return all.sort((a, b) => cmpBig(a.hop.tsNs, b.hop.tsNs) || a.packetIndex - b.packetIndex || a.hopIndex - b.hopIndex);
}

/** Milliseconds with 3 decimals, from ns. */
export const formatMs = (ns: number | bigint): string => (Number(ns) / 1e6).toFixed(3);
