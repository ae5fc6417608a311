// Synthetic captures of pod1 → pod2 on one node, shaped like what tcpdump records on the five points
// (pod1/eth0, its host veth, cni0, pod2's host veth, pod2/eth0): the bridge's copy of a frame carries
// its ingress port's timestamp to the nanosecond, and with hairpin on a flooded frame comes back out of
// its ingress port. Events are handed over per point, as the capture files are read, not in time order.
import type { DecodedFrame } from '../../../src/model/packet.js';
import type { TraceEvent, TracePath } from '../../../src/model/trace.js';

export const MAC1 = 'c6:1e:3b:0a:11:02';
export const MAC2 = '9e:44:5d:21:7c:03';
export const BCAST = 'ff:ff:ff:ff:ff:ff';
export const IP1 = '10.42.0.2';
export const IP2 = '10.42.0.3';
export const VETH1 = 'veth1a2b3c4d';
export const VETH2 = 'veth5e6f7a8b';
/** Capture start: an arbitrary epoch in ns. */
export const T0 = 1_764_000_000_123_456_789n;

export const P = { pod1: 'pod1/eth0', veth1: `server/${VETH1}`, cni0: 'server/cni0', veth2: `server/${VETH2}`, pod2: 'pod2/eth0' } as const;

export const path: TracePath = {
  src: { owner: 'pod1', ip: IP1, mac: MAC1 },
  dst: { owner: 'pod2', ip: IP2, mac: MAC2 },
  points: [
    { id: P.pod1, owner: 'pod1', netns: '/run/netns/podnet-demo-cni-1', iface: 'eth0', role: 'pod-eth0', position: 0 },
    { id: P.veth1, owner: 'server', netns: '/run/netns/podnet-demo-server', iface: VETH1, role: 'host-veth', position: 1 },
    { id: P.cni0, owner: 'server', netns: '/run/netns/podnet-demo-server', iface: 'cni0', role: 'bridge', position: 2 },
    { id: P.veth2, owner: 'server', netns: '/run/netns/podnet-demo-server', iface: VETH2, role: 'host-veth', position: 3 },
    { id: P.pod2, owner: 'pod2', netns: '/run/netns/podnet-demo-cni-2', iface: 'eth0', role: 'pod-eth0', position: 4 },
  ],
};

/** Both pods' MACs on their ports: what a bridge knows after traffic (warm). */
export const warmFdb = [{ mac: MAC1, port: VETH1 }, { mac: MAC2, port: VETH2 }];

const eth = (src: string, dst: string, ethertype: number) => ({ src, dst, ethertype });

export function icmp(src: string, dst: string, smac: string, dmac: string, type: 0 | 8, seq: number, ipid: number, ttl = 64): DecodedFrame {
  return {
    eth: eth(smac, dmac, 0x0800),
    ipv4: { src, dst, id: ipid, ttl, proto: 1, totalLength: 84, dontFragment: true },
    icmp: { type, code: 0, id: 7, seq },
    summary: `${src} > ${dst}: ICMP echo ${type === 8 ? 'request' : 'reply'}, id 7, seq ${seq}, length 64`,
  };
}

export function arpRequest(smac: string, sip: string, tip: string, dmac = BCAST): DecodedFrame {
  return {
    eth: eth(smac, dmac, 0x0806),
    arp: { op: 'request', senderMac: smac, senderIp: sip, targetMac: '00:00:00:00:00:00', targetIp: tip },
    summary: `ARP, Request who-has ${tip} tell ${sip}, length 28`,
  };
}

export function arpReply(smac: string, sip: string, dmac: string, tip: string): DecodedFrame {
  return {
    eth: eth(smac, dmac, 0x0806),
    arp: { op: 'reply', senderMac: smac, senderIp: sip, targetMac: dmac, targetIp: tip },
    summary: `ARP, Reply ${sip} is-at ${smac}, length 28`,
  };
}

export function tcp(src: string, sport: number, dst: string, dport: number, smac: string, dmac: string, flags: string[], seq: number, ack: number, ipid: number): DecodedFrame {
  const short = flags.map((f) => (f === 'ACK' ? '.' : f[0])).join('');
  return {
    eth: eth(smac, dmac, 0x0800),
    ipv4: { src, dst, id: ipid, ttl: 64, proto: 6, totalLength: 60, dontFragment: true },
    tcp: { srcPort: sport, dstPort: dport, seq, ack, flags, payloadLength: 0 },
    summary: `${src}.${sport} > ${dst}.${dport}: Flags [${short}], seq ${seq}${flags.includes('ACK') ? `, ack ${ack}` : ''}, length 0`,
  };
}

