// Benchmark: `podnet doctor` on one node with 250 pods and 1,000 Services (each selecting 5 of the
// pods: kube-proxy's iptables rules hold 1,000 service chains and 5,000 endpoint chains), end to end
// through the CLI (`node bin/podnet.js doctor --name LAB -o json`, a process per run, as a user runs
// it) and in process (the library call, split into collection and diagnosis) — side by side with the
// reference: the equivalent raw reads run by hand, one after another (`ip -json` of the node and of
// each pod, `bridge -json fdb`, `nft -j list ruleset`, `iptables-save`, `sysctl -a` in the node),
// rotating which goes first. Target: the CLI under 1 s. Writes bench/results/doctor.json.
// Usage (root): `node dist/bench/doctor.js [--quick]` (--quick: 1 repetition, nothing written).
import { execFile } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { doctorInput } from '../src/inspect/doctor/index.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import { withLabLock } from '../src/lab/lock.js';
import { applyManifests } from '../src/lab/services.js';
import { LabDir, type LabState } from '../src/lab/state.js';
import { resolveTarget } from '../src/lab/target.js';
import type { LabDeps } from '../src/lab/deps.js';
import { diagnose } from '../src/model/doctor/index.js';
import type { ServiceManifest } from '../src/model/manifest.js';
import { defaultTopology, parseTopology } from '../src/model/topology.js';
import { QUICK, ROOT, exec, hex, labLeftovers, machineFacts, median, random, round, runBenchmark } from './common.js';

const PODS = 250;
const SERVICES = 1000;
/** Pods per Service (the pods carry app=web0…web49; Service i selects app=web{i % 50}). */
const APPS = 50;
const REPS = QUICK ? 1 : 5;
const TARGET_MS = 1000;
const execFileP = promisify(execFile);

/** Labels the pods (state edited under the lab's lock, as a runtime's metadata) and applies the Services (one sync). */
async function populate(deps: LabDeps, lab: string): Promise<LabState> {
  await withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = (await dir.read())!;
    state.pods.forEach((p, i) => { p.labels = { app: `web${i % APPS}` }; p.ports = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]; });
    await dir.write(state);
  });
  const services: ServiceManifest[] = Array.from({ length: SERVICES }, (_, i) => ({
    kind: 'Service', name: `svc${i}`, namespace: 'default', type: 'ClusterIP', selector: { app: `web${i % APPS}` },
    externalTrafficPolicy: 'Cluster', sessionAffinity: 'None', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }],
  }));
  await applyManifests(deps, lab, services);
  return (await new LabDir(deps.stateRoot, lab).read())!;
}

/** The reference: the same facts read by hand, each command exec'd and awaited before the next. */
async function byHand(state: LabState): Promise<{ ms: number; processes: number; bytes: number }> {
  const node = state.plan.nodes[0].netns;
  const inNode = (argv: string[]) => ['nsenter', `--net=/run/netns/${node}`, ...argv];
  const cmds = [
    ['ip', '-n', node, '-json', '-details', 'addr', 'show'], ['ip', '-n', node, '-json', 'route', 'show'], ['ip', '-n', node, '-json', 'neigh', 'show'],
    ['bridge', '-n', node, '-json', 'fdb', 'show'], inNode(['nft', '-j', 'list', 'ruleset']), inNode(['iptables-save']), inNode(['sysctl', '-a']),
    ...state.pods.map((p) => ['ip', '-n', p.netns, '-json', '-details', 'addr', 'show']),
  ];
  let bytes = 0;
  const t0 = performance.now();
  for (const c of cmds) bytes += (await execFileP(c[0], c.slice(1), { maxBuffer: 512 * 1024 * 1024 })).stdout.length;
  return { ms: performance.now() - t0, processes: cmds.length, bytes };
}

/** `podnet doctor` as a user runs it; fails unless it reports nothing. */
async function cli(stateRoot: string, lab: string): Promise<{ ms: number }> {
  const r = await exec([process.execPath, join(ROOT, 'bin', 'podnet.js'), 'doctor', '--name', lab, '-o', 'json'], '', { ...process.env, PODNET_STATE_DIR: stateRoot }, 60_000);
  if (r.code !== 0) throw new Error(`podnet doctor exited ${r.code}: ${r.stderr.trim()} ${r.stdout.slice(0, 400)}`);
  return { ms: r.ms };
}

/** The library call, split: collection (every read) and diagnosis (pure). */
async function inProcess(stateRoot: string, lab: string): Promise<{ ms: number; collectMs: number; diagnoseMs: number; commands: number }> {
  const shells = new ShellRunner(8);
  let commands = 0;
  const counting = { run: (c: Parameters<ShellRunner['run']>[0]) => { commands++; return shells.run(c); }, start: shells.start.bind(shells), signal: shells.signal.bind(shells) };
  try {
    const t0 = performance.now();
    const input = await doctorInput(new Host(counting), await resolveTarget(stateRoot, { lab, labExplicit: true }), stateRoot);
    const t1 = performance.now();
    const findings = diagnose(input);
    const t2 = performance.now();
    if (findings.length) throw new Error(`doctor found ${findings.map((f) => f.id).join(', ')} on a healthy lab`);
    return { ms: t2 - t0, collectMs: t1 - t0, diagnoseMs: t2 - t1, commands };
  } finally {
    shells.close();
  }
}

