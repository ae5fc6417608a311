// A pod's reach under NetworkPolicies (src/views/reach.ts): the questions asked per pair (declared
// ports, ports the rules name, any other port) and the verdicts, which must be the evaluator's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachOf } from '../../../src/views/reach.js';
import { evaluatePolicyFlow } from '../../../src/model/netpol/semantics.js';
import { policy, world } from '../model/netpol-world.js';

const W = world([
  policy('web-from-clients', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] }] }),
  policy('client-out', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 8080 }] }] }),
]);
const byPod = (r: ReturnType<typeof reachOf>) => Object.fromEntries(r.targets.map((t) => [t.pod, t]));

test('egress: the client may reach web1 on http (8080) only; web2 serves http on 9090, which client-out does not allow', () => {
  const r = reachOf(W, 'client', 'default', 'egress');
  assert.deepEqual(r.policies, ['default/client-out']);
  const t = byPod(r);
  assert.deepEqual(t.web1.ports.map((p) => [p.label, p.allowed]), [['http (8080/TCP)', true], ['other TCP ports', false]]);
  assert.equal(t.web1.allowed, true);
  assert.deepEqual(t.web2.ports.map((p) => [p.label, p.allowed]), [['8080/TCP', false], ['http (9090/TCP)', false], ['other TCP ports', false]]);
  assert.equal(t.web2.allowed, false);
  assert.match(t.web2.ports[1].sentence, /^policy default\/client-out selects client for egress and no rule allows 10\.42\.0\.3 \(client\) to 10\.42\.1\.2:TCP\/9090/);
  assert.equal(t.dns.allowed, false, 'no DNS: client-out forgot it');
  assert.equal(r.targets.some((x) => x.pod === 'client'), false, 'not itself');
});

test('ingress: web1 is reached by the clients of its own namespace (a podSelector alone means the policy\'s namespace)', () => {
  const r = reachOf(W, 'web1', 'default', 'ingress');
  assert.deepEqual(r.policies, ['default/web-from-clients']);
  const t = byPod(r);
  assert.equal(t.client.allowed, true);
  assert.equal(t.a1.allowed, false, 'a1 has role=client but lives in team-a');
  assert.equal(t.web2.allowed, false);
  assert.match(t.a1.ports.find((p) => !p.allowed)!.sentence, /selects web1 for ingress and no rule allows/);
});

test('every verdict is the evaluator\'s own, port by port', () => {
  for (const dir of ['egress', 'ingress'] as const) {
    for (const p of ['client', 'web1', 'web2', 'dns', 'a1']) {
      const self = W.pods.find((x) => x.name === p)!;
      for (const t of reachOf(W, p, self.namespace, dir).targets) {
        for (const port of t.ports) {
          const [src, dst] = dir === 'egress' ? [self, { name: t.pod, namespace: t.namespace }] : [{ name: t.pod, namespace: t.namespace }, self];
          const v = evaluatePolicyFlow(W, { src: { pod: src.name, namespace: src.namespace }, dst: { pod: dst.name, namespace: dst.namespace }, protocol: port.protocol, ...(port.port !== undefined ? { port: port.port } : {}) });
          assert.equal(port.allowed, v.allowed, `${p} ${dir} ${t.pod} ${port.label}`);
        }
      }
    }
  }
});

test('no policy: nothing is isolated and every pod reaches every pod', () => {
  const r = reachOf(world([]), 'client', 'default', 'egress');
  assert.deepEqual(r.policies, []);
  assert.ok(r.targets.every((t) => t.allowed));
  assert.throws(() => reachOf(W, 'nope', 'default', 'egress'), /no pod default\/nope/);
});
