// Benchmark: how long a learner waits in `podnet tour`. (1) From `podnet tour N` to its first step on
// the screen, a process per run as a learner types it, for each single-node chapter: cold (the tour's
// lab is not up, so the chapter brings it up) and warm (the lab already fits, as when a learner goes
// on to the next chapter) — side by side with the reference in the same round: `podnet lab up` of the
// same lab alone (the floor the cold start cannot go under) and `podnet --version` (the warm floor).
// (2) Each step of every chapter, in process: the step (its command, the lab scanned again, the
// question's check against the kernel) against the reference — the same command run alone as a
// learner would type it. Targets: the first step under 1.5 s cold for single-node chapters; each
// step (command and check) under 1 s. Writes bench/results/tour.json.
// Usage (root): `node dist/bench/tour.js [--quick]` (--quick: one round, chapters 1 and 8 only for
// the steps, nothing written).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { labDown } from '../src/lab/down.js';
import type { LabDeps } from '../src/lab/deps.js';
import { loadChapters } from '../src/tour/chapters.js';
import { ensureLab } from '../src/tour/lab.js';
import { runCommand } from '../src/tour/command.js';
import { runStep, scanLab, stepProblems } from '../src/tour/step.js';
import type { Chapter } from '../src/model/tour/chapter.js';
import { QUICK, ROOT, exec, hex, labLeftovers, machineFacts, median, random, round, runBenchmark } from './common.js';

const ROUNDS = QUICK ? 1 : 5;
const TARGET_FIRST_MS = 1500;
const TARGET_STEP_MS = 1000;
const CHILD_MS = 60_000;
const BIN = join(ROOT, 'bin', 'podnet.js');
const lab = `pn-bt-${hex(2)}`;
const refLab = `${lab}-ref`;

/** Wall ms from spawn() until stdout shows `marker` (then the child's stdin closes and it is awaited). */
function untilShown(argv: readonly string[], env: NodeJS.ProcessEnv, marker: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: CHILD_MS });
    let out = '';
    let shownAt = 0;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!shownAt && out.includes(marker)) {
        shownAt = performance.now() - t0;
        child.stdin.end();
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    child.on('error', reject);
    child.on('close', () => (shownAt ? resolve(shownAt) : reject(new Error(`podnet ${argv.join(' ')}: no "${marker}" in ${out.trim().slice(-400)}`))));
  });
}

/** One timed process run to its end. */
async function timed(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const r = await exec([process.execPath, BIN, ...argv], '', env, CHILD_MS);
  if (r.code !== 0) throw new Error(`podnet ${argv.join(' ')} exited ${r.code}: ${(r.stdout + r.stderr).trim().slice(-400)}`);
  return r.ms;
}

interface FirstStep { chapter: number; coldMs: number; warmMs: number; labUpMs: number; versionMs: number; coldVsLabUp: number; met: boolean }

/** (1): each single-node chapter's first step, cold and warm, beside `lab up` and `--version`. */
async function firstSteps(deps: LabDeps, chapters: readonly Chapter[], env: NodeJS.ProcessEnv): Promise<FirstStep[]> {
  const rows: FirstStep[] = [];
  for (const c of chapters.filter((x) => x.lab.nodes === 1)) {
    const marker = `── ${c.number}.1/`;
    const cold: number[] = []; const warm: number[] = []; const up: number[] = []; const version: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await labDown(deps, lab);
      cold.push(await untilShown(['tour', String(c.number), '--restart', '--name', lab], env, marker));
      warm.push(await untilShown(['tour', String(c.number), '--restart', '--name', lab], env, marker));
      up.push(await timed(['lab', 'up', '--name', refLab, '--pods', String(c.lab.pods), ...(c.lab.dns ? [] : ['--no-dns'])], env));
      await labDown(deps, refLab);
      version.push(await timed(['--version'], env));
    }
    const row = { chapter: c.number, coldMs: round(median(cold)), warmMs: round(median(warm)), labUpMs: round(median(up)), versionMs: round(median(version)) };
    rows.push({ ...row, coldVsLabUp: round((row.coldMs / row.labUpMs) * 100) / 100, met: row.coldMs < TARGET_FIRST_MS });
    console.log(`chapter ${String(c.number).padStart(2)}  first step cold ${row.coldMs} ms, warm ${row.warmMs} ms | lab up alone ${row.labUpMs} ms, --version ${row.versionMs} ms`);
  }
  await labDown(deps, lab);
  return rows;
}

