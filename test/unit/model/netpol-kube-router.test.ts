// kube-router's rules as podnet plans them: names hashed as kube-router hashes them (checked against
// the chain names kube-router's own tests expect), a node's chains, jumps and sets for a set of
// policies, and the sync plans (full from the kernel, incremental against a record, and everything
// taken away with the last policy). Also ipset's save format and the swap script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipsetSwapScript, parseIpsetSave } from '../../../src/model/ipset.js';
import { parseIptablesSave } from '../../../src/model/netfilter-iptables.js';
import { EMPTY_RULESET, nodeRuleset } from '../../../src/model/netpol/kube-router-node.js';
import { kubeRouterExisting, kubeRouterSync } from '../../../src/model/netpol/kube-router-sync.js';
import { labSyncVersion, namedPortSet, podFirewallChain, policyChain, policyTargetSet, rulePeerSet, ruleUuid, tmpSet } from '../../../src/model/netpol/names.js';
import { DENY_ALL_INGRESS, policy, world } from './netpol-world.js';

const INPUT = { node: 'server', serviceCIDR: '10.43.0.0/16', version: '1' };

test('names: policy chains match the ones kube-router\'s own tests expect (version "1")', () => {
  assert.equal(policyChain('nsA', 'simple-egress', '1'), 'KUBE-NWPLCY-C23KD7UE4TAT3Y5M');
  assert.equal(policyChain('nsA', 'simple-ingress-egress', '1'), 'KUBE-NWPLCY-IDIX352DRLNY3D23');
  assert.equal(policyChain('nsA', 'simple-egress-pr', '1'), 'KUBE-NWPLCY-2UTXQIFBI5TAPUCL');
  assert.match(podFirewallChain('default', 'web1', '1'), /^KUBE-POD-FW-[A-Z2-7]{16}$/);
  assert.equal(podFirewallChain('default', 'web1', '1').length, 28, 'iptables\' longest chain name');
  assert.equal(policyTargetSet('default', 'p', 'ingress').slice(9), policyTargetSet('default', 'p', 'egress').slice(9), 'KUBE-DST-/KUBE-SRC- of one policy share the hash');
  assert.notEqual(rulePeerSet('default', 'p', 'ingress', 0, 'pod'), rulePeerSet('default', 'p', 'ingress', 0, 'ipblock'));
  assert.match(namedPortSet('default', 'p', 'ingress', 1, 0), /^KUBE-DST-/);
  assert.equal(tmpSet('hash:ip timeout 0'), 'TMP-PRBJ7ASFQM5DJR3Q');
  assert.equal(ruleUuid('INPUT', ['-m', 'comment', '--comment', 'kube-router netpol', '-j', 'KUBE-ROUTER-INPUT']), '4IA2OSFRMVNDXBVV', 'INPUT\'s jump: base32(sha256("INPUT-mcomment--commentkube-router netpol-jKUBE-ROUTER-INPUT"))');
  assert.equal(labSyncVersion('2026-01-01T00:00:00.000Z'), '1767225600000000000');
});

test('no policy: no rules at all', () => {
  assert.equal(nodeRuleset(world([]), INPUT), EMPTY_RULESET);
});

