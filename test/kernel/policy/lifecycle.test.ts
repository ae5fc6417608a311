// NetworkPolicy over time, on a real two-node lab with the cluster DNS (kube-proxy in iptables mode):
// an open connection survives a policy that denies new ones (conntrack, as with kube-router), labels
// and namespaces changed under a policy, pods added after it, egress to DNS only, the rules read back
// with plain iptables-save -c / ipset list (counters included) and through `inspect policies`, and a
// full resync after someone flushed the node's filter table.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPolicies } from '../../../src/inspect/policies.js';
import { labelPod } from '../../../src/lab/netpol.js';
import { podDelete } from '../../../src/lab/pods.js';
import { applyManifests, deleteManifests } from '../../../src/lab/services.js';
import { parseManifest, type Manifest } from '../../../src/model/manifest.js';
import { labState, run, waitFor, withLab } from '../helpers.js';
import { exec, httpProbe, runPolicyPods, unlimitIcmp, type LabPod } from './probe.js';
import { np } from './table.js';

const TOPOLOGY = { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [] };
const PODS: LabPod[] = [
  { name: 'web1', node: 'server', labels: { app: 'web' }, serve: [8080], named: { http: 8080 } },
  { name: 'client1', node: 'server', labels: { role: 'client' }, serve: [8080] },
  { name: 'other1', node: 'server', labels: { role: 'other' }, serve: [8080] },
  { name: 'client2', node: 'agent1', labels: { role: 'client' }, serve: [8080] },
  { name: 'a1', node: 'agent1', namespace: 'team-a', labels: { role: 'client' }, serve: [8080] },
];
const m = (o: Record<string, unknown>) => parseManifest(o, 'test');
const WEB_FROM_CLIENTS = m(np('web-from-clients', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] }));

