// A distributed run on one machine: a three-node lab whose leases live in etcd (running in the lab's
// control-plane namespace) and whose node agents are separate `podnet agent` processes inside their
// node namespaces, talking to etcd across the underlay. Checked against what etcd (etcdctl) and the
// kernel (ip/bridge -json) hold: flannel's key layout with TTL leases, a full mesh, convergence after
// node add/delete, an agent restart that keeps subnet and VTEP MAC, etcd going away and coming back,
// racing agents, a lease let expire and reclaimed, and a corrupt lease skipped with a clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeAdd, nodeDelete } from '../../../src/lab/nodes.js';
import { LabDir, type LabState } from '../../../src/lab/state.js';
import { startAgent, startEtcd } from '../../../src/lab/cluster.js';
import { NodeAgent } from '../../../src/overlay/agent.js';
import { EtcdLeaseStore } from '../../../src/overlay/etcd-store.js';
import { Host } from '../../../src/host/host.js';
import { ExecRunner } from '../../../src/host/runner.js';
import { CURRENT_NETNS } from '../../../src/host/netns.js';
import { alive, ipJson, labDeps, netInodeOf, readState, run, runStatus, statInode, tempDir, waitFor, withLab } from '../helpers.js';
import { overlayProblems, vtepProblems } from '../lab/overlay-check.js';

const T = { timeout: 60_000 };
const TTL = 4;
const { lab, root } = withLab('etcd', { nodes: [{ name: 'server' }, { name: 'agent1' }, { name: 'agent2' }], pods: [{ name: 'pod1' }, { name: 'pod2' }, { name: 'pod3' }] },
  { prefix: 'ke', up: { store: { kind: 'etcd' }, leaseTtl: TTL } });

const state = (): LabState => readState(root, lab);
const etcdIP = () => state().overlay!.etcd!.ip.split('/')[0];
/** etcdctl inside the control-plane namespace, as an operator would run it. */
const etcdctl = (args: string[]) => run(['nsenter', `--net=/run/netns/podnet-${lab}-etcd`, 'etcdctl', `--endpoints=http://${etcdIP()}:2379`, ...args]);
const keys = () => {
  const out = JSON.parse(etcdctl(['get', '--prefix', '/coreos.com/network/subnets/', '-w', 'json'])) as { kvs?: { key: string; value: string; lease?: number }[] };
  return (out.kvs ?? []).map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString(), value: Buffer.from(kv.value, 'base64').toString(), lease: kv.lease ?? 0 }));
};
const agentLog = (node: string) => readFileSync(join(root, lab, 'nodes', node, 'agent.log'), 'utf8');
const ping = (netns: string, ip: string) => runStatus(['nsenter', `--net=/run/netns/${netns}`, 'ping', '-c', '1', '-W', '2', ip]);
const labStore = () => new EtcdLeaseStore([`unix://${state().overlay!.etcd!.socket}`]);
/** Updates the recorded PID of a restarted process, so the lab's own teardown stops it. */
async function record(fn: (s: LabState) => void): Promise<void> {
  const dir = new LabDir(root, lab);
  const s = (await dir.read())!;
  fn(s);
  await dir.write(s);
}

test('agents are separate processes inside their node namespaces; etcd runs in the control plane', T, () => {
  const s = state();
  for (const n of s.plan.nodes) {
    const pid = s.overlay!.agents[n.name];
    assert.ok(alive(pid), `${n.name}'s agent runs`);
    assert.equal(netInodeOf(pid), statInode(`/run/netns/${n.netns}`), `${n.name}'s agent lives in the node's namespace`);
  }
  assert.equal(netInodeOf(s.overlay!.etcd!.pid), statInode(`/run/netns/podnet-${lab}-etcd`));
  assert.equal(s.overlay!.endpoint, `etcd://${etcdIP()}:2379`);
});

