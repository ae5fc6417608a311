// Kernel drop reasons on the real kernel: a UDP datagram to a closed port inside a namespace made
// here must show up as a kfree_skb event with reason NO_SOCKET in podnet's private trace instance,
// timestamped on CLOCK_MONOTONIC; the instance is gone after stop, after a failed start and after a
// throw mid-way; a leftover instance of a dead process is removed, a live one kept; the machine's
// own tracing (the top-level kfree_skb switch and clock) is never changed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { ExecRunner } from '../../../src/host/runner.js';
import { HostError } from '../../../src/host/errors.js';
import { DropWatch, dropReasonsAvailable, dropWatchLeftovers, tracefsFind, withDropWatch, type Tracefs } from '../../../src/host/tracefs.js';
import type { DropEvent } from '../../../src/model/drops.js';
import { netnsWithPrefix, run, runStatus, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const prefix = `${uniqueName('podnet-kt-')}-`;
const ns = `${prefix}drop`;
const runner = new ExecRunner();
const watches: DropWatch[] = [];
const extraDirs: string[] = [];
let tracefs: Tracefs;
let mountedBefore = false;
let runDirBefore = true;
let globalBefore = { enable: '', clock: '' };

/** Sends one UDP datagram to 127.0.0.1:`port` inside the test namespace, where nothing listens. */
function sendToClosedPort(port: number): void {
  run(['nsenter', `--net=/run/netns/${ns}`, 'bash', '-c', `printf x > /dev/udp/127.0.0.1/${port}`]);
}

/** The top-level (machine-wide) kfree_skb switch and trace clock, which podnet must never change. */
function globalTracing(): { enable: string; clock: string } {
  return {
    enable: readFileSync(`${tracefs.path}/events/skb/kfree_skb/enable`, 'utf8').trim(),
    clock: readFileSync(`${tracefs.path}/trace_clock`, 'utf8').trim(),
  };
}

/** Reads `watch` (bounded) until an event satisfying `pred` shows up; resolves with it. */
async function waitForDrop(watch: DropWatch, pred: (e: DropEvent) => boolean, timeoutMs = 5000): Promise<DropEvent | undefined> {
  let found: DropEvent | undefined;
  await waitFor(async () => (found = (await watch.read()).events.find(pred)) !== undefined, timeoutMs, 25);
  return found;
}

const isNoSocket = (e: DropEvent) => e.reason === 'NO_SOCKET' && e.protocol === 2048 && e.location.symbol === '__udp4_lib_rcv';

before(async () => {
  mountedBefore = (await tracefsFind())?.mountedByPodnet ?? false;
  runDirBefore = existsSync('/run/podnet');
  const avail = await dropReasonsAvailable(runner);
  assert.ok(avail.ok, avail.ok ? '' : avail.why);
  tracefs = avail.tracefs;
  globalBefore = globalTracing();
  run(['ip', 'netns', 'add', ns]);
  run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
});

after(async () => {
  for (const w of watches) await w.stop().catch(() => undefined);
  for (const d of extraDirs) if (existsSync(d)) rmdirSync(d);
  for (const n of netnsWithPrefix(prefix)) runStatus(['ip', 'netns', 'del', n]);
  if (!mountedBefore) await dropWatchLeftovers(runner);
  if (!runDirBefore) runStatus(['rmdir', '/run/podnet']);
  assert.deepEqual(netnsWithPrefix(prefix), [], 'every namespace of this file is gone');
});

test('availability: this kernel names its drop reasons, with the numbers its format file lists', async () => {
  const avail = await dropReasonsAvailable(runner);
  assert.ok(avail.ok);
  const format = readFileSync(`${avail.tracefs.path}/events/skb/kfree_skb/format`, 'utf8');
  for (const name of ['NO_SOCKET', 'NETFILTER_DROP', 'NOT_SPECIFIED', 'VXLAN_VNI_NOT_FOUND']) {
    const code = avail.codes.get(name);
    assert.ok(code !== undefined, `${name} known`);
    assert.ok(format.includes(`{ ${code}, "${name}" }`), `${name} = ${code} as the format file says`);
  }
});

test('a datagram to a closed port is seen as NO_SOCKET, on the monotonic clock, and the instance goes on stop', T, async () => {
  const watch = await DropWatch.start({ runner, exclude: ['NOT_SPECIFIED'] });
  watches.push(watch);
  assert.match(watch.instance, new RegExp(`^podnet-${process.pid}-[0-9a-f]{6}$`));
  assert.ok(existsSync(watch.dir), 'the instance directory exists while watching');
  assert.match(readFileSync(`${watch.dir}/trace_clock`, 'utf8'), /\[mono\]/);
  assert.equal(readFileSync(`${watch.dir}/events/skb/kfree_skb/enable`, 'utf8').trim(), '1');
  assert.deepEqual(globalTracing(), globalBefore, 'the machine-wide switch and clock are untouched');
  const before = process.hrtime.bigint();
  sendToClosedPort(9);
  const ev = await waitForDrop(watch, isNoSocket);
  const afterNs = process.hrtime.bigint();
  assert.ok(ev, `NO_SOCKET seen; the buffer held: ${JSON.stringify((await watch.read()).events.map((e) => e.reason))}`);
  assert.ok(ev.tsNs >= before - 1000n && ev.tsNs <= afterNs, `event time ${ev.tsNs} within [${before}, ${afterNs}] (CLOCK_MONOTONIC, µs)`);
  assert.ok((await watch.read()).events.every((e) => e.reason !== 'NOT_SPECIFIED'), 'the excluded reason is filtered in the kernel');
  const wall = ev.tsNs + watch.monoOffsetNs;
  assert.ok(Math.abs(Number(wall / 1_000_000n) - Date.now()) < 5000, 'converted to the wall clock, it is now');
  await watch.clear();
  // The machine goes on dropping packets (NO_SOCKET and others, from anywhere): what matters is that
  // nothing from before the clear is left — the datagram's drop above among it.
  const kept = (await watch.read()).events.filter((e) => e.tsNs <= ev.tsNs);
  assert.deepEqual(kept.map((e) => e.reason), [], 'clear empties the buffer of what it held');
  await watch.stop();
  assert.equal(existsSync(watch.dir), false, 'the instance is removed');
  await watch.stop();
  assert.deepEqual(globalTracing(), globalBefore);
});

test('a filter excluding NO_SOCKET keeps it out while an unfiltered watch sees the same packet', T, async () => {
  const open = await DropWatch.start({ runner });
  const filtered = await DropWatch.start({ runner, exclude: ['NO_SOCKET'] });
  watches.push(open, filtered);
  assert.notEqual(open.instance, filtered.instance);
  sendToClosedPort(7);
  const seen = await waitForDrop(open, isNoSocket);
  assert.ok(seen, 'the unfiltered instance saw the drop');
  assert.equal((await filtered.read()).events.filter((e) => e.reason === 'NO_SOCKET').length, 0);
  await Promise.all([open.stop(), filtered.stop()]);
  assert.equal(existsSync(open.dir) || existsSync(filtered.dir), false);
});

test('a throw mid-way and a rejected filter both leave no instance behind', T, async () => {
  let dir = '';
  await assert.rejects(withDropWatch({ runner }, async (w) => {
    dir = w.dir;
    assert.ok(existsSync(dir));
    throw new Error('boom');
  }), /boom/);
  assert.ok(dir);
  assert.equal(existsSync(dir), false, 'withDropWatch removed the instance after the throw');
  const instances = () => spawnSync('ls', [`${tracefs.path}/instances`], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n.startsWith(`podnet-${process.pid}-`));
  const beforeBad = instances();
  await assert.rejects(DropWatch.start({ runner, filter: 'no_such_field == 1' }),
    (e: unknown) => e instanceof HostError && e.kind === 'invalid' && /rejected drop filter .*no_such_field/.test(e.message));
  assert.deepEqual(instances(), beforeBad, 'the half-made instance was removed');
  await assert.rejects(DropWatch.start({ runner, exclude: ['NOT_A_REASON'] }), /unknown drop reason NOT_A_REASON/);
});

test('leftovers: an instance of a dead process is removed, a live watch and a foreign instance are kept', T, async () => {
  const dead = spawnSync('true').pid;
  assert.ok(dead && !existsSync(`/proc/${dead}`));
  const stale = `${tracefs.path}/instances/podnet-${dead}-abcdef`;
  const foreign = `${tracefs.path}/instances/${uniqueName('kt-')}`;
  extraDirs.push(stale, foreign);
  mkdirSync(stale);
  mkdirSync(foreign);
  const live = await DropWatch.start({ runner });
  watches.push(live);
  const removed = await dropWatchLeftovers(runner);
  assert.ok(removed.includes(`podnet-${dead}-abcdef`), `removed: ${removed.join(', ')}`);
  assert.ok(!removed.includes(live.instance));
  assert.equal(existsSync(stale), false);
  assert.ok(existsSync(live.dir), 'the live watch keeps its instance');
  assert.ok(existsSync(foreign), 'an instance that is not podnet\'s is left alone');
  rmdirSync(foreign);
  await live.stop();
  assert.equal(existsSync(live.dir), false);
});
