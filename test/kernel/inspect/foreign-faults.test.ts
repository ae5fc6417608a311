// inspect under faults, in a small world of our own (host namespace H with a bridge br0 and one
// pod): namespaces that vanish while the scan reads them (deterministically, and concurrently over
// several attempts), a pinned namespace nobody is in, veths between namespaces nobody pinned
// (paired by ifindex alone, and left unresolved when two pairs look alike), a 500-entry FDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecRunner, type Command, type RunResult, type Runner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { scanHost } from '../../../src/inspect/scan.js';
import { identify, type EvidenceDirs } from '../../../src/inspect/identify.js';
import { peerKey, resolvePeers, type Snapshot } from '../../../src/model/snapshot.js';
import { bridgeJson, ipJson, run, statInode, tempDir, uniqueName, within } from '../helpers.js';
import { deleteNetnsWithPrefix, ipJsonAt, killAndWait, missing, unpinnedNamespace } from './foreign.js';
import { Host } from '../../../src/host/host.js';

const skip = missing({ '/usr/bin/busybox': 'busybox', '/usr/bin/unshare': 'util-linux', '/usr/sbin/bridge': 'iproute2' });
if (skip) console.log(`# skipping the inspect fault tests: ${skip}`);
const T = { timeout: 90_000, ...(skip ? { skip } : {}) };

const prefix = `${uniqueName('pnit')}-`;
const H = `${prefix}h`;
const P = `${prefix}p`;
const pids: number[] = [];
let tmp = '';
let ev: EvidenceDirs;

const runner = new ExecRunner();
const machine = new Host(runner);
const byInode = (s: Snapshot, inode: number) => s.namespaces.find((n) => n.inode === inode);

/** Starts a process in a namespace nobody pinned; remembered for `after`. */
async function unpinned() {
  const u = await unpinnedNamespace();
  pids.push(u.pid);
  return u;
}

/** Runs `argv` asynchronously (so a scan can run meanwhile); resolves with the exit code. Bounded. */
function runAsync(argv: readonly string[], input?: string): Promise<number> {
  return within(new Promise<number>((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    child.on('close', (code) => resolve(code ?? 1));
    child.on('error', () => resolve(127));
    child.stdin?.on('error', () => { /* exited before reading */ });
    child.stdin?.end(input);
  }), 20_000, -1);
}

/** A Runner that, just before the scan reads a victim namespace, makes it vanish: `ip netns del`
 * for a pinned one, SIGKILL of the only process for an unpinned one. */
class VanishingRunner implements Runner {
  readonly hits: string[] = [];
  constructor(private readonly inner: Runner, private readonly pinned: string, private readonly pid: number) {}
  async run(cmd: Command): Promise<RunResult> {
    const a = cmd.argv;
    if (a[1] === '-n' && a[2] === this.pinned) {
      run(['ip', 'netns', 'del', this.pinned]);
      this.hits.push(this.pinned);
    }
    if (a[0] === 'nsenter' && a[1] === `--net=/proc/${this.pid}/ns/net`) {
      await killAndWait(this.pid);
      this.hits.push(`pid ${this.pid}`);
    }
    return this.inner.run(cmd);
  }
  start(cmd: Command): Promise<number> {
    return this.inner.start(cmd);
  }
  signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    return this.inner.signal(pid, signal);
  }
}

before(async () => {
  if (skip) return;
  tmp = await tempDir('inspect-faults');
  ev = { stateRoot: tmp, cniResults: [], hostLocal: [], containersJson: [] };
  run(['ip', 'netns', 'add', H]);
  run(['ip', 'netns', 'add', P]);
});

after(async () => {
  if (skip) return;
  const problems: string[] = [];
  for (const pid of pids) if (!(await killAndWait(pid))) problems.push(`pid ${pid} survived SIGKILL`);
  const left = deleteNetnsWithPrefix(prefix);
  if (left.length) problems.push(`namespaces left: ${left.join(', ')}`);
  if (tmp) run(['rm', '-rf', tmp]);
  if (problems.length) throw new Error(problems.join('; '));
});