test('leases are in etcd in flannel\'s layout, each attached to a TTL lease', T, () => {
  const s = state();
  const config = JSON.parse(etcdctl(['get', '/coreos.com/network/config', '--print-value-only'])) as { Network: string; Backend: { Type: string } };
  assert.equal(config.Network, '10.42.0.0/16');
  assert.equal(config.Backend.Type, 'vxlan');
  const kvs = keys();
  for (const n of s.plan.nodes) {
    const kv = kvs.find((k) => k.key === `/coreos.com/network/subnets/${n.podCIDR.replace('/', '-')}`);
    assert.ok(kv, `lease of ${n.name}`);
    assert.deepEqual(JSON.parse(kv.value), { PublicIP: n.ip.split('/')[0], BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: n.vtepMac } });
    assert.ok(kv.lease > 0, 'attached to an etcd lease');
  }
  // Lease IDs are 64-bit: take them from `lease list` (hex), not from JSON numbers.
  const ids = etcdctl(['lease', 'list']).split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f]+$/.test(l));
  const ttlOf = new Map<string, number>();
  for (const id of ids) {
    const t = JSON.parse(etcdctl(['lease', 'timetolive', id, '--keys', '-w', 'json'])) as { 'granted-ttl': number; ttl: number; keys?: string[] };
    for (const k of t.keys ?? []) if (t.ttl > 0) ttlOf.set(Buffer.from(k, 'base64').toString(), t['granted-ttl']);
  }
  for (const n of s.plan.nodes) assert.equal(ttlOf.get(`/coreos.com/network/subnets/${n.podCIDR.replace('/', '-')}`), TTL, `${n.name}'s lease has TTL ${TTL}s`);
});

test('full mesh across the overlay, every node programmed with every other', T, () => {
  const s = state();
  assert.deepEqual(overlayProblems(s), []);
  for (const a of s.pods) for (const b of s.pods) if (a !== b) assert.equal(ping(a.netns, b.ip!.split('/')[0]).status, 0, `${a.name} → ${b.name}`);
});

test('a corrupt lease value gets one clear line and is skipped', T, async () => {
  etcdctl(['put', '/coreos.com/network/subnets/10.42.9.0-24', '{"PublicIP": "not an ip"']);
  try {
    const line = 'skipping lease /coreos.com/network/subnets/10.42.9.0-24: value is not JSON';
    assert.ok(await waitFor(() => state().plan.nodes.every((n) => agentLog(n.name).includes(line)), 10_000), 'every agent says which key is bad and why');
    assert.deepEqual(overlayProblems(state()), [], 'the good leases stay programmed, the bad one is not');
    assert.ok(!ipJson(`podnet-${lab}-server`, ['route', 'show']).some((r) => r.dst === '10.42.9.0/24'));
  } finally {
    etcdctl(['del', '/coreos.com/network/subnets/10.42.9.0-24']);
  }
});

test('two agents racing for one subnet get distinct subnets', T, async () => {
  const stores = [labStore(), labStore()];
  const dirs = [await tempDir('race-a'), await tempDir('race-b')];
  const agents = stores.map((store, i) => new NodeAgent({
    host: new Host(new ExecRunner()), netns: CURRENT_NETNS, store, node: `racer${i}`, publicIP: `203.0.113.${10 + i}`,
    underlayDev: 'eth0', underlayMtu: 1500, dataDir: dirs[i], subnetFile: join(dirs[i], 'subnet.env'), ttlSeconds: TTL,
    hint: '10.42.200.0/24', ipMasq: true, log: () => undefined, random: (n) => new Uint8Array(n).map(() => Math.floor(Math.random() * 256)),
  }));
  try {
    const [a, b] = await Promise.all(agents.map((x) => x.acquire()));
    assert.notEqual(a.subnet, b.subnet);
    assert.ok([a.subnet, b.subnet].includes('10.42.200.0/24'), 'one of them got the subnet both wanted');
    const held = keys().filter((k) => k.value.includes('203.0.113.'));
    assert.equal(held.length, 2);
  } finally {
    // The temp dirs first: a store whose close never settles must not leave them behind.
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    for (const [i, store] of stores.entries()) {
      if (agents[i].subnet) await store.remove(agents[i].subnet!);
      await store.close();
    }
  }
});

