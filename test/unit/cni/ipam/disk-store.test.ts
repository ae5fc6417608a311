// DiskStore on a temporary directory: layout, modes, exclusive create, the flock across processes,
// and sharing one directory with the reference host-local plugin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiskStore, formatOwner, parseOwner } from '../../../../src/cni/ipam/disk-store.js';
import { MemoryStore } from '../../../../src/cni/ipam/memory-store.js';
import { hostLocal } from '../../../../src/cni/ipam/host-local.js';
import { invokePlugin, type PluginContext } from '../../../../src/cni/plugin.js';
import { CURRENT_NETNS } from '../../../../src/host/netns.js';
import type { Host } from '../../../../src/host/host.js';

let tmp = '';
let n = 0;
/** A fresh data directory under the test's temp dir. */
const dataDir = () => join(tmp, `d${n++}`);

before(async () => { tmp = await mkdtemp(join(tmpdir(), 'podnet-disk-store-')); });
after(async () => { if (tmp) await rm(tmp, { recursive: true, force: true }); });

/** Runs `argv` with `input` on stdin, killed after `timeoutMs`. */
function runProcess(argv: string[], input: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, timeout: timeoutMs, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

test('reserve writes <dir>/<ip> (0600) holding "<id>\\r\\n<ifname>" in a 0700 directory', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  assert.equal(await store.withLock(() => store.reserve('c1', 'eth0', '10.42.0.2', 0)), true);
  assert.equal((await stat(store.dir)).mode & 0o777, 0o700);
  const file = join(store.dir, '10.42.0.2');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(await readFile(file, 'utf8'), 'c1\r\neth0');
  assert.equal(await readFile(join(store.dir, 'last_reserved_ip.0'), 'utf8'), '10.42.0.2');
  assert.deepEqual((await readdir(store.dir)).sort(), ['10.42.0.2', 'last_reserved_ip.0', 'lock']);
});

test('reserve is exclusive: a taken IP returns false and keeps its owner', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  await store.withLock(async () => {
    assert.equal(await store.reserve('c1', 'eth0', '10.42.0.2', 0), true);
    assert.equal(await store.reserve('c2', 'eth0', '10.42.0.2', 0), false);
  });
  assert.equal(await readFile(join(store.dir, '10.42.0.2'), 'utf8'), 'c1\r\neth0');
});

test('a reservation a killed writer left empty (or an earlier build\'s temporary file) goes under the lock, not before', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  await store.withLock(() => store.reserve('c1', 'eth0', '10.42.0.2', 0));
  // As a plugin SIGKILLed between creating 10.42.0.3 and writing its owner leaves it.
  await writeFile(join(store.dir, '10.42.0.3'), '', { mode: 0o600 });
  await writeFile(join(store.dir, '.10.42.0.4.999999.abcd0123.tmp'), 'c9\r\neth0', { mode: 0o600 });
  // Without the lock a writer may be between the two: the empty file is listed, nothing is removed.
  assert.deepEqual((await store.list()).map((e) => [e.ip, e.id]), [['10.42.0.2', 'c1'], ['10.42.0.3', '']]);
  assert.equal(existsSync(join(store.dir, '10.42.0.3')), true);
  await store.withLock(async () => {
    assert.deepEqual((await store.list()).map((e) => e.ip), ['10.42.0.2']);
    assert.equal(await store.reserve('c2', 'eth0', '10.42.0.3', 0), true, 'the address is free again');
  });
  assert.deepEqual((await readdir(store.dir)).sort(), ['10.42.0.2', '10.42.0.3', 'last_reserved_ip.0', 'lock']);
  assert.equal(await readFile(join(store.dir, '10.42.0.3'), 'utf8'), 'c2\r\neth0');
});

test('last_reserved_ip.<index> per range set', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  assert.equal(await store.lastReservedIP(0), undefined);
  await store.withLock(async () => {
    await store.reserve('c1', 'eth0', '10.42.0.2', 0);
    await store.reserve('c1', 'eth0', '10.44.0.9', 1);
    await store.reserve('c2', 'eth0', '10.42.0.3', 0);
  });
  assert.equal(await store.lastReservedIP(0), '10.42.0.3');
  assert.equal(await store.lastReservedIP(1), '10.44.0.9');
});