test('namespaces that vanish just before the scan reads them are kept with an error, never a throw', T, async () => {
  const victim = `${prefix}v1`;
  run(['ip', 'netns', 'add', victim]);
  const victimInode = statInode(`/run/netns/${victim}`);
  const u = await unpinned();
  const r = new VanishingRunner(runner, victim, u.pid);
  const snap = await identify(await scanHost(new Host(r), { host: netnsNamed(H), only: [victim, u.path] }), ev);
  assert.deepEqual(r.hits.sort(), [`pid ${u.pid}`, victim].sort(), 'both vanished mid-scan');
  for (const [label, inode] of [[victim, victimInode], [`pid ${u.pid}`, u.inode]] as const) {
    const ns = byInode(snap, inode);
    assert.ok(ns, `${label} is kept (it was found before it vanished)`);
    assert.ok(ns.error && ns.error.length > 0, `${label} carries an error`);
    assert.deepEqual([ns.links, ns.addrs, ns.routes, ns.fdb], [[], [], [], []], `${label}: nothing read`);
    assert.equal(ns.identity.kind, 'unknown');
  }
  assert.match(byInode(snap, victimInode)!.error!, /No such file|Cannot open/);
  assert.equal(snap.namespaces.find((n) => n.id === snap.host)?.error, undefined, 'the host was read');
});

test('namespaces deleted while full scans run: every scan resolves; each is absent, read whole, or has an error', T, async (t) => {
  const tally = { absent: 0, read: 0, error: 0 };
  for (let attempt = 0; attempt < 6; attempt++) {
    const names = Array.from({ length: 12 }, (_, i) => `${prefix}d${attempt}x${i}`);
    assert.equal(await runAsync(['ip', '-batch', '-'], names.map((n) => `netns add ${n}\n`).join('')), 0);
    const scan = scanHost(machine, { host: netnsNamed(H) });
    // Delete them one by one while the scan runs, starting at once.
    const deleting = (async () => {
      for (const n of names) await runAsync(['ip', 'netns', 'del', n]);
    })();
    const [result]: [Snapshot | undefined, void] = await Promise.all([within(scan, 60_000, undefined), deleting]);
    if (!result) assert.fail(`attempt ${attempt}: the scan did not resolve within 60 s`);
    const snap: Snapshot = result;
    for (const n of names) {
      const ns = snap.namespaces.find((x) => x.names.includes(n));
      if (!ns) tally.absent++;
      else if (ns.error !== undefined) {
        tally.error++;
        assert.deepEqual(ns.links, [], `${n}: an errored namespace has empty lists`);
      } else {
        tally.read++;
        assert.ok(ns.links.some((l) => l.name === 'lo' && l.index === 1), `${n}: read whole (lo is there)`);
      }
    }
    assert.equal(snap.namespaces.find((x) => x.id === snap.host)?.error, undefined);
  }
  t.diagnostic(`over 6 attempts × 12 namespaces: ${JSON.stringify(tally)}`);
  assert.equal(tally.absent + tally.read + tally.error, 72);
});

test('a pinned namespace with no process: found by its pinned name, identity unknown', T, async () => {
  const empty = `${prefix}empty`;
  run(['ip', 'netns', 'add', empty]);
  const inode = statInode(`/run/netns/${empty}`);
  const snap = await identify(await scanHost(machine, { host: netnsNamed(H), only: [empty] }), ev);
  const ns = byInode(snap, inode);
  assert.ok(ns);
  assert.deepEqual(ns.names, [empty]);
  assert.equal(ns.path, `/run/netns/${empty}`);
  assert.deepEqual(ns.processes, []);
  assert.equal(ns.error, undefined);
  assert.equal(ns.identity.kind, 'unknown');
  assert.equal(ns.identity.source, 'none');
  assert.equal(ns.identity.name, empty, "an unidentified pinned namespace is shown by its pinned name");
  run(['ip', 'netns', 'del', empty]);
});

