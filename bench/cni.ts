// Benchmark: CNI plugins exec'd per pod the way a runtime execs them — `nsenter --net=/run/netns/H
// PLUGIN` with the CNI environment and the config on stdin — for the reference plugins
// (/usr/lib/cni/bridge + host-local, loopback) and podnet's installed executables (podnet-bridge +
// podnet-host-local, podnet-loopback) (a) installed as a runtime gets them (`podnet cni install
// --autostart`, no PODNET_CNI_SOCKET: the first call starts the daemon, the bench never does), (b) with
// `podnet cni serve` started by hand and (c) one-shot (no daemon: the client execs Node). Pods are
// taken up (loopback ADD, bridge ADD) and down (bridge DEL, loopback DEL, each with its ADD result as
// prevResult) one by one, the four paths alternating pod by pod.
// Then, to say where podnet's time goes: floors (process start-ups, VERSION round trips) and the
// daemon's work replayed in process with every command and flock timed.
// Usage (root): `node dist/bench/cni.js [--pods N] [--quick]` (--quick: 20 pods, nothing written).
// Writes bench/results/cni.json.
import { spawn } from 'node:child_process';
import childProcess from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import type { Command, Runner } from '../src/host/runner.js';
import { execContext } from '../src/cni/exec.js';
import { defaultRegistry } from '../src/cni/context.js';
import { invokePlugin } from '../src/cni/plugin.js';
import { useLockHelper } from '../src/host/lock-helper.js';
import { QUICK, ROOT, exec, machineFacts, runBenchmark, type Exit, type Guard } from './common.js';

const PODS = Number(process.argv[process.argv.indexOf('--pods') + 1]) > 0 && process.argv.includes('--pods')
  ? Number(process.argv[process.argv.indexOf('--pods') + 1]) : QUICK ? 20 : 100;
const WARMUP = 3;
const FLOOR_REPS = QUICK ? 10 : 30;
const REF_DIR = '/usr/lib/cni';
const PREFIX = `pncni${randomBytes(3).toString('hex')}-`;

type PathName = 'reference' | 'auto-start' | 'daemon' | 'one-shot';
const PATHS: PathName[] = ['reference', 'auto-start', 'daemon', 'one-shot'];
type Op = 'loopback ADD' | 'bridge ADD' | 'bridge DEL' | 'loopback DEL';
const OPS: Op[] = ['loopback ADD', 'bridge ADD', 'bridge DEL', 'loopback DEL'];

// ---------------------------------------------------------------------------------------------
// Small helpers.

const median = (xs: readonly number[]) => quantile(xs, 0.5);
/** Quantile by linear interpolation between closest ranks. */
function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;


