// The NetworkPolicy check of doctor: a policy isolating pods for egress without UDP 53 to the DNS pods
// is one finding naming it and the pods it cuts off; allowing DNS, or no policy, is none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPolicyDns, type PolicyFacts } from '../../../src/model/doctor/check-policy.js';
import type { EgressRule, NetworkPolicy, PolicyPod, PolicyWorld } from '../../../src/model/netpol/types.js';

const pods: PolicyPod[] = [
  { name: 'a', namespace: 'default', labels: { app: 'a' }, ports: [], ip: '10.42.0.5', node: 'server' },
  { name: 'b', namespace: 'default', labels: { app: 'b' }, ports: [], ip: '10.42.1.5', node: 'agent1' },
  { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [], ip: '10.42.0.3', node: 'server' },
];
const policy = (egress: EgressRule[]): NetworkPolicy => ({ name: 'same-ns', namespace: 'default', spec: { podSelector: {}, policyTypes: ['Egress'], egress }, createdAt: '2026-01-01T00:00:00Z' });
const facts = (policies: NetworkPolicy[], running = ['default/a', 'default/b', 'kube-system/kube-dns']): PolicyFacts => {
  const world: PolicyWorld = { policies, pods, namespaces: new Map([['default', { 'kubernetes.io/metadata.name': 'default' }], ['kube-system', { 'kubernetes.io/metadata.name': 'kube-system' }]]) };
  return { world, running: new Set(running), dnsPods: ['kube-system/kube-dns'] };
};

test('a same-namespace-only egress policy: one finding, naming the policy and both pods', () => {
  const fs = checkPolicyDns(facts([policy([{ to: [{ podSelector: {} }] }])]));
  assert.deepEqual(fs.map((f) => [f.id, f.node, f.subject]), [['policy-blocks-dns', 'cluster', 'default/same-ns']]);
  assert.match(fs[0].what, /2 pods \(default\/a and default\/b\)/);
  assert.ok(fs[0].fix[0].includes('port: 53'));
});

test('no finding: no policy, a policy that allows UDP 53 to kube-system, a stopped pod, no DNS pod running', () => {
  assert.deepEqual(checkPolicyDns(facts([])), []);
  const dns: EgressRule = { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ protocol: 'UDP', port: 53 }] };
  assert.deepEqual(checkPolicyDns(facts([policy([{ to: [{ podSelector: {} }] }, dns])])), []);
  assert.deepEqual(checkPolicyDns(facts([policy([])], ['kube-system/kube-dns'])), [], 'the isolated pods do not run');
  assert.deepEqual(checkPolicyDns({ ...facts([policy([])]), dnsPods: [] }), []);
});
