// The correlator on synthetic captures: hop order (ties broken by path position), directions, hairpin
// reflections, retransmissions, answered(), verdict(), and the layer-2 explanations from the FDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answered, correlate, explainL2, verdict } from '../../../src/trace/correlate.js';
import { timeline, type TracedPacket } from '../../../src/model/trace.js';
import {
  arpRequest, coldIcmp, icmp, IP1, IP2, MAC1, MAC2, noReply, P, path, perPoint, seen, tcpHandshake, VETH1, VETH2, warmFdb, warmIcmp,
} from './scenarios.js';

const points = (p: TracedPacket) => p.hops.map((h) => `${h.point}${h.reflected ? ' (reflected)' : ''}`);
const forward = [P.pod1, P.veth1, P.cni0, P.veth2, P.pod2];
const backward = [...forward].reverse();

test('warm ping: five request hops then five reply hops, the bridge after its ingress veth on equal timestamps', () => {
  const packets = correlate(path, warmIcmp());
  assert.equal(packets.length, 2);
  const [req, rep] = packets;
  assert.equal(req.direction, 'request');
  assert.equal(req.kind, 'icmp');
  assert.equal(req.key, 'icmp 10.42.0.2>10.42.0.3 id 7 seq 1 echo-request ipid 14849');
  assert.equal(req.label, 'ICMP echo request');
  assert.equal(req.flow, 'icmp 10.42.0.2<>10.42.0.3 id 7 seq 1');
  assert.deepEqual(points(req), forward);
  assert.equal(req.hops[1].tsNs, req.hops[2].tsNs, 'the scenario ties veth and bridge');
  assert.equal(rep.direction, 'reply');
  assert.equal(rep.flow, req.flow);
  assert.deepEqual(points(rep), backward, 'replies break ties in descending position');
  assert.deepEqual(req.hops.map((h) => h.sinceStartNs), [0, 6120, 6120, 9480, 14900]);
  assert.ok(req.hops.every((h) => h.ttl === 64 && h.srcMac === MAC1 && h.dstMac === MAC2 && !h.reflected));
  assert.equal(answered(packets, 'icmp'), true);
  assert.equal(answered(packets, 'tcp'), false);
  assert.equal(verdict(path, packets, 'icmp'), 'reply from 10.42.0.3 in 0.044 ms');
  assert.deepEqual(timeline(packets).map((e) => e.hop.point), [...forward, ...backward]);
});

test('the input order of events does not matter', () => {
  const events = warmIcmp();
  assert.deepEqual(correlate(path, [...events].reverse()), correlate(path, events));
});

test('cold ping: the ARP broadcast is flooded to every port and hairpin reflects it back to pod1', () => {
  const packets = correlate(path, coldIcmp());
  assert.deepEqual(packets.map((p) => [p.kind, p.direction, p.label]), [
    ['arp', 'request', 'ARP who-has 10.42.0.3'],
    ['arp', 'reply', `ARP 10.42.0.3 is-at ${MAC2}`],
    ['icmp', 'request', 'ICMP echo request'],
    ['icmp', 'reply', 'ICMP echo reply'],
  ]);
  const [who, isAt, req, rep] = packets;
  assert.deepEqual(points(who), [P.pod1, P.veth1, P.cni0, P.veth2, `${P.veth1} (reflected)`, P.pod2, `${P.pod1} (reflected)`]);
  assert.deepEqual(points(isAt), backward);
  assert.deepEqual(points(req), forward);
  assert.deepEqual(points(rep), backward);
  assert.equal(who.flow, isAt.flow, 'the ARP request and its reply are one exchange');
  assert.equal(verdict(path, packets, 'icmp'), 'reply from 10.42.0.3 in 0.042 ms', 'the round trip is the ping, not the ARP');
  assert.equal(answered(packets, 'icmp'), true);
});

