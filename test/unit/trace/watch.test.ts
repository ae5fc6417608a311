// The pure parts of `podnet trace --watch` / `--count`: a pcap read from a pipe in any chunks, frames
// cut into journeys (one exchange each, complete after a quiet time), a journey explained on the path
// as seen from whoever started it, the watch's filters (checked by tcpdump on the committed fixtures),
// the per-hop commands a user would type, the header, and a trace from a pod to itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PcapStream } from '../../../src/trace/pcap-stream.js';
import { readPcap } from '../../../src/trace/pcap.js';
import { Exchanges, exchangeKey, journeyOf, reversePath } from '../../../src/trace/journeys.js';
import { captureFilter, vxlanFilter, vxlanWatchFilter, watchFilter } from '../../../src/trace/capture.js';
import { OwnAddress, tracePath } from '../../../src/trace/path.js';
import { tcpdumpHandCommand } from '../../../src/host/tcpdump.js';
import { watchHeader } from '../../../src/render/trace.js';
import type { TraceEvent } from '../../../src/model/trace.js';
import { twoNodes } from '../../fixtures/trace/two-nodes.js';
import { crossIcmp, crossPath } from './overlay-scenarios.js';
import { measuredTcp } from './measured-scenarios.js';
import { arpReply, arpRequest, icmp, IP1, IP2, MAC1, MAC2, P, path, perPoint, seen, warmFdb, warmIcmp } from './scenarios.js';

