// Parsing netfilter's tools as they print on this machine (fixtures in ./netfilter-fixtures.ts, all
// captured here): iptables-save plain and with -c, iptables-restore's and nft's error messages,
// `nft -j` of a kube-proxy-like table, one ping traced by `nft monitor trace` and `xtables-monitor
// --trace` (the same packet under both, so their chains and verdicts must agree), and the flows
// podnet writes into tracing rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkTraceFlow, groupTraces, iptablesRestoreTables, iptablesSaveSections, nftChainRules, nftTraceRuleset, parseIptablesRestoreError,
  parseIptablesSave, parseNftJson, parseNftPacket, parseNftTrace, parseXtablesPacket, parseXtablesTrace, quoteIptablesWord,
  splitIptablesWords, traceFlowIptables, traceFlowNft, xtablesTraceRules, type TraceEvent,
} from '../../../src/model/netfilter.js';
import { isUserError } from '../../../src/model/errors.js';
import * as F from './netfilter-fixtures.js';

const rulesOf = (dump: ReturnType<typeof parseIptablesSave>, table: string, chain: string) =>
  dump.tables.find((t) => t.name === table)?.rules.filter((r) => r.chain === chain) ?? [];

test('iptables-save: tables, chains with policies, every -A line a rule', () => {
  const dump = parseIptablesSave(F.IPTABLES_SAVE);
  assert.deepEqual(dump.warnings, []);
  assert.deepEqual(dump.tables.map((t) => t.name), ['filter', 'nat']);
  const [filter, nat] = dump.tables;
  assert.deepEqual(filter.chains.map((c) => [c.name, c.policy, c.builtin]), [['INPUT', 'ACCEPT', true], ['FORWARD', 'DROP', true], ['OUTPUT', 'ACCEPT', true], ['KUBE-FORWARD', '-', false]]);
  assert.deepEqual(nat.chains.find((c) => c.name === 'OUTPUT')?.counters, { packets: 1, bytes: 84 }, 'chain counters are printed even without -c');
  const lines = (table: string) => F.IPTABLES_SAVE.split(`*${table}\n`)[1].split('COMMIT')[0].split('\n').filter((l) => l.startsWith('-A '));
  assert.deepEqual(filter.rules.map((r) => r.text), lines('filter'));
  assert.deepEqual(nat.rules.map((r) => r.text), lines('nat'));
  assert.equal(nat.rules.length, 16);
  assert.ok(nat.rules.every((r) => r.table === 'nat' && r.counters === undefined));
});

test('iptables-save: a KUBE-SVC chain (negation, statistic, comment, jump) and its KUBE-SEPs (DNAT)', () => {
  const dump = parseIptablesSave(F.IPTABLES_SAVE);
  const [masq, first, last] = rulesOf(dump, 'nat', 'KUBE-SVC-LOLE4ISW44XBNF3G');
  assert.deepEqual(masq.matches.slice(0, 3), [
    { option: '-s', value: '10.42.0.0/16', negated: true }, { option: '-d', value: '10.43.0.20/32', negated: false }, { option: '-p', value: 'tcp', negated: false },
  ]);
  assert.deepEqual(masq.matches.slice(5), [{ option: '-m', value: 'tcp', negated: false }, { option: '--dport', value: '80', negated: false, module: 'tcp' }]);
  assert.equal(masq.comment, 'default/web:http cluster IP');
  assert.deepEqual([masq.target, masq.targetKind], ['KUBE-MARK-MASQ', 'jump']);
  assert.equal(first.comment, 'default/web:http -> 10.42.0.5:8080');
  assert.deepEqual(first.matches.filter((m) => m.module === 'statistic').map((m) => [m.option, m.value]), [['--mode', 'random'], ['--probability', '0.50000000000']]);
  assert.equal(first.target, 'KUBE-SEP-AAAAAAAAAAAAAAAA');
  assert.equal(last.matches.some((m) => m.module === 'statistic'), false, 'the last endpoint is unconditional');
  const [hairpin, dnat] = rulesOf(dump, 'nat', 'KUBE-SEP-AAAAAAAAAAAAAAAA');
  assert.equal(hairpin.comment, 'default/web:http', 'quoted by iptables-save, though written unquoted');
  assert.deepEqual([dnat.target, dnat.targetArgs], ['DNAT', [{ option: '--to-destination', value: '10.42.0.5:8080', negated: false }]]);
});

