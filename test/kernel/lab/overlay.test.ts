// A three-node lab joined by flannel-style VXLAN: every pod reaches every other pod, the MTU holds
// at 1422-byte DF pings (1450 − 28) and refuses one byte more, and each node holds exactly the
// state flannel makes (flannel.1, permanent neighbours, FDB entries to the node IPs, onlink routes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { labUp } from '../../../src/lab/lab.js';
import { parseTopology } from '../../../src/model/topology.js';
import { bridgeJson, ipJson, labDeps, readState, runStatus, tearDownLabs, tempDir, uniqueName } from '../helpers.js';

const T = { timeout: 90_000 };
let root = '';
let lab = '';
const NODES = ['server', 'agent1', 'agent2'];

before(async () => {
  root = await tempDir('overlay');
  lab = uniqueName('ko');
  await labUp(labDeps(root), lab, parseTopology({ nodes: NODES.map((name) => ({ name })), pods: Array.from({ length: 6 }, (_, i) => ({ name: `pod${i + 1}` })) }));
});
after(async () => tearDownLabs(labDeps(root), [lab], [root]));

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
  for (const node of state.plan.nodes) {
    const [dev] = ipJson(node.netns, ['-d', 'link', 'show', 'flannel.1']);
    const info = (dev.linkinfo as { info_kind: string; info_data: Record<string, unknown> });
    assert.equal(info.info_kind, 'vxlan');
    assert.equal(info.info_data.id, 1);
    assert.equal(info.info_data.port, 8472);
    assert.equal(info.info_data.learning, false);
    assert.equal(info.info_data.local, node.ip.split('/')[0]);
    assert.equal(dev.mtu, 1450);
    assert.equal(dev.address, node.vtepMac);
    const addrs = ipJson(node.netns, ['addr', 'show', 'flannel.1'])[0].addr_info as { local: string; prefixlen: number }[];
    assert.deepEqual(addrs.filter((a) => !a.local.includes(':')).map((a) => `${a.local}/${a.prefixlen}`), [node.podCIDR.replace('/24', '/32')]);
    const neighs = ipJson(node.netns, ['neigh', 'show', 'dev', 'flannel.1']);
    const fdb = bridgeJson(node.netns, ['fdb', 'show', 'dev', 'flannel.1']);
    const routes = ipJson(node.netns, ['route', 'show', 'dev', 'flannel.1']);
    for (const remote of state.plan.nodes.filter((n) => n !== node)) {
      const vtep = remote.podCIDR.replace('.0/24', '.0');
      assert.ok(neighs.some((x) => x.dst === vtep && x.lladdr === remote.vtepMac && (x.state as string[]).includes('PERMANENT')), `${node.name}: neighbour ${vtep}`);
      assert.ok(fdb.some((x) => x.mac === remote.vtepMac && x.dst === remote.ip.split('/')[0]), `${node.name}: fdb ${remote.vtepMac}`);
      assert.ok(routes.some((x) => x.dst === remote.podCIDR && x.gateway === vtep && (x.flags as string[]).includes('onlink')), `${node.name}: route ${remote.podCIDR}`);
    }
  }
});
