// What the benchmarks share: the start-up and ending of a run (runBenchmark: root check, temp dir,
// signals, results file, leftover check), small statistics, a runner that counts commands, and the
// guard that cleans up what a sample made when it fails or the user interrupts (first SIGINT/SIGTERM:
// finish the sample, then clean up; second: clean up now).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsList } from '../src/host/netns.js';
import { processOwner } from '../src/host/process.js';
import { ExecRunner, type Command, type Runner } from '../src/host/runner.js';

/** Random bytes (lab plans, names). */
export const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
/** `bytes` random bytes as hex. */
export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
/** The median of a list of numbers. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** One decimal. */
export const round = (x: number): number => Math.round(x * 10) / 10;

/** A Runner that counts every command it runs or starts. */
export class CountingRunner implements Runner {
  count = 0;
  constructor(private readonly inner: Runner) {}
  run(cmd: Command) { this.count++; return this.inner.run(cmd); }
  start(cmd: Command) { this.count++; return this.inner.start(cmd); }
  signal(pid: number, signal: NodeJS.Signals) { return this.inner.signal(pid, signal); }
}

/** Undo actions for what is live right now, and whether the user asked to stop. */
export class Guard {
  interrupted = false;
  private readonly live = new Set<() => Promise<unknown>>();

  /** Runs `body` with `undo` registered as live; runs `undo` afterwards when `body` did not finish cleanly. */
  async guarded<T>(undo: () => Promise<unknown>, body: () => Promise<T>): Promise<T> {
    if (this.interrupted) throw new Error('interrupted');
    this.live.add(undo);
    let ok = false;
    try {
      const r = await body();
      ok = true;
      return r;
    } finally {
      if (!ok) await undo().catch((e: unknown) => console.error(`cleanup failed: ${(e as Error).message}`));
      this.live.delete(undo);
    }
  }

  /** Runs a benchmark's body and ends it: a failure or an interruption is reported, anything
   * `leftovers` finds fails the run, `tmp` is removed. Resolves with the exit code (the body's own,
   * when it returns one). */
  async conclude(body: () => Promise<number | void>, leftovers: () => Promise<string[]>, tmp: string): Promise<number> {
    let code: number;
    try {
      code = (await body()) ?? 0;
    } catch (e) {
      console.error(this.interrupted ? 'interrupted: nothing written' : `benchmark failed: ${(e as Error).stack ?? String(e)}`);
      code = this.interrupted ? 130 : 1;
    } finally {
      const left = await leftovers();
      if (left.length) {
        console.error(`LEFT BEHIND: ${left.join(', ')}`);
        code = 1;
      }
      await rm(tmp, { recursive: true, force: true });
    }
    return code;
  }

