// inspect across the nodes of a three-node lab of this file's own: inspectLab splits one scan into
// one snapshot per node (its namespace, its pods, the underlay switch); `inspect overlay` shows each
// node's flannel.1 and one row per remote node whose route, neighbour and FDB entry equal what
// `ip -json` / `bridge -json` report, joined to the node that owns the IP and MAC (read here from
// each node's own eth0 and flannel.1); a deleted FDB entry shows in the status; FDB and neighbour
// views name the remote nodes; a real node's subnet.env names the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { inspectLab } from '../../../src/inspect/inspect.js';
import { subnetEnvNode } from '../../../src/inspect/nodes.js';
import { graphModel, inspectFdb, inspectNeigh, inspectOverlay } from '../../../src/views/index.js';
import { bridgeJson, inet, ipJson, readState, run, labState, withLab } from '../helpers.js';
import { Host } from '../../../src/host/host.js';

const T = { timeout: 60_000 };
const NODES = ['server', 'agent1', 'agent2'];
const { lab, root, cleanup } = withLab('inspect-overlay', { nodes: NODES.map((name) => ({ name })), pods: [{ name: 'pod1' }, { name: 'pod2' }, { name: 'pod3' }, { name: 'pod4' }] }, { prefix: 'kw' });
const shells = new ShellRunner(8);
const runner = new Host(shells);
cleanup(() => shells.close());

const nodeNs = (node: string) => `podnet-${lab}-${node}`;
/** Who has an underlay IP and a VTEP MAC, read from each node's own interfaces. */
function owners(): { byIp: Map<string, string>; byMac: Map<string, string> } {
  const byIp = new Map(NODES.map((n) => [inet(nodeNs(n), 'eth0')[0].split('/')[0], n]));
  const byMac = new Map(NODES.map((n) => [ipJson(nodeNs(n), ['link', 'show', 'flannel.1'])[0].address as string, n]));
  return { byIp, byMac };
}

test('inspectLab: one snapshot per node — its namespace as the host, its own pods, the switch — and the state\'s facts', T, async () => {
  const scan = await inspectLab(runner, await labState(root, lab), root);
  const state = readState(root, lab);
  assert.deepEqual(scan.nodes.map((n) => [n.name, n.ip, n.podCIDR, n.vtepMac]), state.plan.nodes.map((n) => [n.name, n.ip.split('/')[0], n.podCIDR, n.vtepMac]));
  for (const n of scan.nodes) {
    const host = n.snapshot.namespaces.find((x) => x.id === n.snapshot.host);
    assert.ok(host?.names.includes(nodeNs(n.name)), `${n.name} is the host of its snapshot`);
    const pods = n.snapshot.namespaces.filter((x) => x.identity.kind === 'pod').map((x) => x.identity.name).sort();
    assert.deepEqual(pods, state.pods.filter((p) => p.node === n.name).map((p) => p.name).sort(), `${n.name}'s pods only`);
    assert.ok(n.snapshot.namespaces.some((x) => x.identity.kind === 'switch'), 'the underlay switch is joined to every node');
    assert.equal(n.snapshot.namespaces.filter((x) => x.identity.kind === 'node').length, 1, 'no other node');
    assert.equal(n.snapshot.nodes?.length, 3, 'the lab\'s nodes name the overlay peers');
  }
  await assert.rejects(labState(root, `${lab}x`), /^UserError: lab "\w+" is not up/);
  await assert.rejects(inspectLab(runner, await labState(root, lab), root, { nodes: ['nope'] }), /^UserError: unknown node "nope" in lab "\w+" \(nodes: server, agent1, agent2\)$/);
});

