// A healthy lab of 3 nodes × 30 pods: doctor finds nothing, and leaves the kernel exactly as it found
// it (every node, the switch and ten of one node's pods read independently before and after: ip -json,
// bridge -json, nft -j list ruleset, iptables-save, the sysctls it reads). Then 20 rounds of pods
// coming and going (a pod started on a node, another deleted), doctor clean after each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podDelete, podRun } from '../../../src/lab/pods.js';
import { withLab } from '../helpers.js';
import { doctorOf } from './run-doctor.js';
import { firstDifference, kernelState, settled } from './kernel-state.js';

const NODES = ['server', 'agent1', 'agent2'];
const fx = withLab('doctor-healthy', {
  nodes: NODES.map((name) => ({ name })),
  pods: Array.from({ length: 90 }, (_, i) => ({ name: `p${i + 1}`, node: NODES[i % 3] })),
}, { prefix: 'kh' });
const T = { timeout: 90_000 };

const report = doctorOf(fx);

test('3 nodes × 30 pods: nothing to report, and the kernel is byte-identical before and after', T, async () => {
  const s = fx.state();
  const paths = [...s.plan.nodes.map((n) => n.netns), s.plan.underlay.netns, ...s.pods.filter((p) => p.node === 'agent1').slice(0, 10).map((p) => p.netns)].map((n) => `/run/netns/${n}`);
  assert.ok(await settled(paths), 'IPv6 duplicate address detection ended');
  const before = kernelState(paths);
  const r = await report();
  const after = kernelState(paths);
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.nodes, NODES);
  assert.equal(after.length, before.length);
  after.forEach((a, i) => assert.equal(firstDifference(before[i], a), undefined, `${paths[i]} changed under doctor`));
});

test('20 rounds of pods coming and going: doctor clean after each', T, async () => {
  for (let round = 0; round < 20; round++) {
    const node = NODES[round % 3];
    if (round % 2 === 0) await podRun(fx.deps, fx.lab, `churn${round}`, node);
    else await podDelete(fx.deps, fx.lab, round % 4 === 1 ? `churn${round - 1}` : `p${round}`);
    const r = await report();
    assert.deepEqual(r.findings.map((f) => `${f.id}@${f.node}: ${f.what}`), [], `round ${round}`);
  }
});
