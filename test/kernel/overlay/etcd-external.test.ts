// A lab on an etcd the user runs (`--store etcd://HOST:PORT`): here an etcd this test starts on the
// root namespace's loopback (a listening socket only — no address, route or link is added). The
// agents then run in podnet's own namespace, each managing its node's namespace (`--netns`), since
// the lab's underlay cannot reach the machine's loopback. Leases land in that etcd and leave it with
// `lab down`; the pods talk across the overlay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { labDown } from '../../../src/lab/down.js';
import { EtcdLeaseStore } from '../../../src/overlay/etcd-store.js';
import { alive, labDeps, netInodeOf, readState, runStatus, statInode, tempDir, waitFor, WatchedChild, within, withLab } from '../helpers.js';
import { overlayProblems } from '../lab/overlay-check.js';

const T = { timeout: 60_000 };
let data = '';
let etcd: WatchedChild | undefined;
const port = randomInt(21000, 29000);

/** The user's etcd: started before the lab comes up, stopped once the lab is down. */
async function startEtcd(): Promise<void> {
  data = await tempDir('etcd-ext-data');
  etcd = new WatchedChild(['etcd', '--name', 'ext', '--data-dir', data, '--listen-client-urls', `http://127.0.0.1:${port}`, '--advertise-client-urls', `http://127.0.0.1:${port}`,
    '--listen-peer-urls', `http://127.0.0.1:${port + 1}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${port + 1}`, '--initial-cluster', `ext=http://127.0.0.1:${port + 1}`]);
  const store = new EtcdLeaseStore([`http://127.0.0.1:${port}`]);
  try {
    assert.ok(await waitFor(async () => store.getConfig().then(() => true, () => false), 15_000, 100), 'etcd answers');
  } finally {
    await store.close();
  }
}
async function stopEtcd(): Promise<void> {
  if (etcd && alive(etcd.pid)) process.kill(etcd.pid, 'SIGTERM');
  if (etcd && (await within(etcd.exited, 10_000, 'timeout')) === 'timeout') await etcd.kill();
  if (data) await rm(data, { recursive: true, force: true });
}

const { lab, root } = withLab('etcd-ext', { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'pod1' }, { name: 'pod2' }] }, {
  prefix: 'kx', up: { store: { kind: 'etcd', endpoint: `etcd://127.0.0.1:${port}` }, leaseTtl: 30 }, beforeUp: startEtcd, afterDown: stopEtcd,
});

test('agents run in podnet\'s namespace, each managing its node; pods talk across the overlay', T, () => {
  const s = readState(root, lab);
  for (const n of s.plan.nodes) {
    const pid = s.overlay!.agents[n.name];
    assert.ok(alive(pid));
    assert.equal(netInodeOf(pid), statInode('/proc/self/ns/net'), `${n.name}'s agent reaches the machine's etcd from podnet's namespace`);
  }
  assert.equal(s.overlay!.etcd, undefined, 'no etcd of the lab\'s own');
  assert.deepEqual(overlayProblems(s), []);
  const [a, b] = s.pods;
  assert.equal(a.node === b.node, false);
  assert.equal(runStatus(['nsenter', `--net=/run/netns/${a.netns}`, 'ping', '-c', '1', '-W', '2', b.ip!.split('/')[0]]).status, 0);
});

test('lab down stops the agents and takes the lab\'s leases out of the user\'s etcd', T, async () => {
  const s = readState(root, lab);
  const store = new EtcdLeaseStore([`http://127.0.0.1:${port}`]);
  try {
    assert.equal((await store.list()).leases.length, 2);
    await labDown(labDeps(root), lab);
    assert.deepEqual((await store.list()).leases, []);
    assert.ok(await waitFor(() => Object.values(s.overlay!.agents).every((pid) => !alive(pid)), 5000));
  } finally {
    await store.close();
  }
});
