// A three-node lab joined by flannel-style VXLAN: every pod reaches every other pod, the MTU holds
// at 1422-byte DF pings (1450 − 28) and refuses one byte more, and each node holds exactly the
// state flannel makes (flannel.1, permanent neighbours, FDB entries to the node IPs, onlink routes),
// from leases in the lab's file store; nodes join and leave with `node add`/`node delete`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeAdd, nodeDelete } from '../../../src/lab/nodes.js';
import { podRun } from '../../../src/lab/pods.js';
import { openLabStore, waitConverged } from '../../../src/lab/cluster.js';
import { LabDir } from '../../../src/lab/state.js';
import { overlayProblems } from './overlay-check.js';
import { ipJson, labDeps, readState, run, runStatus, uniqueName, withLab } from '../helpers.js';

const T = { timeout: 90_000 };
const NODES = ['server', 'agent1', 'agent2'];
const { lab, root } = withLab('overlay', { nodes: NODES.map((name) => ({ name })), pods: Array.from({ length: 6 }, (_, i) => ({ name: `pod${i + 1}` })) }, { prefix: 'ko' });

const ping = (netns: string, ip: string, extra: string[] = []) =>
  runStatus(['nsenter', `--net=/run/netns/${netns}`, 'ping', '-c', '1', '-W', '2', ...extra, ip]);

test('pods are spread over the nodes, one /24 each', T, () => {
  const state = readState(root, lab);
  assert.deepEqual(state.plan.nodes.map((n) => n.podCIDR), ['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24']);
  for (const n of NODES) assert.equal(state.pods.filter((p) => p.node === n).length, 2, n);
});

test('full mesh: every pod pings every other pod, across nodes through VXLAN', T, async () => {
  const state = readState(root, lab);
  const failures: string[] = [];
  await Promise.all(state.pods.map(async (from) => {
    for (const to of state.pods) {
      if (to === from) continue;
      const r = ping(from.netns, to.ip!.split('/')[0]);
      if (r.status !== 0) failures.push(`${from.name} -> ${to.name} (${to.ip}): ${r.stdout.split('\n').slice(-3).join(' ')}`);
      else if (from.node !== to.node) assert.match(r.stdout, /ttl=62/, 'routed by both nodes');
    }
  }));
  assert.deepEqual(failures, []);
});

test('MTU: DF pings of 1422 bytes cross nodes, 1423 do not', T, () => {
  const state = readState(root, lab);
  const a = state.pods.find((p) => p.node === 'server')!;
  const b = state.pods.find((p) => p.node === 'agent2')!;
  assert.equal(ping(a.netns, b.ip!.split('/')[0], ['-M', 'do', '-s', '1422']).status, 0);
  assert.notEqual(ping(a.netns, b.ip!.split('/')[0], ['-M', 'do', '-s', '1423']).status, 0);
});

test('each node holds flannel\'s state: flannel.1, then per remote node a neighbour, an FDB entry, a route', T, () => {
  const state = readState(root, lab);
  assert.deepEqual(overlayProblems(state), []);
  for (const node of state.plan.nodes) {
    const addrs = ipJson(node.netns, ['addr', 'show', 'flannel.1'])[0].addr_info as { local: string; prefixlen: number }[];
    assert.deepEqual(addrs.filter((a) => !a.local.includes(':')).map((a) => `${a.local}/${a.prefixlen}`), [node.podCIDR.replace('/24', '/32')]);
  }
});

