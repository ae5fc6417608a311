// Parsing conntrack-tools 1.4.7 output as captured on this machine (kernel 6.18): `-L` plain and with
// `-o extended,id`, `-E -o timestamp[,extended,id]` events (a DNATted TCP connection 8080 → 9090, UDP,
// ICMP whose echo id collides with the entry id, IPv6 with zone and mark, DESTROY from userspace),
// `-S`, plus hostile lines; and the NAT helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  conntrackSummaryCount, conntrackWarnings, describeNat, formatEndpoint, isNatted, parseConntrack, parseConntrackLine, parseConntrackStats,
} from '../../../src/model/conntrack.js';

const LIST = `udp      17 29 src=203.0.113.1 dst=203.0.113.2 sport=50698 dport=53 [UNREPLIED] src=203.0.113.2 dst=203.0.113.1 sport=53 dport=50698 mark=0 use=1
icmp     1 29 src=203.0.113.1 dst=203.0.113.2 type=8 code=0 id=23336 src=203.0.113.2 dst=203.0.113.1 type=0 code=0 id=23336 mark=0 use=1
tcp      6 119 TIME_WAIT src=203.0.113.1 dst=203.0.113.2 sport=36354 dport=8080 src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=36354 [ASSURED] mark=0 use=1
`;

const EXTENDED = `ipv4     2 icmp     1 29 src=203.0.113.1 dst=203.0.113.2 type=8 code=0 id=23336 src=203.0.113.2 dst=203.0.113.1 type=0 code=0 id=23336 mark=0 use=1 id=2679275376
ipv4     2 tcp      6 119 TIME_WAIT src=203.0.113.1 dst=203.0.113.2 sport=36354 dport=8080 src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=36354 [ASSURED] mark=0 use=1 id=1775307639
ipv6     10 tcp      6 119 SYN_SENT src=fd00:db8::1 dst=fd00:db8::2 sport=48528 dport=9091 [UNREPLIED] src=fd00:db8::2 dst=fd00:db8::1 sport=9091 dport=48528 mark=16 zone=7 delta-time=0 use=1 id=1583396057
ipv4     2 udp      17 29 src=203.0.113.1 dst=203.0.113.2 sport=41625 dport=5353 packets=1 bytes=29 [UNREPLIED] src=203.0.113.2 dst=203.0.113.1 sport=5353 dport=41625 packets=0 bytes=0 mark=16 delta-time=0 use=1 id=665448606
`;

const EVENTS = `[1796280481.243471]	    [NEW] tcp      6 120 SYN_SENT src=203.0.113.1 dst=203.0.113.2 sport=36354 dport=8080 [UNREPLIED] src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=36354
[1796280481.243655]	 [UPDATE] tcp      6 60 SYN_RECV src=203.0.113.1 dst=203.0.113.2 sport=36354 dport=8080 src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=36354
[1796280481.243663]	 [UPDATE] tcp      6 432000 ESTABLISHED src=203.0.113.1 dst=203.0.113.2 sport=36354 dport=8080 src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=36354 [ASSURED]
[1796280481.255435]	    [NEW] ipv4     2 icmp     1 30 src=203.0.113.1 dst=203.0.113.2 type=8 code=0 id=23336 [UNREPLIED] src=203.0.113.2 dst=203.0.113.1 type=0 code=0 id=23336 id=2679275376
[1796280546.664061]	[DESTROY] ipv4     2 udp      17 29 src=203.0.113.1 dst=203.0.113.2 sport=58743 dport=5353 [UNREPLIED] src=203.0.113.2 dst=203.0.113.1 sport=5353 dport=58743 mark=16 delta-time=0 id=591508108 [USERSPACE] portid=2684981712 progname=conntrack
[1796280564.653599]	[DESTROY] tcp      6 119 TIME_WAIT src=203.0.113.1 dst=203.0.113.2 sport=41850 dport=8080 src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=41850 [ASSURED] mark=16 delta-time=0 [USERSPACE] portid=24172
[1796280481.243788]	    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=203.0.113.1 dst=203.0.113.2 sport=36354 dport=8080 [UNREPLIED] src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=36354 id=1775307639
conntrack v1.4.7 (conntrack-tools): 7 flow events have been shown.
`;

const STATS = `cpu=0   	found=0 invalid=5 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 
cpu=1   	found=2 invalid=0 insert=0 insert_failed=3 drop=1 early_drop=0 error=0 search_restart=7 clash_resolve=0 chaintoolong=0 
`;