test('last_reserved_ip.0 is rewritten in place: a shorter address leaves nothing of the longer one, 0600', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  await store.withLock(async () => {
    await store.reserve('c1', 'eth0', '10.42.0.254', 0);
    await store.reserve('c2', 'eth0', '10.42.0.3', 0);
  });
  const file = join(store.dir, 'last_reserved_ip.0');
  assert.equal(await readFile(file, 'utf8'), '10.42.0.3');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await store.withLock(() => store.reserve('c3', 'eth0', '10.42.0.100', 0));
  assert.equal(await readFile(file, 'utf8'), '10.42.0.100');
});

test('list reads both line-break forms and ignores files that are not IPs', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  await store.withLock(() => store.reserve('c1', 'eth0', '10.42.0.10', 0));
  await writeFile(join(store.dir, '10.42.0.9'), 'c2\neth1');
  await writeFile(join(store.dir, '10.42.0.11'), 'old-id');
  await writeFile(join(store.dir, 'notes.txt'), 'x');
  await mkdir(join(store.dir, '10.42.0.99'));
  assert.deepEqual(await store.list(), [
    { ip: '10.42.0.9', id: 'c2', ifname: 'eth1' },
    { ip: '10.42.0.10', id: 'c1', ifname: 'eth0' },
    { ip: '10.42.0.11', id: 'old-id', ifname: '' },
  ]);
  assert.deepEqual(parseOwner(formatOwner('c1', 'eth0')), { id: 'c1', ifname: 'eth0' });
});

test('releaseByOwner deletes the owner\'s files only; nothing held is success', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  await store.withLock(async () => {
    await store.reserve('c1', 'eth0', '10.42.0.2', 0);
    await store.reserve('c1', 'eth0', '10.44.0.2', 1);
    await store.reserve('c1', 'eth1', '10.42.0.3', 0);
    await store.reserve('c2', 'eth0', '10.42.0.4', 0);
  });
  assert.deepEqual(await store.getByOwner('c1', 'eth0'), ['10.42.0.2', '10.44.0.2']);
  assert.deepEqual((await store.withLock(() => store.releaseByOwner('c1', 'eth0'))).sort(), ['10.42.0.2', '10.44.0.2']);
  assert.deepEqual((await store.list()).map((e) => e.ip), ['10.42.0.3', '10.42.0.4']);
  assert.deepEqual(await store.withLock(() => store.releaseByOwner('c9', 'eth0')), []);
  await writeFile(join(store.dir, '10.42.0.50'), 'legacy');
  assert.deepEqual(await store.withLock(() => store.releaseByOwner('legacy', 'eth0')), ['10.42.0.50']);
});

test('a missing directory reads as empty, and a snapshot of it writes nothing', async () => {
  const dir = dataDir();
  const store = new DiskStore(dir, 'cbr0');
  assert.deepEqual(await store.list(), []);
  const snap = await MemoryStore.snapshotOf(store);
  await snap.withLock(() => snap.reserve('c1', 'eth0', '10.42.0.2', 0));
  assert.equal(existsSync(dir), false);
});

test('MemoryStore.snapshotOf copies reservations and last reserved IPs, then stays apart', async () => {
  const store = new DiskStore(dataDir(), 'cbr0');
  await store.withLock(async () => {
    await store.reserve('c1', 'eth0', '10.42.0.2', 0);
    await store.reserve('c2', 'eth0', '10.42.0.7', 0);
  });
  const snap = await MemoryStore.snapshotOf(store);
  assert.deepEqual(await snap.list(), await store.list());
  assert.equal(await snap.lastReservedIP(0), '10.42.0.7');
  await snap.withLock(() => snap.releaseByOwner('c1', 'eth0'));
  assert.equal((await store.list()).length, 2);
});

test('four processes allocating 20 addresses each under the flock never collide', { timeout: 120_000 }, async () => {
  const dir = dataDir();
  const worker = fileURLToPath(new URL('./fixtures/alloc-worker.js', import.meta.url));
  const runs = await Promise.all([0, 1, 2, 3].map((w) => runProcess([process.execPath, worker, dir, `w${w}`, '20'], '', process.env, 90_000)));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const ips = runs.flatMap((r) => JSON.parse(r.stdout) as string[]);
  assert.equal(ips.length, 80);
  assert.equal(new Set(ips).size, 80);
  const files = (await readdir(join(dir, 'cbr0'))).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  assert.equal(files.length, 80);
  assert.deepEqual(new Set(files), new Set(ips));
  // Round robin across processes: together they used exactly .2 … .81.
  assert.deepEqual(new Set(ips), new Set(Array.from({ length: 80 }, (_, i) => `10.42.0.${i + 2}`)));
});