interface StepTime { chapter: number; step: number; title: string; stepMs: number; commandAloneMs?: number; ratio?: number; met: boolean }

/** (2): every step in process, and its command alone right after it. */
async function steps(deps: LabDeps, chapters: readonly Chapter[]): Promise<StepTime[]> {
  const rows: StepTime[] = [];
  for (const c of chapters) {
    await ensureLab(deps, lab, c, () => undefined);
    for (let i = 0; i < c.steps.length; i++) {
      const facts = (await scanLab(deps.host, deps.stateRoot, lab)).facts;
      const r = await runStep(deps.host, deps.stateRoot, lab, c, i, { facts });
      const problems = stepProblems(r, (await scanLab(deps.host, deps.stateRoot, lab)).facts);
      if (problems.length) throw new Error(`chapter ${c.number} step ${i + 1}: ${problems[0]}`);
      // The reference: the same command typed alone (a command that changes the lab runs again; each
      // chapter's commands are written to be repeatable, as --check runs them twice in CI).
      const alone = r.command ? (await runCommand(deps.host, r.command, lab)).ms : undefined;
      rows.push({ chapter: c.number, step: i + 1, title: r.step.title, stepMs: round(r.ms), ...(alone !== undefined ? { commandAloneMs: round(alone), ratio: round((r.ms / alone) * 100) / 100 } : {}), met: r.ms < TARGET_STEP_MS });
    }
    const mine = rows.filter((x) => x.chapter === c.number);
    console.log(`chapter ${String(c.number).padStart(2)}  ${mine.length} steps: median ${round(median(mine.map((x) => x.stepMs)))} ms, slowest ${Math.max(...mine.map((x) => x.stepMs))} ms (${mine.filter((x) => !x.met).length} over ${TARGET_STEP_MS} ms)`);
  }
  await labDown(deps, lab);
  return rows;
}

await runBenchmark({
  name: 'tour', needsRoot: 'it brings up labs',
  leftovers: () => labLeftovers([lab, refLab]),
}, async (ctx) => {
  const stateRoot = join(ctx.tmp, 'state');
  process.env.PODNET_STATE_DIR = stateRoot;
  process.env.XDG_STATE_HOME = join(ctx.tmp, 'xdg');
  const env = { ...process.env };
  const deps: LabDeps = { host: new Host(new ShellRunner()), stateRoot, random };
  const all = await loadChapters(undefined);
  const firsts = await ctx.guard.guarded(() => Promise.all([labDown(deps, lab), labDown(deps, refLab)]).then(() => undefined), () => firstSteps(deps, all, env));
  const stepRows = await ctx.guard.guarded(() => labDown(deps, lab), () => steps(deps, QUICK ? all.filter((c) => c.number === 1 || c.number === 8) : all));
  const slow = stepRows.filter((s) => !s.met);
  console.log(`first step under ${TARGET_FIRST_MS} ms cold: ${firsts.filter((f) => f.met).length}/${firsts.length} chapters; steps under ${TARGET_STEP_MS} ms: ${stepRows.length - slow.length}/${stepRows.length}`);
  for (const s of slow) console.log(`  over: ${s.chapter}.${s.step} ${s.title}: ${s.stepMs} ms (the command alone ${s.commandAloneMs ?? '-'} ms)`);
  await ctx.write({
    machine: machineFacts(), rounds: ROUNDS, targets: { firstStepColdMs: TARGET_FIRST_MS, stepMs: TARGET_STEP_MS },
    firstStep: firsts, steps: stepRows,
    summary: {
      firstStepColdMedianMs: round(median(firsts.map((f) => f.coldMs))), firstStepWarmMedianMs: round(median(firsts.map((f) => f.warmMs))),
      stepMedianMs: round(median(stepRows.map((s) => s.stepMs))), stepRatioMedian: round(median(stepRows.filter((s) => s.ratio !== undefined).map((s) => s.ratio!)) * 100) / 100,
      stepsOver: slow.length, steps: stepRows.length,
    },
  });
});
