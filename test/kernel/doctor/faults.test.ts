// Every fault of `podnet lab break`, on a real two-node lab (server: c1 and web1 — busybox httpd behind
// the Service web1; agent1: c2, c3): doctor reports exactly that one root cause, real traffic across
// the broken path fails (ping, or an HTTP GET through the Service), `lab heal` brings the traffic
// back, and doctor is clean again. The kernel is asked directly for the traffic (nsenter + ping /
// busybox wget), never podnet.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultsFile, labBreak, labHeal, type BreakRequest } from '../../../src/lab/faults.js';
import { podRun } from '../../../src/lab/pods.js';
import { exposePod } from '../../../src/lab/services.js';
import { LabDir } from '../../../src/lab/state.js';
import { UserError } from '../../../src/model/errors.js';
import type { Finding } from '../../../src/model/doctor/types.js';
import { nsSysctl, run, runStatus, waitFor, withLab } from '../helpers.js';
import { doctorOf } from './run-doctor.js';

const fx = withLab('doctor-faults', { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'c1', node: 'server' }, { name: 'c2', node: 'agent1' }, { name: 'c3', node: 'agent1' }] }, { prefix: 'kd' });
const T = { timeout: 60_000 };
let www = '';
let svc = '';
const podNs = (name: string) => fx.state().pods.find((p) => p.name === name)!.netns;
const podIp = (name: string) => fx.state().pods.find((p) => p.name === name)!.ip!;
const nodeNs = (name: string) => `podnet-${fx.lab}-${name}`;

before(async () => {
  await fx.ready();
  www = await mkdtemp(join(tmpdir(), 'podnet-kernel-doctor-www-'));
  fx.cleanup(() => rm(www, { recursive: true, force: true }));
  await writeFile(join(www, 'index.html'), 'web1\n');
  await podRun(fx.deps, fx.lab, 'web1', 'server', { labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], commands: [['busybox', 'httpd', '-f', '-p', '8080', '-h', www]] });
  svc = (await exposePod(fx.deps, fx.lab, 'web1', { port: 80, targetPort: 'http' })).clusterIP;
});

/** doctor on the whole lab, through persistent shells as the CLI runs it. */
const report = doctorOf(fx);
const findings = async (): Promise<Finding[]> => (await report()).findings;
/** One ping from a pod (1 s to answer); extra options like `-M do -s 1422`. */
const ping = (from: string, ip: string, extra: string[] = []) => runStatus(['nsenter', `--net=/run/netns/${podNs(from)}`, 'ping', '-c1', '-W1', '-q', ...extra, ip], 5000).status === 0;
/** One HTTP GET of the Service from a pod, bounded (busybox wget's -T crashes on Debian's 1.35). */
const get = (from: string) => runStatus(['nsenter', `--net=/run/netns/${podNs(from)}`, 'timeout', '2', 'busybox', 'wget', '-qO-', `http://${svc}/`], 5000).stdout.trim() === 'web1';

interface Case {
  req: BreakRequest;
  /** The one finding doctor must report, and the node it names. */
  id: string;
  node: string;
  /** Traffic across the broken path: true when it gets through. */
  works: () => boolean;
  /** Set up / take down what makes the path exist (an asymmetric route for rp_filter). */
  around?: { before: () => void; after: () => void };
}

/** Breaks, checks doctor and the traffic, heals, checks both again. */
async function breakAndHeal(c: Case): Promise<void> {
  assert.ok(await waitFor(c.works, 4000, 200), 'the path works before the fault');
  await labBreak(fx.deps, fx.lab, c.req);
  try {
    const fs = await findings();
    assert.deepEqual(fs.map((f) => `${f.id}@${f.node}`), [`${c.id}@${c.node}`], JSON.stringify(fs.map((f) => f.what)));
    assert.ok(fs[0].fix.length > 0 && fs[0].evidence.length > 0, 'evidence and a fix');
    c.around?.before();
    try {
      assert.equal(c.works(), false, 'traffic across the broken path fails');
    } finally {
      c.around?.after();
    }
  } finally {
    await labHeal(fx.deps, fx.lab);
  }
  assert.ok(await waitFor(c.works, 6000, 200), 'traffic works again after lab heal');
  assert.deepEqual((await findings()).map((f) => f.id), [], 'doctor is clean after lab heal');
  assert.equal(existsSync(faultsFile(new LabDir(fx.root, fx.lab))), false, 'faults.json is gone');
}

const acrossNodes = () => ping('c1', podIp('c2'));

test('a healthy lab: doctor finds nothing, traffic works across nodes and through the Service', T, async () => {
  assert.deepEqual(await findings(), []);
  assert.ok(acrossNodes());
  assert.ok(get('c1'));
});

test('ip-forward-off on agent1', T, () => breakAndHeal({ req: { fault: 'ip-forward-off', node: 'agent1' }, id: 'ip-forward-off', node: 'agent1', works: acrossNodes }));
test('bridge-nf-off on server: a pod reaching a Service endpoint on its own node', T, () => breakAndHeal({ req: { fault: 'bridge-nf-off', node: 'server' }, id: 'bridge-nf-off', node: 'server', works: () => get('c1') }));
test('hairpin-off on web1\'s port: web1 reaching itself through its Service', T, () => breakAndHeal({ req: { fault: 'hairpin-off', node: 'server', pod: 'web1' }, id: 'hairpin-off', node: 'server', works: () => get('web1') }));
test('forward-reject on agent1', T, () => breakAndHeal({ req: { fault: 'forward-reject', node: 'agent1' }, id: 'forward-reject', node: 'agent1', works: acrossNodes }));

