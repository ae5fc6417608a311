// The NetworkPolicy table (./table.ts) on a real two-node lab in one kube-proxy mode: per case the
// policies are applied (kube-router's rules synced on both nodes), every probe is a real connection
// whose outcome must match the case — and the model's verdict (evaluatePolicyFlow) must agree with
// the kernel — then the policies are deleted. Afterwards nothing of kube-router's is left on any node
// (read with plain iptables-save and ipset), nor in the root namespace. One lab per mode, shared.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyWorldOf } from '../../../src/lab/policy-world.js';
import { applyManifests, deleteManifests } from '../../../src/lab/services.js';
import { parseManifest, type Manifest } from '../../../src/model/manifest.js';
import type { ProxyMode } from '../../../src/model/kube-proxy/mode.js';
import { evaluatePolicyFlow } from '../../../src/model/netpol/semantics.js';
import { run, withLab } from '../helpers.js';
import { httpProbe, runPolicyPods, unlimitIcmp } from './probe.js';
import { CASES, type PolicyCase, type Probe } from './table.js';

const TOPOLOGY = { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [] };
const manifests = (c: PolicyCase): Manifest[] => c.policies.map((p, i) => parseManifest(p, `${c.name}#${i}`));

/** The table on a lab of its own in `mode`. */
export function policyCases(mode: ProxyMode): void {
  describe(`NetworkPolicy enforced by kube-router's rules, kube-proxy in ${mode} mode`, () => {
    const fx = withLab(`netpol-${mode}`, TOPOLOGY, { prefix: 'kp', up: { proxyMode: mode } });
    const ip: Record<string, string> = {};
    let www = '';
    const ns = (pod: string) => fx.state().pods.find((p) => p.name === pod)!.netns;
    const node = (n: string) => `podnet-${fx.lab}-${n}`;

    before(async () => {
      await fx.ready();
    unlimitIcmp(fx.lab);
      www = await mkdtemp(join(tmpdir(), 'podnet-kernel-netpol-'));
      Object.assign(ip, await runPolicyPods(fx.deps, fx.lab, www));
      await applyManifests(fx.deps, fx.lab, [
        parseManifest({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } }, 'ns'),
        parseManifest({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }, 'svc'),
      ]);
      ip.svc = fx.state().services!.find((s) => s.name === 'web')!.clusterIP;
    });
    after(async () => { if (www) await rm(www, { recursive: true, force: true }); });

    /** What each probe did in the kernel, and what the model says of it. */
    const probe = async (p: Probe) => {
      const port = p.to === 'svc' ? 80 : p.port ?? 8080;
      const got = await httpProbe(ns(p.from), ip[p.to], port);
      const verdict = evaluatePolicyFlow(policyWorldOf(fx.state()), { src: { pod: p.from }, dst: { pod: p.to === 'svc' ? 'web1' : p.to }, protocol: 'TCP', port: p.to === 'svc' ? 8080 : port });
      return { p, got, verdict };
    };

    for (const c of CASES) {
      test(c.name, async () => {
        const ms = manifests(c);
        if (ms.length) await applyManifests(fx.deps, fx.lab, ms);
        try {
          const results = await Promise.all(c.probes.map(probe));
          const wrong = results.filter((r) => (r.got === 'ok') !== r.p.ok).map((r) => `${r.p.from} → ${r.p.to}:${r.p.port ?? 8080} ${r.got}, expected ${r.p.ok ? 'ok' : 'refused'}`);
          assert.deepEqual(wrong, [], 'the kernel');
          for (const r of results) assert.ok(r.got === 'ok' || r.got === 'refused', `${r.p.from} → ${r.p.to}: refused at once (REJECT), not ${r.got}`);
          const disagree = results.filter((r) => r.verdict.allowed !== r.p.ok).map((r) => `${r.p.from} → ${r.p.to}: ${r.verdict.sentence}`);
          assert.deepEqual(disagree, [], 'the model\'s verdict');
        } finally {
          if (ms.length) await deleteManifests(fx.deps, fx.lab, ms);
        }
      });
    }

    test('with the last policy gone no kube-router chain, jump or set is left on any node, and none in the root namespace', () => {
      for (const n of ['server', 'agent1']) {
        const filter = run(['nsenter', `--net=/run/netns/${node(n)}`, 'iptables-save', '-t', 'filter']);
        assert.ok(!/KUBE-ROUTER|KUBE-POD-FW|KUBE-NWPLCY/.test(filter), `${n}: no kube-router chain`);
        assert.equal(run(['nsenter', `--net=/run/netns/${node(n)}`, 'ipset', 'list', '-n']).trim(), '', `${n}: no set`);
      }
      assert.ok(!/KUBE-(SRC|DST)-/.test(run(['ipset', 'list', '-n'])), 'root namespace: no kube-router set');
      assert.ok(!/KUBE-ROUTER|KUBE-POD-FW/.test(run(['iptables-save'])), 'root namespace: no kube-router chain');
    });
  });
}
