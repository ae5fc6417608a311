// Benchmark: `podnet trace pod1 pod2` end to end, as a user runs it (the CLI, Node start-up included)
// and in process, warm and cold, on a lab of its own. Target (the trace issue): under 1 s end to end.
// The decode throughput half of the trace benchmark is bench/trace-decode.ts.
// Usage: `node dist/bench/trace.js [--quick]`. Writes bench/results/trace.json.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { netnsList } from '../src/host/netns.js';
import { labDown, labUp } from '../src/lab/lifecycle.js';
import { defaultTopology, parseTopology } from '../src/model/topology.js';
import { runTrace } from '../src/trace/trace.js';
import { resolveTarget } from '../src/lab/target.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const QUICK = process.argv.includes('--quick');
const REPS = QUICK ? 2 : 10;
const TARGET_MS = 1000;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

/** `podnet trace pod1 pod2 [--cold]` through the CLI; its wall time in ms. */
function cli(stateRoot: string, lab: string, cold: boolean): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/podnet.js'), 'trace', 'pod1', 'pod2', '--name', lab, ...(cold ? ['--cold'] : [])],
    { env: { ...process.env, PODNET_STATE_DIR: stateRoot }, encoding: 'utf8', timeout: 30_000 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`podnet trace failed (${r.status}): ${r.stderr || r.stdout}`);
  return ms;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the trace benchmark needs root (it brings up a lab)');
  const stateRoot = mkdtempSync(join(os.tmpdir(), 'podnet-bench-trace-'));
  const lab = `tbench${randomBytes(2).toString('hex')}`;
  const runner = new ShellRunner(8);
  const deps = { host: new Host(runner), stateRoot, random: (n: number) => new Uint8Array(randomBytes(n)) };
  const samples: Record<string, number[]> = { cliWarm: [], cliCold: [], inProcessWarm: [], inProcessCold: [] };
  try {
    await labUp(deps, lab, parseTopology(defaultTopology(2)));
    cli(stateRoot, lab, false); // warm up caches and the page cache
    for (let i = 0; i < REPS; i++) {
      samples.cliWarm.push(cli(stateRoot, lab, false));
      samples.cliCold.push(cli(stateRoot, lab, true));
      for (const cold of [false, true]) {
        const t = performance.now();
        const { result } = await runTrace(deps.host, { src: 'pod1', dst: 'pod2', protocol: 'icmp', cold, target: await resolveTarget(stateRoot, { lab, labExplicit: true, node: 'server' }), stateRoot });
        if (!result.answered) throw new Error(`trace not answered: ${result.verdict}`);
        samples[cold ? 'inProcessCold' : 'inProcessWarm'].push(performance.now() - t);
      }
    }
  } finally {
    await labDown(deps, lab).catch((e: unknown) => console.error(`lab down failed: ${(e as Error).message}`));
    runner.close();
    rmSync(stateRoot, { recursive: true, force: true });
    const left = (await netnsList(new ShellRunner(1))).filter((n) => n.startsWith(`podnet-${lab}-`));
    if (left.length) console.error(`left behind: ${left.join(' ')}`);
  }
  const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v))]));
  const met = med.cliWarm < TARGET_MS && med.cliCold < TARGET_MS;
  console.log('| podnet trace pod1 pod2 | warm ms | cold ms |\n|---|---|---|');
  console.log(`| CLI, end to end (Node start-up included) | ${med.cliWarm} | ${med.cliCold} |`);
  console.log(`| in process (scan, captures, probe, decode, explain) | ${med.inProcessWarm} | ${med.inProcessCold} |`);
  console.log(`\ntarget: under ${TARGET_MS} ms end to end — ${met ? 'met' : 'NOT met'}`);
  if (!QUICK) {
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/trace.json'), `${JSON.stringify({
      date: new Date().toISOString(), machine: { cpus: os.cpus().length, kernel: os.release(), node: process.version },
      repetitions: REPS, medianMs: med, samplesMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map(round)])),
      target: { endToEndMs: TARGET_MS, met },
    }, null, 2)}\n`);
    console.log('wrote bench/results/trace.json');
  }
}

main().catch((e: unknown) => {
  console.error(`bench/trace: ${(e as Error).message}`);
  process.exit(1);
});
