// nftables on the real kernel (nftables 1.0.6), in namespaces made here: a client and a server joined
// by a veth (203.0.113.0/24). A kube-proxy-like table is applied in one transaction, read back
// (checked against nft's own JSON and text), its counters rise with pings, bad rulesets change
// nothing, and rule tracing names the chain, rule handle and verdict of one ping and leaves no
// tracing table or monitor behind — also when the traced code throws. The root namespace is never
// touched: its ruleset must be empty before and after.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { HostError, isKind } from '../../../src/host/errors.js';
import {
  nftApply, nftCheck, nftDeleteTable, nftListRuleset, nftListTable, nftTableExists, nftTrace, nftTraceTableAdd, nftTraceTablesRemoveAll,
} from '../../../src/host/nft.js';
import { groupTraces, nftChainRules, type TraceEvent } from '../../../src/model/netfilter.js';
import { alive, labProcesses, netnsWithPrefix, run, runStatus, tempDir, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const prefix = `${uniqueName('podnet-kt-')}-`;
const owner = prefix.slice(0, -1);
const [cli, srv] = ['cli', 'srv'].map((n) => `${prefix}${n}`);
const ns = netnsNamed(srv);
const runner = new ExecRunner();
let tmp = '';

const inNs = (name: string, argv: readonly string[]) => run(['nsenter', `--net=/run/netns/${name}`, ...argv]);
const nftTables = () => inNs(srv, ['nft', 'list', 'tables']).trim().split('\n').filter(Boolean);
const ping = (count = 1) => runStatus(['nsenter', `--net=/run/netns/${cli}`, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', '203.0.113.2']);
const rootRules = () => run(['nft', 'list', 'ruleset']) + run(['iptables-save']);
const path = (events: readonly TraceEvent[]) => events.filter((e) => e.type !== 'packet').map((e) => `${e.table} ${e.chain} ${e.type} ${e.verdict}${e.target ? ` ${e.target}` : ''}`);

const TABLE = `table ip podnet-kt {
  map service-ips {
    type ipv4_addr . inet_proto . inet_service : verdict
    elements = { 10.43.0.20 . tcp . 80 : goto service-web }
  }
  chain nat-prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr . meta l4proto . th dport vmap @service-ips
  }
  chain service-web {
    numgen random mod 2 vmap { 0 : goto endpoint-a, 1 : goto endpoint-b }
  }
  chain endpoint-a {
    counter meta l4proto tcp dnat to 10.42.0.5:8080
  }
  chain endpoint-b {
    counter meta l4proto tcp dnat to 10.42.0.6:8080
  }
  chain filter-input {
    type filter hook input priority filter; policy accept;
    ip saddr 203.0.113.1 icmp type echo-request counter accept comment "pings"
  }
}
`;

before(async () => {
  assert.equal(rootRules(), '', 'the root namespace has no nft or iptables rules to begin with');
  tmp = await tempDir('nft');
  for (const name of [cli, srv]) run(['ip', 'netns', 'add', name]);
  run(['ip', '-n', cli, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', srv]);
  run(['ip', '-n', cli, 'addr', 'add', '203.0.113.1/24', 'dev', 'eth0']);
  run(['ip', '-n', srv, 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0']);
  for (const name of [cli, srv]) for (const dev of ['lo', 'eth0']) run(['ip', '-n', name, 'link', 'set', dev, 'up']);
});

after(async () => {
  await waitFor(() => labProcesses(owner).length === 0, 3000);
  const left = labProcesses(owner);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  for (const name of netnsWithPrefix(prefix)) runStatus(['ip', 'netns', 'del', name]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(left, [], 'no monitor of this file is left');
  assert.deepEqual(netnsWithPrefix(prefix), [], 'every namespace of this file is gone');
  assert.equal(rootRules(), '', 'the root namespace still has no nft or iptables rules');
});

test('a table applied in one transaction, listed, the same as nft -j and nft list say', T, async () => {
  assert.equal(await nftTableExists(runner, ns, 'ip', 'podnet-kt'), false);
  await nftApply(runner, ns, TABLE);
  assert.equal(await nftTableExists(runner, ns, 'ip', 'podnet-kt'), true);
  const rs = await nftListTable(runner, ns, 'ip', 'podnet-kt');
  const raw = JSON.parse(inNs(srv, ['nft', '-j', 'list', 'table', 'ip', 'podnet-kt'])).nftables as Record<string, { name?: string }>[];
  assert.deepEqual(rs.chains.map((c) => c.name), raw.filter((o) => o.chain).map((o) => o.chain.name));
  assert.equal(rs.rules.length, raw.filter((o) => o.rule).length);
  assert.deepEqual(rs.chains.filter((c) => c.hook).map((c) => [c.name, c.hook, c.prio, c.policy]), [['nat-prerouting', 'prerouting', -100, 'accept'], ['filter-input', 'input', 0, 'accept']]);
  const map = rs.sets.find((s) => s.name === 'service-ips');
  assert.deepEqual(map?.elements, [{ key: ['10.43.0.20', 'tcp', '80'], verdict: { kind: 'goto', target: 'service-web' } }]);
  assert.deepEqual(nftChainRules(rs, 'podnet-kt', 'service-web')[0].vmap?.elements.map((e) => e.verdict?.target), ['endpoint-a', 'endpoint-b']);
  const all = await nftListRuleset(runner, ns);
  assert.deepEqual(all.tables.map((t) => `${t.family} ${t.name}`), ['ip podnet-kt']);
});

test('counters rise with traffic: three pings, three packets, as nft list prints them', T, async () => {
  const counter = async () => nftChainRules(await nftListTable(runner, ns, 'ip', 'podnet-kt'), 'podnet-kt', 'filter-input')[0].counter;
  const before = await counter();
  assert.equal(ping(3).status, 0);
  const afterPing = await counter();
  assert.equal((afterPing?.packets ?? 0) - (before?.packets ?? 0), 3);
  assert.equal((afterPing?.bytes ?? 0) - (before?.bytes ?? 0), 3 * 84);
  assert.match(inNs(srv, ['nft', 'list', 'table', 'ip', 'podnet-kt']), new RegExp(`counter packets ${afterPing?.packets} bytes ${afterPing?.bytes} accept comment "pings"`));
});

test('nft -c and bad rulesets: the line nft named, nothing changed (all or nothing)', T, async () => {
  const listing = () => inNs(srv, ['nft', 'list', 'ruleset']);
  const before = listing();
  await nftCheck(runner, ns, 'table ip podnet-kt-checked {\n  chain c {\n    accept\n  }\n}\n');
  assert.equal(listing(), before, 'a check makes nothing');
  const bad = 'table ip podnet-kt-new {\n  chain c {\n    jump nowhere\n  }\n}\n';
  await assert.rejects(nftCheck(runner, ns, bad), (e) => isKind(e, 'not-found') && e.line === 3 && /line 3: No such file or directory/.test(e.message));
  const half = `table ip podnet-kt-new {\n  chain c {\n    accept\n  }\n}\nflush table ip podnet-kt\ntable ip podnet-kt {\n  chain d { accept }\n}\n`;
  await assert.rejects(nftApply(runner, ns, half), (e) => e instanceof HostError && e.kind === 'invalid' && e.line === 8 && /syntax error/.test(e.message));
  assert.equal(listing(), before, 'nothing of the failed transaction is there');
});

test('deleting a table: gone, and deleting it again is fine; listing a missing one is not-found', T, async () => {
  await nftApply(runner, ns, 'table ip podnet-kt-gone {\n  chain c {\n    accept\n  }\n}\n');
  await nftDeleteTable(runner, ns, 'ip', 'podnet-kt-gone');
  assert.ok(!nftTables().includes('table ip podnet-kt-gone'));
  await nftDeleteTable(runner, ns, 'ip', 'podnet-kt-gone');
  await assert.rejects(nftListTable(runner, ns, 'ip', 'podnet-kt-gone'), (e) => isKind(e, 'not-found'));
});

test('tracing one ping: the base chains, the rule handle and verdict; no tracing table or monitor afterwards', T, async () => {
  const listed = nftChainRules(await nftListTable(runner, ns, 'ip', 'podnet-kt'), 'podnet-kt', 'filter-input')[0];
  let pid = 0;
  const got = await nftTrace(runner, ns, { owner, file: join(tmp, 'nt1.txt'), flow: { src: '203.0.113.1', proto: 'icmp' }, tag: 'kt1' }, async (m) => {
    pid = m.pid;
    assert.ok(nftTables().includes('table ip podnet-trace-kt1'));
    assert.equal(ping().status, 0);
    return waitFor(async () => (await m.read()).events.some((e) => e.table === 'podnet-kt' && e.chain === 'filter-input' && e.type === 'rule'), 5000);
  });
  assert.ok(got.value, `the trace reached filter-input: ${got.trace.events.map((e) => e.line).join('\n')}`);
  assert.deepEqual(got.trace.warnings, []);
  const echo = got.groups.find((g) => g.packet?.src === '203.0.113.1' && g.packet.fields['icmp type'] === 'echo-request');
  assert.ok(echo);
  assert.equal(echo.verdict, 'accept');
  assert.deepEqual(path(echo.events).slice(0, 2), ['podnet-trace-kt1 pre rule continue', 'podnet-trace-kt1 pre policy accept']);
  const hit = echo.events.find((e) => e.table === 'podnet-kt' && e.type === 'rule');
  assert.deepEqual([hit?.chain, hit?.handle, hit?.verdict], ['filter-input', listed.handle, 'accept']);
  assert.match(hit?.rule ?? '', /comment "pings"$/);
  assert.equal(alive(pid), false, 'the monitor was stopped');
  assert.ok(!nftTables().some((t) => t.includes('podnet-trace')), 'the tracing table is gone');
});

test('a drop is traced as the verdict; a traced body that throws leaves nothing behind', T, async () => {
  await nftApply(runner, ns, 'table ip podnet-kt-drop {\n  chain input {\n    type filter hook input priority -10; policy accept;\n    icmp type echo-request counter drop comment "no pings"\n  }\n}\n');
  const dropRule = (await nftListTable(runner, ns, 'ip', 'podnet-kt-drop')).rules[0];
  let pid = 0;
  await assert.rejects(nftTrace(runner, ns, { owner, file: join(tmp, 'nt2.txt'), flow: { dst: '203.0.113.2', proto: 'icmp' } }, async (m) => {
    pid = m.pid;
    assert.notEqual(ping().status, 0, 'the ping is dropped');
    assert.ok(await waitFor(async () => (await m.read()).events.some((e) => e.verdict === 'drop'), 5000), 'the drop was traced');
    const [g] = groupTraces((await m.read()).events);
    const drop = g.events.find((e) => e.verdict === 'drop');
    assert.deepEqual([g.verdict, drop?.table, drop?.chain, drop?.handle], ['drop', 'podnet-kt-drop', 'input', dropRule.handle]);
    throw new Error('boom mid-way');
  }), /boom mid-way/);
  assert.equal(alive(pid), false);
  assert.ok(!nftTables().some((t) => t.includes('podnet-trace')), 'the tracing table is gone');
  await nftDeleteTable(runner, ns, 'ip', 'podnet-kt-drop');
  await nftTraceTableAdd(runner, ns, { proto: 'icmp' }, 'left1');
  await nftTraceTableAdd(runner, ns, { dst: 'fd00::2' }, 'left2');
  assert.deepEqual((await nftTraceTablesRemoveAll(runner, ns)).sort(), ['ip podnet-trace-left1', 'ip6 podnet-trace-left2']);
  assert.deepEqual(nftTables(), ['table ip podnet-kt']);
});
