// kube-proxy's nftables mode, pure: the transaction of a full sync of the scenario on node `server`
// (golden), the layout of each kind of Service as kube-proxy's nftables proxier writes it
// (upstream's own example, `ns1/svc1:p80`, gives the same names and rules), and what a partial sync
// writes: the changed port's chains, only the map elements that changed, stale chains deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nftSync } from '../../../../src/model/kube-proxy/nftables-sync.js';
import { serviceEndpoints } from '../../../../src/model/k8s.js';
import { PODS, SERVER, SERVICES, assertGolden, pod, scenario, svc } from './scenario.js';

const full = () => nftSync(scenario(), SERVER, undefined);
const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

test('a full sync of the scenario on server replaces table ip kube-proxy in one transaction (golden)', async () => {
  const plan = full();
  assert.ok(plan.text.startsWith('add table ip kube-proxy\ndelete table ip kube-proxy\nadd table ip kube-proxy { comment "rules for kube-proxy" ; }\n'));
  await assertGolden('nftables-full.golden', plan.text);
});

test('the base chains, their hooks and priorities, and the dispatch through verdict maps', () => {
  const { text } = full();
  assert.deepEqual(lines(text, 'add chain ip kube-proxy filter-').concat(lines(text, 'add chain ip kube-proxy nat-')), [
    'add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }',
    'add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }',
    'add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }',
    'add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }',
    'add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }',
    'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }',
    'add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }',
    'add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }',
  ]);
  assert.deepEqual(lines(text, 'add rule ip kube-proxy services '), [
    'add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips',
    'add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
  ]);
  assert.ok(text.includes('add element ip kube-proxy nodeport-ips { 198.51.100.2 }'), 'NodePorts on the node\'s primary address only');
  assert.deepEqual(lines(text, 'add rule ip kube-proxy masquerading '), [
    'add rule ip kube-proxy masquerading mark and 0x4000 == 0 return',
    'add rule ip kube-proxy masquerading mark set mark xor 0x4000',
    'add rule ip kube-proxy masquerading masquerade fully-random',
  ]);
});

test('upstream\'s example Service gives upstream\'s chains, rules and elements', () => {
  const ports = serviceEndpoints([{ ...svc('svc1', '172.30.0.41'), namespace: 'ns1', selector: { app: 'a' }, ports: [{ name: 'p80', protocol: 'TCP', port: 80, targetPort: 80 }] }],
    [{ meta: { name: 'p', namespace: 'ns1', labels: { app: 'a' }, ports: [] }, ip: '10.180.0.1', node: 'other', ready: true }]);
  const { text } = nftSync(ports, { ...SERVER, clusterCIDR: '10.0.0.0/8' }, undefined);
  for (const l of [
    'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
    'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }',
    'add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 ip saddr 10.180.0.1 jump mark-for-masquerade',
    'add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 meta l4proto tcp dnat to 10.180.0.1:80',
    'add element ip kube-proxy cluster-ips { 172.30.0.41 }',
    'add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }',
  ]) assert.ok(text.split('\n').includes(l), l);
});

test('NodePort Cluster and Local, affinity, no endpoints, headless', () => {
  const { text } = full();
  const ext = (name: string) => lines(text, `add rule ip kube-proxy external-`).filter((l) => l.includes(`/${name}/`)).map((l) => l.replace(/^add rule ip kube-proxy \S+ /, ''));
  assert.deepEqual(ext('np'), ['jump mark-for-masquerade', `goto ${/service-\w{8}-default\/np\/tcp\/http/.exec(text)![0]}`]);
  const local = ext('local');
  assert.deepEqual(local.slice(1, 3), ['fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"', local[2]]);
  assert.match(local[0], /^ip saddr 10\.42\.0\.0\/16 goto service-\w{8}-default\/local\/tcp\/http comment "short-circuit pod traffic"$/);
  assert.match(local[3], /^goto local-\w{8}-default\/local\/tcp\/http$/);
  assert.equal(ext('remote').length, 3, 'no local endpoint: no last goto');
  assert.ok(text.includes('add element ip kube-proxy no-endpoint-nodeports { tcp . 30082 comment "default/remote:http" : drop }'));
  assert.ok(text.includes('add element ip kube-proxy no-endpoint-services { 10.43.0.16 . tcp . 80 comment "default/empty:http" : goto reject-chain }'));
  assert.match(text, /add set ip kube-proxy affinity-\w{8}-default\/sticky\/tcp\/http__10\.42\.0\.5\/8080 \{ type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; \}/);
  assert.match(text, /ip saddr @affinity-(\w{8}-default\/sticky\/tcp\/http__10\.42\.1\.6\/8080) goto endpoint-\1\n/);
  assert.match(text, /update @affinity-\w{8}-default\/sticky\/tcp\/http__10\.42\.0\.5\/8080 \{ ip saddr \}/);
  assert.ok(!text.includes('headless'));
});

test('a partial sync: the guard, the changed port\'s chains, element changes only, stale chains flushed and deleted', async () => {
  const before = full();
  const after = nftSync(scenario(SERVICES, PODS.filter((p) => p.meta.name !== 'web-c')), SERVER, before.record);
  assert.deepEqual([after.full, after.written], [false, 1]);
  assert.equal(after.stale.length, 1);
  assert.match(after.stale[0], /^endpoint-\w{8}-default\/web\/tcp\/http__10\.42\.1\.2\/8080$/);
  await assertGolden('nftables-partial.golden', after.text);
  assert.equal(nftSync(scenario(SERVICES, PODS.filter((p) => p.meta.name !== 'web-c')), SERVER, after.record).text, '', 'nothing changed: nothing to run');
  const gone = nftSync(scenario(SERVICES.filter((s) => s.name !== 'np')), SERVER, before.record);
  assert.deepEqual(lines(gone.text, 'delete element'), [
    'delete element ip kube-proxy cluster-ips { 10.43.0.12 }',
    'delete element ip kube-proxy service-ips { 10.43.0.12 . tcp . 80 }',
    'delete element ip kube-proxy service-nodeports { tcp . 30080 }',
  ]);
  assert.equal(lines(gone.text, 'delete chain').length, 3, 'service-, external-, endpoint- of np');
  const emptied = nftSync(scenario(SERVICES, [...PODS, pod('empty-a', '10.42.0.8', 'server', 'empty')]), SERVER, before.record);
  assert.ok(emptied.text.includes('delete element ip kube-proxy no-endpoint-services { 10.43.0.16 . tcp . 80 }'));
  assert.ok(emptied.text.includes('add element ip kube-proxy service-ips { 10.43.0.16 . tcp . 80 : goto service-'));
});