const labs: string[] = [];
await runBenchmark({ name: 'doctor', needsRoot: 'it creates network namespaces', leftovers: () => labLeftovers(labs) }, async (ctx) => {
  const stateRoot = join(ctx.tmp, 'state');
  const shells = new ShellRunner(8);
  const deps: LabDeps = { host: new Host(shells), stateRoot, random };
  const lab = `dbench${hex(2)}`;
  labs.push(lab);
  const loadBefore = os.loadavg();
  try {
    const samples = await ctx.guard.guarded(() => labDown(deps, lab), async () => {
      console.error(`lab ${lab}: 1 node, ${PODS} pods, ${SERVICES} Services (not timed)`);
      await labUp(deps, lab, parseTopology(defaultTopology(PODS)));
      const state = await populate(deps, lab);
      const out = { cli: [] as { ms: number }[], lib: [] as Awaited<ReturnType<typeof inProcess>>[], hand: [] as Awaited<ReturnType<typeof byHand>>[] };
      const once = { cli: () => cli(stateRoot, lab), lib: () => inProcess(stateRoot, lab), hand: () => byHand(state) };
      for (const k of ['cli', 'lib', 'hand'] as const) await once[k](); // warm-up, unrecorded
      const order = ['cli', 'lib', 'hand'] as const;
      for (let r = 0; r < REPS; r++) {
        console.error(`repetition ${r + 1}/${REPS}`);
        for (let i = 0; i < order.length; i++) {
          if (ctx.guard.interrupted) throw new Error('interrupted');
          const k = order[(r + i) % order.length];
          if (k === 'cli') out.cli.push(await once.cli()); else if (k === 'lib') out.lib.push(await once.lib()); else out.hand.push(await once.hand());
        }
      }
      await labDown(deps, lab);
      return out;
    });
    const cliMs = round(median(samples.cli.map((s) => s.ms)));
    const libMs = round(median(samples.lib.map((s) => s.ms)));
    const handMs = round(median(samples.hand.map((s) => s.ms)));
    const result = {
      date: new Date().toISOString(),
      machine: { ...machineFacts(), loadavgBefore: loadBefore.map(round), loadavgAfter: os.loadavg().map(round) },
      quick: QUICK, repetitions: REPS, pods: PODS, services: SERVICES, endpointsPerService: PODS / APPS,
      what: {
        cli: '`node bin/podnet.js doctor --name LAB -o json` (exit 0: nothing found), wall time from spawn to exit',
        library: 'doctorInput() + diagnose() in process, a fresh ShellRunner(8) per sample',
        byHand: 'on the node `ip -json -details addr show`, `ip -json route show`, `ip -json neigh show`, `bridge -json fdb show`, `nft -j list ruleset`, `iptables-save`, `sysctl -a`, then `ip -json -details addr show` in each pod: each exec\'d and awaited before the next',
      },
      median: {
        cliMs, libraryMs: libMs, collectMs: round(median(samples.lib.map((s) => s.collectMs))), diagnoseMs: round(median(samples.lib.map((s) => s.diagnoseMs))),
        byHandMs: handMs, commands: median(samples.lib.map((s) => s.commands)), byHandProcesses: samples.hand[0]?.processes, byHandBytes: samples.hand[0]?.bytes,
      },
      ratio: { byHandOverCli: round(handMs / cliMs), byHandOverLibrary: round(handMs / libMs) },
      target: { maxMs: TARGET_MS, met: cliMs < TARGET_MS },
      samples: { cli: samples.cli.map((s) => round(s.ms)), library: samples.lib.map((s) => ({ ms: round(s.ms), collectMs: round(s.collectMs), diagnoseMs: round(s.diagnoseMs) })), byHand: samples.hand.map((s) => round(s.ms)) },
    };
    await ctx.write(result);
    console.log('| what | median ms |\n|---|---|');
    console.log(`| podnet doctor, CLI end to end | ${cliMs} |\n| podnet doctor, in process (collect / diagnose) | ${libMs} (${result.median.collectMs} / ${result.median.diagnoseMs}), ${result.median.commands} commands |\n| the same reads by hand | ${handMs} (${result.median.byHandProcesses} processes) |`);
    console.log(`\nby hand ÷ CLI: ${result.ratio.byHandOverCli}×, ÷ library: ${result.ratio.byHandOverLibrary}×; target ${PODS} pods + ${SERVICES} Services < ${TARGET_MS} ms end to end: ${result.target.met ? 'met' : 'NOT met'}`);
    return result.target.met ? 0 : 1;
  } finally {
    shells.close();
  }
});