  /** First SIGINT/SIGTERM: finish the current sample, then clean up; second: undo everything live,
   * remove `tmp`, exit 130. */
  onSignals(tmp: () => string): void {
    const onSignal = (sig: NodeJS.Signals) => {
      if (!this.interrupted) {
        this.interrupted = true;
        console.error(`\n${sig}: finishing the current sample, then cleaning up (again to clean up now)`);
        return;
      }
      void Promise.allSettled([...this.live].map((u) => u())).then(() => rm(tmp(), { recursive: true, force: true })).finally(() => process.exit(130));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}

/** What one command printed, how it ended, and its wall time from spawn to close. */
export interface Exit { code: number; stdout: string; stderr: string; ms: number }

/** Runs argv with `input` on stdin and `env`; resolves with its output and wall time. With
 * `timeoutMs`, the command is sent SIGTERM when it runs longer (its code is then 128). */
export function exec(argv: readonly string[], input = '', env?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env, ...(timeoutMs ? { timeout: timeoutMs } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - t0 }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred()` holds, checking every `stepMs`, for at most `timeoutMs`; true when it held. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

/** What a benchmark left behind: pinned namespaces starting with one of `prefixes` or belonging to one
 * of `labs` (`podnet-<lab>-…`), and processes marked as one of `labs`'. Empty when all is gone. */
export async function labLeftovers(labs: readonly string[], prefixes: readonly string[] = []): Promise<string[]> {
  const ns = (await netnsList(new ExecRunner())).filter((n) => prefixes.some((p) => n.startsWith(p)) || labs.some((l) => n.startsWith(`podnet-${l}-`)));
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p)).map(Number);
  const owners = await Promise.all(pids.map(async (pid) => ({ pid, owner: await processOwner(pid) })));
  return [...ns, ...owners.filter((o) => o.owner !== undefined && labs.includes(o.owner)).map((o) => `pid ${o.pid} (${o.owner})`)];
}

// ---------------------------------------------------------------------------------------------
// One benchmark run, from start to end.

/** The repository's root (the benches run from dist/bench/). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A smoke run: `--quick` on the command line or PODNET_BENCH_QUICK=1 — fewer repetitions, and
 * nothing written over the last full run's figures. */
export const QUICK = process.argv.includes('--quick') || process.env.PODNET_BENCH_QUICK === '1';

/** The machine a result was measured on. */
export function machineFacts(): { cpus: number; cpuModel: string | undefined; kernel: string; node: string } {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, kernel: os.release(), node: process.version };
}

/** Writes `data` as bench/results/<name>.json (two-space JSON and a newline); returns that path. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results', `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  return `bench/results/${name}.json`;
}

/** What a benchmark is: its name (results file, temp dir), what it needs, how to find its leftovers. */
export interface BenchSpec {
  /** `bench/results/<name>.json`, temp dir `podnet-bench-<name>-…`, messages. */
  name: string;
  /** Why it needs root (`it creates network namespaces`); absent when it does not. */
  needsRoot?: string;
  /** A missing program or file: the one line saying so (checked before anything is made). */
  check?: () => string | undefined | Promise<string | undefined>;
  /** What the run left on the machine (namespaces, processes): anything found fails the run. Called
   * once at the end, also after a failure or an interruption. */
  leftovers?: () => Promise<string[]>;
}

/** What a benchmark's body gets. */
export interface BenchContext {
  /** The run's own temp dir (removed at the end, also on failure or interruption). */
  tmp: string;
  /** Undo actions for what is live, and whether the user asked to stop. */
  guard: Guard;
  /** A smoke run (see QUICK). */
  quick: boolean;
  /** Writes bench/results/<name>.json — not in a quick run, and not once the run was interrupted. */
  write(data: unknown): Promise<void>;
}

/** Runs one benchmark and exits with its code: the root check, the tools `check` wants, a temp dir,
 * the signal handling (first SIGINT/SIGTERM: finish the sample; second: clean up now), the body, the
 * results file (`ctx.write`), the leftover check, and the temp dir removed. The body prints its own
 * tables; this prints the last line (`wrote …` or `(quick run: nothing written)`). A number the body
 * returns is the exit code (e.g. a target that must be met). */
export async function runBenchmark(spec: BenchSpec, body: (ctx: BenchContext) => Promise<number | void>): Promise<never> {
  process.exit(await benchmarkCode(spec, body));
}

async function benchmarkCode(spec: BenchSpec, body: (ctx: BenchContext) => Promise<number | void>): Promise<number> {
  if (spec.needsRoot !== undefined && process.getuid?.() !== 0) {
    console.error(`the ${spec.name} benchmark needs root (${spec.needsRoot})`);
    return 1;
  }
  const missing = await spec.check?.();
  if (missing) {
    console.error(missing);
    return 1;
  }
  const tmp = await mkdtemp(join(os.tmpdir(), `podnet-bench-${spec.name}-`));
  const guard = new Guard();
  guard.onSignals(() => tmp);
  let wrote: string | undefined;
  const ctx: BenchContext = {
    tmp, guard, quick: QUICK,
    async write(data) {
      if (guard.interrupted) throw new Error('interrupted');
      if (!QUICK) wrote = await writeResults(spec.name, data);
    },
  };
  return guard.conclude(async () => {
    const code = await body(ctx);
    console.log(wrote ? `wrote ${wrote}` : QUICK ? '(quick run: nothing written)' : '(nothing written)');
    return code;
  }, spec.leftovers ?? (async () => []), tmp);
}

/** One iperf3 TCP stream from namespace `ns` to ip:5201 for `seconds` (the first one omitted); Gbit/s,
 * two decimals. A server still busy with the previous stream is retried (bounded). */
export async function iperf(ns: string, ip: string, seconds: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const r = await exec(['nsenter', `--net=/run/netns/${ns}`, 'iperf3', '-c', ip, '-p', '5201', '-t', String(seconds), '-O', '1', '-J'], '', undefined, (seconds + 30) * 1000);
    const j = JSON.parse(r.stdout || '{}') as { error?: string; end?: { sum_received?: { bits_per_second: number } } };
    if (r.code === 0 && j.end?.sum_received) return Math.round(j.end.sum_received.bits_per_second / 1e7) / 100;
    if (attempt >= 5 || !/busy/i.test(j.error ?? '')) throw new Error(`iperf3 to ${ip}: ${j.error ?? r.stderr.trim()}`);
    await sleep(300);
  }
}