test('-L: protocol, timeout, state, both tuples, flags and counters', () => {
  const [udp, icmp, tcp] = parseConntrack(LIST);
  assert.deepEqual(udp, {
    proto: 'udp', protonum: 17, timeout: 29,
    original: { src: '203.0.113.1', dst: '203.0.113.2', sport: 50698, dport: 53 },
    reply: { src: '203.0.113.2', dst: '203.0.113.1', sport: 53, dport: 50698 },
    flags: ['UNREPLIED'], mark: 0, use: 1,
  });
  assert.deepEqual(icmp.original, { src: '203.0.113.1', dst: '203.0.113.2', type: 8, code: 0, id: 23336 });
  assert.deepEqual(icmp.reply, { src: '203.0.113.2', dst: '203.0.113.1', type: 0, code: 0, id: 23336 });
  assert.equal(icmp.state, undefined);
  assert.equal(tcp.state, 'TIME_WAIT');
  assert.deepEqual(tcp.flags, ['ASSURED']);
  assert.equal(tcp.reply.sport, 9090);
});

test('-o extended,id: family, the entry id apart from the ICMP echo id, IPv6, zone, per-direction counters', () => {
  const [icmp, tcp, v6, udp] = parseConntrack(EXTENDED);
  assert.equal(icmp.family, 'ipv4');
  assert.equal(icmp.proto, 'icmp');
  assert.equal(icmp.original.id, 23336);
  assert.equal(icmp.reply.id, 23336);
  assert.equal(icmp.id, 2679275376, 'the second id after the reply tuple is the entry id');
  assert.equal(tcp.id, 1775307639);
  assert.equal(v6.family, 'ipv6');
  assert.equal(v6.protonum, 6);
  assert.deepEqual([v6.original.src, v6.reply.src, v6.zone, v6.mark], ['fd00:db8::1', 'fd00:db8::2', 7, 16]);
  assert.deepEqual(v6.extra, { 'delta-time': '0' });
  assert.deepEqual(udp.original, { src: '203.0.113.1', dst: '203.0.113.2', sport: 41625, dport: 5353, packets: 1, bytes: 29 });
  assert.deepEqual(udp.reply, { src: '203.0.113.2', dst: '203.0.113.1', sport: 5353, dport: 41625, packets: 0, bytes: 0 });
  assert.deepEqual(udp.flags, ['UNREPLIED']);
});

test('-E -o timestamp: event type, wall-clock time in ns, userspace deletions; the summary line is not an entry', () => {
  const ev = parseConntrack(EVENTS);
  assert.equal(ev.length, 7);
  assert.deepEqual(ev.map((e) => [e.event, e.state ?? '']), [
    ['NEW', 'SYN_SENT'], ['UPDATE', 'SYN_RECV'], ['UPDATE', 'ESTABLISHED'], ['NEW', ''], ['DESTROY', ''], ['DESTROY', 'TIME_WAIT'], ['NEW', 'SYN_SENT'],
  ]);
  assert.equal(ev[6].id, 1775307639, 'an id right after a TCP reply tuple is the entry id (TCP tuples have no id)');
  assert.equal(ev[6].reply.id, undefined);
  assert.equal(ev[6].family, 'ipv4');
  assert.equal(ev[0].tsNs, 1796280481_243471_000n);
  assert.equal(ev[0].timeout, 120);
  assert.deepEqual(ev[0].flags, ['UNREPLIED']);
  assert.equal(ev[3].id, 2679275376);
  assert.equal(ev[3].original.id, 23336);
  assert.deepEqual(ev[4].flags, ['UNREPLIED', 'USERSPACE']);
  assert.deepEqual(ev[4].extra, { 'delta-time': '0', portid: '2684981712', progname: 'conntrack' });
  assert.equal(ev[4].id, 591508108);
  assert.deepEqual(conntrackWarnings(EVENTS), []);
  assert.equal(conntrackSummaryCount(EVENTS), 7);
});

