// Benchmark: how long the CLI takes to start — `podnet --version`, `podnet --help` and
// `podnet get pods --name LAB` (on a lab of the bench's own: one node, two pods) against `node -e 0`,
// side by side in one run, the commands rotating each round. Wall time from spawn() to the child's
// exit, median of RUNS after one unrecorded run of each; the CPU time (user + sys) of each command in
// runs of their own, reported by the child itself at exit (a preloaded hook: `node --require HOOK`).
// With PODNET_BENCH_BEFORE=/path/to/another/checkout (built: its bin/podnet.js and dist/), the same
// three podnet commands of that checkout are measured in the same run, on a lab it brings up itself:
// the "before" column. Targets: --version and --help ≤ 1.5× `node -e 0`, get pods ≤ 2×.
// Usage (root): `npm run bench:startup`, or `node dist/bench/startup.js [--quick] [--runs N]`
// (--quick: 3 runs of each, nothing written; --runs: runs of each, default 11). Writes
// bench/results/startup.json.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Host } from '../src/host/host.js';
import { ExecRunner } from '../src/host/runner.js';
import { labDown } from '../src/lab/down.js';
import { QUICK, ROOT, exec, hex, labLeftovers, machineFacts, median, random, round, runBenchmark, type Guard } from './common.js';

/** Recorded runs of each command (wall time, and CPU time separately): `--runs N` (at least 10 for
 * figures worth writing down; more on a busy machine), 11 by default, 3 in a quick run. */
const RUNS_ARG = process.argv.indexOf('--runs');
const RUNS = RUNS_ARG > 0 ? Math.max(1, Math.min(200, Number(process.argv[RUNS_ARG + 1]) || 11)) : QUICK ? 3 : 11;
/** Every child is bounded by this. */
const CHILD_MS = 30_000;
/** The targets, as multiples of `node -e 0`'s median wall time. */
const TARGETS = { version: 1.5, help: 1.5, getPods: 2 } as const;
type Cmd = keyof typeof TARGETS;
const CMDS: Cmd[] = ['version', 'help', 'getPods'];
const LABEL: Record<Cmd, string> = { version: 'podnet --version', help: 'podnet --help', getPods: 'podnet get pods --name LAB' };

/** One checkout of podnet under test: its launcher, its lab and that lab's state dir. */
interface Checkout { tag: 'after' | 'before'; dir: string; bin: string; lab: string; stateDir: string; commit?: string }

/** A command to time: node's arguments, its environment, and a check of what it printed. */
interface Probe { key: string; args: string[]; env: NodeJS.ProcessEnv; check: (stdout: string) => boolean }

/** One run: wall ms from spawn() to exit; with the hook, the CPU ms the child reported. */
interface Run { wallMs: number; cpuMs?: number }

/** Preloaded in the CPU runs: at exit the child writes its own user + system CPU time (µs) to fd 3. */
const CPU_HOOK = `process.on('exit', () => {
  const u = process.resourceUsage();
  try { require('node:fs').writeSync(3, JSON.stringify({ user: u.userCPUTime, system: u.systemCPUTime }) + '\\n'); } catch {}
});
`;

let guard: Guard;
let hook = '';
const labs: string[] = [];

/** Runs `node ARGS…` once; resolves with its wall time, and its CPU time when `cpu` (through the hook). */
function once(p: Probe, cpu: boolean): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const args = cpu ? ['--require', hook, ...p.args] : p.args;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const rusage: Buffer[] = [];
    let exitedAt = 0;
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env: p.env, stdio: ['ignore', 'pipe', 'pipe', ...(cpu ? ['pipe' as const] : [])], timeout: CHILD_MS });
    child.on('exit', () => { exitedAt = performance.now(); });
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    (child.stdio[3] as NodeJS.ReadableStream | null | undefined)?.on('data', (b: Buffer) => rusage.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      if (code !== 0 || !p.check(stdout)) {
        reject(new Error(`node ${p.args.join(' ')} exited ${code}: ${(stdout + Buffer.concat(err).toString()).trim().slice(0, 400)}`));
        return;
      }
      const run: Run = { wallMs: exitedAt - t0 };
      if (cpu) {
        const u = JSON.parse(Buffer.concat(rusage).toString() || 'null') as { user: number; system: number } | null;
        if (!u) { reject(new Error(`node ${p.args.join(' ')}: the CPU hook reported nothing`)); return; }
        run.cpuMs = (u.user + u.system) / 1000;
      }
      resolvePromise(run);
    });
  });
}