async function must(argv: readonly string[], input = '', env?: NodeJS.ProcessEnv): Promise<Exit> {
  const r = await exec(argv, input, env);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 500)}`);
  return r;
}

async function netnsNames(): Promise<string[]> {
  const text = (await must(['ip', '-json', 'netns', 'list'])).stdout.trim();
  return text ? (JSON.parse(text) as { name: string }[]).map((e) => e.name) : [];
}

/** Every namespace this run made is tracked here, so any failure or signal can remove them. */
const made = new Set<string>();
async function nsAdd(names: readonly string[]): Promise<void> {
  for (const n of names) made.add(n);
  await must(['ip', '-batch', '-'], names.map((n) => `netns add ${n}\n`).join(''));
}
async function nsDel(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await exec(['ip', '-force', '-batch', '-'], names.map((n) => `netns del ${n}\n`).join(''));
  for (const n of names) made.delete(n);
}

// ---------------------------------------------------------------------------------------------
// The three paths.

/** The run's guard (interrupted?) and temp dir, set by runBenchmark. */
let guard: Guard;
let tmp = '';
let bin = '';
let socket = '';
/** The executables installed with --autostart, and the socket their daemon listens on. */
let autoBin = '';
let autoSocket = '';
let daemonPid = 0;
let daemonExit: Promise<unknown> = Promise.resolve();

interface PathSetup {
  name: PathName;
  /** Plugin executables by role. */
  bridge: string;
  loopback: string;
  cniPath: string;
  bridgeType: string;
  ipamType: string;
  loopbackType: string;
  socket: string;
}

function setup(name: PathName): PathSetup {
  if (name === 'reference') {
    return { name, bridge: join(REF_DIR, 'bridge'), loopback: join(REF_DIR, 'loopback'), cniPath: REF_DIR, bridgeType: 'bridge', ipamType: 'host-local', loopbackType: 'loopback', socket: '' };
  }
  // auto-start: what a runtime gets from a default install — no PODNET_CNI_SOCKET, the clients start the daemon.
  const dir = name === 'auto-start' ? autoBin : bin;
  return {
    name, bridge: join(dir, 'podnet-bridge'), loopback: join(dir, 'podnet-loopback'), cniPath: dir,
    bridgeType: 'podnet-bridge', ipamType: 'podnet-host-local', loopbackType: 'podnet-loopback',
    socket: name === 'daemon' ? socket : name === 'auto-start' ? '' : join(tmp, 'no-daemon.sock'),
  };
}

/** K3s's bridge delegate (docs/facts.md#k3s), name and cniVersion folded in as libcni does. */
function bridgeConf(p: PathSetup, dataDir: string, prevResult?: unknown): string {
  return JSON.stringify({
    cniVersion: '1.0.0', name: 'cbr0', type: p.bridgeType, bridge: 'cni0', hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: 1450,
    ipam: { type: p.ipamType, ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '10.42.0.0/16' }], dataDir },
    ...(prevResult ? { prevResult } : {}),
  });
}
const loopbackConf = (p: PathSetup, prevResult?: unknown) => JSON.stringify({ cniVersion: '1.0.0', name: 'cni-loopback', type: p.loopbackType, ...(prevResult ? { prevResult } : {}) });

/** One path's node: namespace H, its pods, its IPAM data dir. */
class Node {
  readonly h: string;
  readonly dataDir: string;
  constructor(readonly p: PathSetup, tag: string) {
    this.h = `${PREFIX}${tag}-H`;
    this.dataDir = join(tmp, `data-${tag}`);
  }
  pod(i: number): string { return `${PREFIX}${this.p.name.slice(0, 1)}${i}`; }

  /** Execs `exe` inside H like a runtime; returns the parsed output and the time. */
  async cni(exe: string, command: string, pod: string, ifname: string, stdin: string): Promise<{ result: unknown; ms: number }> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: `cid-${pod}`, CNI_NETNS: `/run/netns/${pod}`, CNI_IFNAME: ifname,
      CNI_PATH: this.p.cniPath, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`,
      ...(this.p.socket ? { PODNET_CNI_SOCKET: this.p.socket } : {}),
    };
    const r = await exec(['nsenter', `--net=/run/netns/${this.h}`, exe], stdin, env);
    if (r.code !== 0) throw new Error(`${this.p.name} ${exe} ${command} for ${pod} exited ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 500)}`);
    return { result: r.stdout.trim() ? JSON.parse(r.stdout) : undefined, ms: r.ms };
  }

  async add(pod: string): Promise<{ lo: unknown; br: unknown; ms: Record<'loopback ADD' | 'bridge ADD', number> }> {
    const lo = await this.cni(this.p.loopback, 'ADD', pod, 'lo', loopbackConf(this.p));
    const br = await this.cni(this.p.bridge, 'ADD', pod, 'eth0', bridgeConf(this.p, this.dataDir));
    if (!(br.result as { ips?: unknown[] } | undefined)?.ips?.length) throw new Error(`${this.p.name}: bridge ADD for ${pod} returned no IP`);
    return { lo: lo.result, br: br.result, ms: { 'loopback ADD': lo.ms, 'bridge ADD': br.ms } };
  }

  async del(pod: string, res: { lo: unknown; br: unknown }): Promise<Record<'bridge DEL' | 'loopback DEL', number>> {
    const br = await this.cni(this.p.bridge, 'DEL', pod, 'eth0', bridgeConf(this.p, this.dataDir, res.br));
    const lo = await this.cni(this.p.loopback, 'DEL', pod, 'lo', loopbackConf(this.p, res.lo));
    return { 'bridge DEL': br.ms, 'loopback DEL': lo.ms };
  }
}