test('iptables-save: MARK, MASQUERADE --random-fully, `-m mark ! --mark`, goto, multiport, escaped comments', () => {
  const dump = parseIptablesSave(F.IPTABLES_SAVE);
  assert.deepEqual(rulesOf(dump, 'nat', 'KUBE-MARK-MASQ')[0].targetArgs, [{ option: '--set-xmark', value: '0x4000/0x4000', negated: false }]);
  const [ret, clear, masq] = rulesOf(dump, 'nat', 'KUBE-POSTROUTING');
  assert.deepEqual(ret.matches[1], { option: '--mark', value: '0x4000/0x4000', negated: true, module: 'mark' });
  assert.equal(ret.target, 'RETURN');
  assert.equal(clear.targetArgs[0].value, '0x4000/0x0');
  assert.deepEqual([masq.target, masq.targetArgs], ['MASQUERADE', [{ option: '--random-fully', value: '', negated: false }]]);
  const input = rulesOf(dump, 'filter', 'INPUT');
  assert.deepEqual([input[2].target, input[2].targetKind, input[2].matches[0]], ['KUBE-FORWARD', 'goto', { option: '-i', value: 'eth0', negated: true }]);
  assert.deepEqual(input[3].targetArgs, [{ option: '--reject-with', value: 'tcp-reset', negated: false }]);
  assert.equal(input[4].comment, 'say "hi" x');
  assert.equal(rulesOf(dump, 'filter', 'OUTPUT')[1].comment, "it's");
  assert.deepEqual(rulesOf(dump, 'filter', 'OUTPUT')[0].matches.at(-1), { option: '--dports', value: '53,5353', negated: false, module: 'multiport' });
});

test('iptables-save -c: rule counters; odd input: unquoted comments, quoted dashes, stray lines, nothing at all', () => {
  const nat = parseIptablesSave(F.IPTABLES_SAVE_C_NAT).tables[0];
  assert.deepEqual(nat.rules.find((r) => r.chain === 'OUTPUT')?.counters, { packets: 1, bytes: 84 });
  assert.deepEqual(nat.rules.find((r) => r.chain === 'PREROUTING')?.counters, { packets: 0, bytes: 0 });
  assert.ok(nat.rules.every((r) => r.text.startsWith('-A ')));
  const odd = parseIptablesSave('-A X -j ACCEPT\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment default/web:http -m comment --comment "-x" -j LOG --log-prefix "a b"\nbogus\nCOMMIT\n');
  const [r] = odd.tables[0].rules;
  assert.equal(r.comment, 'default/web:http');
  assert.deepEqual(r.matches.at(-1), { option: '--comment', value: '-x', negated: false, module: 'comment' });
  assert.deepEqual(r.targetArgs, [{ option: '--log-prefix', value: 'a b', negated: false }]);
  assert.deepEqual(odd.warnings, ['line 1: -A X -j ACCEPT', 'line 5: bogus']);
  assert.deepEqual(parseIptablesSave(''), { tables: [], warnings: [] });
  for (const s of ['say "hi" x', "it's", 'a\\b c', '-', 'plain']) assert.deepEqual(splitIptablesWords(quoteIptablesWord(s)).map((w) => w.value), [s]);
});

test('iptables-restore input and output: sections, COMMIT lines, error messages with their line', () => {
  const sections = iptablesSaveSections(F.IPTABLES_SAVE);
  assert.deepEqual([...sections.keys()], ['filter', 'nat']);
  assert.ok(sections.get('nat')?.startsWith('*nat\n:PREROUTING ACCEPT [0:0]\n') && sections.get('nat')?.endsWith('\nCOMMIT\n'));
  assert.deepEqual(iptablesRestoreTables('*filter\n:FOO2 - [0:0]\nCOMMIT\n*nat\n-A POSTROUTING -j NOPE\n'), [{ table: 'filter', commitLine: 3 }, { table: 'nat' }]);
  // (a jump to a missing chain is reported at its table's COMMIT: line 6 of that input)
  assert.deepEqual(parseIptablesRestoreError(F.RESTORE_ERR_CHAIN), { line: 6, message: "Chain 'NOPE' does not exist" });
  assert.deepEqual(parseIptablesRestoreError(F.RESTORE_ERR_COMMIT), { line: 4, message: 'No chain/target/match by that name.' });
  assert.deepEqual(parseIptablesRestoreError(F.RESTORE_ERR_OPTION), { line: 3, message: 'unknown option "--bogus"' });
  assert.deepEqual(parseIptablesRestoreError(F.RESTORE_ERR_NOCOMMIT), { line: 3, message: 'COMMIT expected' });
  assert.deepEqual(parseIptablesRestoreError('something else\n'), { message: 'something else' });
});