test('inspect overlay: flannel.1 and, per remote node, the route, neighbour and FDB entry the kernel holds, joined to that node', T, async () => {
  const scan = await inspectLab(runner, await labState(root, lab), root);
  const { byIp, byMac } = owners();
  for (const n of scan.nodes) {
    const rows = inspectOverlay(n.snapshot);
    const [dev] = ipJson(nodeNs(n.name), ['link', 'show', 'flannel.1']);
    const info = (dev.linkinfo as { info_data: { id: number; local: string; port: number; learning: boolean } }).info_data;
    const routes = ipJson(nodeNs(n.name), ['route', 'show', 'dev', 'flannel.1']);
    const neighs = ipJson(nodeNs(n.name), ['neigh', 'show', 'dev', 'flannel.1']);
    const fdb = bridgeJson(nodeNs(n.name), ['fdb', 'show', 'dev', 'flannel.1']).filter((e) => e.dst !== undefined);
    assert.equal(rows.length, routes.length, `${n.name}: one row per route through flannel.1`);
    assert.equal(rows.length, NODES.length - 1);
    for (const r of rows) {
      assert.deepEqual([r.node, r.device, r.vni, r.local, r.dstport, r.learning, r.mtu, r.deviceMac], [n.name, 'flannel.1', info.id, info.local, info.port, info.learning, dev.mtu, dev.address]);
      const route = routes.find((x) => x.dst === r.subnet)!;
      const neigh = neighs.find((x) => x.dst === route.gateway)!;
      const entry = fdb.find((x) => x.mac === neigh.lladdr)!;
      assert.deepEqual([r.vtepIp, r.vtepMac, r.neigh, r.remoteIp], [route.gateway, neigh.lladdr, (neigh.state as string[]).join(','), entry.dst]);
      assert.equal(r.remote, byIp.get(entry.dst as string), 'the node whose eth0 has the FDB entry\'s IP');
      assert.equal(r.remote, byMac.get(neigh.lladdr as string), 'and whose flannel.1 has the VTEP MAC');
      assert.equal(r.status, 'ok');
    }
  }
});

test('a deleted FDB entry shows in the status, and the FDB and neighbour views name the remote nodes', T, async () => {
  const { byIp } = owners();
  const agent2 = [...byIp].find(([, n]) => n === 'agent2')![0];
  const mac = ipJson(nodeNs('agent2'), ['link', 'show', 'flannel.1'])[0].address as string;
  const fdb = (verb: 'del' | 'append') => run(['bridge', '-n', nodeNs('server'), 'fdb', verb, mac, 'dev', 'flannel.1', 'dst', agent2, ...(verb === 'append' ? ['self', 'permanent'] : [])]);
  const server = async () => (await inspectLab(runner, await labState(root, lab), root, { nodes: ['server'] })).nodes[0].snapshot;
  const before = await server();
  assert.equal(inspectFdb(before).find((r) => r.mac === mac)?.owner, `agent2 (VTEP ${agent2})`);
  assert.equal(inspectNeigh(before).find((r) => r.mac === mac && r.dev === 'flannel.1')?.owner, `agent2 (VTEP ${agent2})`);
  assert.deepEqual(graphModel(before).remotes.map((r) => r.name), ['agent1', 'agent2']);
  fdb('del');
  try {
    const rows = inspectOverlay(await server());
    assert.equal(rows.find((r) => r.remote === 'agent2')?.status, `no FDB entry for ${mac}: flannel.1 does not know which node IP to send to`);
    assert.equal(rows.find((r) => r.remote === 'agent1')?.status, 'ok');
  } finally {
    fdb('append');
  }
});

test('a real node (no lab state for it): subnet.env and flannel.1 name the host as a node', T, async () => {
  const scan = await inspectLab(runner, await labState(root, lab), root, { nodes: ['agent1'] });
  const host = scan.nodes[0].snapshot.namespaces.find((n) => n.id === scan.nodes[0].snapshot.host)!;
  const file = join(root, 'subnet.env');
  await writeFile(file, 'FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  const [dev] = ipJson(nodeNs('agent1'), ['link', 'show', 'flannel.1']);
  assert.deepEqual(await subnetEnvNode(file, host), {
    name: 'agent1', ip: (dev.linkinfo as { info_data: { local: string } }).info_data.local, podCIDR: '10.42.1.0/24', vtepMac: dev.address, source: 'subnet.env',
  });
  assert.equal(await subnetEnvNode(join(root, 'absent.env'), host), undefined);
});
