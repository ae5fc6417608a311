// The etcd lease store's watch begins with a report: a lease put between an agent's list and the
// moment its watch is established raised no event, so the agent must read again once the watch has
// begun (otherwise it learns of that node only at its next resync, 10 s later: an etcd lab's `lab up`
// took ~12 s instead of ~2.5 s about half the time). Checked on an etcd of the test's own, quiet (no
// agent renewing leases into it), on the root namespace's loopback (a listening socket only).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { EtcdLeaseStore } from '../../../src/overlay/etcd-store.js';
import type { LeaseAttrs } from '../../../src/model/flannel.js';
import { alive, tempDir, waitFor, WatchedChild, within } from '../helpers.js';

const T = { timeout: 60_000 };
const port = randomInt(21000, 29000);
const url = `http://127.0.0.1:${port}`;
let data = '';
let etcd: WatchedChild | undefined;
const attrs = (ip: string): LeaseAttrs => ({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '7a:00:00:00:00:01' } });

before(async () => {
  data = await tempDir('etcd-watch-data');
  etcd = new WatchedChild(['etcd', '--name', 'watch', '--data-dir', data, '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', `http://127.0.0.1:${port + 1}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${port + 1}`, '--initial-cluster', `watch=http://127.0.0.1:${port + 1}`]);
  const store = new EtcdLeaseStore([url]);
  try {
    assert.ok(await waitFor(async () => store.getConfig().then(() => true, () => false), 15_000, 100), 'etcd answers');
  } finally {
    await store.close();
  }
});

after(async () => {
  if (etcd && alive(etcd.pid)) process.kill(etcd.pid, 'SIGTERM');
  if (etcd && (await within(etcd.exited, 10_000, 'timeout')) === 'timeout') await etcd.kill();
  if (data) await rm(data, { recursive: true, force: true });
});

test('a watch reports once it has begun, with nothing put since; then each put', T, async () => {
  const [writer, watcher] = [new EtcdLeaseStore([url]), new EtcdLeaseStore([url])];
  let calls = 0;
  let stop: (() => void) | undefined;
  try {
    assert.equal(await writer.create('10.42.1.0/24', attrs('198.51.100.2'), 0), true, 'a lease put before the watch');
    stop = watcher.watch(() => { calls++; }, () => undefined);
    assert.ok(await waitFor(() => calls >= 1, 5000), 'the watch reported as it began');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls, 1, 'once: nothing was put meanwhile');
    assert.equal(await writer.create('10.42.2.0/24', attrs('198.51.100.3'), 0), true);
    assert.ok(await waitFor(() => calls >= 2, 5000), 'then the put');
  } finally {
    stop?.();
    await Promise.all([writer.close(), watcher.close()]);
  }
});