test('nft -j: the table, base chains with hook/prio/policy, regular chains', () => {
  const rs = parseNftJson(F.NFT_KUBE_PROXY_JSON);
  assert.equal(rs.version, '1.0.6');
  assert.deepEqual(rs.tables, [{ family: 'ip', name: 'kube-proxy', handle: 4 }], 'nft 1.0.6 leaves the table comment out of JSON');
  const base = rs.chains.filter((c) => c.hook !== undefined).map((c) => [c.name, c.type, c.hook, c.prio, c.policy]);
  assert.deepEqual(base, [['nat-prerouting', 'nat', 'prerouting', -100, 'accept'], ['nat-output', 'nat', 'output', -100, 'accept'],
    ['nat-postrouting', 'nat', 'postrouting', 100, 'accept'], ['filter-input', 'filter', 'input', 0, 'drop']]);
  assert.deepEqual(rs.chains.find((c) => c.name === 'services'), { family: 'ip', table: 'kube-proxy', name: 'services', handle: 5 });
  assert.equal(rs.chains.length, 10);
  assert.equal(rs.rules.length, F.NFT_KUBE_PROXY_JSON.split('{"rule": ').length - 1);
  assert.equal(rs.rules.length, 16);
});

test('nft -j: rules with counters, comments, verdicts, a verdict-map lookup and numgen', () => {
  const rs = parseNftJson(F.NFT_KUBE_PROXY_JSON);
  const [est, pings] = nftChainRules(rs, 'kube-proxy', 'filter-input');
  assert.deepEqual([est.counter, est.verdict], [{ packets: 0, bytes: 0 }, { kind: 'accept' }]);
  assert.deepEqual([pings.handle, pings.comment, pings.counter, pings.verdict], [19, 'pings', { packets: 1, bytes: 84 }, { kind: 'accept' }]);
  assert.deepEqual(nftChainRules(rs, 'kube-proxy', 'nat-prerouting')[0].verdict, { kind: 'jump', target: 'services' });
  assert.deepEqual(nftChainRules(rs, 'kube-proxy', 'services')[0].vmap, { map: 'service-ips', elements: [] });
  const [mark, pick] = nftChainRules(rs, 'kube-proxy', 'service-LOLE4ISW-default/web/tcp/http');
  assert.deepEqual(mark.verdict, { kind: 'jump', target: 'mark-for-masquerade' });
  assert.deepEqual(pick.vmap?.elements, [
    { key: ['0'], verdict: { kind: 'goto', target: 'endpoint-AAAA-default/web/tcp/http__10.42.0.5/8080' } },
    { key: ['1'], verdict: { kind: 'goto', target: 'endpoint-BBBB-default/web/tcp/http__10.42.0.6/8080' } },
  ]);
  assert.deepEqual((pick.expr[0] as { vmap: { key: unknown } }).vmap.key, { numgen: { mode: 'random', mod: 2, offset: 0 } });
  const [, dnat] = nftChainRules(rs, 'kube-proxy', 'endpoint-AAAA-default/web/tcp/http__10.42.0.5/8080');
  assert.deepEqual([dnat.verdict, dnat.counter, dnat.expr.at(-1)], [undefined, { packets: 0, bytes: 0 }, { dnat: { addr: '10.42.0.5', port: 8080 } }]);
  assert.deepEqual(nftChainRules(rs, 'kube-proxy', 'masquerading').map((r) => r.verdict?.kind), ['return', undefined, undefined]);
});

test('nft -j: sets and maps — a concatenated verdict map, an interval set, a data map, element wrappers', () => {
  const rs = parseNftJson(F.NFT_KUBE_PROXY_JSON);
  const by = (name: string) => rs.sets.find((s) => s.name === name);
  assert.deepEqual(by('service-ips'), {
    kind: 'map', family: 'ip', table: 'kube-proxy', name: 'service-ips', handle: 13, keyType: ['ipv4_addr', 'inet_proto', 'inet_service'], valueType: 'verdict',
    flags: [], comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    elements: [{ key: ['10.43.0.20', 'tcp', '80'], verdict: { kind: 'goto', target: 'service-LOLE4ISW-default/web/tcp/http' } }],
  });
  assert.deepEqual([by('cluster-ips')?.kind, by('cluster-ips')?.elements], ['set', [{ key: ['10.43.0.20'] }]]);
  assert.deepEqual([by('local-nets')?.flags, by('local-nets')?.elements.map((e) => e.key[0])], [['interval'], ['10.42.0.0/16', '127.0.0.0/8']]);
  assert.deepEqual([by('port-names')?.valueType, by('port-names')?.elements], ['ipv4_addr', [{ key: ['80'], value: '10.42.0.5' }, { key: ['443'], value: '10.42.0.6' }]]);
  const seen = parseNftJson(F.NFT_SET_ELEM_JSON).sets[0];
  assert.deepEqual([seen.flags, seen.elements], [['timeout'], [{ key: ['10.42.0.5', '80'], counter: { packets: 0, bytes: 0 }, comment: 'web' }]]);
  assert.deepEqual(parseNftJson('[]'), { tables: [], chains: [], rules: [], sets: [] });
  assert.throws(() => parseNftJson('{"x": 1}'), /nftables/);
});

