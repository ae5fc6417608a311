// kube-proxy's iptables mode, pure: the restore input of a full sync of the scenario on node
// `server` (golden), then the layout kube-proxy gives each kind of Service — ClusterIP, NodePort
// Cluster/Local, affinity, no endpoints (REJECT), headless (nothing) — and what a partial sync writes:
// only the changed port's chains, stale chains deleted, nothing at all when nothing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iptablesExisting, iptablesSync, NO_IPTABLES } from '../../../../src/model/kube-proxy/iptables-sync.js';
import { parseIptablesSave } from '../../../../src/model/netfilter-iptables.js';
import { PODS, SERVER, SERVICES, assertGolden, pod, scenario } from './scenario.js';

const full = () => iptablesSync(scenario(), SERVER, undefined);
const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

test('a full sync of the scenario on server is kube-proxy\'s restore input (golden)', async () => {
  const plan = full();
  assert.equal(plan.full, true);
  assert.equal(plan.ports, 6, 'every Service port but the headless Service\'s');
  await assertGolden('iptables-full.golden', plan.text);
});

test('ClusterIP: KUBE-SERVICES → KUBE-SVC (masquerade from outside the cluster CIDR) → 1/3, 1/2, rest → KUBE-SEP (hairpin mark, DNAT)', () => {
  const { text } = full();
  const svc = 'KUBE-SVC-CDGGSHYLG3RE2FKL';
  assert.deepEqual(lines(text, `-A ${svc} `), [
    `-A ${svc} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.43.0.11 --dport 80 ! -s 10.42.0.0/16 -j KUBE-MARK-MASQ`,
    `-A ${svc} -m comment --comment "default/web:http -> 10.42.0.2:8080" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-ERQQNJAYKLWLNZ6A`,
    `-A ${svc} -m comment --comment "default/web:http -> 10.42.0.3:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-MPIHVPEEOAPXMYSA`,
    `-A ${svc} -m comment --comment "default/web:http -> 10.42.1.2:8080" -j KUBE-SEP-PLLJBTOKCJEJKQRV`,
  ]);
  assert.deepEqual(lines(text, '-A KUBE-SEP-ERQQNJAYKLWLNZ6A '), [
    '-A KUBE-SEP-ERQQNJAYKLWLNZ6A -m comment --comment default/web:http -s 10.42.0.2 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-ERQQNJAYKLWLNZ6A -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.42.0.2:8080',
  ]);
  assert.ok(!text.includes('10.42.1.9'), 'a pod that is not ready is no endpoint');
});

