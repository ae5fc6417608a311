// Benchmark: a lab of 1, 10 and 100 pods on one node brought up and taken down — podnet in process,
// podnet's CLI, and the reference path (Debian CNI plugins exec'd per pod, bench/reference.ts) — side
// by side in one run, alternating. Prints a Markdown table; writes bench/results/lab-up.json.
// Usage (root): `npm run bench`, or `node dist/bench/lab-up.js [--quick]` (--quick: 1 repetition).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ExecRunner } from '../src/host/runner.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { CountingRunner, QUICK, ROOT, hex, labLeftovers, machineFacts, median, random, round, runBenchmark, type Guard } from './common.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import { type LabDeps } from '../src/lab/deps.js';
import { LOOPBACK_NETWORK, podNetwork, resolvePlan } from '../src/lab/plan.js';
import { defaultTopology, parseTopology } from '../src/model/topology.js';
import { ReferenceRun } from './reference.js';

const SIZES = [1, 10, 100];
const REPS = (n: number) => (QUICK ? 1 : n >= 100 ? 3 : 5);
const TARGET = { pods: 100, ratio: 10 };
/** Ratios to two decimals: the target is close enough that one decimal rounds 9.96 up to 10. */
const round2 = (x: number): number => Math.round(x * 100) / 100;
const CLI_MAIN = join(ROOT, 'dist/src/cli/main.js');


/** Up, down and total wall time of one lab, in ms. */
interface Sample { up: number; down: number; total: number }
/** A podnet sample also counts the processes podnet spawned. */
interface PodnetSample extends Sample { spawnsUp: number; spawnsDown: number }

const medians = (xs: readonly Sample[]): Sample => ({ up: round(median(xs.map((x) => x.up))), down: round(median(xs.map((x) => x.down))), total: round(median(xs.map((x) => x.total))) });

// Everything this run creates: lab names and reference prefixes (checked for leftovers at the end);
// the run's guard (undo actions for what is live right now) and temp dir, set by runBenchmark.
const labsUsed: string[] = [];
const prefixesUsed: string[] = [];
let guard: Guard;
let tmp = '';

/** podnet in process: labUp then labDown of a one-node lab with `n` pods. */
async function podnetSample(n: number): Promise<PodnetSample> {
  // The runner the CLI uses: commands go through persistent shells (src/host/shell-runner.ts).
  const runner = new CountingRunner(new ShellRunner());
  const deps: LabDeps = { host: new Host(runner), stateRoot: join(tmp, 'state'), random };
  const lab = `bench${hex(2)}`;
  labsUsed.push(lab);
  const topology = parseTopology(defaultTopology(n));
  return guard.guarded(() => labDown(deps, lab), async () => {
    const t0 = performance.now();
    await labUp(deps, lab, topology);
    const t1 = performance.now();
    const spawnsUp = runner.count;
    await labDown(deps, lab);
    const t2 = performance.now();
    return { up: t1 - t0, down: t2 - t1, total: t2 - t0, spawnsUp, spawnsDown: runner.count - spawnsUp };
  });
}

/** The reference path: node namespace, then per pod netns + loopback ADD + bridge ADD, and back. */
async function referenceSample(n: number): Promise<Sample> {
  const prefix = `pnbench${hex(3)}-`;
  prefixesUsed.push(prefix);
  const plan = resolvePlan('refbench', parseTopology(defaultTopology(n)), random);
  const ref = new ReferenceRun(prefix, podNetwork(plan, plan.nodes[0], join(tmp, prefix, 'networks')), LOOPBACK_NETWORK);
  return guard.guarded(() => ref.cleanup(), async () => {
    const t0 = performance.now();
    const results = await ref.up(n);
    const t1 = performance.now();
    await ref.down(results);
    const t2 = performance.now();
    return { up: t1 - t0, down: t2 - t1, total: t2 - t0 };
  });
}

function node(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/podnet.js'), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 128, stderr: Buffer.concat(err).toString() }));
  });
}

/** The CLI as a user runs it (`podnet lab up --pods N`, `podnet lab down`), or why it was skipped. */
async function cliSample(n: number): Promise<Sample | { skipped: string }> {
  if (!existsSync(CLI_MAIN)) return { skipped: 'dist/src/cli/main.js does not exist yet' };
  if (!/export\s+(async\s+)?function\s+main\b|export\s*\{[^}]*\bmain\b/.test(readFileSync(CLI_MAIN, 'utf8'))) return { skipped: 'dist/src/cli/main.js does not export main(argv)' };
  const stateRoot = join(tmp, 'cli-state');
  const deps: LabDeps = { host: new Host(new ExecRunner()), stateRoot, random };
  const lab = `bench${hex(2)}`;
  labsUsed.push(lab);
  const env = { ...process.env, PODNET_STATE_DIR: stateRoot };
  try {
    return await guard.guarded(() => labDown(deps, lab), async () => {
      const t0 = performance.now();
      const up = await node(['lab', 'up', '--pods', String(n), '--name', lab], env);
      const t1 = performance.now();
      if (up.code !== 0) throw new Error(`podnet lab up exited ${up.code}: ${up.stderr.trim()}`);
      const down = await node(['lab', 'down', '--name', lab], env);
      const t2 = performance.now();
      if (down.code !== 0) throw new Error(`podnet lab down exited ${down.code}: ${down.stderr.trim()}`);
      return { up: t1 - t0, down: t2 - t1, total: t2 - t0 };
    });
  } catch (e) {
    if (guard.interrupted) throw e;
    const lines = (e as Error).message.split('\n');
    return { skipped: `the CLI failed: ${lines[0]}${lines.length > 1 ? ` … ${lines.find((l) => /Error/.test(l))?.trim() ?? ''}` : ''}` };
  }
}