test('an ARP request sent again a second later is a new packet, not a reflection', () => {
  const who = arpRequest(MAC1, IP1, IP2);
  const once = (t: number): [string, number][] => [[P.pod1, t], [P.veth1, t + 5000], [P.cni0, t + 5000], [P.veth1, t + 5000], [P.veth2, t + 5000], [P.pod2, t + 9000], [P.pod1, t + 9500]];
  const packets = correlate(path, perPoint(seen(who, [...once(0), ...once(1_000_000_000)])));
  assert.equal(packets.length, 2);
  for (const p of packets) assert.deepEqual(p.hops.map((h) => !!h.reflected), [false, false, false, false, true, false, true]);
  assert.equal(packets[1].hops[0].sinceStartNs, 1_000_000_000);
  assert.equal(verdict(path, packets, 'icmp'), 'no reply, ARP who-has 10.42.0.3 unanswered, last seen at pod2/eth0 (+0.009 ms)');
});

test('TCP: SYN, SYN-ACK, ACK in order and in the right directions; SYN-ACK answers', () => {
  const packets = correlate(path, tcpHandshake());
  assert.deepEqual(packets.map((p) => [p.label, p.direction, p.hops.length]), [
    ['TCP SYN', 'request', 5], ['TCP SYN,ACK', 'reply', 5], ['TCP ACK', 'request', 5],
  ]);
  assert.deepEqual(points(packets[1]), backward);
  assert.equal(packets[0].flow, 'tcp 10.42.0.2:40000<>10.42.0.3:80');
  assert.equal(packets[1].flow, packets[0].flow);
  assert.deepEqual(packets[1].tcpFlags, ['SYN', 'ACK']);
  assert.equal(answered(packets, 'tcp'), true);
  assert.equal(verdict(path, packets, 'tcp'), 'reply from 10.42.0.3 in 0.042 ms');
});

test('TCP: an RST that comes back is a refusal, not an answer', () => {
  const { tcp } = { tcp: (flags: string[], from1: boolean, ts: number) => seen(
    from1
      ? { eth: { src: MAC1, dst: MAC2, ethertype: 0x800 }, ipv4: { src: IP1, dst: IP2, id: 9, ttl: 64, proto: 6, totalLength: 60, dontFragment: true }, tcp: { srcPort: 40000, dstPort: 81, seq: 1, ack: 0, flags, payloadLength: 0 }, summary: 'syn' }
      : { eth: { src: MAC2, dst: MAC1, ethertype: 0x800 }, ipv4: { src: IP2, dst: IP1, id: 0, ttl: 64, proto: 6, totalLength: 40, dontFragment: true }, tcp: { srcPort: 81, dstPort: 40000, seq: 0, ack: 2, flags, payloadLength: 0 }, summary: 'rst' },
    from1 ? forward.map((p, i): [string, number] => [p, ts + i * 1000]) : backward.map((p, i): [string, number] => [p, ts + i * 1000])) };
  const packets = correlate(path, perPoint([...tcp(['SYN'], true, 0), ...tcp(['RST', 'ACK'], false, 10_000)]));
  assert.equal(answered(packets, 'tcp'), false);
  assert.equal(verdict(path, packets, 'tcp'), 'no reply: TCP RST,ACK from 10.42.0.3 in 0.014 ms');
});

test('no reply: the request is last seen at the bridge', () => {
  const packets = correlate(path, noReply());
  assert.equal(packets.length, 1);
  assert.deepEqual(points(packets[0]), [P.pod1, P.veth1, P.cni0]);
  assert.equal(answered(packets, 'icmp'), false);
  assert.equal(verdict(path, packets, 'icmp'), 'no reply, last seen at server/cni0 (+0.006 ms)');
  assert.equal(verdict(path, [], 'udp'), 'no reply, the UDP request was never captured');
});

test('sinceStartNs counts from the earliest event of the whole trace, events off the path are ignored', () => {
  const events = noReply();
  const early = { point: 'elsewhere/eth9', tsNs: events[0].tsNs - 1000n, frame: icmp(IP1, IP2, MAC1, MAC2, 8, 9, 1), index: 0 };
  const packets = correlate(path, [...events, early]);
  assert.equal(packets.length, 1);
  assert.equal(packets[0].hops[0].sinceStartNs, 1000);
});

