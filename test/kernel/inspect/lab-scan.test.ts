// inspect on a podnet lab: the snapshot's joins equal what the kernel says, read independently here.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecRunner } from '../../../src/host/runner.js';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { inspectTarget } from '../../../src/inspect/inspect.js';
import { inspectPods } from '../../../src/views/pods.js';
import { peerKey, resolvePeers, type Snapshot } from '../../../src/model/snapshot.js';
import { inet, link, links, readState, withLab } from '../helpers.js';
import { Host } from '../../../src/host/host.js';

const T = { timeout: 60_000 };
const { lab, root, target, ready } = withLab('inspect-lab', 3, { prefix: 'ki' });
let snap: Snapshot;

before(async () => {
  await ready();
  snap = await inspectTarget(new Host(new ShellRunner()), await target('server'), root);
});

test('the node is the host and every namespace of the lab is there, named from the lab state', T, () => {
  const state = readState(root, lab);
  const byName = (n: string) => snap.namespaces.find((ns) => ns.names.includes(n));
  const node = byName(`podnet-${lab}-server`);
  assert.ok(node);
  assert.equal(snap.host, node.id);
  assert.deepEqual(node.identity, { kind: 'node', name: 'server', lab, source: 'lab' });
  assert.equal(byName(`podnet-${lab}-underlay`)?.identity.kind, 'switch');
  for (const p of state.pods) {
    const ns = byName(p.netns);
    assert.ok(ns, p.netns);
    assert.equal(ns.identity.kind, 'pod');
    assert.equal(ns.identity.name, p.name);
    assert.equal(ns.identity.containerId, p.containerId);
    assert.ok(ns.processes.some((x) => x.pid === p.pid && x.cmd === 'pause'), `${p.name}'s pause process: ${JSON.stringify(ns.processes)}`);
    assert.equal(ns.error, undefined);
  }
  assert.equal(snap.namespaces.length, 2 + state.pods.length, 'a lab node scan is scoped to its lab');
});

test('each pod eth0 joins its host veth as the kernel says: peer ifindex both ways, master cni0, addresses', T, () => {
  const state = readState(root, lab);
  const nodeNs = `podnet-${lab}-server`;
  const peers = resolvePeers(snap);
  const node = snap.namespaces.find((ns) => ns.id === snap.host)!;
  for (const p of state.pods) {
    const ns = snap.namespaces.find((x) => x.names.includes(p.netns))!;
    const eth0 = ns.links.find((l) => l.name === 'eth0')!;
    const kEth0 = link(p.netns, 'eth0')!;
    const hostVeth = links(nodeNs).find((l) => l.ifindex === kEth0.link_index)!;
    assert.equal(eth0.index, kEth0.ifindex);
    const peer = peers.get(peerKey(ns.id, eth0.index));
    assert.deepEqual(peer, { netns: snap.host, index: hostVeth.ifindex, name: hostVeth.ifname });
    const back = peers.get(peerKey(snap.host, Number(hostVeth.ifindex)));
    assert.deepEqual(back, { netns: ns.id, index: kEth0.ifindex, name: 'eth0' });
    const snapVeth = node.links.find((l) => l.index === hostVeth.ifindex)!;
    assert.equal(snapVeth.master, 'cni0');
    assert.equal(hostVeth.master, 'cni0');
    assert.equal(snapVeth.port?.hairpin, true);
    assert.deepEqual(ns.addrs.filter((a) => a.family === 'inet' && a.link === 'eth0').map((a) => `${a.local}/${a.prefix}`), inet(p.netns, 'eth0'));
  }
  assert.deepEqual(node.addrs.filter((a) => a.link === 'cni0' && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`), inet(nodeNs, 'cni0'));
  assert.ok(node.fdb.some((e) => e.master === 'cni0' && e.state === 'permanent'), 'the node FDB is read');
  assert.ok(node.routes.some((r) => r.dst === '10.42.0.0/24' && r.dev === 'cni0'));
});

test('the pod views\' scan reads links and addresses only: the same as a full scan\'s, no routes, neighbours or FDB, the same pod rows', T, async () => {
  const pods = await inspectTarget(new Host(new ShellRunner()), await target('server'), root, { podsOnly: true });
  assert.deepEqual(pods.namespaces.map((n) => n.id), snap.namespaces.map((n) => n.id));
  for (const n of pods.namespaces) {
    const full = snap.namespaces.find((x) => x.id === n.id)!;
    assert.deepEqual(n.links.map((l) => [l.index, l.name]), full.links.map((l) => [l.index, l.name]), n.names[0]);
    assert.deepEqual(n.addrs, full.addrs, n.names[0]);
    assert.deepEqual([n.routes, n.neighs, n.fdb], [[], [], []], n.names[0]);
    assert.deepEqual(n.identity, full.identity);
  }
  assert.ok(snap.namespaces.some((n) => n.routes.length > 0), 'the full scan reads routes');
  assert.deepEqual(inspectPods(pods), inspectPods(snap));
});

test('--host sees the lab too, with the same identities (unscoped scan of every namespace)', T, async () => {
  const snapshot = await inspectTarget(new Host(new ExecRunner()), { kind: 'host' }, root);
  const state = readState(root, lab);
  for (const p of state.pods) assert.equal(snapshot.namespaces.find((n) => n.names.includes(p.netns))?.identity.name, p.name);
  assert.equal(snapshot.namespaces.find((n) => n.id === snapshot.host)?.identity.kind, 'host');
});
