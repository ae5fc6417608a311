// The NetworkPolicy API's meaning on a fixed world: selectors (matchLabels, every matchExpressions
// operator), isolation per direction with policyTypes defaulted, peers (podSelector, namespaceSelector,
// both, ipBlock with except), ports (numeric, named, endPort, protocol), the union of policies, and
// the one-sentence verdicts (kube-router's ICMP and own-node exceptions included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicyFlow, explainPolicyFlow, selectingPolicies, type PolicyFlow } from '../../../src/model/netpol/semantics.js';
import { formatSelector, selectorMatches } from '../../../src/model/netpol/selector.js';
import { DENY_ALL_INGRESS, PODS, policy, world } from './netpol-world.js';

const tcp = (src: string, dst: string, port: number): PolicyFlow => ({ src: { pod: src }, dst: { pod: dst }, protocol: 'TCP', port });
const allowed = (w: ReturnType<typeof world>, f: PolicyFlow) => evaluatePolicyFlow(w, f).allowed;

test('selectors: matchLabels and In/NotIn/Exists/DoesNotExist, {} selects all', () => {
  const l = { app: 'web', tier: 'canary' };
  assert.ok(selectorMatches({}, l));
  assert.ok(selectorMatches({ matchLabels: { app: 'web' } }, l));
  assert.ok(!selectorMatches({ matchLabels: { app: 'db' } }, l));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['canary', 'x'] }] }, l));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['canary'] }] }, l));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, l), 'NotIn holds without the key');
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, l));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, l));
  assert.ok(!selectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, l), 'all must hold');
  assert.equal(formatSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'DoesNotExist' }] }), 'app=web,tier in (a,b),!x');
});

test('no policy: everything is allowed, and the sentence says nobody is isolated', () => {
  const v = evaluatePolicyFlow(world([]), tcp('client', 'web1', 8080));
  assert.ok(v.allowed && v.apiAllowed);
  assert.match(v.sentence, /^allowed: no policy selects client for egress and no policy selects web1 for ingress/);
});

test('default deny ingress isolates every pod of its namespace, not of others; policyTypes default to Ingress', () => {
  const w = world([policy('deny', { podSelector: {} })]);
  assert.deepEqual(w.policies[0].spec.policyTypes, ['Ingress']);
  assert.ok(!allowed(w, tcp('client', 'web1', 8080)));
  assert.ok(allowed(w, { src: { pod: 'web1' }, dst: { pod: 'dns' }, protocol: 'UDP', port: 53 }), 'kube-system is not isolated');
  assert.equal(explainPolicyFlow(w, tcp('client', 'web1', 80)), 'policy default/deny selects web1 for ingress and no rule allows 10.42.0.3 (client) to 10.42.0.2:TCP/80');
});