test('deny-all: top chains, COMMON, DEFAULT, a policy chain without rules, a chain per local pod', () => {
  const r = nodeRuleset(world([DENY_ALL_INGRESS]), INPUT);
  const names = [...r.chains.keys()];
  assert.deepEqual(names.slice(0, 5), ['KUBE-ROUTER-INPUT', 'KUBE-ROUTER-FORWARD', 'KUBE-ROUTER-OUTPUT', 'KUBE-NWPLCY-DEFAULT', 'KUBE-NWPLCY-COMMON']);
  assert.deepEqual(r.pods.map((p) => p.pod.name), ['web1', 'client', 'dns'], 'pods of this node with addresses, by address');
  const web1 = r.chains.get(r.pods[0].chain)!;
  assert.match(web1[0], /-j KUBE-NWPLCY-COMMON$/);
  assert.match(web1[1], /-m addrtype --src-type LOCAL -d 10\.42\.0\.2 -j ACCEPT$/);
  assert.match(web1[2], /^-A KUBE-POD-FW-\w+ -s 10\.42\.0\.2 .* -j KUBE-NWPLCY-DEFAULT$/, 'egress open: DEFAULT marks it');
  assert.match(web1[3], new RegExp(`-d 10\\.42\\.0\\.2 -m comment --comment "run through nw policy deny-all" -j ${policyChain('default', 'deny-all', '1')}$`));
  assert.match(web1[5], /-m mark ! --mark 0x10000\/0x10000 -j REJECT$/);
  assert.equal(r.chains.get(policyChain('default', 'deny-all', '1'))!.length, 0);
  const fwd = r.chains.get('KUBE-ROUTER-FORWARD')!;
  assert.equal(fwd.length, 3 * 4 + 1);
  assert.match(fwd[1], /-m physdev --physdev-is-bridged .* -d 10\.42\.0\.2 -j KUBE-POD-FW-/);
  assert.match(fwd[12], /-m mark --mark 0x20000\/0x20000 -j ACCEPT$/);
  assert.match(r.chains.get('KUBE-ROUTER-INPUT')![0], /^-A KUBE-ROUTER-INPUT -m comment --comment "allow traffic to primary\/secondary cluster IP range - \w{16}" -d 10\.43\.0\.0\/16 -j RETURN$/);
  assert.deepEqual(r.jumps.map((j) => j.split(' ')[1]), ['INPUT', 'FORWARD', 'OUTPUT']);
  assert.deepEqual(r.sets.map((s) => [s.name, s.type, s.entries]), [[policyTargetSet('default', 'deny-all', 'ingress'), 'hash:ip', [['10.42.0.2', 'timeout', '0'], ['10.42.1.2', 'timeout', '0'], ['10.42.0.3', 'timeout', '0']]]],
    'the selected pods of every node');
});

test('peers, ipBlocks (nomatch exceptions, /0 as two /1) and named ports become sets and two rules per match', () => {
  const p = policy('web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [
    { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] },
    { from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.42.1.0/24'] } }], ports: [{ port: 7000, endPort: 7010, protocol: 'UDP' }] },
  ] });
  const r = nodeRuleset(world([p]), INPUT);
  const sets = new Map(r.sets.map((s) => [s.name, s]));
  assert.deepEqual(sets.get(rulePeerSet('default', 'web', 'ingress', 0, 'pod'))!.entries, [['10.42.0.3', 'timeout', '0']]);
  const named = [namedPortSet('default', 'web', 'ingress', 0, 0), namedPortSet('default', 'web', 'ingress', 0, 1)].map((n) => sets.get(n)!.entries);
  assert.deepEqual(named, [[['10.42.0.2', 'timeout', '0']], [['10.42.1.2', 'timeout', '0']]], 'http is 8080 on web1 and 9090 on web2: one set each');
  const block = sets.get(rulePeerSet('default', 'web', 'ingress', 1, 'ipblock'))!;
  assert.equal(block.type, 'hash:net');
  assert.deepEqual(block.entries, [['0.0.0.0/1', 'timeout', '0'], ['128.0.0.0/1', 'timeout', '0'], ['10.42.1.0/24', 'timeout', '0', 'nomatch']]);
  const rules = r.chains.get(policyChain('default', 'web', '1'))!;
  assert.equal(rules.length, 6);
  assert.match(rules[0], /--match-set KUBE-SRC-\w+ src -m set --match-set KUBE-DST-\w+ dst -p TCP --dport 8080 -j MARK --set-xmark 0x10000\/0x10000$/);
  assert.match(rules[1], /--dport 8080 -m mark --mark 0x10000\/0x10000 -j RETURN$/);
  assert.match(rules[4], /-p UDP --dport 7000:7010 -j MARK/);
});

test('egress: to pods, to everywhere on a port, and a rule with no ports', () => {
  const p = policy('out', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [
    { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] },
    { ports: [{ port: 443 }] },
  ] });
  const rules = nodeRuleset(world([p]), INPUT).chains.get(policyChain('default', 'out', '1'))!;
  assert.match(rules[0], new RegExp(`--match-set ${policyTargetSet('default', 'out', 'egress')} src -m set --match-set ${rulePeerSet('default', 'out', 'egress', 0, 'pod')} dst -p UDP --dport 53 -j MARK`));
  assert.match(rules[2], /all destinations .* --match-set KUBE-SRC-\w+ src -p TCP --dport 443 -j MARK/);
  const client = nodeRuleset(world([p]), INPUT).pods.find((x) => x.pod.name === 'client')!;
  assert.deepEqual([client.ingress, client.egress], [[], ['default/out']]);
});