const dir = fileURLToPath(new URL('../../../../test/fixtures/trace/', import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(dir + name));
const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

test('PcapStream: a capture fed in chunks of any size gives the frames of the whole file, each as soon as it is complete', () => {
  const bytes = fixture('pod1-eth0.pcap');
  const whole = readPcap(bytes).frames.map((f) => [f.tsNs, Array.from(f.data)]);
  for (const size of [1, 7, 16, 24, 100, 4096]) {
    const s = new PcapStream();
    const got: unknown[] = [];
    for (let i = 0; i < bytes.length; i += size) got.push(...s.push(bytes.subarray(i, i + size)).map((f) => [f.tsNs, Array.from(f.data)]));
    assert.deepEqual(got, whole, `chunks of ${size}`);
    assert.equal(s.error, undefined);
  }
  const bad = new PcapStream();
  assert.deepEqual(bad.push(new Uint8Array(40)), []);
  assert.match(bad.error ?? '', /bad magic/);
});

test('exchangeKey: a request and its answers share one key; another echo, another connection, another key', () => {
  const req = icmp(IP1, IP2, MAC1, MAC2, 8, 1, 10);
  assert.equal(exchangeKey(req), exchangeKey(icmp(IP2, IP1, MAC2, MAC1, 0, 1, 99)));
  assert.notEqual(exchangeKey(req), exchangeKey(icmp(IP1, IP2, MAC1, MAC2, 8, 2, 11)));
  assert.equal(exchangeKey(arpRequest(MAC1, IP1, IP2)), exchangeKey(arpReply(MAC2, IP2, MAC1, IP1)));
  const [syn, synAck] = [measuredTcp()[0].frame, measuredTcp().find((e) => e.frame.tcp?.flags.length === 2)!.frame];
  assert.equal(exchangeKey(syn), exchangeKey(synAck));
  const unreachable = { ...req, ipv4: { ...req.ipv4!, src: IP2, dst: IP1 }, icmp: { type: 3, code: 3, original: { src: IP1, dst: IP2, id: 5, proto: 17, srcPort: 4000, dstPort: 53 } } };
  const udp = { ...req, ipv4: { ...req.ipv4!, proto: 17 }, icmp: undefined, udp: { srcPort: 4000, dstPort: 53, length: 15 } };
  assert.equal(exchangeKey(unreachable), exchangeKey(udp), 'an ICMP error belongs to the exchange it quotes');
});

test('Exchanges: complete after the quiet time (or the longest time), in the order they began', () => {
  const x = new Exchanges({ quietMs: 100, maxMs: 1000, maxEvents: 50 });
  const at = (ev: TraceEvent, now: number) => x.add(ev, now);
  const pings = (seq: number, base: number) => perPoint(seen(icmp(IP1, IP2, MAC1, MAC2, 8, seq, seq), [[P.pod1, base], [P.cni0, base + 5]]));
  pings(1, 0).forEach((e) => at(e, 0));
  pings(2, 1000).forEach((e) => at(e, 50));
  assert.deepEqual(x.due(99), []);
  assert.deepEqual(x.due(100).map((evs) => evs.length), [2], 'seq 1 is quiet');
  assert.equal(x.size, 1);
  assert.deepEqual(x.due(120), []);
  const long = new Exchanges({ quietMs: 100, maxMs: 300, maxEvents: 50 });
  for (let t = 0; t <= 400; t += 50) long.add(pings(3, t)[0], t);
  assert.equal(long.due(300).length, 1, 'a long exchange is shown in slices');
  assert.equal(new Exchanges().due(0, false).length, 0);
});

test('journeyOf: a ping pod1 started, explained like a one-shot trace', () => {
  const j = journeyOf(1, path, warmIcmp(), warmFdb, {});
  assert.equal(j.kind, 'icmp');
  assert.equal(j.result.path, path);
  assert.deepEqual(j.result.packets.map((p) => p.direction), ['request', 'reply']);
  assert.equal(j.result.verdict, 'reply from 10.42.0.3 in 0.044 ms');
  assert.equal(j.result.answered, true);
  assert.match(j.result.packets[0].hops[2].explanation ?? '', /^forwarded to port veth5e6f7a8b/);
});

test('journeyOf: a ping pod2 started is explained on the path walked backwards', () => {
  const events = perPoint([
    ...seen(icmp(IP2, IP1, MAC2, MAC1, 8, 4, 77), [[P.pod2, 0], [P.veth2, 5_000], [P.cni0, 5_000], [P.veth1, 9_000], [P.pod1, 12_000]]),
    ...seen(icmp(IP1, IP2, MAC1, MAC2, 0, 4, 78), [[P.pod1, 20_000], [P.veth1, 23_000], [P.cni0, 23_000], [P.veth2, 26_000], [P.pod2, 30_000]]),
  ]);
  const j = journeyOf(3, path, events, warmFdb, {});
  assert.equal(j.result.path.src.owner, 'pod2');
  assert.deepEqual(j.result.path.points.map((p) => p.id), [P.pod2, P.veth2, P.cni0, P.veth1, P.pod1]);
  assert.deepEqual(j.result.packets.map((p) => [p.label, p.direction]), [['ICMP echo request', 'request'], ['ICMP echo reply', 'reply']]);
  assert.equal(j.result.verdict, 'reply from 10.42.0.2 in 0.030 ms');
  assert.equal(j.result.packets[0].hops[0].explanation, `sent by pod2: dst MAC ${MAC1} (ARP-resolved)`);
  const cross = crossPath();
  const back = reversePath(cross)!;
  assert.deepEqual(back.overlay?.request, cross.overlay?.reply, 'the reply leg is the way there');
  assert.equal(reversePath(tracePath(twoNodes({ named: false }).server, 'pod1', '10.42.1.2')), undefined, 'no pod at the far end: not reversed');
  assert.equal(journeyOf(1, cross, crossIcmp(cross), [], {}).result.verdict, 'reply from 10.42.1.2 in 0.155 ms');
});

test('journeyOf: an ARP exchange alone says whether it was answered', () => {
  const answered = perPoint([
    ...seen(arpRequest(MAC1, IP1, IP2), [[P.pod1, 0], [P.veth1, 5_000], [P.cni0, 5_000], [P.veth2, 6_000], [P.pod2, 9_000]]),
    ...seen(arpReply(MAC2, IP2, MAC1, IP1), [[P.pod2, 20_000], [P.veth2, 22_000], [P.cni0, 22_000], [P.veth1, 25_000], [P.pod1, 27_000]]),
  ]);
  const j = journeyOf(1, path, answered, [], {});
  assert.equal(j.kind, 'arp');
  assert.equal(j.result.verdict, `ARP answered: 10.42.0.3 is-at ${MAC2} in 0.027 ms`);
  assert.deepEqual(j.fdbAfter.map((e) => [e.mac, e.port]).sort(), [[MAC1, 'veth1a2b3c4d'], [MAC2, 'veth5e6f7a8b']].sort(), 'what the bridge learned, for the next journey');
  const lost = journeyOf(2, path, perPoint(seen(arpRequest(MAC1, IP1, '10.42.0.99'), [[P.pod1, 0], [P.veth1, 5_000], [P.cni0, 5_000]])), [], {});
  assert.equal(lost.result.verdict, 'ARP who-has 10.42.0.99 unanswered, last seen at server/cni0 (+0.005 ms)');
});

test('watchFilter: everything between the two, or one protocol; ARP only about them', () => {
  assert.equal(watchFilter(undefined, IP1, IP2), '(host 10.42.0.2 and host 10.42.0.3) or (arp and (host 10.42.0.2 or host 10.42.0.3))');
  assert.equal(watchFilter('tcp', IP1, IP2, 8080), '((tcp port 8080 or (icmp and icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply)) and host 10.42.0.2 and host 10.42.0.3) or (arp and (host 10.42.0.2 or host 10.42.0.3))');
  assert.equal(watchFilter('icmp', IP1, IP2), captureFilter('icmp', IP1, IP2).replace(/ or arp$/, ' or (arp and (host 10.42.0.2 or host 10.42.0.3))'));
  assert.match(vxlanFilter('any', IP1, '10.42.1.2', 8472), /^udp dst port 8472 and udp\[28:2\] = 0x0800 and \(\(udp\[42:4\]/);
  assert.match(vxlanWatchFilter('udp', IP1, '10.42.1.2', 8472), / and \(udp\[39\] = 17 or \(udp\[39\] = 1 and udp\[50\] != 8 and udp\[50\] != 0\)\)$/);
});

test('tcpdump accepts the watch filters and lets the pair through', { skip: hasTcpdump ? false : 'tcpdump is not installed' }, () => {
  const through = (file: string, filter: string) => {
    const r = spawnSync('tcpdump', ['-nn', '-r', dir + file, filter], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').filter((l) => /^\d/.test(l)).length;
  };
  const all = through('pod1-eth0.pcap', 'ip or arp');
  assert.ok(all > 0);
  assert.ok(through('pod1-eth0.pcap', watchFilter(undefined, IP1, IP2)) > 0);
  assert.equal(through('pod1-eth0.pcap', watchFilter(undefined, '10.9.9.1', '10.9.9.2')), 0, 'another pair');
  assert.equal(through('vxlan.pcap', vxlanFilter('any', IP1, '10.42.1.2', 8472)), 2);
  assert.equal(through('vxlan.pcap', vxlanWatchFilter(undefined, IP1, '10.42.1.2', 8472)), 2);
  assert.equal(through('vxlan.pcap', vxlanWatchFilter('tcp', IP1, '10.42.1.2', 8472)), 0, 'a TCP watch leaves pings out');
  assert.equal(through('pod1-eth0.pcap', watchFilter('tcp', IP1, IP2, 8080)) < through('pod1-eth0.pcap', watchFilter(undefined, IP1, IP2)), true);
});

test('the commands a user would type, one terminal per point', () => {
  assert.equal(tcpdumpHandCommand({ name: 'podnet-demo-server', path: '/run/netns/podnet-demo-server' }, 'veth82ebd960', 'icmp or arp'),
    "ip netns exec podnet-demo-server tcpdump -i veth82ebd960 -nn -e 'icmp or arp'");
  assert.equal(tcpdumpHandCommand({ path: '/proc/42/ns/net' }, 'eth0', 'arp'), 'nsenter --net=/proc/42/ns/net tcpdump -i eth0 -nn -e arp');
});

test('the header of a watch', () => {
  assert.equal(watchHeader({ path, count: 3 }), 'watching pod1 (10.42.0.2) <-> pod2 (10.42.0.3): all traffic and ARP on 5 capture points; stops after 3 journeys (Ctrl-C before)');
  assert.equal(watchHeader({ path, protocol: 'tcp', port: 8080 }), 'watching pod1 (10.42.0.2) <-> pod2 (10.42.0.3): tcp port 8080 and ARP on 5 capture points; Ctrl-C stops');
});

test('a trace from a pod to itself (by name, by its IP, to loopback): one line, nothing to capture', () => {
  const { server } = twoNodes();
  for (const dst of ['pod1', '10.42.0.2', '127.0.0.1']) {
    assert.throws(() => tracePath(server, 'pod1', dst), (e: unknown) => e instanceof OwnAddress && e.kind === 'usage' && !e.message.includes('\n') && /stays on lo inside pod1/.test(e.message));
  }
  assert.throws(() => tracePath(server, 'pod1', 'pod1'), { message: 'pod1 -> pod1 (10.42.0.2): a packet to the pod\'s own address stays on lo inside pod1; there is no hop on the path to capture' });
});
