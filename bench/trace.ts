// Benchmark: `podnet trace pod1 pod2` end to end, as a user runs it (the CLI, Node start-up included)
// and in process, warm and cold, on a lab of its own. Target (the trace issue): under 1 s end to end.
// The decode throughput half of the trace benchmark is bench/trace-decode.ts.
// Usage: `node dist/bench/trace.js [--quick]`. Writes bench/results/trace.json.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import { defaultTopology, parseTopology } from '../src/model/topology.js';
import { runTrace } from '../src/trace/trace.js';
import { resolveTarget } from '../src/lab/target.js';
import { QUICK, ROOT, hex, labLeftovers, machineFacts, median, random, round, runBenchmark } from './common.js';

const REPS = QUICK ? 2 : 10;
const TARGET_MS = 1000;

/** `podnet trace pod1 pod2 [--cold]` through the CLI; its wall time in ms. */
function cli(stateRoot: string, lab: string, cold: boolean): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/podnet.js'), 'trace', 'pod1', 'pod2', '--name', lab, ...(cold ? ['--cold'] : [])],
    { env: { ...process.env, PODNET_STATE_DIR: stateRoot }, encoding: 'utf8', timeout: 30_000 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`podnet trace failed (${r.status}): ${r.stderr || r.stdout}`);
  return ms;
}

const lab = `tbench${hex(2)}`;

await runBenchmark({ name: 'trace', needsRoot: 'it brings up a lab', leftovers: () => labLeftovers([lab]) }, async ({ tmp, guard, write }) => {
  const stateRoot = join(tmp, 'state');
  const runner = new ShellRunner(8);
  const deps = { host: new Host(runner), stateRoot, random };
  const samples: Record<string, number[]> = { cliWarm: [], cliCold: [], inProcessWarm: [], inProcessCold: [] };
  try {
    await guard.guarded(() => labDown(deps, lab), async () => {
      await labUp(deps, lab, parseTopology(defaultTopology(2)));
      cli(stateRoot, lab, false); // warm up caches and the page cache
      for (let i = 0; i < REPS; i++) {
        if (guard.interrupted) throw new Error('interrupted');
        samples.cliWarm.push(cli(stateRoot, lab, false));
        samples.cliCold.push(cli(stateRoot, lab, true));
        for (const cold of [false, true]) {
          const t = performance.now();
          const { result } = await runTrace(deps.host, { src: 'pod1', dst: 'pod2', protocol: 'icmp', cold, target: await resolveTarget(stateRoot, { lab, labExplicit: true, node: 'server' }), stateRoot });
          if (!result.answered) throw new Error(`trace not answered: ${result.verdict}`);
          samples[cold ? 'inProcessCold' : 'inProcessWarm'].push(performance.now() - t);
        }
      }
      await labDown(deps, lab);
    });
  } finally {
    runner.close();
  }
  const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v))]));
  const met = med.cliWarm < TARGET_MS && med.cliCold < TARGET_MS;
  console.log('| podnet trace pod1 pod2 | warm ms | cold ms |\n|---|---|---|');
  console.log(`| CLI, end to end (Node start-up included) | ${med.cliWarm} | ${med.cliCold} |`);
  console.log(`| in process (scan, captures, probe, decode, explain) | ${med.inProcessWarm} | ${med.inProcessCold} |`);
  console.log(`\ntarget: under ${TARGET_MS} ms end to end — ${met ? 'met' : 'NOT met'}`);
  await write({
    date: new Date().toISOString(), machine: machineFacts(),
    repetitions: REPS, medianMs: med, samplesMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map(round)])),
    target: { endToEndMs: TARGET_MS, met },
  });
});