test('a veth between two namespaces nobody pinned is paired by ifindex; a look-alike pair makes it unresolved, never guessed', T, async () => {
  const a = await unpinned();
  const b = await unpinned();
  // Indexes nobody else on the machine is likely to use, so the pairing is unique…
  const [ia, ib] = [20_000 + Math.floor(Math.random() * 20_000), 40_000 + Math.floor(Math.random() * 20_000)];
  run(['nsenter', `--net=${a.path}`, '--', 'ip', 'link', 'add', 'xa', 'index', String(ia), 'type', 'veth', 'peer', 'name', 'xb', 'index', String(ib), 'netns', String(b.pid)]);
  const [kxa] = ipJsonAt(a.path, ['link', 'show', 'dev', 'xa']);
  const [kxb] = ipJsonAt(b.path, ['link', 'show', 'dev', 'xb']);
  assert.deepEqual([kxa.ifindex, kxa.link_index, kxb.ifindex, kxb.link_index], [ia, ib, ib, ia], 'the kernel pairs them');
  const only = [a.path, b.path];
  let snap = await scanHost(machine, { host: netnsNamed(H), only });
  let peers = resolvePeers(snap);
  assert.deepEqual(peers.get(peerKey(`ino:${a.inode}`, ia)), { netns: `ino:${b.inode}`, index: ib, name: 'xb' });
  assert.deepEqual(peers.get(peerKey(`ino:${b.inode}`, ib)), { netns: `ino:${a.inode}`, index: ia, name: 'xa' });
  // …until two pinned namespaces hold a pair with the very same indexes.
  const [d1, d2] = [`${prefix}dc1`, `${prefix}dc2`];
  run(['ip', 'netns', 'add', d1]);
  run(['ip', 'netns', 'add', d2]);
  run(['ip', '-n', d1, 'link', 'add', 'ya', 'index', String(ia), 'type', 'veth', 'peer', 'name', 'yb', 'index', String(ib), 'netns', d2]);
  snap = await scanHost(machine, { host: netnsNamed(H), only: [...only, d1, d2] });
  peers = resolvePeers(snap);
  const [i1, i2] = [statInode(`/run/netns/${d1}`), statInode(`/run/netns/${d2}`)];
  assert.deepEqual(peers.get(peerKey(`ino:${i1}`, ia)), { netns: `ino:${i2}`, index: ib, name: 'yb' }, 'the pinned pair is named by its nsid table');
  assert.deepEqual(peers.get(peerKey(`ino:${i2}`, ib)), { netns: `ino:${i1}`, index: ia, name: 'ya' });
  assert.deepEqual(peers.get(peerKey(`ino:${a.inode}`, ia)), { index: ib }, 'two candidates: left unresolved');
  assert.deepEqual(peers.get(peerKey(`ino:${b.inode}`, ib)), { index: ia });
  run(['ip', 'netns', 'del', d1]);
  run(['ip', 'netns', 'del', d2]);
});

test('an FDB with 500 static entries on a host veth: every one is in the snapshot, as the kernel lists them', T, async () => {
  run(['ip', '-n', H, 'link', 'add', 'br0', 'type', 'bridge']);
  run(['ip', '-n', H, 'link', 'add', 'vethf0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', P]);
  run(['ip', '-n', H, 'link', 'set', 'vethf0', 'master', 'br0', 'up']);
  run(['ip', '-n', H, 'link', 'set', 'br0', 'up']);
  const macs = Array.from({ length: 500 }, (_, i) => `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`);
  const code = await runAsync(['bridge', '-n', H, '-batch', '-'], macs.map((m) => `fdb add ${m} dev vethf0 master static\n`).join(''));
  assert.equal(code, 0, 'bridge -batch fdb add');
  const kernel = bridgeJson(H, ['fdb', 'show']).filter((e) => e.state === 'static').map((e) => `${String(e.mac)} ${String(e.ifname)} ${String(e.master)}`).sort();
  assert.equal(kernel.length, 500, 'the kernel holds 500 static entries');
  const snap = await scanHost(machine, { host: netnsNamed(H), only: [] });
  assert.deepEqual(snap.namespaces.map((n) => n.id), [snap.host], '`only: []` is the host alone');
  const host = snap.namespaces[0];
  const statics = host.fdb.filter((e) => e.state === 'static');
  assert.deepEqual(statics.map((e) => `${e.mac} ${e.dev} ${e.master}`).sort(), kernel);
  assert.deepEqual(statics.map((e) => e.mac).sort(), [...macs].sort());
  const vethMac = String(ipJson(H, ['link', 'show', 'dev', 'vethf0'])[0].address);
  assert.ok(host.fdb.some((e) => e.mac === vethMac && e.dev === 'vethf0' && e.state === 'permanent'), 'the port\'s own permanent entry');
  // The pod end is paired too (its namespace is pinned, so named).
  const full = await scanHost(machine, { host: netnsNamed(H), only: [P] });
  const pod = full.namespaces.find((n) => n.names.includes(P))!;
  const eth0 = pod.links.find((l) => l.name === 'eth0')!;
  assert.equal(resolvePeers(full).get(peerKey(pod.id, eth0.index))?.name, 'vethf0');
});