/** The synchronous (main-thread) cost of Node's spawn(), per call, over `count` spawns of `true`. */
async function spawnCost(count = 50): Promise<number[]> {
  const costs: number[] = [];
  const exits: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const child = spawn('true');
    costs.push(performance.now() - t);
    exits.push(new Promise((r) => child.on('close', r)));
  }
  await Promise.all(exits);
  return costs;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const roundSample = <T extends Sample>(s: T): T => ({ ...s, up: round(s.up), down: round(s.down), total: round(s.total) });

/** The results as a Markdown table. */
function table(results: { pods: number; podnet: { median: Sample }; reference: { median: Sample }; cli: Sample | { skipped: string }; ratio: { total: number }; cliRatio?: Sample }[]): string {
  const f = (s: Sample) => `${s.up} / ${s.down} / ${s.total}`;
  const rows = results.map((r) => `| ${r.pods} | ${f(r.podnet.median)} | ${f(r.reference.median)} | ${r.ratio.total}× | ${'skipped' in r.cli ? `skipped: ${r.cli.skipped}` : f(r.cli)} | ${r.cliRatio ? `${r.cliRatio.total}×` : '—'} |`);
  return ['| pods | podnet up / down / total ms | reference up / down / total ms | reference ÷ podnet (total) | podnet CLI (two runs, Node start-ups included), ms | reference ÷ CLI (total) |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

/** Runs the whole benchmark and writes the results. */
await runBenchmark({ name: 'lab-up', needsRoot: 'it creates network namespaces', leftovers: () => labLeftovers(labsUsed, prefixesUsed) }, async (ctx) => {
  ({ guard, tmp } = ctx);
  const spawnBefore = await spawnCost();
  console.error('warming up (one unrecorded 1-pod sample of each path)');
  await podnetSample(1);
  await referenceSample(1);
  const results = [];
  for (const n of SIZES) {
    const podnet: PodnetSample[] = [];
    const reference: Sample[] = [];
    const clis: (Sample | { skipped: string })[] = [];
    for (let r = 0; r < REPS(n); r++) {
      console.error(`N=${n} repetition ${r + 1}/${REPS(n)}`);
      // Take turns at going first, so drift in the machine hits every path alike.
      const paths = [async () => { podnet.push(await podnetSample(n)); }, async () => { reference.push(await referenceSample(n)); }, async () => { clis.push(await cliSample(n)); }];
      for (let k = 0; k < paths.length; k++) await paths[(r + k) % paths.length]();
    }
    const skipped = clis.find((c): c is { skipped: string } => 'skipped' in c);
    const cli: Sample | { skipped: string } = skipped ?? medians(clis as Sample[]);
    const pm = medians(podnet);
    const ref = medians(reference);
    results.push({
      pods: n,
      podnet: { median: pm, samples: podnet.map(roundSample), spawns: { up: median(podnet.map((s) => s.spawnsUp)), down: median(podnet.map((s) => s.spawnsDown)) } },
      reference: { median: ref, samples: reference.map(roundSample) },
      cli: 'skipped' in cli ? cli : roundSample(cli),
      cliSamples: clis.filter((c): c is Sample => !('skipped' in c)).map(roundSample),
      ratio: { up: round2(ref.up / pm.up), down: round2(ref.down / pm.down), total: round2(ref.total / pm.total) },
      // The CLI as a user runs it: two processes (lab up, lab down), Node's start-ups included.
      cliRatio: 'skipped' in cli ? undefined : { up: round2(ref.up / cli.up), down: round2(ref.down / cli.down), total: round2(ref.total / cli.total) },
      // The targets are judged on these, not on the rounded ratios (9.96 is not 10).
      exact: { total: ref.total / pm.total, cliTotal: 'skipped' in cli ? undefined : ref.total / cli.total },
    });
  }
  const spawnAfter = await spawnCost();
  const at = results.find((r) => r.pods === TARGET.pods);
  const out = {
    date: new Date().toISOString(),
    machine: machineFacts(),
    quick: QUICK,
    repetitions: Object.fromEntries(SIZES.map((n) => [n, REPS(n)])),
    spawnCostMs: round3(median(spawnBefore)),
    spawnCost: { calls: spawnBefore.length, what: "synchronous part of child_process.spawn('true'), per call", medianMs: round3(median(spawnBefore)), meanMs: round3(mean(spawnBefore)), medianMsAtEnd: round3(median(spawnAfter)) },
    results,
    target: { pods: TARGET.pods, ratio: TARGET.ratio, measured: at?.ratio.total, met: (at?.exact.total ?? 0) >= TARGET.ratio },
    cliTarget: { what: 'lab up --pods 100 + lab down as two CLI runs, reference ÷ CLI', pods: TARGET.pods, ratio: TARGET.ratio, measured: at?.cliRatio?.total, met: (at?.exact.cliTotal ?? 0) >= TARGET.ratio },
  };
  await ctx.write(out);
  console.log(table(results));
  console.log(`\nNode spawn() main-thread cost: ${out.spawnCostMs} ms per child (median of ${spawnBefore.length}; ${out.spawnCost.medianMsAtEnd} ms at the end)`);
  console.log(`target: ${TARGET.pods} pods ≥ ${TARGET.ratio}× faster than the reference: measured ${out.target.measured}× — ${out.target.met ? 'met' : 'NOT met'}`);
  console.log(`target as CLI runs (lab up + lab down, two processes): measured ${out.cliTarget.measured ?? '—'}× — ${out.cliTarget.met ? 'met' : 'NOT met'}`);
});