/** `podnet ARGS…` of a checkout, through its launcher, with its lab's state dir. */
async function podnet(c: Checkout, args: string[]): Promise<void> {
  const r = await exec([process.execPath, c.bin, ...args], '', { ...process.env, PODNET_STATE_DIR: c.stateDir }, 120_000);
  if (r.code !== 0) throw new Error(`${c.tag}: podnet ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
}

/** The probes of one checkout: --version, --help, get pods on its lab. */
function probes(c: Checkout): Record<Cmd, Probe> {
  const env = { ...process.env, PODNET_STATE_DIR: c.stateDir };
  return {
    version: { key: `${c.tag}.version`, args: [c.bin, '--version'], env, check: (o) => /^\d+\.\d+\.\d+/.test(o) },
    help: { key: `${c.tag}.help`, args: [c.bin, '--help'], env, check: (o) => o.includes('Usage: podnet') },
    getPods: { key: `${c.tag}.getPods`, args: [c.bin, 'get', 'pods', '--name', c.lab], env, check: (o) => o.includes('pod1') && o.includes('pod2') },
  };
}

/** The commit a checkout is at (`git rev-parse --short HEAD`, "+ changes" when its tree is dirty), if git knows. */
async function commitOf(dir: string): Promise<string | undefined> {
  const head = await exec(['git', '-C', dir, 'rev-parse', '--short', 'HEAD'], '', undefined, 10_000).catch(() => undefined);
  if (!head || head.code !== 0) return undefined;
  const dirty = await exec(['git', '-C', dir, 'status', '--porcelain', '--untracked-files=no'], '', undefined, 10_000).catch(() => undefined);
  return `${head.stdout.trim()}${dirty?.stdout.trim() ? ' + working-tree changes' : ''}`;
}

/** The other checkout named by PODNET_BENCH_BEFORE, or why it cannot be used. */
function beforeDir(): { dir?: string; problem?: string } {
  const raw = process.env.PODNET_BENCH_BEFORE;
  if (!raw) return {};
  const dir = resolve(raw);
  if (!existsSync(join(dir, 'bin/podnet.js')) || !existsSync(join(dir, 'dist/src/cli/main.js'))) {
    return { problem: `PODNET_BENCH_BEFORE=${raw}: no built podnet there (bin/podnet.js and dist/src/cli/main.js; build it with npx tsc -p tsconfig.json)` };
  }
  return { dir };
}

/** Median and samples of wall and CPU ms, and the ratios of the medians to `node -e 0`'s. */
function summary(wall: number[], cpu: number[], ref?: { wallMs: number; cpuMs: number }) {
  const wallMs = round(median(wall));
  const cpuMs = round(median(cpu));
  return {
    wallMs, cpuMs,
    ...(ref ? { ratio: { wall: round2(wallMs / ref.wallMs), cpu: round2(cpuMs / ref.cpuMs) } } : {}),
    samples: { wallMs: wall.map(round), cpuMs: cpu.map(round) },
  };
}
const round2 = (x: number) => Math.round(x * 100) / 100;

await runBenchmark({
  name: 'startup',
  needsRoot: 'it brings up a lab',
  check: () => beforeDir().problem,
  leftovers: () => labLeftovers(labs),
}, async (ctx) => {
  guard = ctx.guard;
  const loadBefore = os.loadavg().map(round);
  hook = join(ctx.tmp, 'cpu-hook.cjs');
  await writeFile(hook, CPU_HOOK);
  const before = beforeDir().dir;
  const checkouts: Checkout[] = [
    { tag: 'after', dir: resolve(ROOT), bin: join(ROOT, 'bin/podnet.js'), lab: `startup${hex(2)}`, stateDir: join(ctx.tmp, 'state-after') },
    ...(before ? [{ tag: 'before' as const, dir: before, bin: join(before, 'bin/podnet.js'), lab: `startb${hex(2)}`, stateDir: join(ctx.tmp, 'state-before') }] : []),
  ];
  for (const c of checkouts) c.commit = await commitOf(c.dir);
  // Each checkout's lab comes up through its own CLI; it goes down through that CLI too, and if that
  // fails (or on a failure, or a second Ctrl-C) through this checkout's library, from kernel state.
  const downAll = async () => {
    for (const c of checkouts) {
      await podnet(c, ['lab', 'down', '--name', c.lab]).catch(async (e: unknown) => {
        console.error(`${(e as Error).message}; taking lab ${c.lab} down in process`);
        await labDown({ host: new Host(new ExecRunner()), stateRoot: c.stateDir, random }, c.lab);
      });
    }
  };
  const results = await guard.guarded(downAll, async () => {
    for (const c of checkouts) {
      labs.push(c.lab);
      console.error(`${c.tag}: podnet lab up --name ${c.lab} (${c.dir})`);
      await podnet(c, ['lab', 'up', '--name', c.lab]);
      if (guard.interrupted) throw new Error('interrupted');
    }
    const reference: Probe = { key: 'node', args: ['-e', '0'], env: { ...process.env, PODNET_STATE_DIR: checkouts[0].stateDir }, check: () => true };
    const all: Probe[] = [reference, ...checkouts.flatMap((c) => CMDS.map((k) => probes(c)[k]))];
    const wall = new Map(all.map((p) => [p.key, [] as number[]]));
    const cpu = new Map(all.map((p) => [p.key, [] as number[]]));
    console.error(`warm-up: one unrecorded run of each of ${all.length} commands`);
    for (const p of all) { await once(p, false); await once(p, true); }
    for (let r = 0; r < RUNS; r++) {
      if (guard.interrupted) throw new Error('interrupted');
      console.error(`round ${r + 1}/${RUNS}`);
      // Rotate which command goes first, so drift in the machine hits all alike.
      for (let i = 0; i < all.length; i++) {
        const p = all[(r + i) % all.length];
        wall.get(p.key)!.push((await once(p, false)).wallMs);
        cpu.get(p.key)!.push((await once(p, true)).cpuMs!);
      }
    }
    await downAll();
    const ref = summary(wall.get('node')!, cpu.get('node')!);
    const of = (c: Checkout) => Object.fromEntries(CMDS.map((k) => [k, summary(wall.get(`${c.tag}.${k}`)!, cpu.get(`${c.tag}.${k}`)!, ref)])) as Record<Cmd, ReturnType<typeof summary>>;
    return { ref, byTag: Object.fromEntries(checkouts.map((c) => [c.tag, of(c)])) as Partial<Record<Checkout['tag'], Record<Cmd, ReturnType<typeof summary>>>> };
  });

  const after = results.byTag.after!;
  const prior = results.byTag.before;
  const targets = CMDS.map((k) => ({
    command: LABEL[k], maxRatio: TARGETS[k],
    after: { ratio: after[k].ratio!.wall, met: after[k].ratio!.wall <= TARGETS[k] },
    ...(prior ? { before: { ratio: prior[k].ratio!.wall, met: prior[k].ratio!.wall <= TARGETS[k] } } : {}),
  }));
  const cell = (s: ReturnType<typeof summary>) => `${s.wallMs} (${s.ratio ? `${s.ratio.wall}×` : '1×'}) | ${s.cpuMs}`;
  console.log(`| command (median of ${RUNS}) | ${prior ? `before: wall ms (× node -e 0) | CPU ms | ` : ''}wall ms (× node -e 0) | CPU ms | target |`);
  console.log(`|---|${prior ? '---:|---:|' : ''}---:|---:|---|`);
  console.log(`| node -e 0 | ${prior ? `${cell(results.ref)} | ` : ''}${cell(results.ref)} | reference |`);
  for (const [i, k] of CMDS.entries()) {
    const t = targets[i];
    console.log(`| ${LABEL[k]} | ${prior ? `${cell(prior[k])} | ` : ''}${cell(after[k])} | ≤ ${t.maxRatio}× ${t.after.met ? 'met' : 'NOT met'} |`);
  }
  console.log(`\nload average: ${loadBefore.join(' ')} before, ${os.loadavg().map(round).join(' ')} after`);
  for (const t of targets) {
    console.log(`target: ${t.command} ≤ ${t.maxRatio}× node -e 0: measured ${t.after.ratio}× — ${t.after.met ? 'met' : 'NOT met'}${t.before ? ` (before: ${t.before.ratio}× — ${t.before.met ? 'met' : 'NOT met'})` : ''}`);
  }
  const checkoutFacts = (c: Checkout) => ({ dir: c.dir, commit: c.commit });
  await ctx.write({
    date: new Date().toISOString(),
    machine: { ...machineFacts(), loadavgBefore: loadBefore, loadavgAfter: os.loadavg().map(round) },
    quick: QUICK,
    runs: RUNS,
    how: 'each command spawned as `node ARGS` (process.execPath), stdout/stderr piped; wall = spawn() to the exit event, in a run of its own; CPU = user + system time the child reports itself at exit (process.resourceUsage() from a hook preloaded with --require, fd 3), in a run of its own; one unrecorded run of each first, then RUNS rounds rotating which command goes first; medians; ratios are of medians to node -e 0',
    lab: 'default topology (one node, two pods), brought up by the checkout\'s own CLI (`podnet lab up --name LAB`) with its own PODNET_STATE_DIR in the bench\'s temp dir',
    reference: { command: 'node -e 0', ...results.ref },
    after: { ...checkoutFacts(checkouts[0]), ...after },
    ...(prior ? { before: { ...checkoutFacts(checkouts[1]), ...prior } } : {}),
    targets,
  });
});
