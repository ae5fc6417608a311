// No daemon to start by hand: the installed plugin clients (`podnet cni install --autostart`) start
// `podnet cni serve` themselves, as a runtime that only has the executables would get it. Driven
// exactly as a runtime drives them (nsenter into a host namespace, CNI_* environment, config on
// stdin, no PODNET_CNI_SOCKET), checked against what the kernel, host-local's store and /proc say:
//
// - the first call starts one daemon (detached: its own session, output to SOCKET.log, PID in
//   SOCKET.pid, socket 0600) and the next calls reuse it;
// - ten clients racing on a machine without a daemon start exactly one;
// - the daemon SIGKILLed in the middle of ADDs and DELs: each ADD either succeeded or failed with the
//   spec's code 11 (the runtime then DELs it), each DEL succeeded (the client ran it again through a
//   new daemon); no address on two interfaces, no reservation without its pod, nothing left after DEL;
// - an idle daemon exits on its own (socket and PID file gone), and the next call starts a new one;
// - with PODNET_CNI_SOCKET set, or installed without autostart, no daemon is ever started.
//
// Every daemon is stopped by its PID (from SOCKET.pid, and every PID seen there) in `after`; every
// namespace carries a unique prefix and is removed; the temp dir goes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { alive, cmdline, kindOf, links, netnsWithPrefix, run, sleep, tempDir, uniqueName, waitFor } from '../helpers.js';
import { killAndWait } from '../inspect/foreign.js';
import { assertOk, bridgeConf, cniEnv, cniError, duplicates, heldAddrs, ipFiles, nsDel, spawnClient, type Started } from './client-world.js';
import { childrenOf, PODNET_BIN } from './runtime-world.js';

const IDLE_S = 4;
let tmp = '';
let bin = '';
let socket = '';
const prefix = `${uniqueName('kas')}-`;
/** Every daemon PID seen in the PID file: all are stopped in `after`. */
const daemons = new Set<number>();

before(async () => {
  tmp = await tempDir('kas');
  bin = join(tmp, 'bin');
  socket = join(tmp, 'run', 'cni.sock');
  run([process.execPath, PODNET_BIN, 'cni', 'install', '--dir', bin, '--socket', socket, '--autostart', '--idle-exit', String(IDLE_S)], 30_000);
});

after(async () => {
  for (const pid of [...daemons, daemonPid()].filter((p): p is number => p !== undefined)) if (alive(pid)) await stopDaemon(pid);
  nsDel(netnsWithPrefix(prefix));
  const left = netnsWithPrefix(prefix);
  await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(left, [], 'no namespace of this file is left');
  assert.deepEqual([...daemons].filter(alive), [], 'no daemon of this file is left');
});

/** The PID in SOCKET.pid, if the file is there. */
function daemonPid(): number | undefined {
  try {
    const pid = Number(readFileSync(`${socket}.pid`, 'utf8').trim());
    if (pid > 0) daemons.add(pid);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM to a daemon by its PID, SIGKILL if it has not exited within 10 s; then its shells. */
async function stopDaemon(pid: number): Promise<void> {
  const kids = childrenOf(pid);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone
  }
  if (!(await waitFor(() => !alive(pid), 10_000, 50))) await killAndWait(pid);
  if (!(await waitFor(() => kids.every((k) => !alive(k)), 5000, 50))) for (const k of kids) await killAndWait(k);
}

/** The live processes running `podnet cni serve` on this file's socket. */
function servingProcesses(): number[] {
  const out: number[] = [];
  for (const pid of [...daemons, ...pidsServing()]) if (alive(pid) && !out.includes(pid)) out.push(pid);
  return out;
}

function pidsServing(): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = cmdline(Number(name));
    if (argv?.includes('serve') && argv.includes(socket)) found.push(Number(name));
  }
  return found;
}

/** Runs an installed client as a runtime does, without PODNET_CNI_SOCKET; its own process group. */
function client(exe: string, h: string, cni: Record<string, string>, stdin: string, env: Record<string, string> = {}): Started {
  return spawnClient(h, join(bin, exe), { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env, ...cni }, stdin);
}