test('leases in flannel\'s layout, subnet.env per node, FLANNEL-POSTRTG/FLANNEL-FWD in nftables', T, () => {
  const state = readState(root, lab);
  const keys = JSON.parse(readFileSync(join(root, lab, 'leases.json'), 'utf8')) as Record<string, { value: string; expiresAt?: string }>;
  assert.equal(JSON.parse(keys['/coreos.com/network/config'].value).Network, '10.42.0.0/16');
  for (const node of state.plan.nodes) {
    const lease = keys[`/coreos.com/network/subnets/${node.podCIDR.replace('/', '-')}`];
    assert.ok(lease, `lease of ${node.name}`);
    assert.deepEqual(JSON.parse(lease.value), { PublicIP: node.ip.split('/')[0], BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: node.vtepMac } });
    assert.equal(lease.expiresAt, undefined, 'a file-store lab reserves (nothing runs to renew)');
    const env = readFileSync(join(root, lab, 'nodes', node.name, 'flannel', 'subnet.env'), 'utf8');
    assert.equal(env, `FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=${node.bridgeIP}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`);
    const rules = run(['nsenter', `--net=/run/netns/${node.netns}`, 'nft', 'list', 'table', 'ip', 'flannel']);
    assert.match(rules, /chain FLANNEL-POSTRTG \{\s+type nat hook postrouting priority srcnat; policy accept;/);
    assert.match(rules, new RegExp(`ip saddr ${node.podCIDR.replace(/\./g, '\\.')} ip daddr 10\\.42\\.0\\.0/16 return`));
    assert.match(rules, /ip saddr 10\.42\.0\.0\/16 ip daddr != 224\.0\.0\.0\/4 masquerade random,fully-random/);
    assert.match(rules, /chain FLANNEL-FWD \{\s+type filter hook forward priority filter; policy accept;\s+ip saddr 10\.42\.0\.0\/16 accept\s+ip daddr 10\.42\.0\.0\/16 accept/);
  }
});

test('pods are attached through K3s\'s chain: flannel saved each pod\'s bridge delegate', T, () => {
  const state = readState(root, lab);
  for (const pod of state.pods) {
    const delegate = JSON.parse(readFileSync(join(root, lab, 'nodes', pod.node, 'cni', 'flannel', pod.containerId), 'utf8')) as Record<string, unknown>;
    const node = state.plan.nodes.find((n) => n.name === pod.node)!;
    assert.equal(delegate.type, 'bridge');
    assert.equal(delegate.mtu, 1450);
    assert.equal(delegate.isGateway, true);
    assert.deepEqual((delegate.ipam as { ranges: unknown }).ranges, [[{ subnet: node.podCIDR }]]);
  }
});

test('a node whose flannel.1 cannot be read is behind: waiting for convergence times out naming it', T, async () => {
  // An agent writes subnet.env and makes flannel.1 at once, so a lab or `node add` waiting on it can
  // look before the device exists; that look must not count as converged (it once did: a failed
  // check on the first poll left the list of nodes behind empty).
  const deps = labDeps(root);
  const state = readState(root, lab);
  const agent2 = state.plan.nodes.find((n) => n.name === 'agent2')!;
  const bare = uniqueName('kc');
  run(['ip', 'netns', 'add', bare]);
  const store = await openLabStore(deps, new LabDir(root, lab), state.overlay);
  try {
    await assert.rejects(waitConverged(deps, [{ ...agent2, netns: bare }], store, {}, 300),
      (e: Error) => /^node agent2 did not program every other node's lease within 0\.3s/.test(e.message));
    await waitConverged(deps, state.plan.nodes, store, {}, 5000);
  } finally {
    await store.close();
    run(['ip', 'netns', 'del', bare]);
  }
});

test('node add: the newcomer gets the next subnet and every node programs it; node delete: its entries go everywhere', T, async () => {
  const deps = labDeps(root);
  const added = await nodeAdd(deps, lab, 'agent3');
  assert.equal(added.podCIDR, '10.42.3.0/24');
  await podRun(deps, lab, 'pod7', 'agent3');
  let state = readState(root, lab);
  assert.deepEqual(overlayProblems(state), []);
  const pod7 = state.pods.find((p) => p.name === 'pod7')!;
  assert.equal(ping(state.pods[0].netns, pod7.ip!.split('/')[0]).status, 0, 'pod1 reaches the new node\'s pod');
  await nodeDelete(deps, lab, 'agent1');
  state = readState(root, lab);
  assert.deepEqual(state.plan.nodes.map((n) => n.name), ['server', 'agent2', 'agent3']);
  assert.deepEqual(overlayProblems(state), []);
  assert.ok(!run(['ip', 'netns', 'list']).includes(`podnet-${lab}-agent1`), 'the node\'s namespace is gone');
  assert.ok(!state.pods.some((p) => p.node === 'agent1'), 'its pods are gone');
  const keys = JSON.parse(readFileSync(join(root, lab, 'leases.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(keys['/coreos.com/network/subnets/10.42.1.0-24'], undefined, 'its lease is released');
});

test('bad input changes nothing: an existing node, an unknown node, the last node', T, async () => {
  const deps = labDeps(root);
  const before = readState(root, lab);
  await assert.rejects(nodeAdd(deps, lab, 'server'), /node "server" already exists/);
  await assert.rejects(nodeAdd(deps, lab, 'Bad_Name'), /a node name must be lowercase/);
  await assert.rejects(nodeDelete(deps, lab, 'nope'), /unknown node "nope"/);
  assert.deepEqual(readState(root, lab), before);
});
