// iptables on the real kernel (iptables 1.8.9, nf_tables backend), in namespaces made here: a client
// and a server joined by a veth (203.0.113.0/24) and an empty one. What podnet parses is checked
// against plain `iptables-save` text and `nft list tables`; failed restores must leave the rules as
// they were (counters too); a traced ping must name its chains and verdicts and leave no TRACE rule,
// raw table or monitor behind — also when the traced code throws. The root namespace is never
// touched: its ruleset must be empty before and after.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { HostError } from '../../../src/host/errors.js';
import { iptablesRestore, iptablesSave, xtablesTrace, xtablesTraceRuleAdd, xtablesTraceRulesRemoveAll } from '../../../src/host/iptables.js';
import type { TraceEvent } from '../../../src/model/netfilter.js';
import { alive, labProcesses, netnsWithPrefix, run, runStatus, tempDir, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const prefix = `${uniqueName('podnet-kt-')}-`;
const owner = prefix.slice(0, -1);
const [cli, srv, empty] = ['cli', 'srv', 'empty'].map((n) => `${prefix}${n}`);
const runner = new ExecRunner();
let tmp = '';
let rootBefore = '';

const inNs = (ns: string, argv: readonly string[]) => run(['nsenter', `--net=/run/netns/${ns}`, ...argv]);
/** `iptables-save [ARGS]` in `ns` without its timestamped `#` lines. */
const saveText = (ns: string, args: readonly string[] = []) => inNs(ns, ['iptables-save', ...args]).split('\n').filter((l) => !l.startsWith('#')).join('\n');
const nftTables = (ns: string) => inNs(ns, ['nft', 'list', 'tables']).trim().split('\n').filter(Boolean);
const ping = (count = 1) => runStatus(['nsenter', `--net=/run/netns/${cli}`, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', '203.0.113.2']);
const rootRules = () => run(['nft', 'list', 'ruleset']) + run(['iptables-save']);
const path = (events: readonly TraceEvent[]) => events.filter((e) => e.type !== 'packet').map((e) => `${e.table} ${e.chain} ${e.type} ${e.verdict}${e.target ? ` ${e.target}` : ''}`);

const KUBE = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-LOLE4ISW44XBNF3G - [0:0]
:KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -j MASQUERADE --random-fully
-A KUBE-SERVICES -d 10.43.0.20/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-LOLE4ISW44XBNF3G
-A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web:http -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AAAAAAAAAAAAAAAA
-A KUBE-SVC-LOLE4ISW44XBNF3G -m comment --comment default/web:http -j KUBE-SEP-BBBBBBBBBBBBBBBB
-A KUBE-SEP-AAAAAAAAAAAAAAAA -s 10.42.0.5/32 -j KUBE-MARK-MASQ
-A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp -m tcp -j DNAT --to-destination 10.42.0.5:8080
-A KUBE-SEP-BBBBBBBBBBBBBBBB -s 10.42.0.6/32 -j KUBE-MARK-MASQ
-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m tcp -j DNAT --to-destination 10.42.0.6:8080
COMMIT
*filter
:INPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A INPUT -s 203.0.113.1/32 -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
`;

before(async () => {
  rootBefore = rootRules();
  assert.equal(rootBefore, '', 'the root namespace has no nft or iptables rules to begin with');
  tmp = await tempDir('iptables');
  for (const ns of [cli, srv, empty]) run(['ip', 'netns', 'add', ns]);
  run(['ip', '-n', cli, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', srv]);
  run(['ip', '-n', cli, 'addr', 'add', '203.0.113.1/24', 'dev', 'eth0']);
  run(['ip', '-n', srv, 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0']);
  for (const ns of [cli, srv]) for (const dev of ['lo', 'eth0']) run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
});

after(async () => {
  await waitFor(() => labProcesses(owner).length === 0, 3000);
  const left = labProcesses(owner);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  for (const ns of netnsWithPrefix(prefix)) runStatus(['ip', 'netns', 'del', ns]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(left, [], 'no monitor of this file is left');
  assert.deepEqual(netnsWithPrefix(prefix), [], 'every namespace of this file is gone');
  assert.equal(rootRules(), '', 'the root namespace still has no nft or iptables rules');
});

test('a namespace without tables is an empty dump', T, async () => {
  assert.equal(inNs(empty, ['iptables-save']), '');
  assert.deepEqual(await iptablesSave(runner, netnsNamed(empty)), { tables: [], warnings: [] });
  assert.deepEqual(nftTables(empty), [], 'reading made no table');
});

test('a kube-proxy-like ruleset: restored, read back, the same as iptables-save says', T, async () => {
  await iptablesRestore(runner, netnsNamed(srv), KUBE);
  const dump = await iptablesSave(runner, netnsNamed(srv));
  const text = saveText(srv);
  const section = (t: string) => text.split(`*${t}\n`)[1].split('COMMIT')[0].split('\n');
  assert.deepEqual(dump.tables.map((t) => t.name).sort(), ['filter', 'nat']);
  for (const table of dump.tables) {
    assert.equal(table.rules.length, section(table.name).filter((l) => l.startsWith('-A ')).length, `rules of ${table.name}`);
    assert.deepEqual(table.chains.map((c) => c.name), section(table.name).filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]), `chains of ${table.name}`);
    assert.deepEqual(table.rules.map((r) => r.text), section(table.name).filter((l) => l.startsWith('-A ')));
  }
  const nat = dump.tables.find((t) => t.name === 'nat');
  const svc = nat?.rules.filter((r) => r.chain === 'KUBE-SVC-LOLE4ISW44XBNF3G') ?? [];
  assert.equal(svc[0].comment, 'default/web:http');
  assert.equal(svc[0].matches.find((m) => m.option === '--probability')?.value, '0.50000000000');
  assert.deepEqual(nat?.rules.filter((r) => r.target === 'DNAT').map((r) => r.targetArgs[0].value), ['10.42.0.5:8080', '10.42.0.6:8080']);
  assert.deepEqual(nftTables(srv), ['table ip nat', 'table ip filter']);
});

test('-c: the counters iptables-save prints, after three pings', T, async () => {
  assert.equal(ping(3).status, 0);
  const dump = await iptablesSave(runner, netnsNamed(srv), { counters: true, table: 'filter' });
  const rule = dump.tables[0].rules.find((r) => r.chain === 'INPUT');
  const line = saveText(srv, ['-c', '-t', 'filter']).split('\n').find((l) => l.includes('-A INPUT -s 203.0.113.1/32'));
  assert.ok(line, 'iptables-save lists the rule');
  const [, p, b] = /^\[(\d+):(\d+)\]/.exec(line) ?? [];
  assert.deepEqual(rule?.counters, { packets: Number(p), bytes: Number(b) });
  assert.ok((rule?.counters?.packets ?? 0) >= 3, `three echo requests counted: ${line}`);
});

/** Expects `fn` to fail with a HostError naming `line`, and the namespace's rules and counters to stay as they were. */
async function refused(fn: () => Promise<void>, line: number, message: RegExp): Promise<void> {
  const before = saveText(srv, ['-c']);
  const tables = nftTables(srv);
  await assert.rejects(fn, (e) => e instanceof HostError && e.line === line && message.test(e.message) && e.message.includes(`line ${line}`));
  assert.equal(saveText(srv, ['-c']), before, 'rules and counters as before');
  assert.deepEqual(nftTables(srv), tables, 'the same tables');
}

test('a bad ruleset fails with the line iptables-restore named and changes nothing', T, async () => {
  const ns = netnsNamed(srv);
  await refused(() => iptablesRestore(runner, ns, '*filter\n:PODNET-X - [0:0]\n-A INPUT -j ACCEPT\n-A PODNET-X --bogus\nCOMMIT\n', { noflush: true }), 4, /unknown option "--bogus"/);
  await refused(() => iptablesRestore(runner, ns, '*filter\n-A INPUT -j ACCEPT\n', { noflush: true }), 3, /COMMIT expected/);
  // Two tables: filter commits, then nat fails — filter must be put back (with its counters). A jump
  // to a missing chain is found at the table's COMMIT: that is the line iptables-restore names.
  await refused(() => iptablesRestore(runner, ns, '*filter\n:PODNET-Y - [0:0]\n-A INPUT -j PODNET-Y\nCOMMIT\n*nat\n-A POSTROUTING -j NOPE\nCOMMIT\n', { noflush: true }), 7, /Chain 'NOPE' does not exist/);
  await refused(() => iptablesRestore(runner, ns, '*filter\n:INPUT DROP [0:0]\nCOMMIT\n*nat\n-A POSTROUTING -j NOPE\nCOMMIT\n'), 6, /Chain 'NOPE' does not exist/);
  // A table that was not there before goes again.
  await refused(() => iptablesRestore(runner, ns, '*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j MARK --set-mark 0x1\nCOMMIT\n*nat\n-A POSTROUTING -j NOPE\nCOMMIT\n', { noflush: true }), 7, /NOPE/);
});

test('TRACE of one ping: the chains it met and their verdicts; the rule, raw table and monitor are gone afterwards', T, async () => {
  const ns = netnsNamed(srv);
  assert.ok(!nftTables(srv).includes('table ip raw'));
  let pid = 0;
  const got = await xtablesTrace(runner, ns, { owner, file: join(tmp, 'xt1.txt'), flow: { src: '203.0.113.1', proto: 'icmp' }, tag: 'kt1' }, async (m) => {
    pid = m.pid;
    assert.match(saveText(srv, ['-t', 'raw']), /-A PREROUTING -s 203\.0\.113\.1\/32 -p icmp -m comment --comment podnet-trace-kt1 -j TRACE/);
    assert.equal(ping().status, 0);
    return waitFor(async () => (await m.read()).events.some((e) => e.table === 'filter' && e.verdict === 'accept'), 5000);
  });
  assert.ok(got.value, `the trace reached filter INPUT: ${got.trace.events.map((e) => e.line).join('\n')}`);
  assert.deepEqual(got.trace.warnings, []);
  const echo = got.groups.find((g) => g.packet?.src === '203.0.113.1');
  assert.ok(echo);
  assert.equal(echo.verdict, 'accept');
  const steps = path(echo.events);
  assert.deepEqual(steps.slice(0, 2), ['raw PREROUTING rule continue', 'raw PREROUTING policy accept']);
  assert.ok(steps.includes('nat PREROUTING rule jump KUBE-SERVICES'), steps.join(' | '));
  assert.ok(steps.includes('filter INPUT rule accept'), steps.join(' | '));
  assert.match(echo.events.find((e) => e.table === 'raw' && e.type === 'rule')?.rule ?? '', /--comment podnet-trace-kt1 -j TRACE/);
  assert.equal(alive(pid), false, 'the monitor was stopped');
  assert.doesNotMatch(saveText(srv), /TRACE/);
  assert.ok(!nftTables(srv).includes('table ip raw'), 'the raw table podnet made is gone');
});

test('a traced body that throws: the error comes through, nothing is left; a raw table of someone else stays', T, async () => {
  const ns = netnsNamed(srv);
  inNs(srv, ['iptables', '-w', '-t', 'raw', '-A', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', 'CT', '--notrack']);
  const theirs = saveText(srv, ['-t', 'raw']);
  let pid = 0;
  await assert.rejects(xtablesTrace(runner, ns, { owner, file: join(tmp, 'xt2.txt'), flow: { dst: '203.0.113.2' } }, async (m) => {
    pid = m.pid;
    assert.match(saveText(srv, ['-t', 'raw']), /-j TRACE/);
    ping();
    throw new Error('boom mid-way');
  }), /boom mid-way/);
  assert.equal(alive(pid), false);
  assert.equal(saveText(srv, ['-t', 'raw']), theirs, 'the raw table holds exactly what it held');
  await xtablesTraceRuleAdd(runner, ns, { proto: 'icmp' }, 'left1');
  await xtablesTraceRuleAdd(runner, ns, { proto: 'tcp', dport: 80 }, 'left2');
  assert.equal(await xtablesTraceRulesRemoveAll(runner, ns), 4, 'two flows, each at PREROUTING and OUTPUT');
  assert.equal(saveText(srv, ['-t', 'raw']), theirs);
});
