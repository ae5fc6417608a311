// Parsing skb:kfree_skb trace text as this machine's kernel (6.18) prints it: fixtures are real
// `trace` files captured from a tracefs instance (UDP to a closed port, an nft drop rule, ip_forward=0,
// no route, IPv6 multicast noise), plus the variants other settings print (record-tgid, no irq-info)
// and hostile lines. Also the reason table, the format-file helpers and the clock conversion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DROP_REASONS, ethertypeName, excludeReasonsFilter, explainDrop, formatHasReason, formatLocation, monoToRealtimeNs,
  parseDropLine, parseDropReasonCodes, parseDropTrace, parseLocation,
} from '../../../src/model/drops.js';

const CAPTURED = `# tracer: nop
#
# entries-in-buffer/entries-written: 7/9   #P:2
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
            bash-22861   [001] ..s1. 20516.898657: kfree_skb: skbaddr=00000000889c0069 rx_sk=0000000000000000 protocol=2048 location=__udp4_lib_rcv+0x4bc/0xd00 reason: NO_SOCKET
           <...>-22988   [001] ..s1. 20545.375823: kfree_skb: skbaddr=0000000047543d56 rx_sk=0000000000000000 protocol=2048 location=nft_do_chain+0x46f/0x690 reason: NETFILTER_DROP
     kworker/0:2-27286   [000] ..s1. 20545.376078: kfree_skb: skbaddr=0000000043d0d903 rx_sk=0000000000000000 protocol=34525 location=ip6_mc_input+0x1a6/0x2c0 reason: NOT_SPECIFIED
           <...>-22988   [001] .Ns1. 20545.376082: kfree_skb: skbaddr=0000000047543d56 rx_sk=0000000000000000 protocol=2048 location=__udp4_lib_rcv+0x4bc/0xd00 reason: NO_SOCKET
            node-22969   [000] ..s.. 20548.444116: kfree_skb: skbaddr=00000000889c0069 rx_sk=0000000000000000 protocol=2048 location=neigh_invalidate+0x7e/0x140 reason: NEIGH_FAILED
            bash-25985   [001] ..s1. 20864.251022: kfree_skb: skbaddr=000000002eb0158c rx_sk=0000000000000000 protocol=2048 location=ip_error+0x94/0x220 reason: IP_INADDRERRORS
            bash-25989   [000] ..s1. 20864.467197: kfree_skb: skbaddr=00000000fdd2f72f rx_sk=0000000000000000 protocol=2048 location=ip_error+0x94/0x220 reason: IP_INNOROUTES
`;

test('parseDropTrace reads every event of a captured trace, with the header counts', () => {
  const t = parseDropTrace(CAPTURED);
  assert.equal(t.events.length, 7);
  assert.equal(t.entries, 7);
  assert.equal(t.written, 9, 'written > entries: the buffer overwrote two');
  assert.equal(t.lost, 0);
  assert.deepEqual(t.events.map((e) => e.reason), ['NO_SOCKET', 'NETFILTER_DROP', 'NOT_SPECIFIED', 'NO_SOCKET', 'NEIGH_FAILED', 'IP_INADDRERRORS', 'IP_INNOROUTES']);
  assert.deepEqual(t.events[0], {
    tsNs: 20516_898657_000n, cpu: 1, pid: 22861, comm: 'bash', skbaddr: '00000000889c0069', protocol: 2048,
    location: { symbol: '__udp4_lib_rcv', offset: 0x4bc, size: 0xd00 }, reason: 'NO_SOCKET',
  });
  assert.equal(t.events[1].comm, '<...>', 'an unrecorded comm stays as the kernel printed it');
  assert.equal(t.events[1].pid, 22988);
  assert.equal(t.events[2].comm, 'kworker/0:2');
  assert.equal(t.events[2].protocol, 34525);
  assert.equal(t.events[3].location.symbol, '__udp4_lib_rcv', 'the N (need-resched) flag does not confuse the columns');
  assert.equal(t.events[4].comm, 'node');
  assert.equal(t.events[4].cpu, 0);
});