test('NodePort, Cluster: KUBE-NODEPORTS → KUBE-EXT (mark for masquerade) → KUBE-SVC; KUBE-SERVICES ends with the jump to KUBE-NODEPORTS', () => {
  const { text } = full();
  const ext = lines(text, '-A KUBE-NODEPORTS ').find((l) => l.includes('--dport 30080'));
  assert.match(ext ?? '', /-m comment --comment default\/np:http -m tcp -p tcp --dport 30080 -j (KUBE-EXT-\w{16})$/);
  const chain = /KUBE-EXT-\w{16}/.exec(ext!)![0];
  assert.deepEqual(lines(text, `-A ${chain} `), [
    `-A ${chain} -m comment --comment "masquerade traffic for default/np:http external destinations" -j KUBE-MARK-MASQ`,
    `-A ${chain} -j ${chain.replace('EXT', 'SVC')}`,
  ]);
  const services = lines(text, '-A KUBE-SERVICES ');
  assert.equal(services.at(-1), '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
});

test('NodePort, Local: pods and the node short-circuit to KUBE-SVC, the rest only to this node\'s endpoints (KUBE-SVL); none here: DROP', () => {
  const { text } = full();
  const ext = /KUBE-EXT-\w{16}/.exec(lines(text, '-A KUBE-NODEPORTS ').find((l) => l.includes('--dport 30081'))!)![0];
  const svc = ext.replace('EXT', 'SVC');
  const svl = ext.replace('EXT', 'SVL');
  assert.deepEqual(lines(text, `-A ${ext} `), [
    `-A ${ext} -m comment --comment "pod traffic for default/local:http external destinations" -s 10.42.0.0/16 -j ${svc}`,
    `-A ${ext} -m comment --comment "masquerade LOCAL traffic for default/local:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
    `-A ${ext} -m comment --comment "route LOCAL traffic for default/local:http external destinations" -m addrtype --src-type LOCAL -j ${svc}`,
    `-A ${ext} -j ${svl}`,
  ]);
  assert.equal(lines(text, `-A ${svl} `).length, 1, 'KUBE-SVL picks among the one local endpoint');
  assert.match(lines(text, `-A ${svl} `)[0], /10\.42\.0\.4:8080/);
  // remote: its only endpoint is on agent1 — server drops external traffic, still short-circuits its own.
  assert.ok(text.includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/remote:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30082 -j DROP'));
});

test('ClientIP affinity: -m recent --rcheck before the random picks, --set beside the DNAT', () => {
  const { text } = full();
  const svcLine = lines(text, '-A KUBE-SERVICES ').find((l) => l.includes('default/sticky:http'))!;
  const svc = /KUBE-SVC-\w{16}/.exec(svcLine)![0];
  const rules = lines(text, `-A ${svc} `);
  assert.equal(rules.length, 5);
  assert.match(rules[1], /-m recent --name (KUBE-SEP-\w{16}) --rcheck --seconds 10800 --reap -j \1$/);
  const sep = /KUBE-SEP-\w{16}/.exec(rules[1])![0];
  assert.match(lines(text, `-A ${sep} `)[1], new RegExp(`-m recent --name ${sep} --set -m tcp -p tcp -j DNAT --to-destination`));
});

test('no endpoints: a REJECT in the filter table\'s KUBE-SERVICES and no nat chain; headless: nothing at all', () => {
  const { text } = full();
  assert.ok(text.includes('-A KUBE-SERVICES -m comment --comment "default/empty:http has no endpoints" -m tcp -p tcp -d 10.43.0.16 --dport 80 -j REJECT'));
  assert.ok(!lines(text, '-A KUBE-SERVICES -m comment --comment "default/empty:http cluster IP').length);
  assert.ok(!text.includes('headless'));
});

test('a full sync adds only the jumps the built-in chains lack, and deletes service chains nothing uses', () => {
  const saved = parseIptablesSave([
    '*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-OLDOLDOLDOLDOLD1 - [0:0]', ':CNI-HOSTPORT-DNAT - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', 'COMMIT', '',
  ].join('\n'));
  const plan = iptablesSync(scenario(), SERVER, undefined, iptablesExisting(saved));
  assert.ok(!plan.text.includes('-I PREROUTING 1'), 'PREROUTING already jumps to KUBE-SERVICES');
  assert.ok(plan.text.includes('-I OUTPUT 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'));
  assert.deepEqual(plan.stale, ['KUBE-SVC-OLDOLDOLDOLDOLD1'], 'only kube-proxy\'s own chains are deleted');
  assert.ok(plan.text.includes('-X KUBE-SVC-OLDOLDOLDOLDOLD1') && !plan.text.includes('-X CNI-HOSTPORT-DNAT'));
  assert.equal(iptablesSync(scenario(), SERVER, undefined, NO_IPTABLES).text.match(/^-I /gm)?.length, 14);
});

test('a partial sync rewrites the shared chains and only the changed port\'s chains; the removed endpoint\'s chain goes', async () => {
  const before = full();
  const after = iptablesSync(scenario(SERVICES, PODS.filter((p) => p.meta.name !== 'web-c')), SERVER, before.record);
  assert.equal(after.full, false);
  assert.equal(after.written, 1);
  assert.deepEqual(after.stale, ['KUBE-SEP-PLLJBTOKCJEJKQRV']);
  await assertGolden('iptables-partial.golden', after.text);
  const same = iptablesSync(scenario(SERVICES, PODS.filter((p) => p.meta.name !== 'web-c')), SERVER, after.record);
  assert.equal(same.text, '', 'nothing changed: nothing to restore');
  const added = iptablesSync(scenario(SERVICES, [...PODS, pod('web-d', '10.42.0.9', 'server', 'web')]), SERVER, before.record);
  assert.deepEqual([added.written, added.stale], [1, []]);
  assert.match(added.text, /-m statistic --mode random --probability 0\.2500000000/);
});