// ---------------------------------------------------------------------------------------------
// Daemon.

async function startDaemon(): Promise<void> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/podnet.js'), 'cni', 'serve', '--socket', socket], { stdio: 'ignore', detached: true });
  daemonPid = child.pid ?? 0;
  daemonExit = new Promise((r) => child.on('exit', r));
  for (let i = 0; i < 300 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error('podnet cni serve did not start listening');
}

/** The PID of the daemon the auto-start clients started (from its PID file), if it runs. */
function autoDaemonPid(): number | undefined {
  try {
    const pid = Number(readFileSync(`${autoSocket}.pid`, 'utf8').trim());
    return pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the daemon the clients started, by its PID (SIGTERM, then SIGKILL after 5 s). */
async function stopAutoDaemon(): Promise<void> {
  const pid = autoDaemonPid();
  if (!pid) return;
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  for (let i = 0; i < 100 && autoDaemonPid() === pid; i++) await new Promise((r) => setTimeout(r, 50));
  if (autoDaemonPid() === pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

async function stopDaemon(): Promise<void> {
  await stopAutoDaemon();
  if (!daemonPid) return;
  try { process.kill(daemonPid, 'SIGTERM'); } catch { /* gone */ }
  const t = new Promise((r) => setTimeout(r, 5000, 'timeout'));
  if ((await Promise.race([daemonExit, t])) === 'timeout') {
    try { process.kill(daemonPid, 'SIGKILL'); } catch { /* gone */ }
    await daemonExit;
  }
  daemonPid = 0;
}

// ---------------------------------------------------------------------------------------------
// Where podnet's time goes.

/** Wall time of `n` runs of argv (with env and stdin), median. */
async function floor(argv: readonly string[], n: number, input = '', env?: NodeJS.ProcessEnv): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push((await must(argv, input, env)).ms);
  return r2(median(ms));
}

/** One timed command of the daemon's work, classified. */
interface Timed { what: string; ms: number }

function classify(argv: readonly string[], input: string, h: string): string {
  const a = argv.join(' ');
  const inHost = a.includes(`/run/netns/${h}`) || a.includes(`-n ${h} `);
  if (a.includes('addr show')) return 'read cni0 (`ip -json addr show dev cni0` over rtnetlink, host)';
  if (input.includes('link add veth')) return 'host side: veth, port, gateway, sysctls (one `ip -batch` over rtnetlink, host)';
  if (/^link show dev veth/.test(input.trim()) && inHost) return 'port up check (`ip link show` over rtnetlink, host)';
  if (input.includes('addr add') && !inHost) return 'pod side: sysctls, eth0 up, address, routes (over rtnetlink, pod)';
  if (input.includes('link del')) return 'delete eth0 (`ip -batch` over rtnetlink, pod)';
  if (input.includes('link set lo')) return 'lo up/down (`ip -batch` over rtnetlink, pod)';
  return argv.slice(0, 3).join(' ');
}

/** The daemon's work replayed in this process (the same code `podnet cni serve` runs: execContext +
 * invokePlugin, host namespace by path as the daemon has it), each command and each flock timed. */
async function profile(): Promise<Record<string, unknown>> {
  // Time every flock child this process starts (src/host/lock.ts spawns `flock -x 0`).
  const flocks: number[] = [];
  const origSpawn = childProcess.spawn;
  const patched = ((...args: Parameters<typeof origSpawn>) => {
    const t0 = performance.now(); // from before spawn(): its synchronous fork counts too
    const child = origSpawn(...args);
    if (args[0] === 'flock') child.once('close', () => flocks.push(performance.now() - t0));
    return child;
  }) as typeof origSpawn;
  childProcess.spawn = patched;
  syncBuiltinESMExports();
  try {
    const node = new Node(setup('daemon'), 'prof');
    const timed: Timed[] = [];
    const inner = new ShellRunner(8);
    const runner: Runner = {
      async run(cmd: Command) {
        const t0 = performance.now();
        try { return await inner.run(cmd); } finally { timed.push({ what: classify(cmd.argv, cmd.input ?? '', node.h), ms: performance.now() - t0 }); }
      },
      start: (cmd) => inner.start(cmd),
      signal: (pid, sig) => inner.signal(pid, sig),
    };
    // As in `podnet cni serve`: host-local's flock through the persistent helper.
    useLockHelper();
    const registry = defaultRegistry();
    const base = execContext(new Host(runner), { path: `/run/netns/${node.h}` }, registry, (n) => new Uint8Array(randomBytes(n)));
    let delegateMs = 0;
    const ctx: typeof base = {
      ...base,
      async delegate(...a) {
        const t0 = performance.now();
        try { return await base.delegate(...a); } finally { delegateMs += performance.now() - t0; }
      },
    };
    const pods = Array.from({ length: PODS + WARMUP }, (_, i) => node.pod(1000 + i));
    await nsAdd([node.h, ...pods]);
    const per: Record<string, { total: number[]; byWhat: Map<string, number[]>; flock: number[]; ipam: number[] }> = {};
    const call = async (op: Op, pod: string, stdin: string, record: boolean) => {
      const [type, command] = op.split(' ') as ['bridge' | 'loopback', string];
      const env = {
        CNI_COMMAND: command, CNI_CONTAINERID: `cid-${pod}`, CNI_NETNS: `/run/netns/${pod}`, CNI_IFNAME: type === 'bridge' ? 'eth0' : 'lo',
        CNI_PATH: bin, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`,
      };
      timed.length = 0;
      flocks.length = 0;
      delegateMs = 0;
      const t0 = performance.now();
      const out = await invokePlugin(registry.get(type), env, stdin, ctx);
      const total = performance.now() - t0;
      if (out.exitCode !== 0) throw new Error(`profile ${op} ${pod}: ${out.stdout}`);
      // The flock child's 'close' can come a tick after the lock is taken.
      await new Promise((r) => setImmediate(r));
      if (record) {
        const e = (per[op] ??= { total: [], byWhat: new Map(), flock: [], ipam: [] });
        e.total.push(total);
        e.flock.push(flocks.reduce((a, b) => a + b, 0));
        e.ipam.push(delegateMs);
        const sums = new Map<string, number>();
        for (const t of timed) sums.set(t.what, (sums.get(t.what) ?? 0) + t.ms);
        for (const [w, ms] of sums) (e.byWhat.get(w) ?? e.byWhat.set(w, []).get(w)!).push(ms);
      }
      return out.result;
    };
    const p = node.p;
    const results: { lo: unknown; br: unknown }[] = [];
    for (const [i, pod] of pods.entries()) {
      if (guard.interrupted) throw new Error('interrupted');
      const rec = i >= WARMUP;
      const lo = await call('loopback ADD', pod, loopbackConf(p), rec);
      const br = await call('bridge ADD', pod, bridgeConf(p, node.dataDir), rec);
      results.push({ lo, br });
    }
    for (const [i, pod] of pods.entries()) {
      if (guard.interrupted) throw new Error('interrupted');
      const rec = i >= WARMUP;
      await call('bridge DEL', pod, bridgeConf(p, node.dataDir, results[i].br), rec);
      await call('loopback DEL', pod, loopbackConf(p, results[i].lo), rec);
    }
    await nsDel([...pods, node.h]);
    inner.close();
    const out: Record<string, unknown> = {};
    for (const op of OPS) {
      const e = per[op];
      const parts: Record<string, number> = {};
      let accounted = 0;
      for (const [w, xs] of e.byWhat) {
        // Commands that did not run for every pod count as 0 for the others.
        const all = [...xs, ...Array<number>(e.total.length - xs.length).fill(0)];
        parts[w] = r2(median(all));
        accounted += median(all);
      }
      const lock = median(e.flock);
      const ipam = median(e.ipam);
      if (ipam > 0) {
        parts['IPAM: flock children (`flock -x 0`; none while the helper takes the lock)'] = r2(lock);
        parts['IPAM: the rest (find podnet-host-local on CNI_PATH, read and write the reservation files, JavaScript)'] = r2(Math.max(0, ipam - lock));
        accounted += ipam;
      }
      const total = median(e.total);
      parts['the rest: the plugin\'s JavaScript (parse, validate, result) and waiting between steps'] = r2(Math.max(0, total - accounted));
      out[op] = { inProcessMedianMs: r2(total), parts, samples: e.total.map(r1) };
    }
    return out;
  } finally {
    childProcess.spawn = origSpawn;
    syncBuiltinESMExports();
  }
}

// ---------------------------------------------------------------------------------------------

type Samples = Record<PathName, Record<Op, number[]>>;

function stats(xs: number[]) {
  return { median: r1(median(xs)), p90: r1(quantile(xs, 0.9)) };
}

async function leftovers(): Promise<string[]> {
  const ns = (await netnsNames()).filter((n) => n.startsWith(PREFIX));
  const daemon = daemonPid && existsSync(`/proc/${daemonPid}`) && !readFileSync(`/proc/${daemonPid}/stat`, 'latin1').includes(') Z') ? [`podnet cni serve pid ${daemonPid}`] : [];
  const auto = autoDaemonPid();
  return [...ns, ...daemon, ...(auto ? [`podnet cni serve (started by a client) pid ${auto}`] : [])];
}

async function cleanup(): Promise<void> {
  await stopDaemon().catch(() => undefined);
  await nsDel([...made]).catch(() => undefined);
}

/** The reference plugins this bench execs, or the line saying which is missing. */
function referencePlugins(): string | undefined {
  const missing = ['bridge', 'host-local', 'loopback'].find((f) => !existsSync(join(REF_DIR, f)));
  return missing && `${REF_DIR}/${missing} is missing (apt-get install containernetworking-plugins)`;
}

await runBenchmark({
  name: 'cni',
  needsRoot: 'it creates network namespaces',
  check: referencePlugins,
  // The daemon and every namespace made are removed here (also after a failure), then looked for.
  leftovers: async () => {
    await cleanup();
    return leftovers();
  },
}, async (ctx) => {
  ({ guard, tmp } = ctx);
  bin = join(tmp, 'bin');
  socket = join(tmp, 'cni.sock');
  autoBin = join(tmp, 'bin-auto');
  autoSocket = join(tmp, 'run', 'cni.sock');
  // A second SIGINT/SIGTERM stops the daemons and removes the namespaces at once.
  await guard.guarded(cleanup, async () => {
    await must([process.execPath, join(ROOT, 'bin/podnet.js'), 'cni', 'install', '--dir', bin, '--socket', socket]);
    await must([process.execPath, join(ROOT, 'bin/podnet.js'), 'cni', 'install', '--dir', autoBin, '--socket', autoSocket, '--autostart']);
    await startDaemon();
    const nodes = Object.fromEntries(PATHS.map((p) => [p, new Node(setup(p), p.slice(0, 1))])) as Record<PathName, Node>;
    const podsOf = (n: Node, from: number, count: number) => Array.from({ length: count }, (_, i) => n.pod(from + i));
    await nsAdd(PATHS.flatMap((p) => [nodes[p].h, ...podsOf(nodes[p], 0, WARMUP + PODS)]));

    console.error(`warming up (${WARMUP} unrecorded pods per path: cni0 created, caches warm; the auto-start clients start their daemon)`);
    let firstCall: { ms: number; startedDaemon: boolean } | undefined;
    for (let i = 0; i < WARMUP; i++) {
      for (const p of PATHS) {
        const n = nodes[p];
        if (p === 'auto-start' && !firstCall) {
          const before = autoDaemonPid();
          const lo = await n.cni(n.p.loopback, 'ADD', n.pod(i), 'lo', loopbackConf(n.p));
          firstCall = { ms: r1(lo.ms), startedDaemon: !before && !!autoDaemonPid() };
          await n.cni(n.p.loopback, 'DEL', n.pod(i), 'lo', loopbackConf(n.p, lo.result));
        }
        const res = await n.add(n.pod(i));
        await n.del(n.pod(i), res);
      }
    }

    const samples = Object.fromEntries(PATHS.map((p) => [p, Object.fromEntries(OPS.map((o) => [o, [] as number[]]))])) as Samples;
    const perPod = Object.fromEntries(PATHS.map((p) => [p, { add: [] as number[], del: [] as number[], total: [] as number[] }])) as Record<PathName, { add: number[]; del: number[]; total: number[] }>;
    const held: Record<PathName, { lo: unknown; br: unknown }[]> = { reference: [], 'auto-start': [], daemon: [], 'one-shot': [] };
    // Rotate which path goes first, pod by pod, so drift in the machine hits all three alike.
    const order = (i: number) => PATHS.map((_, k) => PATHS[(i + k) % PATHS.length]);
    console.error(`${PODS} pods up, one by one, paths alternating`);
    for (let i = 0; i < PODS; i++) {
      for (const p of order(i)) {
        const r = await nodes[p].add(nodes[p].pod(WARMUP + i));
        held[p].push(r);
        samples[p]['loopback ADD'].push(r.ms['loopback ADD']);
        samples[p]['bridge ADD'].push(r.ms['bridge ADD']);
        perPod[p].add.push(r.ms['loopback ADD'] + r.ms['bridge ADD']);
      }
      if (guard.interrupted) throw new Error('interrupted');
    }
    console.error(`${PODS} pods down`);
    for (let i = 0; i < PODS; i++) {
      for (const p of order(i)) {
        const ms = await nodes[p].del(nodes[p].pod(WARMUP + i), held[p][i]);
        samples[p]['bridge DEL'].push(ms['bridge DEL']);
        samples[p]['loopback DEL'].push(ms['loopback DEL']);
        perPod[p].del.push(ms['bridge DEL'] + ms['loopback DEL']);
        perPod[p].total.push(perPod[p].add[i] + ms['bridge DEL'] + ms['loopback DEL']);
      }
      if (guard.interrupted) throw new Error('interrupted');
    }
    for (const p of PATHS) {
      const files = existsSync(join(nodes[p].dataDir, 'cbr0')) ? (await must(['ls', join(nodes[p].dataDir, 'cbr0')])).stdout.split('\n').filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
      if (files.length) throw new Error(`${p}: IPs still reserved after every DEL: ${files.join(' ')}`);
    }
    await nsDel(PATHS.flatMap((p) => [nodes[p].h, ...podsOf(nodes[p], 0, WARMUP + PODS)]));

    console.error('floors and VERSION round trips');
    const h = `${PREFIX}floor-H`;
    await nsAdd([h]);
    const inH = (argv: string[]) => ['nsenter', `--net=/run/netns/${h}`, ...argv];
    const versionEnv = (sock?: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, CNI_COMMAND: 'VERSION', ...(sock ? { PODNET_CNI_SOCKET: sock } : {}) });
    const floors = {
      'nsenter --net=H true': await floor(inH(['true']), FLOOR_REPS),
      'nsenter --net=H perl -e 0': await floor(inH(['perl', '-e', '0']), FLOOR_REPS),
      'reference bridge VERSION (Go start-up)': await floor(inH([join(REF_DIR, 'bridge')]), FLOOR_REPS, '{}', versionEnv()),
      'podnet-bridge VERSION through the daemon (Perl client + socket)': await floor(inH([join(bin, 'podnet-bridge')]), FLOOR_REPS, '{}', versionEnv(socket)),
      'podnet-bridge VERSION, installed with --autostart (daemon already started)': await floor(inH([join(autoBin, 'podnet-bridge')]), FLOOR_REPS, '{}', versionEnv()),
      'podnet-bridge VERSION one-shot (Perl client + Node start-up)': await floor(inH([join(bin, 'podnet-bridge')]), FLOOR_REPS, '{}', versionEnv(join(tmp, 'no-daemon.sock'))),
      'node -e 0': await floor([process.execPath, '-e', '0'], FLOOR_REPS),
    };
    await nsDel([h]);

    console.error(`profiling the daemon's work in process (${PODS} pods, as many as above)`);
    const inProcess = await profile();

    const table = Object.fromEntries(PATHS.map((p) => [p, {
      ...Object.fromEntries(OPS.map((o) => [o, stats(samples[p][o])])),
      'per pod ADD (lo + bridge)': stats(perPod[p].add),
      'per pod DEL (bridge + lo)': stats(perPod[p].del),
      'per pod ADD + DEL': stats(perPod[p].total),
    }])) as unknown as Record<PathName, Record<string, { median: number; p90: number }>>;
    // What the daemon path costs beyond the plugin's own work: client start-up, hand-over, answer.
    const handOver = Object.fromEntries(OPS.map((o) => [o, r1(table.daemon[o].median - (inProcess[o] as { inProcessMedianMs: number }).inProcessMedianMs)]));
    const refTotal = table.reference['per pod ADD + DEL'].median;
    const ratio = (p: PathName) => r2(table[p]['per pod ADD + DEL'].median / refTotal);
    const target = {
      what: "podnet's per-pod ADD+DEL (median) at or below the reference's (≤ 1.0×)",
      reference: refTotal,
      autoStart: { measured: table['auto-start']['per pod ADD + DEL'].median, ratio: ratio('auto-start'), met: table['auto-start']['per pod ADD + DEL'].median <= refTotal, firstCall },
      daemon: { measured: table.daemon['per pod ADD + DEL'].median, ratio: ratio('daemon'), met: table.daemon['per pod ADD + DEL'].median <= refTotal },
      oneShot: { measured: table['one-shot']['per pod ADD + DEL'].median, ratio: ratio('one-shot'), met: table['one-shot']['per pod ADD + DEL'].median <= refTotal },
    };
    const out = {
      date: new Date().toISOString(),
      machine: machineFacts(),
      pods: PODS, warmup: WARMUP, quick: QUICK,
      how: 'each plugin exec\'d as `nsenter --net=/run/netns/H PLUGIN` with the CNI env and stdin, wall time spawn→exit in ms; three paths alternating pod by pod',
      table,
      target,
      floors,
      daemonWorkInProcess: inProcess,
      daemonPathMinusInProcess: handOver,
      samples: Object.fromEntries(PATHS.map((p) => [p, Object.fromEntries(OPS.map((o) => [o, samples[p][o].map(r1)]))])),
    };
    await ctx.write(out);

    const rows = [...OPS, 'per pod ADD (lo + bridge)', 'per pod DEL (bridge + lo)', 'per pod ADD + DEL'];
    const cell = (p: PathName, r: string) => `${table[p][r].median} / ${table[p][r].p90}`;
    console.log(`| op (${PODS} pods) | reference | podnet, installed (daemon started by the clients) | podnet, daemon started by hand | podnet, one-shot |`);
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r} | ${cell('reference', r)} | ${cell('auto-start', r)} | ${cell('daemon', r)} | ${cell('one-shot', r)} |`);
    console.log('(median / p90 ms)');
    const verdict = (t: { measured: number; ratio: number; met: boolean }) => `${t.measured} ms (${t.ratio}×) — ${t.met ? 'met' : 'NOT met'}`;
    console.log(`\ntarget (${target.what}): reference ${refTotal} ms; installed ${verdict(target.autoStart)}; by hand ${verdict(target.daemon)}; one-shot ${verdict(target.oneShot)}`);
    console.log(`the first call of the installed clients (it started the daemon: ${firstCall?.startedDaemon}): ${firstCall?.ms} ms`);
    console.log('\nfloors (median ms):');
    for (const [k, v] of Object.entries(floors)) console.log(`  ${k}: ${v}`);
    console.log('\nthe daemon\'s work, replayed in process (median ms per op):');
    for (const [op, v] of Object.entries(inProcess)) {
      const e = v as { inProcessMedianMs: number; parts: Record<string, number> };
      console.log(`  ${op}: ${e.inProcessMedianMs} (through the daemon: ${table.daemon[op].median}, so ${handOver[op]} ms are the client and the hand-over)`);
      for (const [k, ms] of Object.entries(e.parts)) console.log(`    ${ms}  ${k}`);
    }
  });
});
