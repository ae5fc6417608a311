// The lease stores and the agent's acquiring, without a kernel: the file store's create-if-absent
// across instances (as across processes: flock), its expiry and its corrupt-file line; the agent
// taking ours again with the same VTEP MAC, the previous subnet from subnet.env, retrying a lost
// race, skipping a corrupt lease with one line, and saying when the network is full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLeaseStore } from '../../../src/overlay/file-store.js';
import { MemoryLeaseStore } from '../../../src/overlay/memory-store.js';
import { NodeAgent, type AgentOptions } from '../../../src/overlay/agent.js';
import { Host } from '../../../src/host/host.js';
import { RecordingRunner } from '../../../src/host/runner.js';
import { CURRENT_NETNS } from '../../../src/host/netns.js';
import { labNetworkConfig, subnetKey, type LeaseAttrs } from '../../../src/model/flannel.js';
import type { LeaseStore } from '../../../src/overlay/store.js';

const attrs = (ip: string): LeaseAttrs => ({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '7a:00:00:00:00:01' } });

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'podnet-unit-leases-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function agent(store: LeaseStore, dir: string, over: Partial<AgentOptions> = {}): { agent: NodeAgent; log: string[] } {
  const log: string[] = [];
  let seed = 1;
  const a = new NodeAgent({
    host: new Host(new RecordingRunner(), true), netns: CURRENT_NETNS, store, node: 'n', publicIP: '198.51.100.2', underlayDev: 'eth0', underlayMtu: 1500,
    dataDir: dir, subnetFile: join(dir, 'subnet.env'), ttlSeconds: 60, ipMasq: true, log: (l) => log.push(l),
    random: (n) => new Uint8Array(n).map(() => (seed = (seed * 31 + 7) % 251)), initConfig: labNetworkConfig('10.42.0.0/16'), ...over,
  });
  return { agent: a, log };
}

test('file store: create only if absent, across instances; renew, remove; a corrupt file is one line', () => withDir(async (dir) => {
  const path = join(dir, 'leases.json');
  const [a, b] = [new FileLeaseStore(path), new FileLeaseStore(path)];
  const wins = await Promise.all([a.create('10.42.5.0/24', attrs('198.51.100.2'), 0), b.create('10.42.5.0/24', attrs('198.51.100.3'), 0)]);
  assert.deepEqual(wins.sort(), [false, true], 'exactly one wins');
  assert.equal((await a.list()).leases.length, 1);
  assert.equal(await b.renew('10.42.6.0/24', attrs('198.51.100.3'), 0), false, 'renewing what is not there');
  await a.remove('10.42.5.0/24');
  assert.deepEqual((await b.list()).leases, []);
  await writeFile(path, 'garbage');
  await assert.rejects(a.list(), /leases.json is not a podnet lease file \(not JSON\): move it away/);
}));

/** Counts a watch's calls; `until(n)` waits (bounded) for the n-th. */
function counted(store: LeaseStore) {
  let calls = 0;
  const stop = store.watch(() => { calls++; }, () => undefined);
  const until = async (n: number) => {
    for (let i = 0; i < 200 && calls < n; i++) await new Promise((r) => setTimeout(r, 10));
    return calls;
  };
  return { stop, until, get calls() { return calls; } };
}

test('file and memory stores: a watch reports once when it begins (a lease made just before raised no event), then each change', () => withDir(async (dir) => {
  for (const store of [new FileLeaseStore(join(dir, 'leases.json')), new MemoryLeaseStore()]) {
    assert.equal(await store.create('10.42.1.0/24', attrs('198.51.100.2'), 0), true);
    const w = counted(store);
    try {
      assert.equal(await w.until(1), 1, `${store.constructor.name}: once, as it began`);
      assert.equal(await store.create('10.42.2.0/24', attrs('198.51.100.3'), 0), true);
      assert.ok(await w.until(2) >= 2, `${store.constructor.name}: then on the change`);
    } finally {
      w.stop();
    }
  }
}));

test('file store: a lease past its TTL reads as absent and can be taken again', () => withDir(async (dir) => {
  let now = Date.parse('2026-11-26T00:00:00Z');
  const store = new FileLeaseStore(join(dir, 'leases.json'), () => now);
  assert.equal(await store.create('10.42.1.0/24', attrs('198.51.100.2'), 10), true);
  assert.equal((await store.list()).leases[0].expiresAt, '2026-11-26T00:00:10.000Z');
  now += 11_000;
  assert.deepEqual((await store.list()).leases, []);
  assert.equal(await store.create('10.42.1.0/24', attrs('198.51.100.9'), 10), true, 'reclaimed');
}));

test('agent: acquires the hint, then after a restart keeps the same subnet and VTEP MAC', () => withDir(async (dir) => {
  const store = new MemoryLeaseStore();
  const first = agent(store, dir, { hint: '10.42.3.0/24' });
  const lease = await first.agent.acquire();
  assert.equal(lease.subnet, '10.42.3.0/24');
  assert.match(first.log[0], /^acquired lease 10\.42\.3\.0\/24 \(PublicIP 198\.51\.100\.2, VtepMAC [0-9a-f:]{17}, expires /);
  assert.equal(existsSync(join(dir, 'vtep.mac')), false, 'a dry-run host writes nothing');
  const again = agent(store, dir, { hint: '10.42.9.0/24' });
  const kept = await again.agent.acquire();
  assert.equal(kept.subnet, '10.42.3.0/24', 'our lease (same PublicIP) wins over the hint');
  assert.equal(kept.attrs.BackendData.VtepMAC, lease.attrs.BackendData.VtepMAC, 'the MAC comes back from the lease');
  assert.match(again.log[0], /^kept lease 10\.42\.3\.0\/24/);
}));

test('agent: the previous subnet from subnet.env comes first when our lease is gone', () => withDir(async (dir) => {
  await writeFile(join(dir, 'subnet.env'), 'FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  const { agent: a } = agent(new MemoryLeaseStore(), dir, { hint: '10.42.3.0/24' });
  assert.equal((await a.acquire()).subnet, '10.42.7.0/24');
}));

test('agent: a lost race is retried; a corrupt lease is skipped with one line; a full network is said', () => withDir(async (dir) => {
  const store = new MemoryLeaseStore();
  await store.putConfigIfAbsent(labNetworkConfig('10.42.0.0/23'));
  store.putRaw(subnetKey('10.42.1.0/24'), '{broken');
  // Somebody else takes the hinted subnet between our list and our create.
  const create = store.create.bind(store);
  let raced = false;
  store.create = async (subnet, a, ttl) => {
    if (!raced) {
      raced = true;
      await create(subnet, attrs('198.51.100.77'), ttl);
    }
    return create(subnet, a, ttl);
  };
  const { agent: a, log } = agent(store, dir, { hint: '10.42.0.0/24', initConfig: undefined });
  await assert.rejects(a.acquire(), /no free subnet left in 10\.42\.0\.0\/23 between 10\.42\.0\.0 and 10\.42\.1\.0 \(\/24\): remove a node or widen the network/);
  assert.ok(log.some((l) => /^lease 10\.42\.0\.0\/24 was taken by another node meanwhile; choosing again \(attempt 1\/10\)$/.test(l)), log.join('\n'));
  assert.deepEqual(log.filter((l) => l.startsWith('skipping lease')), ['skipping lease /coreos.com/network/subnets/10.42.1.0-24: value is not JSON (expected {"PublicIP":…,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":…}})']);
}));