test('hostile lines are skipped or kept apart, never half-read', () => {
  const text = [
    'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.',
    'WARNING: We have hit ENOBUFS! We are losing events.',
    '',
    'tcp 6 119 TIME_WAIT src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2',
    'tcp six 119 src=1.1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1',
    '[1.5] [BOGUS] tcp 6 1 src=1.1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1',
    'unknown  255 599 src=10.0.0.1 dst=10.0.0.2 src=10.0.0.2 dst=10.0.0.1 weird [OFFLOAD] [start=Mon Dec  1] use=1',
    'gre 47 179 src=10.0.0.1 dst=10.0.0.2 srckey=0x0 dstkey=0x0 src=10.0.0.2 dst=10.0.0.1 srckey=0x0 dstkey=0x0 mark=0x10 use=1',
    '\u0000garbage=1',
  ].join('\n');
  const entries = parseConntrack(text);
  assert.deepEqual(entries.map((e) => e.proto), ['unknown', 'gre'], 'a line without its reply tuple, a bad protonum, an unknown event are not entries');
  assert.deepEqual(entries[0].flags, ['OFFLOAD']);
  assert.equal(entries[0].timeout, 599);
  assert.equal(entries[0].use, 1);
  assert.deepEqual(entries[1].extra, { srckey: '0x0', dstkey: '0x0' }, 'unknown tuple keys are kept (once: the reply\'s repeat is the same)');
  assert.equal(entries[1].mark, 16, 'a hex mark is read as a number');
  const warnings = conntrackWarnings(text);
  assert.ok(warnings.includes('WARNING: We have hit ENOBUFS! We are losing events.'));
  assert.ok(!warnings.some((w) => w.startsWith('conntrack v1.4.7')));
  assert.equal(parseConntrackLine('[1796280481.2] [NEW] udp 17 30 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1')?.tsNs, 1796280481_200000_000n);
});

test('-S: per CPU counters and their sums', () => {
  const s = parseConntrackStats(STATS);
  assert.deepEqual(s.cpus.map((c) => c.cpu), [0, 1]);
  assert.equal(s.cpus[0].counters.invalid, 5);
  assert.equal(s.cpus[1].counters.search_restart, 7);
  assert.deepEqual(s.total, { found: 2, invalid: 5, insert: 0, insert_failed: 3, drop: 1, early_drop: 0, error: 0, search_restart: 7, clash_resolve: 0, chaintoolong: 0 });
  assert.deepEqual(parseConntrackStats('conntrack v1.4.7: nothing\n'), { cpus: [], total: {} });
});

test('NAT: DNAT from the reply source, SNAT from the reply destination, none when the reply mirrors', () => {
  const [udp, icmp, tcp] = parseConntrack(LIST);
  assert.equal(isNatted(udp), false);
  assert.equal(describeNat(udp), undefined);
  assert.equal(isNatted(icmp), false, 'ICMP types differ by nature (8 → 0): not NAT');
  assert.equal(isNatted(tcp), true);
  assert.equal(describeNat(tcp), 'DNAT 203.0.113.2:8080 → 203.0.113.2:9090');
  const svc = parseConntrackLine('udp 17 29 src=10.42.0.7 dst=10.43.0.10 sport=40000 dport=53 src=10.42.0.5 dst=10.42.0.7 sport=53 dport=40000 mark=0 use=1');
  assert.equal(svc && describeNat(svc), 'DNAT 10.43.0.10:53 → 10.42.0.5:53');
  const masq = parseConntrackLine('tcp 6 300 ESTABLISHED src=10.42.0.7 dst=8.8.8.8 sport=40000 dport=443 src=8.8.8.8 dst=198.51.100.2 sport=443 dport=40001 [ASSURED] use=1');
  assert.equal(masq && describeNat(masq), 'SNAT 10.42.0.7:40000 → 198.51.100.2:40001');
  const both = parseConntrackLine('tcp 6 300 ESTABLISHED src=fd00::7 dst=fd00:43::a sport=1 dport=80 src=fd00::5 dst=fd00::1 sport=8080 dport=1 use=1');
  assert.equal(both && describeNat(both), 'DNAT [fd00:43::a]:80 → [fd00::5]:8080; SNAT [fd00::7]:1 → [fd00::1]:1');
  const ping = parseConntrackLine('icmp 1 29 src=10.42.0.7 dst=8.8.8.8 type=8 code=0 id=5 src=8.8.8.8 dst=198.51.100.2 type=0 code=0 id=9 use=1');
  assert.equal(ping && describeNat(ping), 'SNAT 10.42.0.7 → 198.51.100.2 (id 5 → 9)');
  assert.equal(formatEndpoint('10.0.0.1'), '10.0.0.1');
});