test('sync: a full sync from the kernel, then only what changed, then everything away with the last policy', () => {
  const first = nodeRuleset(world([DENY_ALL_INGRESS]), INPUT);
  const stale = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:KUBE-POD-FW-OLD - [0:0]\n:KUBE-ROUTER-INPUT - [0:0]\n-A INPUT -m comment --comment "kube-router netpol - X" -j KUBE-ROUTER-INPUT\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n');
  const full = kubeRouterSync(first, undefined, kubeRouterExisting(stale, ['KUBE-DST-OLD', 'other-set']));
  assert.ok(full.full);
  assert.deepEqual(full.removedChains, ['KUBE-POD-FW-OLD']);
  assert.deepEqual(full.destroySets, ['KUBE-DST-OLD'], 'only kube-router\'s sets');
  assert.match(full.iptables, /^\*filter\n:KUBE-ROUTER-INPUT - \[0:0\]\n/);
  assert.match(full.iptables, /\n-D INPUT -m comment --comment "kube-router netpol - X" -j KUBE-ROUTER-INPUT\n/);
  assert.match(full.iptables, /\n-I INPUT 1 -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT\n/);
  assert.match(full.iptables, /\n-X KUBE-POD-FW-OLD\nCOMMIT\n$/);
  assert.match(full.setsScript, /^create TMP-\w+ hash:ip timeout 0\nflush TMP-/);

  assert.equal(kubeRouterSync(first, full.record).iptables, '', 'nothing changed: nothing to write');
  const second = nodeRuleset(world([DENY_ALL_INGRESS, policy('web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 8080 }] }] })]), INPUT);
  const inc = kubeRouterSync(second, full.record);
  assert.deepEqual(inc.changedChains.sort(), [policyChain('default', 'web', '1'), second.pods[0].chain].sort(), 'the new policy\'s chain and web1\'s');
  assert.equal(inc.removedChains.length, 0);
  assert.match(inc.iptables, /\n-D INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT\n[\s\S]*\n-I INPUT 1 -m comment/, 'the jumps are taken out and put back first (a missing one fails the write)');

  const gone = kubeRouterSync(EMPTY_RULESET, inc.record);
  assert.deepEqual(gone.record, { kind: 'kube-router', chains: {}, sets: {}, jumps: [] });
  assert.equal(kubeRouterSync(EMPTY_RULESET, gone.record).iptables, '', 'and from there nothing');
  assert.equal(gone.removedChains.length, second.chains.size);
  assert.match(gone.iptables, /-D FORWARD -m comment --comment "kube-router netpol - \w+" -j KUBE-ROUTER-FORWARD\n/);
  assert.deepEqual(gone.destroySets.length, second.sets.length);
});

test('ipset: save text parsed (initval left out, nomatch kept); the swap script fills a temporary set per options', () => {
  const sets = parseIpsetSave('create KUBE-SRC-A hash:net family inet hashsize 1024 maxelem 65536 timeout 0 bucketsize 12 initval 0x1234\nadd KUBE-SRC-A 10.42.1.0/24 timeout 0 nomatch\nadd KUBE-SRC-A 10.42.0.0/16 timeout 0\n');
  assert.deepEqual(sets, [{ name: 'KUBE-SRC-A', type: 'hash:net', options: ['family', 'inet', 'hashsize', '1024', 'maxelem', '65536', 'timeout', '0', 'bucketsize', '12'],
    entries: [{ value: '10.42.1.0/24', nomatch: true, options: ['timeout', '0', 'nomatch'] }, { value: '10.42.0.0/16', nomatch: false, options: ['timeout', '0'] }] }]);
  const script = ipsetSwapScript([{ name: 'B', type: 'hash:ip', options: ['timeout', '0'], entries: [['10.0.0.1', 'timeout', '0']] }, { name: 'A', type: 'hash:ip', options: ['timeout', '0'], entries: [] }], () => 'TMP-X');
  assert.equal(script, 'create TMP-X hash:ip timeout 0\nflush TMP-X\ncreate A hash:ip timeout 0\nswap TMP-X A\nflush TMP-X\nadd TMP-X 10.0.0.1 timeout 0\ncreate B hash:ip timeout 0\nswap TMP-X B\nflush TMP-X\ndestroy TMP-X\n');
});