test('the record-tgid layout and a trace without the flags column parse the same; other events are skipped', () => {
  const text = `#           TASK-PID       TGID    CPU#     TIMESTAMP  FUNCTION
            bash-25153   (  25153) [001]  20793.387171: kfree_skb: skbaddr=000000002140b97e rx_sk=0000000000000000 protocol=2048 location=__udp4_lib_rcv+0x4bc/0xd00 reason: NO_SOCKET
            bash-25153   (  25153) [001]  20793.387179: consume_skb: skbaddr=0000000064974d52 location=icmp_rcv+0x259/0x3a0
            bash-25154   [001] 20793.391735: kfree_skb: skbaddr=0000000064974d52 rx_sk=0000000000000000 protocol=2048 location=__udp4_lib_rcv+0x4bc/0xd00 reason: NO_SOCKET
          <idle>-0       (-------) [000] d.s2. 20794.000001: kfree_skb: skbaddr=00000000aaaa protocol=2054 location=arp_rcv+0x1/0x2 reason: OTHERHOST
`;
  const t = parseDropTrace(text);
  assert.deepEqual(t.events.map((e) => [e.comm, e.pid, e.cpu, e.tsNs, e.protocol]), [
    ['bash', 25153, 1, 20793_387171_000n, 2048],
    ['bash', 25154, 1, 20793_391735_000n, 2048],
    ['<idle>', 0, 0, 20794_000001_000n, 2054],
  ]);
  assert.equal(t.events[2].rxSk, undefined, 'an older kernel without rx_sk still parses');
  assert.equal(t.entries, undefined);
});

test('hostile lines: dashes and spaces in comm, modules, raw addresses, unnamed reasons, lost events, junk', () => {
  const text = [
    '##### CPU 1 buffer started ####',
    'CPU:1 [LOST 17 EVENTS]',
    ' CPU:0 [LOST 3 EVENTS]',
    '  Web Content-with-dash-4242  [000] ..s1. 100.000002: kfree_skb: skbaddr=ffff1 rx_sk=ffff9 protocol=2048 location=vxlan_rcv+0x10/0x900 [vxlan] reason: VXLAN_VNI_NOT_FOUND',
    '  a-1 [000] ..s1. 100.5: kfree_skb: skbaddr=ffff2 rx_sk=0000000000000000 protocol=2048 location=0xffffffffc0a1b2c3 reason: 0x20001',
    '  b-2 [000] ..s1. 101.000003: kfree_skb: skbaddr=ffff3 protocol=2048 location=ip_rcv+0x1/0x2',
    '  c-3 [000] ..s1. 101.000004: kfree_skb: skbaddr=ffff4 rx_sk=0 protocol=abc location=x+0x1/0x2 reason: NO_SOCKET',
    '  d-4 [000] ..s1. 101.000005: kfree_skb: skbaddr=ffff5 rx_sk=0 protocol=2048 location=x+0x1/0x2 reason: NO_SOCKET',
    'kfree_skb: skbaddr=1 protocol=2048 location=y reason: NO_SOCKET',
    '',
    '\u0000\u0001garbage [',
    '  e-5 [000] ..s1. 102.000006: kfree_skb: skbaddr=ffff6 rx_sk=0 protocol=2048 location=x+0x1/0x2 reason: NO_SOCKET\r',
  ].join('\n');
  const t = parseDropTrace(text);
  assert.equal(t.lost, 20);
  assert.deepEqual(t.events.map((e) => e.skbaddr), ['ffff1', 'ffff2', 'ffff5', 'ffff6'], 'lines without reason, with a non-numeric protocol or no task column are skipped');
  assert.equal(t.events[0].comm, 'Web Content-with-dash');
  assert.equal(t.events[0].pid, 4242);
  assert.equal(t.events[0].rxSk, 'ffff9');
  assert.deepEqual(t.events[0].location, { symbol: 'vxlan_rcv', offset: 0x10, size: 0x900, module: 'vxlan' });
  assert.deepEqual(t.events[1].location, { symbol: '0xffffffffc0a1b2c3' });
  assert.equal(t.events[1].tsNs, 100_500000_000n, 'a short fraction is microseconds padded, not a different number');
  assert.equal(t.events[1].reason, '0x20001');
  assert.equal(t.events[3].reason, 'NO_SOCKET', 'a CRLF line ending is dropped');
  assert.equal(parseDropLine(''), undefined);
});

test('locations print back as the kernel printed them', () => {
  for (const s of ['__udp4_lib_rcv+0x4bc/0xd00', 'nft_do_chain+0x46f/0x690', '0xffffffffc0a1b2c3']) assert.equal(formatLocation(parseLocation(s)), s);
  assert.equal(formatLocation(parseLocation('vxlan_rcv+0x10/0x900', 'vxlan')), 'vxlan_rcv+0x10/0x900 [vxlan]');
});