/** A second process joining the namespace at `path` (nsenter execs busybox, so the PID is busybox's). */
async function joinNamespace(path: string): Promise<number> {
  const child = spawn('nsenter', [`--net=${path}`, '--', 'busybox', 'sleep', '601'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid ?? 0;
  pids.push(pid);
  const target = statInode(path);
  assert.ok(await waitForInode(pid, target), `pid ${pid} joined ${path}`);
  return pid;
}

async function waitForInode(pid: number, inode: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      if (statInode(`/proc/${pid}/ns/net`) === inode) return true;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

test('`only` takes any path that opens a namespace: a later process\'s /proc/PID/ns/net, /var/run/netns/NAME', {
  ...T,
}, async () => {
  const u = await unpinned();
  const pid2 = await joinNamespace(u.path);
  const victim = `${prefix}vr`;
  run(['ip', 'netns', 'add', victim]);
  try {
    const snap = await scanHost(machine, { host: netnsNamed(H), only: [`/proc/${pid2}/ns/net`, `/var/run/netns/${victim}`] });
    assert.ok(byInode(snap, u.inode), `/proc/${pid2}/ns/net selects netns ${u.inode}`);
    assert.ok(byInode(snap, statInode(`/run/netns/${victim}`)), `/var/run/netns/${victim} selects ${victim}`);
  } finally {
    run(['ip', 'netns', 'del', victim]);
  }
});

test('a CNI cache whose sandbox is /proc/PID/ns/net of any process in the namespace names the pod', {
  ...T,
}, async () => {
  const u = await unpinned();
  const pid2 = await joinNamespace(u.path);
  const cid = randomBytes(32).toString('hex');
  const results = join(tmp, 'proc-results');
  await mkdir(results, { recursive: true });
  await writeFile(join(results, `cbr0-${cid}-eth0`), JSON.stringify({
    kind: 'cniCacheV1', containerId: cid, ifName: 'eth0', networkName: 'cbr0',
    cniArgs: [['K8S_POD_NAME', 'procpod'], ['K8S_POD_NAMESPACE', 'default']],
    result: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: `/proc/${pid2}/ns/net` }], ips: [] },
  }));
  const snap = await identify(await scanHost(machine, { host: netnsNamed(H), only: [u.path] }), { ...ev, cniResults: [results] });
  assert.equal(byInode(snap, u.inode)?.identity.name, 'procpod');
});

test('an IP held by a pod whose cached sandbox is another namespace does not lend that pod\'s name to a look-alike', {
  ...T,
}, async () => {
  const [real, twin] = [`${prefix}real`, `${prefix}twin`];
  const cid = randomBytes(32).toString('hex');
  const results = join(tmp, 'twin-results');
  const hostLocal = join(tmp, 'twin-host-local');
  await mkdir(results, { recursive: true });
  await mkdir(join(hostLocal, 'cbr0'), { recursive: true });
  for (const ns of [real, twin]) {
    run(['ip', 'netns', 'add', ns]);
    run(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    run(['ip', '-n', ns, 'addr', 'add', '10.42.9.2/24', 'dev', 'eth0']);
  }
  try {
    await writeFile(join(hostLocal, 'cbr0', '10.42.9.2'), `${cid}\neth0`);
    await writeFile(join(results, `cbr0-${cid}-eth0`), JSON.stringify({
      kind: 'cniCacheV1', containerId: cid, ifName: 'eth0', networkName: 'cbr0',
      cniArgs: [['K8S_POD_NAME', 'real'], ['K8S_POD_NAMESPACE', 'default']],
      result: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:02', sandbox: `/run/netns/${real}` }], ips: [{ address: '10.42.9.2/24', interface: 0 }] },
    }));
    const snap = await identify(await scanHost(machine, { host: netnsNamed(H), only: [real, twin] }), { ...ev, cniResults: [results], hostLocal: [hostLocal] });
    const realNs = snap.namespaces.find((n) => n.names.includes(real))!;
    const twinNs = snap.namespaces.find((n) => n.names.includes(twin))!;
    assert.deepEqual(realNs.identity, { kind: 'pod', name: 'real', podNamespace: 'default', containerId: cid, source: 'cni-cache' });
    assert.notEqual(twinNs.identity.containerId, cid, 'the twin is not that container');
  } finally {
    run(['ip', 'netns', 'del', real]);
    run(['ip', 'netns', 'del', twin]);
  }
});