/** rule and policy events as `table chain type verdict[ target]`, the way both monitors can be compared. */
const path = (events: readonly TraceEvent[]) => events.filter((e) => e.type !== 'packet').map((e) => `${e.table} ${e.chain} ${e.type} ${e.verdict}${e.target ? ` ${e.target}` : ''}`);

test('nft monitor trace: one ping, every base chain it met, the rules with handles and verdicts', () => {
  const { events, warnings } = parseNftTrace(F.NFT_TRACE_PING);
  assert.deepEqual(warnings, []);
  const [g] = groupTraces(events);
  assert.equal(groupTraces(events).length, 1);
  assert.deepEqual([g.id, g.family, g.verdict], ['ade318ed', 'ip', 'accept']);
  assert.deepEqual([g.packet?.iif, g.packet?.src, g.packet?.dst, g.packet?.proto, g.packet?.length], ['eth0', '203.0.113.1', '203.0.113.2', 'icmp', 84]);
  assert.equal(g.packet?.fields['icmp type'], 'echo-request');
  const traceRule = events.find((e) => e.table === 'podnet-trace-f1x7' && e.type === 'rule');
  assert.deepEqual([traceRule?.handle, traceRule?.verdict, traceRule?.rule], [3, 'continue', 'ip saddr 203.0.113.1 meta l4proto icmp meta nftrace set 1 comment "podnet-trace-f1x7"']);
  const jump = events.find((e) => e.table === 'kube-proxy' && e.type === 'rule');
  assert.deepEqual([jump?.chain, jump?.handle, jump?.verdict, jump?.target, jump?.rule], ['nat-prerouting', 15, 'jump', 'services', 'jump services']);
  assert.equal(events.filter((e) => e.type === 'packet').length, 7, 'one packet line per base chain');
});

test('the same ping under xtables-monitor: same trace id, same chains and verdicts, same rule handles', () => {
  const nft = parseNftTrace(F.NFT_TRACE_PING).events;
  const xt = parseXtablesTrace(F.XTABLES_TRACE_BOTH);
  assert.deepEqual(xt.warnings, []);
  assert.deepEqual(groupTraces(xt.events).map((g) => [g.id, g.family, g.verdict]), [['ade318ed', 'ip', 'accept']]);
  assert.deepEqual(path(xt.events), path(nft));
  const handles = (events: readonly TraceEvent[]) => events.filter((e) => e.type === 'rule').map((e) => `${e.table}/${e.chain}#${e.handle}`);
  assert.deepEqual(handles(xt.events), handles(nft));
  assert.deepEqual(xt.events.filter((e) => e.type === 'packet').map((e) => `${e.table} ${e.chain}`),
    ['podnet-trace-f1x7 pre', 'raw PREROUTING', 'kube-proxy nat-prerouting', 'nat PREROUTING', 'kube-proxy filter-input', 'filter INPUT', 'nat INPUT']);
});

test('xtables-monitor --trace: a TRACE rule in raw, kube-proxy-like chains, the packet fields', () => {
  const { events, warnings } = parseXtablesTrace(F.XTABLES_TRACE_PING);
  assert.deepEqual(warnings, []);
  assert.deepEqual(path(events), ['raw PREROUTING rule continue', 'raw PREROUTING policy accept', 'nat PREROUTING rule jump KUBE-SERVICES',
    'nat KUBE-SERVICES rule jump KUBE-NODEPORTS', 'nat PREROUTING policy accept', 'filter INPUT rule accept', 'nat INPUT policy accept']);
  assert.equal(events[1].rule, '-4 -t raw -A PREROUTING -s 203.0.113.1/32 -p icmp -m comment --comment podnet-trace-f1x7 -j TRACE');
  assert.equal(events[1].handle, 2);
  assert.deepEqual(events[0].packet, {
    iif: 'eth0', src: '203.0.113.1', dst: '203.0.113.2', length: 84,
    fields: { IN: 'eth0', MACSRC: '6e:e5:1f:96:c9:ee', MACDST: 'e6:99:d6:f5:7e:97', MACPROTO: '0800', SRC: '203.0.113.1', DST: '203.0.113.2', LEN: '84', TOS: '0x0', TTL: '64', ID: '23987', DF: '' },
  });
  const tcp = parseXtablesPacket(F.XTABLES_PACKET_TCP);
  assert.deepEqual([tcp.sport, tcp.dport, tcp.length, tcp.fields.SYN], [46814, 7777, 60, '']);
  assert.deepEqual([parseXtablesPacket(F.XTABLES_PACKET_OUT).oif, parseXtablesPacket(F.XTABLES_PACKET_OUT).iif], ['eth0', undefined]);
});