test('explainL2 on a warm ping: sent, learned, forwarded from the FDB, left, delivered', () => {
  const packets = explainL2(path, correlate(path, warmIcmp()), warmFdb);
  const [req, rep] = packets;
  assert.deepEqual(req.hops.map((h) => h.explanation), [
    `sent by pod1: dst MAC ${MAC2} (ARP-resolved)`,
    `enters bridge cni0 through port ${VETH1}; the bridge refreshes ${MAC1} on ${VETH1}`,
    `forwarded to port ${VETH2}: ${MAC2} is in the FDB`,
    `leaves cni0 through ${VETH2} towards pod2 (TTL 64, same MACs: bridged, not routed)`,
    'delivered to pod2 (10.42.0.3 is local)',
  ]);
  assert.equal(rep.hops[2].explanation, `forwarded to port ${VETH1}: ${MAC1} is in the FDB`);
  assert.equal(rep.hops[4].explanation, 'delivered to pod1 (10.42.0.2 is local)');
});

test('explainL2 keeps an explanation already there and returns copies', () => {
  const packets = correlate(path, warmIcmp());
  packets[0].hops[0].explanation = 'route get 10.42.0.3: dev eth0';
  const out = explainL2(path, packets, warmFdb);
  assert.equal(out[0].hops[0].explanation, `route get 10.42.0.3: dev eth0; sent by pod1: dst MAC ${MAC2} (ARP-resolved)`);
  assert.equal(packets[0].hops[1].explanation, undefined, 'the input is not changed');
});

test('explainL2 on a cold ping: the broadcast is flooded, the bridge learns both MACs, then forwards', () => {
  const [who, isAt, req, rep] = explainL2(path, correlate(path, coldIcmp()), []);
  assert.deepEqual(who.hops.map((h) => h.explanation), [
    'sent by pod1: ARP broadcast to ff:ff:ff:ff:ff:ff',
    `enters bridge cni0 through port ${VETH1}; the bridge learns ${MAC1} on ${VETH1}`,
    'broadcast: flooded to every port, the ingress port too (hairpin)',
    `leaves cni0 through ${VETH2} towards pod2`,
    `hairpin: cni0 sends it back out through ${VETH1}, the port it came in on`,
    'delivered to pod2: 10.42.0.3 is its address, it answers',
    'hairpin: pod1 gets its own frame back and ignores it',
  ]);
  assert.equal(isAt.hops[1].explanation, `enters bridge cni0 through port ${VETH2}; the bridge learns ${MAC2} on ${VETH2}`);
  assert.equal(isAt.hops[2].explanation, `forwarded to port ${VETH1}: ${MAC1} is in the FDB`, 'learned from the ARP request');
  assert.equal(isAt.hops[4].explanation, `delivered to pod1: it caches 10.42.0.3 is-at ${MAC2}`);
  assert.equal(req.hops[0].explanation, `sent by pod1: dst MAC ${MAC2} (from the ARP reply at +0.037 ms)`);
  assert.equal(rep.hops[0].explanation, `sent by pod2: dst MAC ${MAC1} (from the ARP request at +0.011 ms)`);
  assert.equal(req.hops[2].explanation, `forwarded to port ${VETH2}: ${MAC2} is in the FDB`, 'learned from the ARP reply');
  assert.equal(rep.hops[2].explanation, `forwarded to port ${VETH1}: ${MAC1} is in the FDB`);
});

test('explainL2: a unicast frame to a MAC the bridge does not know is flooded (and hairpinned back)', () => {
  const req = icmp(IP1, IP2, MAC1, MAC2, 8, 1, 77);
  const events = perPoint(seen(req, [[P.pod1, 0], [P.veth1, 5000], [P.cni0, 5000], [P.veth1, 5000], [P.veth2, 5000], [P.pod2, 9000], [P.pod1, 9500]]));
  const [p] = explainL2(path, correlate(path, events), [{ mac: MAC1, port: `server/${VETH1}` }]);
  assert.deepEqual(p.hops.map((h) => !!h.reflected), [false, false, false, false, true, false, true]);
  assert.equal(p.hops[1].explanation, `enters bridge cni0 through port ${VETH1}; the bridge refreshes ${MAC1} on ${VETH1}`);
  assert.equal(p.hops[2].explanation, `flooded to every port: ${MAC2} unknown`);
  assert.equal(p.hops[6].explanation, 'hairpin: pod1 gets its own frame back and ignores it');
  const [warm] = explainL2(path, correlate(path, events), warmFdb);
  assert.equal(warm.hops[2].explanation, `forwarded to port ${VETH2}: ${MAC2} is in the FDB`);
});