const FORMAT = `name: kfree_skb
ID: 2310
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:void * skbaddr;	offset:8;	size:8;	signed:0;
	field:unsigned short protocol;	offset:32;	size:2;	signed:0;
	field:enum skb_drop_reason reason;	offset:36;	size:4;	signed:0;

print fmt: "skbaddr=%p rx_sk=%p protocol=%u location=%pS reason: %s", REC->skbaddr, REC->rx_sk, REC->protocol, REC->location, __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" }, { 4, "SOCKET_CLOSE" }, { 12, "NETFILTER_DROP" }, { 110, "VXLAN_VNI_NOT_FOUND" }, { 129, "MAX" })
`;

test('the format file gives this kernel\'s reason numbers, and filters are built from them', () => {
  const codes = parseDropReasonCodes(FORMAT);
  assert.equal(codes.get('NOT_SPECIFIED'), 2);
  assert.equal(codes.get('NO_SOCKET'), 3);
  assert.equal(codes.get('VXLAN_VNI_NOT_FOUND'), 110);
  assert.equal(codes.size, 6);
  assert.equal(formatHasReason(FORMAT), true);
  assert.equal(formatHasReason(FORMAT.replace(/^.*reason;.*$/m, '')), false, 'a kernel before 5.17 has no reason field');
  assert.equal(parseDropReasonCodes('print fmt: "skbaddr=%p location=%p"').size, 0);
  assert.equal(excludeReasonsFilter(codes, ['NOT_SPECIFIED', 'NO_SOCKET']), 'reason != 2 && reason != 3');
  assert.equal(excludeReasonsFilter(codes, []), undefined);
  assert.throws(() => excludeReasonsFilter(codes, ['NO_SUCH']), /unknown drop reason NO_SUCH \(this kernel knows: NOT_SPECIFIED, NO_SOCKET/);
});

test('every reason pod networking meets has its own sentence; families and unknown names get a fallback', () => {
  const required = ['NETFILTER_DROP', 'IP_RPFILTER', 'NO_SOCKET', 'NEIGH_FAILED', 'IP_INNOROUTES', 'IP_OUTNOROUTES', 'PKT_TOO_BIG', 'VXLAN_VNI_NOT_FOUND',
    'VXLAN_INVALID_HDR', 'UDP_CSUM', 'OTHERHOST', 'TC_INGRESS', 'TC_EGRESS', 'NOT_SPECIFIED', 'SOCKET_FILTER', 'IP_INADDRERRORS', 'NEIGH_QUEUEFULL',
    'QDISC_DROP', 'SKB_CSUM', 'IP_INVALID_SOURCE'];
  for (const r of required) {
    assert.ok(DROP_REASONS[r], `${r} has a sentence`);
    assert.match(explainDrop(r), /^[A-Z].*\.$/, `${r}: one sentence`);
  }
  const sentences = Object.values(DROP_REASONS);
  assert.equal(new Set(sentences).size, sentences.length, 'no two reasons share a sentence');
  assert.match(explainDrop('TCP_OFO_DROP'), /^TCP dropped the segment.*\(TCP_OFO_DROP\)\.$/);
  assert.match(explainDrop('TCP_SOMETHING_NEW'), /TCP_SOMETHING_NEW/);
  assert.match(explainDrop('NEIGH_SOMETHING'), /^Neighbour/);
  assert.match(explainDrop('0x20001'), /could not name \(0x20001\)/);
  assert.match(explainDrop('BRAND_NEW'), /reason BRAND_NEW/);
  assert.match(explainDrop(''), /\(none\)/);
  assert.match(explainDrop('IP_INADDRERRORS'), /ip_forward/, 'the classic silent killer is named where it shows up');
});

test('ethertypes and clocks', () => {
  assert.deepEqual([2048, 2054, 34525, 0x88cc].map(ethertypeName), ['IPv4', 'ARP', 'IPv6', '0x88cc']);
  assert.equal(monoToRealtimeNs(20516_898657_000n, 1_775_000_000_000_000_000n), 1_775_000_000_000_000_000n + 20516_898657_000n);
  assert.equal(monoToRealtimeNs(5n, -2n), 3n);
});