test('a drop, a return, a verdict map; xtables-monitor giving up on a rule it cannot translate', () => {
  const { events } = parseNftTrace(F.NFT_TRACE_DROP);
  assert.deepEqual(path(events), ['t1 input rule jump c2', 't1 input rule jump c3', 't1 c3 rule return', 't1 input rule drop']);
  assert.equal(events[1].rule, 'ip protocol icmp numgen random mod 2 vmap { 0 : jump c3, 1 : jump c3 }');
  assert.deepEqual([events[3].handle, events[3].rule], [10, 'icmp type echo-request counter packets 0 bytes 0 drop comment "no pings"']);
  assert.equal(groupTraces(events)[0].verdict, 'drop');
  const xt = parseXtablesTrace(F.XTABLES_TRACE_UNTRANSLATABLE);
  assert.deepEqual(xt.warnings, ['Error: meta sreg key not supported', 'xtables-monitor v1.8.9 (nf_tables): Parsing nftables rule failed', 'Perhaps xtables-monitor or your kernel needs to be upgraded.']);
  assert.deepEqual(path(xt.events), ['t1 input rule jump c2', 't1 input rule jump c3', 't1 c3 rule return']);
  assert.equal(xt.events.at(-1)?.handle, 13);
  const syn = parseNftPacket(F.NFT_PACKET_TCP);
  assert.deepEqual([syn.iif, syn.proto, syn.sport, syn.dport, syn.length, syn.fields['tcp flags']], ['eth0', 'tcp', 46814, 7777, 60, 'syn']);
});

test('trace flows: both dialects, podnet-trace-<tag> table and rules, and refusals that name the field', () => {
  const flow = { src: '203.0.113.1', proto: 'tcp', dport: 80 };
  assert.deepEqual(traceFlowIptables(flow), ['-s', '203.0.113.1', '-p', 'tcp', '--dport', '80']);
  assert.equal(traceFlowNft(flow), 'ip saddr 203.0.113.1 meta l4proto tcp th dport 80');
  assert.equal(checkTraceFlow({ dst: 'fd00::1' }).family, 'ip6');
  const t = nftTraceRuleset('ab12', { src: '203.0.113.1', proto: 'icmp' });
  assert.deepEqual([t.family, t.table], ['ip', 'podnet-trace-ab12']);
  assert.match(t.ruleset, /^table ip podnet-trace-ab12 \{\}\ndelete table ip podnet-trace-ab12\n/);
  assert.match(t.ruleset, /type filter hook prerouting priority -350; policy accept;\n {4}ip saddr 203\.0\.113\.1 meta l4proto icmp meta nftrace set 1 comment "podnet-trace-ab12"/);
  assert.match(t.ruleset, /hook output priority -350/);
  assert.equal(xtablesTraceRules('ab12', { iif: 'eth0', proto: 'icmp' }).text,
    '*raw\n-A PREROUTING -i eth0 -p icmp -m comment --comment podnet-trace-ab12 -j TRACE\nCOMMIT\n', 'with iif: prerouting only');
  for (const [bad, field] of [[{ src: '1.2.3.4; drop' }, 'src'], [{ dport: 80 }, 'dport'], [{ proto: 'tcp', sport: 0 }, 'sport'], [{ iif: 'e"th' }, 'iif'],
    [{ src: '10.0.0.1', dst: 'fd00::1' }, 'src/dst'], [{ proto: 'tcp accept' }, 'proto']] as const) {
    assert.throws(() => traceFlowNft(bad), (e) => isUserError(e, 'usage') && e.message.startsWith(`trace flow: ${field} `), JSON.stringify(bad));
  }
  assert.throws(() => nftTraceRuleset('Bad Tag', {}), (e) => isUserError(e, 'usage'));
});