/** A frame seen at `[point, ns after T0]` sightings; returns the events, later grouped per point. */
export function seen(frame: DecodedFrame, sightings: [string, number][]): { point: string; tsNs: bigint; frame: DecodedFrame }[] {
  return sightings.map(([point, ns]) => ({ point, tsNs: T0 + BigInt(ns), frame }));
}

/** The events as the capture files give them: per point (in path order), each file in time order, indexed. */
export function perPoint(list: { point: string; tsNs: bigint; frame: DecodedFrame }[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const point of path.points.map((p) => p.id)) {
    const mine = list.filter((e) => e.point === point);
    // stable: equal timestamps keep the order they were listed in (the order tcpdump wrote them)
    mine.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
    mine.forEach((e, index) => out.push({ ...e, index }));
  }
  return out;
}

const req1 = icmp(IP1, IP2, MAC1, MAC2, 8, 1, 0x3a01);
const rep1 = icmp(IP2, IP1, MAC2, MAC1, 0, 1, 0x7c11);

/** Warm ping: 5 request hops, 5 reply hops; cni0 ties with the ingress veth to the ns. */
export function warmIcmp(): TraceEvent[] {
  return perPoint([
    ...seen(req1, [[P.pod1, 0], [P.veth1, 6_120], [P.cni0, 6_120], [P.veth2, 9_480], [P.pod2, 14_900]]),
    ...seen(rep1, [[P.pod2, 31_200], [P.veth2, 36_050], [P.cni0, 36_050], [P.veth1, 38_700], [P.pod1, 44_310]]),
  ]);
}

/** Cold ping: pod1 ARPs (broadcast, flooded to every port, reflected back out of its own port by
 * hairpin and received by pod1), pod2 answers unicast, then the ping and its reply. */
export function coldIcmp(): TraceEvent[] {
  const who = arpRequest(MAC1, IP1, IP2);
  const isAt = arpReply(MAC2, IP2, MAC1, IP1);
  return perPoint([
    // The egress copies leave the bridge with the ingress timestamp too; veth1 records ingress first.
    ...seen(who, [[P.pod1, 0], [P.veth1, 5_210], [P.cni0, 5_210], [P.veth1, 5_210], [P.veth2, 5_210], [P.pod2, 11_030], [P.pod1, 12_400]]),
    ...seen(isAt, [[P.pod2, 24_500], [P.veth2, 29_070], [P.cni0, 29_070], [P.veth1, 31_900], [P.pod1, 36_800]]),
    ...seen(req1, [[P.pod1, 52_000], [P.veth1, 57_300], [P.cni0, 57_300], [P.veth2, 60_100], [P.pod2, 65_600]]),
    ...seen(rep1, [[P.pod2, 80_900], [P.veth2, 85_400], [P.cni0, 85_400], [P.veth1, 88_000], [P.pod1, 93_800]]),
  ]);
}

/** TCP handshake to port 80: SYN, SYN-ACK, ACK. */
export function tcpHandshake(): TraceEvent[] {
  const all: [string, number][] = [[P.pod1, 0], [P.veth1, 1], [P.cni0, 1], [P.veth2, 2], [P.pod2, 3]];
  const fwd = (base: number) => all.map(([p, n]): [string, number] => [p, base + n * 4_000]);
  const back = (base: number) => [...all].reverse().map(([p], i): [string, number] => [p, base + [0, 4_000, 4_000, 8_000, 12_000][i]]);
  return perPoint([
    ...seen(tcp(IP1, 40_000, IP2, 80, MAC1, MAC2, ['SYN'], 1000, 0, 0x1111), fwd(0)),
    ...seen(tcp(IP2, 80, IP1, 40_000, MAC2, MAC1, ['SYN', 'ACK'], 5000, 1001, 0), back(30_000)),
    ...seen(tcp(IP1, 40_000, IP2, 80, MAC1, MAC2, ['ACK'], 1001, 5001, 0x1112), fwd(60_000)),
  ]);
}

/** A ping that the bridge never forwards: seen at pod1/eth0, its veth and cni0, then nowhere. */
export function noReply(): TraceEvent[] {
  return perPoint(seen(req1, [[P.pod1, 0], [P.veth1, 6_000], [P.cni0, 6_000]]));
}