test('rp-filter-strict on agent1: an asymmetric path (server sends c2\'s traffic straight over the underlay)', T, () => {
  const route = ['ip', '-n', nodeNs('server'), 'route'];
  return breakAndHeal({
    req: { fault: 'rp-filter-strict', node: 'agent1' }, id: 'rp-filter-strict', node: 'agent1', works: acrossNodes,
    around: { before: () => run([...route, 'add', `${podIp('c2')}/32`, 'via', fx.state().plan.nodes[1].ip.split('/')[0], 'dev', 'eth0']), after: () => { runStatus([...route, 'del', `${podIp('c2')}/32`]); } },
  });
});

const big = () => ping('c1', podIp('c2'), ['-M', 'do', '-s', '1422']);
test('mtu-mismatch on flannel.1 (server): a full-size packet with DF across nodes', T, async () => {
  await breakAndHeal({ req: { fault: 'mtu-mismatch', node: 'server', on: 'flannel.1' }, id: 'vtep-mtu', node: 'server', works: big });
});
test('mtu-mismatch on cni0 (agent1)', T, () => breakAndHeal({ req: { fault: 'mtu-mismatch', node: 'agent1', on: 'cni0' }, id: 'bridge-mtu', node: 'agent1', works: big }));
test('mtu-mismatch on a pod (c2)', T, () => breakAndHeal({ req: { fault: 'mtu-mismatch', node: 'agent1', on: 'pod', pod: 'c2' }, id: 'pod-mtu', node: 'agent1', works: big }));
test('a small packet still passes an MTU mismatch (it is the size that breaks)', T, async () => {
  await labBreak(fx.deps, fx.lab, { fault: 'mtu-mismatch', node: 'server' });
  try {
    assert.ok(ping('c1', podIp('c2')));
    assert.equal(big(), false);
  } finally {
    await labHeal(fx.deps, fx.lab);
  }
});

test('duplicate-ip: c3 takes c2\'s address', T, () => {
  const c3 = podIp('c3');
  return breakAndHeal({ req: { fault: 'duplicate-ip', node: 'agent1', pod: 'c3' }, id: 'duplicate-pod-ip', node: 'agent1', works: () => ping('c1', c3) });
});

for (const part of ['fdb', 'neigh', 'route'] as const) {
  test(`${part}-missing on server for agent1`, T, () => breakAndHeal({ req: { fault: `${part}-missing`, node: 'server', peer: 'agent1' }, id: `remote-${part}`, node: 'server', works: acrossNodes }));
}

test('wrong-vni on agent1', T, () => breakAndHeal({ req: { fault: 'wrong-vni', node: 'agent1' }, id: 'vtep-vni', node: 'agent1', works: acrossNodes }));
test('vxlan-csum from server: the receiver drops VXLAN with a bad UDP checksum', T, () => breakAndHeal({ req: { fault: 'vxlan-csum', node: 'server' }, id: 'underlay-filter', node: 'underlay', works: acrossNodes }));

test('stale-lease: one finding; the live nodes keep reaching each other (a stale lease only pins its subnet)', T, async () => {
  await labBreak(fx.deps, fx.lab, { fault: 'stale-lease' });
  try {
    assert.deepEqual((await findings()).map((f) => `${f.id}@${f.node}`), ['stale-lease@cluster']);
    assert.ok(acrossNodes());
  } finally {
    await labHeal(fx.deps, fx.lab);
  }
  assert.deepEqual(await findings(), []);
});

test('service-target-port: web1 keeps its ClusterIP but port 80 targets a name web1 does not declare', T, () => breakAndHeal({ req: { fault: 'service-target-port' }, id: 'service-target-port', node: 'cluster', works: () => get('c1') }));
test('service-no-endpoints: web1\'s selector misspelled, it selects no pod', T, () => breakAndHeal({ req: { fault: 'service-no-endpoints' }, id: 'service-no-endpoints', node: 'cluster', works: () => get('c1') }));
test('a Service fault takes no --node, and its undo puts the Service back as it was', T, async () => {
  await assert.rejects(labBreak(fx.deps, fx.lab, { fault: 'service-no-endpoints', node: 'server' }), /--node: fault "service-no-endpoints" is the cluster's/);
  const before = JSON.stringify(fx.state().services);
  await labBreak(fx.deps, fx.lab, { fault: 'service-target-port' });
  await labHeal(fx.deps, fx.lab);
  assert.equal(JSON.stringify(fx.state().services), before);
});

test('conntrack-max is refused on this kernel, in one line, changing nothing', T, async () => {
  const before = nsSysctl(nodeNs('server'), 'net.netfilter.nf_conntrack_max');
  await assert.rejects(labBreak(fx.deps, fx.lab, { fault: 'conntrack-max', node: 'server' }), (e) => e instanceof UserError && e.kind === 'conflict' && !e.message.includes('\n'));
  assert.equal(nsSysctl(nodeNs('server'), 'net.netfilter.nf_conntrack_max'), before);
  assert.equal(existsSync(faultsFile(new LabDir(fx.root, fx.lab))), false);
});

test('two faults at once are two findings, healed together; a fault twice is refused', T, async () => {
  await labBreak(fx.deps, fx.lab, { fault: 'ip-forward-off', node: 'agent1' });
  await labBreak(fx.deps, fx.lab, { fault: 'hairpin-off', node: 'server', pod: 'web1' });
  try {
    await assert.rejects(labBreak(fx.deps, fx.lab, { fault: 'ip-forward-off', node: 'agent1' }), /already injected on node agent1/);
    assert.deepEqual((await findings()).map((f) => f.id), ['ip-forward-off', 'hairpin-off']);
  } finally {
    assert.equal((await labHeal(fx.deps, fx.lab)).length, 2);
  }
  assert.deepEqual(await findings(), []);
  assert.ok(acrossNodes() && get('web1'));
});