/** A node namespace and `n` pod namespaces under the file's prefix; returns their names. */
function namespaces(label: string, n: number): { h: string; pods: string[] } {
  const h = `${prefix}${label}-H`;
  const pods = Array.from({ length: n }, (_, i) => `${prefix}${label}-p${i}`);
  for (const ns of [h, ...pods]) run(['ip', 'netns', 'add', ns]);
  return { h, pods };
}

/** The running daemon's PID, after starting one with a VERSION call if the last one was killed. */
async function liveDaemon(h: string): Promise<number> {
  const pid = daemonPid();
  if (pid && alive(pid)) return pid;
  assertOk(await client('podnet-loopback', h, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}').done, 'VERSION (starts a daemon)');
  const next = daemonPid();
  assert.ok(next && alive(next), 'a daemon runs');
  return next;
}

const logLines = (what: RegExp) => (existsSync(`${socket}.log`) ? readFileSync(`${socket}.log`, 'utf8').split('\n').filter((l) => what.test(l)) : []);

describe('the plugin clients start podnet cni serve themselves', () => {
  test('every installed client compiles (perl -c) and names its socket, idle time and auto-start', () => {
    for (const exe of ['podnet-bridge', 'podnet-host-local', 'podnet-loopback', 'podnet-flannel', 'podnet-portmap']) {
      const r = spawnSync('perl', ['-c', join(bin, exe)], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 0, `${exe}: ${r.stderr}`);
      const text = readFileSync(join(bin, exe), 'utf8');
      assert.ok(text.includes(`'${socket}'`) && text.includes(`'--idle-exit', '${IDLE_S}'`) && /my \$auto = 1 /.test(text), `${exe} carries what install was told`);
      assert.doesNotMatch(text, /@@[A-Z_]+@@/, `${exe}: every placeholder filled in`);
    }
  });

  test('the first call starts one detached daemon (own session, log file, PID file, socket 0600); the next calls reuse it', { timeout: 60_000 }, async () => {
    const { h, pods } = namespaces('reuse', 2);
    const dataDir = join(tmp, 'data-reuse');
    const conf = JSON.stringify(bridgeConf(dataDir, '10.42.0.0/24'));
    try {
      assert.equal(existsSync(socket), false, 'no daemon yet');
      const v = await client('podnet-bridge', h, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}').done;
      assertOk(v, 'VERSION');
      const pid = daemonPid();
      assert.ok(pid && alive(pid), 'SOCKET.pid names a live daemon');
      assert.deepEqual(servingProcesses(), [pid], 'exactly one daemon serves the socket');
      assert.ok(statSync(socket).isSocket() && (statSync(socket).mode & 0o777) === 0o600, 'the socket is 0600');
      assert.equal(statSync(socket).uid, 0, 'owned by root');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
      assert.equal(sid, pid, 'the daemon leads a session of its own (setsid): a runtime killing the plugin\'s group does not reach it');
      assert.equal(readlinkSync(`/proc/${pid}/fd/0`), '/dev/null', 'stdin is /dev/null');
      assert.equal(readlinkSync(`/proc/${pid}/fd/1`), `${socket}.log`, 'stdout goes to SOCKET.log');
      assert.equal(logLines(/listening on/).length, 1, 'it said where it listens in SOCKET.log');

      for (const [i, pod] of pods.entries()) assertOk(await client('podnet-bridge', h, cniEnv('ADD', `reuse${i}`, `/run/netns/${pod}`, bin), conf).done, `ADD ${i}`);
      assert.deepEqual(heldAddrs(pods).map((a) => a.ip), ['10.42.0.2', '10.42.0.3'], 'the pods got their addresses');
      assert.deepEqual(servingProcesses(), [pid], 'the same daemon served them');
      assert.ok(childrenOf(pid).length > 0, 'the daemon ran the work (its runner\'s shells are up)');
      for (const [i, pod] of pods.entries()) assertOk(await client('podnet-bridge', h, cniEnv('DEL', `reuse${i}`, `/run/netns/${pod}`, bin), conf).done, `DEL ${i}`);
      assert.equal(ipFiles(dataDir).size, 0, 'DEL released both addresses');
      assert.equal(logLines(/listening on/).length, 1, 'no second daemon was started');
    } finally {
      nsDel([h, ...pods]);
    }
  });

  test('ten clients racing on a machine without a daemon start exactly one; each pod gets its own address', { timeout: 90_000 }, async () => {
    const before = daemonPid();
    if (before) await stopDaemon(before);
    assert.equal(existsSync(socket), false, 'the stopped daemon removed its socket');
    const started = logLines(/listening on/).length;
    const { h, pods } = namespaces('race', 10);
    const dataDir = join(tmp, 'data-race');
    const conf = JSON.stringify(bridgeConf(dataDir, '10.42.1.0/24'));
    try {
      const runs = await Promise.all(pods.map((pod, i) => client('podnet-bridge', h, cniEnv('ADD', `race${i}`, `/run/netns/${pod}`, bin), conf).done));
      runs.forEach((r, i) => assertOk(r, `ADD ${i}`));
      assert.equal(logLines(/listening on/).length - started, 1, `one daemon was started: ${logLines(/listening on/).slice(started).join(' | ')}`);
      assert.equal(servingProcesses().length, 1, 'one daemon serves the socket');
      const held = heldAddrs(pods);
      assert.equal(held.length, 10, 'every pod has an address');
      assert.equal(duplicates(held).size, 0, 'no address twice');
      await Promise.all(pods.map((pod, i) => client('podnet-bridge', h, cniEnv('DEL', `race${i}`, `/run/netns/${pod}`, bin), conf).done.then((r) => assertOk(r, `DEL ${i}`))));
      assert.equal(ipFiles(dataDir).size, 0, 'DEL released every address');
    } finally {
      nsDel([h, ...pods]);
    }
  });

  test('the daemon SIGKILLed mid-ADD and mid-DEL: ADD succeeds or says try again (code 11), DEL runs again; no address leaked or twice', { timeout: 180_000 }, async (t) => {
    const { h, pods } = namespaces('kill', 8);
    const dataDir = join(tmp, 'data-kill');
    const conf = JSON.stringify(bridgeConf(dataDir, '10.42.2.0/28'));
    const report: string[] = [];
    try {
      // Warm: a daemon up, cni0 made.
      assertOk(await client('podnet-bridge', h, cniEnv('ADD', 'warm', `/run/netns/${pods[7]}`, bin), conf).done, 'warm ADD');
      assertOk(await client('podnet-bridge', h, cniEnv('DEL', 'warm', `/run/netns/${pods[7]}`, bin), conf).done, 'warm DEL');
      const delays = [0, 5, 15, 30, 60, 120, 250];
      for (const [i, ms] of delays.entries()) {
        const pid = await liveDaemon(h);
        const kids = childrenOf(pid);
        const p = client('podnet-bridge', h, cniEnv('ADD', `kill${i}`, `/run/netns/${pods[i]}`, bin), conf);
        await sleep(ms);
        process.kill(pid, 'SIGKILL');
        const r = await p.done;
        // The killed daemon's shells finish the command they hold and end: wait for them (bounded).
        if (!(await waitFor(() => kids.every((k) => !alive(k)), 5000, 20))) for (const k of kids) await killAndWait(k);
        if (r.code === 0) {
          report.push(`${ms} ms: ADD done before the kill`);
        } else {
          const err = cniError(r);
          assert.equal(err.code, 11, `ADD answered by no daemon says try again later: ${err.msg}`);
          report.push(`${ms} ms: ADD code 11`);
          // The runtime's move after a failed ADD: DEL (a new daemon is started for it).
          assertOk(await client('podnet-bridge', h, cniEnv('DEL', `kill${i}`, `/run/netns/${pods[i]}`, bin), conf).done, 'DEL after the failed ADD');
        }
      }
      // Every pod whose ADD succeeded holds its address; no address is on two interfaces; the store
      // holds exactly the addresses the kernel shows.
      const held = heldAddrs(pods);
      assert.equal(duplicates(held).size, 0, `no address twice: ${JSON.stringify([...duplicates(held)])}`);
      assert.deepEqual([...ipFiles(dataDir).keys()].sort(), held.map((a) => a.ip).sort(), `store and kernel agree (${report.join('; ')})`);
      // DEL killed in the middle: the client runs it again (through a new daemon) and it succeeds.
      for (const [i, pod] of pods.slice(0, delays.length).entries()) {
        const pid = await liveDaemon(h);
        const p = client('podnet-bridge', h, cniEnv('DEL', `kill${i}`, `/run/netns/${pod}`, bin), conf);
        await sleep(delays[i] / 2);
        process.kill(pid, 'SIGKILL');
        assertOk(await p.done, `DEL ${i} with the daemon killed after ${delays[i] / 2} ms`);
      }
      assert.equal(ipFiles(dataDir).size, 0, 'every address released');
      assert.deepEqual(heldAddrs(pods), [], 'no pod holds an address');
      assert.deepEqual(links(h).filter((l) => kindOf(l) === 'veth').map((l) => l.ifname), [], 'no veth is left on the node');
      t.diagnostic(report.join('; '));
    } finally {
      nsDel([h, ...pods]);
    }
  });

  test(`an idle daemon exits after ${IDLE_S} s (socket and PID file gone); the next call starts a new one`, { timeout: 60_000 }, async () => {
    const { h } = namespaces('idle', 0);
    // A daemon the tests before left may be leaving on its own just now: start from none.
    for (const pid of servingProcesses()) await stopDaemon(pid);
    try {
      assertOk(await client('podnet-loopback', h, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}').done, 'VERSION');
      const pid = daemonPid();
      assert.ok(pid && alive(pid), 'a daemon runs');
      assert.ok(await waitFor(() => !alive(pid), (IDLE_S + 10) * 1000, 100), `the daemon exited on its own within ${IDLE_S + 10} s`);
      assert.equal(existsSync(socket), false, 'its socket is gone');
      assert.equal(existsSync(`${socket}.pid`), false, 'its PID file is gone');
      assertOk(await client('podnet-loopback', h, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}').done, 'VERSION again');
      const next = daemonPid();
      assert.ok(next && next !== pid && alive(next), 'a new daemon serves it');
    } finally {
      nsDel([h]);
    }
  });

  test('no daemon is started with PODNET_CNI_SOCKET set, or by clients installed without autostart', { timeout: 60_000 }, async () => {
    const { h } = namespaces('none', 0);
    const own = join(tmp, 'own', 'cni.sock');
    const bin2 = join(tmp, 'bin-no-auto');
    run([process.execPath, PODNET_BIN, 'cni', 'install', '--dir', bin2, '--socket', own], 30_000);
    try {
      const a = await client('podnet-loopback', h, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}', { PODNET_CNI_SOCKET: own }).done;
      assertOk(a, 'VERSION one-shot (PODNET_CNI_SOCKET)');
      const child = spawn('nsenter', [`--net=/run/netns/${h}`, join(bin2, 'podnet-loopback')], { env: { PATH: process.env.PATH ?? '', CNI_COMMAND: 'VERSION' }, stdio: ['pipe', 'pipe', 'ignore'] });
      child.stdin.end('{"cniVersion":"1.0.0"}');
      const code = await new Promise<number | null>((r) => child.on('close', r));
      assert.equal(code, 0, 'VERSION one-shot (installed with --socket, no --autostart)');
      assert.equal(existsSync(own), false, 'nobody listens on the socket of one\'s own');
      assert.equal(existsSync(join(tmp, 'own')), false, 'nothing was made for it');
    } finally {
      nsDel([h]);
    }
  });
});