test('egress rules present make the default policyTypes Ingress and Egress; default deny egress', () => {
  assert.deepEqual(policy('x', { podSelector: {}, egress: [{}] }).spec.policyTypes, ['Ingress', 'Egress']);
  assert.deepEqual(policy('x', { podSelector: {}, egress: [] }).spec.policyTypes, ['Ingress'], 'an empty list is no rule');
  const w = world([policy('deny-egress', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'] })]);
  assert.ok(!allowed(w, tcp('client', 'web1', 8080)));
  assert.match(explainPolicyFlow(w, tcp('client', 'web1', 8080)), /^policy default\/deny-egress selects client for egress and no rule allows/);
  assert.ok(allowed(w, tcp('web1', 'client', 80)), 'ingress of client stays open');
});

test('podSelector peers are of the policy\'s namespace; namespaceSelector picks namespaces by label; both together intersect', () => {
  const from = (peer: object) => world([policy('p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [peer] }] })]);
  const pods = from({ podSelector: { matchLabels: { role: 'client' } } });
  assert.ok(allowed(pods, tcp('client', 'web1', 8080)));
  assert.ok(!allowed(pods, tcp('a1', 'web1', 8080)), 'a1 has role=client but lives in team-a');
  const ns = from({ namespaceSelector: { matchLabels: { team: 'a' } } });
  assert.ok(allowed(ns, tcp('a1', 'web1', 8080)) && !allowed(ns, tcp('client', 'web1', 8080)));
  const byName = from({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-a' } } });
  assert.ok(allowed(byName, tcp('a1', 'web1', 8080)), 'every namespace carries its name label');
  const both = from({ namespaceSelector: {}, podSelector: { matchLabels: { role: 'client' } } });
  assert.ok(allowed(both, tcp('a1', 'web1', 8080)) && allowed(both, tcp('client', 'web1', 8080)) && !allowed(both, tcp('web2', 'web1', 8080)));
});

test('ipBlock with except, and a pod address inside an ipBlock', () => {
  const w = world([policy('p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.42.0.0/16', except: ['10.42.1.0/24'] } }] }] })]);
  assert.ok(allowed(w, tcp('client', 'web1', 8080)), '10.42.0.3 is inside');
  assert.ok(!allowed(w, tcp('a1', 'web1', 8080)), '10.42.1.3 is excepted');
  assert.ok(!allowed(w, { src: { ip: '203.0.113.9' }, dst: { pod: 'web1' }, protocol: 'TCP', port: 8080 }));
});

test('ports: numeric, endPort ranges, protocol, and named ports resolved per destination pod', () => {
  const ports = (p: object[]) => world([policy('p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: p }] })]);
  const num = ports([{ port: 8080 }]);
  assert.ok(allowed(num, tcp('client', 'web1', 8080)) && !allowed(num, tcp('client', 'web1', 8081)));
  assert.ok(!allowed(num, { ...tcp('client', 'web1', 8080), protocol: 'UDP' }), 'TCP is the default protocol');
  const range = ports([{ port: 8000, endPort: 8100 }]);
  assert.ok(allowed(range, tcp('client', 'web1', 8000)) && allowed(range, tcp('client', 'web1', 8100)) && !allowed(range, tcp('client', 'web1', 8101)));
  const named = ports([{ port: 'http' }]);
  assert.ok(allowed(named, tcp('client', 'web1', 8080)) && !allowed(named, tcp('client', 'web1', 9090)));
  assert.ok(allowed(named, tcp('client', 'web2', 9090)) && !allowed(named, tcp('client', 'web2', 8080)), 'web2 names 9090 http');
  const protoOnly = ports([{ protocol: 'UDP' }]);
  assert.ok(allowed(protoOnly, { ...tcp('client', 'web1', 5353), protocol: 'UDP' }) && !allowed(protoOnly, tcp('client', 'web1', 80)));
});

test('policies are unioned: any rule of any selecting policy allows', () => {
  const w = world([DENY_ALL_INGRESS,
    policy('a', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080 }] }] }),
    policy('b', { podSelector: { matchLabels: { tier: 'canary' } }, ingress: [{ ports: [{ port: 7000 }] }] })]);
  assert.deepEqual(selectingPolicies(w, PODS[1], 'Ingress').map((p) => p.name), ['a', 'b', 'deny-all']);
  assert.ok(allowed(w, tcp('client', 'web2', 8080)) && allowed(w, tcp('web1', 'web2', 7000)) && !allowed(w, tcp('web1', 'web2', 8080)));
  const v = evaluatePolicyFlow(w, tcp('web1', 'web2', 7000));
  assert.deepEqual(v.ingress.allowedBy, { policy: 'default/b', rule: 'spec.ingress[0]' });
  assert.equal(v.sentence, 'allowed: no policy selects web1 for egress and default/b spec.ingress[0] allows it into web2 (10.42.0.2 (web1) to 10.42.1.2:TCP/7000)');
});

test('egress to DNS only: UDP 53 to the DNS pods is allowed, everything else is not', () => {
  const w = world([policy('dns-only', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] }] })]);
  assert.ok(allowed(w, { src: { pod: 'client' }, dst: { pod: 'dns' }, protocol: 'UDP', port: 53 }));
  assert.ok(!allowed(w, { src: { pod: 'client' }, dst: { pod: 'dns' }, protocol: 'TCP', port: 53 }));
  assert.ok(!allowed(w, tcp('client', 'web1', 8080)));
  assert.ok(allowed(w, { src: { pod: 'a1' }, dst: { pod: 'web1' }, protocol: 'TCP', port: 8080 }), 'team-a has no policy');
});

test('kube-router\'s exceptions: ICMP echo passes and the pod\'s own node may reach it; the API would say no', () => {
  const w = world([DENY_ALL_INGRESS]);
  const ping = evaluatePolicyFlow(w, { src: { pod: 'client' }, dst: { pod: 'web1' }, protocol: 'ICMP' });
  assert.ok(ping.allowed && !ping.apiAllowed);
  assert.match(ping.sentence, /KUBE-NWPLCY-COMMON/);
  const node = evaluatePolicyFlow(w, { src: { node: 'server', ip: '198.51.100.2' }, dst: { pod: 'web1' }, protocol: 'TCP', port: 8080 });
  assert.ok(node.allowed && !node.apiAllowed);
  assert.ok(!evaluatePolicyFlow(w, { src: { node: 'agent1', ip: '198.51.100.3' }, dst: { pod: 'web1' }, protocol: 'TCP', port: 8080 }).allowed, 'another node is just an address');
});

test('addresses resolve to pods, and a rule without peers admits any source', () => {
  const w = world([policy('open-8080', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 8080 }] }] })]);
  assert.ok(allowed(w, { src: { ip: '203.0.113.7' }, dst: { ip: '10.42.0.2' }, protocol: 'TCP', port: 8080 }));
  assert.equal(evaluatePolicyFlow(w, { src: { ip: '10.42.0.3' }, dst: { ip: '10.42.0.2' }, protocol: 'TCP', port: 8080 }).ingress.pod, 'web1');
});
