// A synthetic cross-node ping shaped like what tcpdump records on the eleven points of a two-node
// lab (test/fixtures/trace/two-nodes.ts): the inner frame on pods, veths, bridges and flannel.1 (TTL
// 64 from the pod, 63 once a node routed it, 62 after both), the same frame inside VXLAN on both
// uplinks and the underlay switch (outer UDP 8472 between the node IPs, VNI 1). Timestamps as
// measured there: decapsulation on the receiving uplink and flannel.1 share one timestamp.
import type { DecodedFrame } from '../../../src/model/packet.js';
import type { TraceEvent, TracePath } from '../../../src/model/trace.js';
import { tracePath } from '../../../src/trace/path.js';
import { AGENT1, SERVER, nodeIp, podIp, twoNodes } from '../../fixtures/trace/two-nodes.js';
import { icmp, T0 } from './scenarios.js';

/** The path of pod1 → pod2 over the fixture's two nodes. */
export function crossPath(): TracePath {
  const { server, agent1 } = twoNodes();
  return tracePath([server, agent1], 'pod1', 'pod2');
}

/** `inner` inside VXLAN from node `from` to node `to` (UDP source port 43096, as the kernel hashed it). */
function vxlan(inner: DecodedFrame, from: typeof SERVER | typeof AGENT1, to: typeof SERVER | typeof AGENT1): DecodedFrame {
  return {
    eth: { src: from.eth0Mac, dst: to.eth0Mac, ethertype: 0x0800 },
    ipv4: { src: nodeIp(from), dst: nodeIp(to), id: 0, ttl: 64, proto: 17, totalLength: 134, dontFragment: false },
    udp: { srcPort: 43096, dstPort: 8472, length: 114 },
    vxlan: { vni: 1, inner },
    summary: `${nodeIp(from)}.43096 > ${nodeIp(to)}.8472: VXLAN vni 1: ${inner.summary}`,
  };
}

/** The events of one warm ping pod1 → pod2 and its reply, per point as the capture files give them. */
export function crossIcmp(path: TracePath = crossPath()): TraceEvent[] {
  const [p1, v1, c1, f1, e1, sw, e2, f2, c2, v2, p2] = path.points.map((p) => p.id);
  const ip1 = podIp(SERVER);
  const ip2 = podIp(AGENT1);
  const req = (smac: string, dmac: string, ttl: number) => icmp(ip1, ip2, smac, dmac, 8, 1, 0x3a01, ttl);
  const rep = (smac: string, dmac: string, ttl: number) => icmp(ip2, ip1, smac, dmac, 0, 1, 0x7c11, ttl);
  const reqTunnel = req(SERVER.vtepMac, AGENT1.vtepMac, 63);
  const repTunnel = rep(AGENT1.vtepMac, SERVER.vtepMac, 63);
  const seen: [string, number, DecodedFrame][] = [
    [p1, 0, req(SERVER.podMac, SERVER.cni0Mac, 64)], [v1, 11_000, req(SERVER.podMac, SERVER.cni0Mac, 64)], [c1, 11_000, req(SERVER.podMac, SERVER.cni0Mac, 64)],
    [f1, 43_000, reqTunnel], [e1, 58_000, vxlan(reqTunnel, SERVER, AGENT1)], [sw, 64_000, vxlan(reqTunnel, SERVER, AGENT1)],
    [e2, 72_000, vxlan(reqTunnel, SERVER, AGENT1)], [f2, 72_000, reqTunnel],
    [c2, 103_000, req(AGENT1.cni0Mac, AGENT1.podMac, 62)], [v2, 110_000, req(AGENT1.cni0Mac, AGENT1.podMac, 62)], [p2, 115_000, req(AGENT1.cni0Mac, AGENT1.podMac, 62)],
    [p2, 129_000, rep(AGENT1.podMac, AGENT1.cni0Mac, 64)], [v2, 130_000, rep(AGENT1.podMac, AGENT1.cni0Mac, 64)], [c2, 130_000, rep(AGENT1.podMac, AGENT1.cni0Mac, 64)],
    [f2, 136_000, repTunnel], [e2, 140_000, vxlan(repTunnel, AGENT1, SERVER)], [sw, 142_000, vxlan(repTunnel, AGENT1, SERVER)],
    [e1, 144_000, vxlan(repTunnel, AGENT1, SERVER)], [f1, 144_000, repTunnel],
    [c1, 152_000, rep(SERVER.cni0Mac, SERVER.podMac, 62)], [v1, 154_000, rep(SERVER.cni0Mac, SERVER.podMac, 62)], [p1, 155_000, rep(SERVER.cni0Mac, SERVER.podMac, 62)],
  ];
  const out: TraceEvent[] = [];
  for (const point of path.points.map((p) => p.id)) {
    seen.filter(([p]) => p === point).forEach(([, ns, frame], index) => out.push({ point, tsNs: T0 + BigInt(ns), frame, index }));
  }
  return out;
}
