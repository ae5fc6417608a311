// The evidence's pure half on hand-built packets: which kernel drops are the trace's (a flooded copy
// for another station never is; a bad VXLAN checksum belongs to the arrival at the next node), and
// the one sentence on why a probe failed — an answer that came back un-NATed (bridge-nf-call-iptables
// off), a pod routed past the overlay, a hairpin port with hairpin off, a Service without endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DropEvent } from '../../../src/model/drops.js';
import type { TraceHop, TracedPacket, TracePath } from '../../../src/model/trace.js';
import { attributeDrops, endingDrop, failureCause } from '../../../src/trace/attribute.js';
import { answered, verdict } from '../../../src/trace/verdict.js';
import { IP1, IP2, P, T0, path } from './scenarios.js';

const hop = (point: string, position: number, ms: number, addrs?: string): TraceHop => ({
  point, role: path.points[position].role, position, tsNs: T0 + BigInt(ms * 1e6), sinceStartNs: ms * 1e6, srcMac: '', dstMac: '', ...(addrs ? { addrs } : {}),
});
const packet = (direction: 'request' | 'reply', flags: string[], hops: TraceHop[], src: string, dst: string): TracedPacket => ({
  key: `tcp ${src}>${dst} ${flags.join(',')} ipid 7`, kind: 'tcp', direction, summary: '', src, dst, tcpFlags: flags, hops,
});
const drop = (reason: string, symbol: string, ms: number, pid = 1): DropEvent => ({
  tsNs: T0 + BigInt(ms * 1e6), cpu: 0, pid, comm: 'x', skbaddr: '0', protocol: 2048, location: { symbol, offset: 0 } as DropEvent['location'], reason,
});
const window = { startNs: T0, fromNs: T0 - 1_000_000n, toNs: T0 + 1_000_000_000n, pids: new Set([42]), monoOffsetNs: 0n };

test('a flooded copy for another station (OTHERHOST) is never the trace\'s drop, even by the probe\'s PID', () => {
  const syn = packet('request', ['SYN'], [hop(P.pod1, 0, 0), hop(P.veth1, 1, 0.01), hop(P.cni0, 2, 0.02)], `${IP1}:4000`, `${IP2}:80`);
  const got = attributeDrops(path, [syn], 'tcp', [drop('OTHERHOST', 'ip_rcv_core', 0.03, 42), drop('IP_INADDRERRORS', 'ip_error', 0.03, 42)], window);
  assert.deepEqual(got.map((d) => `${d.reason} ${d.point} ${d.by}`), ['IP_INADDRERRORS server/cni0 pid']);
});

test('another packet freed under the probe\'s PID (a softirq on its CPU) does not hide the drop placed on the path', () => {
  const syn = packet('request', ['SYN'], [hop(P.pod1, 0, 0), hop(P.veth1, 1, 0.01), hop(P.cni0, 2, 0.02)], `${IP1}:4000`, `${IP2}:80`);
  const got = attributeDrops(path, [syn], 'tcp', [drop('QDISC_DROP', '__dev_queue_xmit', 0.025, 42), drop('PKT_TOO_BIG', 'ip_forward', 0.03, 42)], window);
  assert.deepEqual(got.map((d) => `${d.reason} ${d.point ?? '-'}`), ['QDISC_DROP -', 'PKT_TOO_BIG server/cni0'], 'both are evidence, in time order');
  assert.deepEqual(endingDrop(got)?.reason, 'PKT_TOO_BIG');
  assert.match(failureCause(path, [syn], 'tcp', got, []) ?? '', /^dropped at server\/cni0 → kernel: PKT_TOO_BIG \(ip_forward\)/);
  assert.equal(endingDrop(got.slice(0, 1))?.reason, 'QDISC_DROP', 'with nothing placed, the first');
});

const svcPath: TracePath = { ...path, addressed: { service: 'default/web', ip: '10.43.0.11', port: 80, via: 'cluster-ip', endpoints: [`${IP2}:8080 (pod2 on server)`], targetPort: 8080 } };

test('an answer that reaches the source from the endpoint, not the Service: no answer, and why', () => {
  const syn = packet('request', ['SYN'], [hop(P.pod1, 0, 0, `${IP1}:4000 > 10.43.0.11:80`), hop(P.cni0, 2, 0.02, `${IP1}:4000 > ${IP2}:8080`)], `${IP1}:4000`, '10.43.0.11:80');
  const synack = packet('reply', ['SYN', 'ACK'], [hop(P.pod2, 4, 0.05), hop(P.pod1, 0, 0.08)], `${IP2}:8080`, `${IP1}:4000`);
  assert.equal(answered([syn, synack], 'tcp', svcPath), false);
  assert.equal(answered([syn, synack], 'tcp'), true, 'without the Service: a plain answer');
  assert.match(verdict(svcPath, [syn, synack], 'tcp'), /^no reply from 10\.43\.0\.11:80: the answer reached pod1 from 10\.42\.0\.3:8080, its DNAT not undone/);
  assert.match(failureCause(svcPath, [syn, synack], 'tcp', [], [], { bridgeNf: { server: '0' } }) ?? '',
    /^the answer reached pod1 from 10\.42\.0\.3:8080, not from 10\.43\.0\.11:80 — net\.bridge\.bridge-nf-call-iptables is 0 on server: /);
});

test('a pod routed past the overlay, a hairpin port with hairpin off, a Service without endpoints', () => {
  const syn = packet('request', ['SYN'], [hop(P.pod1, 0, 0), hop(P.cni0, 2, 0.02)], `${IP1}:4000`, `${IP2}:80`);
  const mis: TracePath = { ...path, misroute: { node: 'server', dst: IP2, dstNode: 'agent1', route: 'default via 198.51.100.1 dev eth0' } };
  assert.match(failureCause(mis, [syn], 'tcp', [], []) ?? '', /^server sends 10\.42\.0\.3 \(a pod on agent1\) by its route "default via 198\.51\.100\.1 dev eth0", not through the overlay: its route to agent1's pod subnet through the overlay is missing$/);
  const hp: TracePath = { ...path, hairpin: { node: 'server', bridge: 'cni0', port: 'veth1', on: false } };
  assert.match(failureCause(hp, [syn], 'tcp', [], []) ?? '', /^server's cni0 must send the DNATed packet back out veth1, the port it came in on, and hairpin mode is off on veth1/);
  const empty: TracePath = { ...svcPath, addressed: { ...svcPath.addressed!, endpoints: [] } };
  const reject = { node: 'server', table: 'filter', chain: 'KUBE-SERVICES', type: 'rule', rule: '-4 -t filter -A KUBE-SERVICES -d 10.43.0.11/32 -m comment --comment "default/web has no endpoints" -j REJECT', verdict: 'drop', ipId: 7, index: 1 };
  assert.match(failureCause(empty, [syn], 'tcp', [], [reject]) ?? '', /^dropped by filter KUBE-SERVICES rule 1 \(.*REJECT\) in server — Service default\/web has no ready endpoints, so kube-proxy rejects 10\.43\.0\.11:80$/);
});
