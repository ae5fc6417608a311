// The DNS faults of `podnet lab break`, on a real lab brought up with its cluster DNS (server: the
// kube-dns pod and c1; agent1: c2): doctor reports exactly that one root cause, a real lookup from a
// pod (busybox nslookup of kubernetes.default against the kube-dns ClusterIP) fails, `lab heal` brings
// it back, and doctor is clean again. The lookup asks the kernel's path, never podnet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { faultsFile, labBreak, labHeal, type BreakRequest } from '../../../src/lab/faults.js';
import { LabDir } from '../../../src/lab/state.js';
import type { Finding } from '../../../src/model/doctor/types.js';
import { runStatus, waitFor, withLab } from '../helpers.js';
import { doctorOf } from './run-doctor.js';

const fx = withLab('doctor-dns', { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'c1', node: 'server' }, { name: 'c2', node: 'agent1' }] }, { prefix: 'kd', up: { dns: true } });
const T = { timeout: 90_000 };
const podNs = (name: string) => fx.state().pods.find((p) => p.name === name)!.netns;
const dnsIP = () => fx.state().services!.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns')!.clusterIP;

const report = doctorOf(fx);
const findings = async (): Promise<Finding[]> => (await report()).findings;
/** One lookup from a pod through the kube-dns Service, bounded; true when it answered the name. */
const resolves = (from: string) => {
  const r = runStatus(['nsenter', `--net=/run/netns/${podNs(from)}`, 'timeout', '3', 'busybox', 'nslookup', 'kubernetes.default.svc.cluster.local', dnsIP()], 6000);
  return r.status === 0 && /Address:\s+10\.43\.0\.1\b/.test(r.stdout);
};

async function breakAndHeal(req: BreakRequest, id: string, from: string): Promise<void> {
  assert.ok(await waitFor(() => resolves(from), 6000, 300), 'names resolve before the fault');
  await labBreak(fx.deps, fx.lab, req);
  try {
    const fs = await findings();
    assert.deepEqual(fs.map((f) => `${f.id}@${f.node}`), [`${id}@cluster`], JSON.stringify(fs.map((f) => f.what)));
    assert.ok(fs[0].fix.length > 0 && fs[0].evidence.length > 0, 'evidence and a fix');
    assert.equal(resolves(from), false, 'the lookup fails');
  } finally {
    await labHeal(fx.deps, fx.lab);
  }
  assert.ok(await waitFor(() => resolves(from), 8000, 300), 'names resolve again after lab heal');
  assert.deepEqual((await findings()).map((f) => f.id), [], 'doctor is clean after lab heal');
  assert.equal(existsSync(faultsFile(new LabDir(fx.root, fx.lab))), false, 'faults.json is gone');
}

test('a healthy lab with its DNS: doctor finds nothing, pods on both nodes resolve', T, async () => {
  await fx.ready();
  assert.deepEqual(await findings(), []);
  assert.ok(await waitFor(() => resolves('c1') && resolves('c2'), 6000, 300));
});

test('dns-down: kube-dns has no endpoint, lookups fail; heal replaces the DNS pod', T, () => breakAndHeal({ fault: 'dns-down' }, 'service-no-endpoints', 'c2'));

test('netpol-no-dns: a same-namespace-only egress policy cuts the pods off kube-dns; heal deletes it', T, async () => {
  const ping = () => runStatus(['nsenter', `--net=/run/netns/${podNs('c1')}`, 'ping', '-c1', '-W1', '-q', fx.state().pods.find((p) => p.name === 'c2')!.ip!], 5000).status === 0;
  await breakAndHeal({ fault: 'netpol-no-dns' }, 'policy-blocks-dns', 'c1');
  assert.ok(ping(), 'pods of the namespace reach each other');
  await labBreak(fx.deps, fx.lab, { fault: 'netpol-no-dns' });
  try {
    assert.ok(ping(), 'traffic by address inside the namespace still works while DNS is cut off');
    assert.match((await findings())[0].what, /allows no DNS .* for 2 pods \(default\/c1 and default\/c2\)/);
  } finally {
    await labHeal(fx.deps, fx.lab);
  }
  assert.deepEqual(fx.state().policies ?? [], []);
});
