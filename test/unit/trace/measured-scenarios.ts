// Captures whose timestamps are as this machine's tcpdump wrote them, where capture time is not the
// path's order: a forwarded unicast frame is handed to cni0's tap after the egress veth has sent it
// (`podnet trace pod1 pod2 --tcp 8080`: cni0 ~3 µs after the egress veth, every run), a retried ARP
// whose bridge copy ties with its ingress port to the nanosecond (`podnet trace pod1 10.42.0.99
// --cold`), and a cross-node ping whose flannel.1 copy is stamped after the uplink's encapsulated one.
import type { TraceEvent, TracePath } from '../../../src/model/trace.js';
import { crossIcmp } from './overlay-scenarios.js';
import { arpRequest, BCAST, IP1, IP2, MAC1, MAC2, P, path, perPoint, seen, tcp } from './scenarios.js';

/** The TCP handshake to port 8080 as measured (ns after T0): the bridge after the egress veth. */
export function measuredTcp(): TraceEvent[] {
  return perPoint([
    ...seen(tcp(IP1, 40_000, IP2, 8080, MAC1, MAC2, ['SYN'], 1000, 0, 0x1111),
      [[P.pod1, 0], [P.veth1, 5_000], [P.veth2, 34_000], [P.cni0, 37_000], [P.pod2, 43_000]]),
    ...seen(tcp(IP2, 8080, IP1, 40_000, MAC2, MAC1, ['SYN', 'ACK'], 5000, 1001, 0),
      [[P.pod2, 61_000], [P.veth2, 64_000], [P.veth1, 68_000], [P.cni0, 70_000], [P.pod1, 71_000]]),
    ...seen(tcp(IP1, 40_000, IP2, 8080, MAC1, MAC2, ['ACK'], 1001, 5001, 0x1112),
      [[P.pod1, 88_000], [P.veth1, 90_000], [P.veth2, 93_000], [P.cni0, 96_000], [P.pod2, 99_000]]),
  ]);
}

/** pod1 → an address that is no pod: three points, the path ends at the bridge. */
export const nowherePath: TracePath = {
  src: path.src,
  dst: { owner: '10.42.0.99', ip: '10.42.0.99' },
  points: path.points.slice(0, 3),
};

/** A cold ARP for 10.42.0.99, unanswered and sent again a second later, as measured: the bridge's copy
 * of the flood carries its ingress port's time to the nanosecond; hairpin reflects it back to pod1. */
export function measuredArpRetry(): TraceEvent[] {
  const who = arpRequest(MAC1, IP1, '10.42.0.99', BCAST);
  const again = 1_014_739_000;
  const list = seen(who, [
    [P.pod1, 0], [P.veth1, 11_000], [P.cni0, 11_000], [P.veth1, 35_000], [P.pod1, 37_000],
    [P.pod1, again], [P.veth1, again + 11_000], [P.cni0, again + 11_000], [P.veth1, again + 54_000], [P.pod1, again + 55_000],
  ]);
  const out: TraceEvent[] = [];
  for (const point of nowherePath.points.map((p) => p.id)) {
    list.filter((e) => e.point === point).forEach((e, index) => out.push({ ...e, index }));
  }
  return out;
}

/** The cross-node ping of overlay-scenarios.ts with the request's flannel.1 copy stamped 2 µs after the
 * uplink's encapsulated one, and agent1's cni0 copy stamped after the veth it forwarded to. */
export function crossIcmpLate(p: TracePath): TraceEvent[] {
  const late: Record<string, bigint> = { 'server/flannel.1': 17_000n, 'agent1/cni0': 9_000n };
  return crossIcmp(p).map((e) => (e.frame.icmp?.type === 8 && late[e.point] ? { ...e, tsNs: e.tsNs + late[e.point] } : e));
}