test('an agent restarted keeps its subnet and its VTEP MAC (flannel.1 re-made with the same MAC)', T, async () => {
  const s = state();
  const node = s.plan.nodes.find((n) => n.name === 'agent1')!;
  process.kill(s.overlay!.agents.agent1, 'SIGTERM');
  assert.ok(await waitFor(() => !alive(s.overlay!.agents.agent1), 5000));
  run(['ip', '-n', node.netns, 'link', 'del', 'flannel.1']);
  const pid = await startAgent(labDeps(root), new LabDir(root, lab), lab, node, s.overlay!);
  await record((x) => { x.overlay!.agents.agent1 = pid; });
  assert.ok(await waitFor(() => overlayProblems(state()).length === 0, 15_000), `converged again: ${overlayProblems(state()).join('; ')}`);
  assert.equal(ipJson(node.netns, ['link', 'show', 'flannel.1'])[0].address, node.vtepMac);
  assert.ok(keys().some((k) => k.key.endsWith(node.podCIDR.replace('/', '-')) && k.value.includes(node.vtepMac)));
  assert.match(agentLog('agent1'), new RegExp(`kept lease ${node.podCIDR.replace(/\./g, '\\.')}`));
});

test('etcd stopped: pods keep talking, agents retry; when it returns they converge (a removed route comes back)', T, async () => {
  const s = state();
  const [p1, p2] = [s.pods.find((p) => p.node === 'server')!, s.pods.find((p) => p.node === 'agent1')!];
  process.kill(s.overlay!.etcd!.pid, 'SIGTERM');
  assert.ok(await waitFor(() => !alive(s.overlay!.etcd!.pid), 10_000), 'etcd stopped');
  assert.ok(await waitFor(() => agentLog('server').includes('unreachable'), 10_000), 'the agent says the store is unreachable');
  assert.equal(ping(p1.netns, p2.ip!.split('/')[0]).status, 0, 'existing pods keep talking');
  const agent1 = s.plan.nodes.find((n) => n.name === 'agent1')!;
  run(['ip', '-n', `podnet-${lab}-server`, 'route', 'del', agent1.podCIDR]);
  const etcd = await startEtcd(labDeps(root), new LabDir(root, lab), lab, s.overlay!.etcd!.ip);
  await record((x) => { x.overlay!.etcd = etcd; });
  assert.ok(await waitFor(() => overlayProblems(state()).length === 0, 20_000), `converged: ${overlayProblems(state()).join('; ')}`);
  assert.match(agentLog('server'), /reachable again/);
  assert.equal(ping(p1.netns, p2.ip!.split('/')[0]).status, 0);
});

test('node add converges every node through etcd; node delete removes its entries everywhere', T, async () => {
  const deps = labDeps(root);
  const added = await nodeAdd(deps, lab, 'agent3');
  assert.deepEqual(overlayProblems(state()), []);
  assert.ok(alive(state().overlay!.agents.agent3));
  await nodeDelete(deps, lab, 'agent3');
  assert.ok(!keys().some((k) => k.value.includes(added.vtepMac)), 'its lease is gone from etcd');
  assert.deepEqual(overlayProblems(state()), []);
});

test('a lease let expire is dropped by every node and reclaimed by a newcomer', T, async () => {
  const s = state();
  const gone = s.plan.nodes.find((n) => n.name === 'agent2')!;
  process.kill(s.overlay!.agents.agent2, 'SIGKILL'); // no goodbye, no renewal
  const key = `/coreos.com/network/subnets/${gone.podCIDR.replace('/', '-')}`;
  assert.ok(await waitFor(() => !keys().some((k) => k.key === key), (TTL + 6) * 1000, 100), 'etcd expired the lease');
  const others = s.plan.nodes.filter((n) => n.name !== 'agent2');
  assert.ok(await waitFor(() => others.every((n) => vtepProblems(n, others.filter((x) => x !== n)).length === 0), 10_000),
    `the other nodes dropped its entries: ${others.flatMap((n) => vtepProblems(n, others.filter((x) => x !== n))).join('; ')}`);
  const store = labStore();
  const dir = await tempDir('reclaim');
  try {
    const newcomer = new NodeAgent({
      host: new Host(new ExecRunner()), netns: CURRENT_NETNS, store, node: 'newcomer', publicIP: '203.0.113.20', underlayDev: 'eth0', underlayMtu: 1500,
      dataDir: dir, subnetFile: join(dir, 'subnet.env'), ttlSeconds: TTL, hint: gone.podCIDR, ipMasq: true, log: () => undefined,
      random: (n) => new Uint8Array(n).fill(7),
    });
    assert.equal((await newcomer.acquire()).subnet, gone.podCIDR);
    await store.remove(gone.podCIDR);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await store.close();
  }
});