describe('NetworkPolicy over time (kube-router\'s rules follow pods, labels, namespaces and policies)', () => {
  const fx = withLab('netpol-life', TOPOLOGY, { prefix: 'kl', up: { dns: true } });
  const ip: Record<string, string> = {};
  let www = '';
  const ns = (pod: string) => fx.state().pods.find((p) => p.name === pod)!.netns;
  const node = (n: string) => `/run/netns/podnet-${fx.lab}-${n}`;
  const get = (from: string, to: string) => httpProbe(ns(from), ip[to], 8080);
  /** Applies `ms`, runs fn, deletes them again (also when fn fails). */
  const withPolicies = async (ms: Manifest[], fn: () => Promise<void>) => {
    await applyManifests(fx.deps, fx.lab, ms);
    try {
      await fn();
    } finally {
      await deleteManifests(fx.deps, fx.lab, ms);
    }
  };

  before(async () => {
    await fx.ready();
    unlimitIcmp(fx.lab);
    www = await mkdtemp(join(tmpdir(), 'podnet-kernel-netpol-life-'));
    const pods = PODS.map((p) => (p.name === 'web1' ? { ...p } : p));
    Object.assign(ip, await runPolicyPods(fx.deps, fx.lab, www, pods));
    await applyManifests(fx.deps, fx.lab, [m({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } }),
      m({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } })]);
  });
  after(async () => { if (www) await rm(www, { recursive: true, force: true }); });

  test('an open connection survives a policy that refuses new ones (same node and across nodes)', async () => {
    const echo = await exec(['nsenter', `--net=/run/netns/${ns('web1')}`, 'sh', '-c', 'busybox nc -ll -p 7000 -e cat >/dev/null 2>&1 & echo $!']);
    const serverPid = Number(echo.stdout.trim());
    fx.cleanup(() => { try { process.kill(serverPid, 'SIGKILL'); } catch { /* gone */ } });
    await waitFor(async () => (await exec(['nsenter', `--net=/run/netns/${ns('web1')}`, 'sh', '-c', 'grep -q ":1B58 .* 0A " /proc/net/tcp'])).code === 0, 3000);
    const clients = ['client1', 'client2'].map((c) => {
      const child = spawn('nsenter', [`--net=/run/netns/${ns(c)}`, 'busybox', 'nc', ip.web1, '7000'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let got = '';
      child.stdout.on('data', (b: Buffer) => { got += b.toString(); });
      fx.cleanup(() => child.kill('SIGKILL'));
      return { child, say: async (w: string) => { child.stdin.write(`${w}\n`); return waitFor(() => got.includes(w), 3000); } };
    });
    try {
      for (const c of clients) assert.ok(await c.say('before'), 'the echo answers');
      await withPolicies([m(np('deny', { podSelector: {} }))], async () => {
        for (const c of clients) assert.ok(await c.say('during'), 'the established connection still carries data (ESTABLISHED is accepted first)');
        assert.equal(await get('client1', 'web1'), 'refused', 'a new connection from the same node is refused');
        assert.equal(await get('client2', 'web1'), 'refused', 'and from the other node');
      });
      for (const c of clients) assert.ok(await c.say('after'));
      assert.equal(await get('client1', 'web1'), 'ok');
    } finally {
      for (const c of clients) c.child.kill('SIGKILL');
      try { process.kill(serverPid, 'SIGKILL'); } catch { /* gone */ }
    }
  });

  test('labels changed on a pod move it in and out of a policy\'s peers', async () => {
    await withPolicies([WEB_FROM_CLIENTS], async () => {
      assert.equal(await get('other1', 'web1'), 'refused');
      await labelPod(fx.deps, fx.lab, 'other1', { role: 'client' }, true);
      try {
        assert.equal(await get('other1', 'web1'), 'ok', 'now a client');
      } finally {
        await labelPod(fx.deps, fx.lab, 'other1', { role: 'other' }, true);
      }
      assert.equal(await get('other1', 'web1'), 'refused', 'and back');
      await labelPod(fx.deps, fx.lab, 'web1', { app: null });
      try {
        assert.equal(await get('other1', 'web1'), 'ok', 'web1 without app=web is selected by nothing');
      } finally {
        await labelPod(fx.deps, fx.lab, 'web1', { app: 'web' });
      }
    });
  });

  test('pods added after the policy are selected at once, as targets and as peers', async () => {
    await withPolicies([WEB_FROM_CLIENTS], async () => {
      const more = await runPolicyPods(fx.deps, fx.lab, www, [
        { name: 'late-web', node: 'agent1', labels: { app: 'web' }, serve: [8080] },
        { name: 'late-client', node: 'server', labels: { role: 'client' }, serve: [8080] },
      ]);
      Object.assign(ip, more);
      try {
        assert.equal(await get('other1', 'late-web'), 'refused', 'a new target is isolated');
        assert.equal(await get('client1', 'late-web'), 'ok');
        assert.equal(await get('late-client', 'web1'), 'ok', 'a new peer is admitted');
        assert.equal(await get('late-client', 'late-web'), 'ok');
      } finally {
        await podDelete(fx.deps, fx.lab, 'late-web');
        await podDelete(fx.deps, fx.lab, 'late-client');
      }
    });
  });

  test('a namespace\'s labels changed by kind: Namespace re-select its pods', async () => {
    const teamB = m(np('web-from-team-b', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }] }));
    await withPolicies([teamB], async () => {
      assert.equal(await get('a1', 'web1'), 'refused');
      await applyManifests(fx.deps, fx.lab, [m({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'b' } } })]);
      try {
        assert.equal(await get('a1', 'web1'), 'ok');
      } finally {
        await applyManifests(fx.deps, fx.lab, [m({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } })]);
      }
      assert.equal(await get('a1', 'web1'), 'refused');
    });
  });

  test('egress to DNS only: names resolve through the kube-dns ClusterIP, nothing else leaves', async () => {
    const lookup = (from: string) => exec(['nsenter', `--net=/run/netns/${ns(from)}`, 'timeout', '4', 'busybox', 'nslookup', 'web.default.svc.cluster.local', '10.43.0.10'], 8000);
    assert.equal((await lookup('client2')).code, 0, 'the lab\'s DNS answers');
    const dnsOnly = m(np('dns-only', { podSelector: {}, policyTypes: ['Egress'], egress: [{
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ protocol: 'UDP', port: 53 }] }] }));
    await withPolicies([dnsOnly], async () => {
      const r = await lookup('client2');
      assert.equal(r.code, 0, `UDP 53 to the DNS pod (another node) passes: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Address: ${fx.state().services!.find((s) => s.name === 'web')!.clusterIP.replace(/\./g, '\\.')}`));
      assert.equal((await lookup('client1')).code, 0, 'and on the same node');
      assert.equal(await get('client1', 'web1'), 'refused', 'HTTP does not leave');
      assert.equal(await get('client2', 'web1'), 'refused');
    });
    await withPolicies([m(np('forgot-dns', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }))], async () => {
      assert.notEqual((await lookup('client2')).code, 0, 'a policy that forgets port 53 breaks DNS');
      assert.equal(await get('client2', 'web1'), 'ok');
    });
  });

  test('the rules read back with iptables-save -c and ipset list, and through inspect policies', async () => {
    await withPolicies([WEB_FROM_CLIENTS], async () => {
      assert.equal(await get('other1', 'web1'), 'refused');
      const save = run(['nsenter', `--net=${node('server')}`, 'iptables-save', '-c', '-t', 'filter']);
      const forward = save.split('\n').filter((l) => / -A FORWARD /.test(` ${l.replace(/^\[\d+:\d+\] /, '')}`));
      assert.match(forward[0], /-A FORWARD -m comment --comment "kube-router netpol - \w{16}" -j KUBE-ROUTER-FORWARD$/, 'kube-router\'s jump comes first');
      const chains = save.split('\n').filter((l) => l.startsWith(':KUBE-POD-FW-'));
      assert.equal(chains.length, 4, 'a chain per pod of the server node (web1, client1, other1, kube-dns)');
      const reject = save.split('\n').find((l) => /POD name:web1 namespace: default.* -j REJECT/.test(l))!;
      assert.ok(Number(/^\[(\d+):/.exec(reject)![1]) >= 1, `web1's REJECT counted the refused connection: ${reject}`);
      const sets = run(['nsenter', `--net=${node('agent1')}`, 'ipset', 'list']);
      assert.match(sets, new RegExp(`Name: KUBE-SRC-\\w+\\nType: hash:ip[\\s\\S]*?Members:\\n(${ip.client1}|${ip.client2}) timeout 0\\n(${ip.client1}|${ip.client2}) timeout 0`), 'the peers of every node, on every node');
      const rows = await inspectPolicies(fx.deps.host, await labState(fx.root, fx.lab));
      const web1 = rows.find((r) => r.pod === 'web1')!;
      assert.deepEqual([web1.ingress, web1.egress, web1.policies, web1.present], ['isolated', 'open', 'default/web-from-clients', true]);
      assert.ok(web1.rejected >= 1);
      assert.deepEqual(web1.enforcement[0].sets.map((s) => s.members.length).sort(), [1, 2]);
      assert.equal(rows.find((r) => r.pod === 'client1')!.ingress, 'open');
    });
  });

  test('a node whose filter table was flushed is fully resynced at the next change', async () => {
    await withPolicies([WEB_FROM_CLIENTS], async () => {
      run(['nsenter', `--net=${node('server')}`, 'iptables', '-t', 'filter', '-F']);
      run(['nsenter', `--net=${node('server')}`, 'iptables', '-t', 'filter', '-X']);
      assert.equal(await get('other1', 'web1'), 'ok', 'nothing enforces any more');
      await withPolicies([m(np('deny-team-a', { podSelector: {} }, 'team-a'))], async () => {
        assert.equal(await get('other1', 'web1'), 'refused', 'enforced again');
        assert.match(run(['nsenter', `--net=${node('server')}`, 'iptables-save', '-t', 'filter']), /-A FORWARD -m comment --comment "kube-router netpol/);
      });
    });
  });
});