const REFERENCE = '/usr/lib/cni/host-local';
const skipInterop = existsSync(REFERENCE) ? false : `${REFERENCE} is missing (install the Debian package containernetworking-plugins to compare against the reference)`;

test('podnet and the reference host-local share one data directory', { skip: skipInterop, timeout: 120_000 }, async () => {
  const dir = dataDir();
  const stdin = JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', type: 'host-local', ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], dataDir: dir } });
  const env = (command: string, id: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' });
  const ref = async (command: string, id: string) => {
    const r = await runProcess([REFERENCE], stdin, { PATH: process.env.PATH, ...env(command, id) });
    return { code: r.code, json: r.stdout.trim() ? JSON.parse(r.stdout) as Record<string, unknown> : undefined };
  };
  const ctx = {
    host: {} as Host,
    hostNetns: CURRENT_NETNS,
    delegate: () => Promise.reject(new Error('no delegates')),
    ipamStore: (d: string, net: string) => new DiskStore(d, net),
    random: (k: number) => new Uint8Array(k),
    sleep: () => Promise.resolve(),
  } satisfies PluginContext;
  const pod = async (command: string, id: string) => {
    const r = await invokePlugin(hostLocal, env(command, id), stdin, ctx);
    return { code: r.exitCode, json: r.stdout.trim() ? JSON.parse(r.stdout) as Record<string, unknown> : undefined };
  };
  const ip = (r: { json?: Record<string, unknown> }) => (r.json?.ips as { address: string }[] | undefined)?.[0]?.address;

  // Alternating ADDs continue each other's round robin (last_reserved_ip.0 is shared).
  assert.equal(ip(await ref('ADD', 'ref-1')), '10.42.0.2/24');
  assert.equal(ip(await pod('ADD', 'pod-1')), '10.42.0.3/24');
  assert.equal(ip(await ref('ADD', 'ref-2')), '10.42.0.4/24');
  assert.equal(ip(await pod('ADD', 'pod-2')), '10.42.0.5/24');
  // Each sees the other's files: duplicates are refused both ways, CHECK finds them.
  const refDup = await ref('ADD', 'pod-1');
  assert.equal(refDup.code, 1);
  assert.match(String(refDup.json?.msg), /10\.42\.0\.3 has been allocated to pod-1, duplicate allocation is not allowed/);
  const podDup = await pod('ADD', 'ref-1');
  assert.equal(podDup.json?.msg, 'failed to allocate for range 0: 10.42.0.2 has been allocated to ref-1, duplicate allocation is not allowed');
  assert.equal((await ref('CHECK', 'pod-2')).code, 0);
  assert.equal((await pod('CHECK', 'ref-2')).code, 0);
  const store = new DiskStore(dir, 'cbr0');
  assert.deepEqual((await store.list()).map((e) => `${e.ip} ${e.id} ${e.ifname}`),
    ['10.42.0.2 ref-1 eth0', '10.42.0.3 pod-1 eth0', '10.42.0.4 ref-2 eth0', '10.42.0.5 pod-2 eth0']);
  // Each releases the other's reservations.
  assert.equal((await ref('DEL', 'pod-1')).code, 0);
  assert.equal((await pod('DEL', 'ref-1')).code, 0);
  assert.deepEqual((await store.list()).map((e) => e.ip), ['10.42.0.4', '10.42.0.5']);

  // While podnet holds the lock, the reference waits for it.
  let refFinished = false;
  const { waiting } = await store.withLock(async () => {
    const p = ref('ADD', 'ref-wait').then((r) => { refFinished = true; return r; });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(refFinished, false, 'the reference plugin allocated while podnet held the lock');
    return { waiting: p };
  });
  assert.equal(ip(await waiting), '10.42.0.6/24');
  assert.equal((await ref('DEL', 'ref-wait')).code, 0);

  // Concurrent ADDs from both implementations: the shared flock keeps every address distinct.
  const ids = Array.from({ length: 6 }, (_, i) => i);
  const results = await Promise.all([...ids.map((i) => ref('ADD', `ref-c${i}`)), ...ids.map((i) => pod('ADD', `pod-c${i}`))]);
  for (const r of results) assert.equal(r.code, 0, JSON.stringify(r.json));
  const got = results.map(ip);
  assert.equal(new Set(got).size, 12);
  const held = (await store.list()).map((e) => e.ip);
  assert.equal(held.length, 14);
  assert.equal(new Set(held).size, 14);
});
