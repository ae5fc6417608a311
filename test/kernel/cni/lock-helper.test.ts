// The daemon's flock without a process per lock (src/host/lock-helper.ts): a lock taken through the
// persistent helper excludes other processes (util-linux `flock -n` fails while it is held and succeeds
// after), a lock another process holds is waited for (the blocking fallback), and processes
// allocating host-local addresses in one directory — some through the helper, some through `flock`
// children — never get the same address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useLockHelper } from '../../../src/host/lock-helper.js';
import { lockFile } from '../../../src/host/lock.js';
import { tempDir } from '../helpers.js';

const otherCanLock = (path: string) => spawnSync('flock', ['-n', path, 'true'], { timeout: 10_000 }).status === 0;

test('a lock taken through the helper excludes other processes until it is released; a held one is waited for', { timeout: 60_000 }, async () => {
  const dir = await tempDir('klh');
  const path = join(dir, 'lock');
  try {
    useLockHelper();
    const held = await lockFile(path);
    assert.equal(otherCanLock(path), false, 'flock -n in another process fails while the helper holds the lock');
    await held.release();
    assert.equal(otherCanLock(path), true, 'and succeeds once it is released');
    // Another process holds it for 1 s: lockFile waits (the helper reports busy, the blocking child takes over).
    const other = spawn('flock', [path, 'sleep', '1'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && otherCanLock(path); i++) await new Promise((r) => setTimeout(r, 20));
      const t0 = performance.now();
      const second = await lockFile(path, 10);
      const waited = performance.now() - t0;
      assert.ok(waited > 300, `waited for the other holder (${Math.round(waited)} ms)`);
      assert.equal(otherCanLock(path), false, 'then holds it');
      await second.release();
    } finally {
      other.kill('SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A process allocating `count` addresses in DIR/cbr0 under DiskStore's lock, through the helper or not. */
function worker(dir: string, label: string, count: number, helper: boolean): Promise<string[]> {
  const src = (m: string) => fileURLToPath(new URL(`../../../src/${m}`, import.meta.url));
  const script = `
    import { DiskStore } from ${JSON.stringify(src('cni/ipam/disk-store.js'))};
    import { nextIP, parseRangeSets } from ${JSON.stringify(src('cni/ipam/allocator.js'))};
    import { useLockHelper } from ${JSON.stringify(src('host/lock-helper.js'))};
    if (${helper}) useLockHelper();
    const store = new DiskStore(${JSON.stringify(dir)}, 'cbr0');
    const [set] = parseRangeSets({ subnet: '10.42.0.0/24' });
    const ips = [];
    for (let k = 0; k < ${count}; k++) ips.push(await store.withLock(async () => {
      const taken = new Set((await store.list()).map((e) => e.ip));
      const ip = nextIP(set, await store.lastReservedIP(0), (a) => taken.has(a));
      if (!(await store.reserve(${JSON.stringify(label)} + '-' + k, 'eth0', ip, 0))) throw new Error(ip + ' was taken while the lock was held');
      return ip;
    }));
    process.stdout.write(JSON.stringify(ips));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${label}: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as string[]);
    });
  });
}

test('four processes, two through the helper and two through flock children, allocate 25 addresses each: no address twice', { timeout: 120_000 }, async () => {
  const dir = await tempDir('klh');
  try {
    const all = (await Promise.all([worker(dir, 'h1', 25, true), worker(dir, 'h2', 25, true), worker(dir, 'f1', 25, false), worker(dir, 'f2', 25, false)])).flat();
    assert.equal(all.length, 100);
    assert.equal(new Set(all).size, 100, 'every address handed out once');
    assert.equal(readdirSync(join(dir, 'cbr0')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).length, 100, 'one reservation file each');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
