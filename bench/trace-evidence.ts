// Benchmark: the evidence a failing `podnet trace` collects, end to end and on the path.
// 1. A failing trace as a user runs it (the CLI, Node start-up included) across a broken path (lab
//    break ip-forward-off on the source's node: the kernel drops the packet with IP_INADDRERRORS),
//    with its evidence (drop reasons, rule tracing, conntrack) and with --no-evidence, alternating
//    in one run: the failing trace's time (target: under 2 s) and the extra time evidence costs.
// 2. The throughput cost of the drop-reason collection on the path while it runs: iperf3 pod → pod
//    across nodes with skb:kfree_skb enabled in a tracefs instance (what a trace keeps on for its
//    second) vs. without, alternating; and, for scale, with the trace's whole evidence running
//    (TRACE rules marking the stream's packets, xtables-monitor printing each one).
// Usage (root): `node dist/bench/trace-evidence.js [--quick]`. Writes bench/results/trace-evidence.json.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { DropWatch } from '../src/host/tracefs.js';
import type { LabDeps } from '../src/lab/deps.js';
import { labBreak, labHeal } from '../src/lab/faults.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import { labNetns, nodeNetnsName } from '../src/lab/names.js';
import { parseTopology } from '../src/model/topology.js';
import { EvidenceSession } from '../src/trace/evidence.js';
import { traceFlows } from '../src/trace/rule-trace.js';
import { QUICK, ROOT, exec, hex, iperf, labLeftovers, machineFacts, median, random, round, runBenchmark, sleep } from './common.js';

const REPS = QUICK ? 2 : 8;
const IPERF_S = QUICK ? 1 : 3;
const TARGET_MS = 2000;
const lab = `tev${hex(2)}`;

/** `podnet trace pod1 pod2 --tcp 5201 [--no-evidence]`, expected to fail (exit 1); its wall time in ms and its cause. */
function failingTrace(stateRoot: string, evidence: boolean): { ms: number; cause: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/podnet.js'), 'trace', 'pod1', 'pod2', '--tcp', '5201', '--name', lab, '-o', 'json', ...(evidence ? [] : ['--no-evidence'])],
    { env: { ...process.env, PODNET_STATE_DIR: stateRoot }, encoding: 'utf8', timeout: 60_000 });
  const ms = performance.now() - t;
  if (r.status !== 1) throw new Error(`the trace across the broken path should fail (exit 1), got ${r.status}: ${r.stderr || r.stdout.slice(0, 300)}`);
  return { ms, cause: (JSON.parse(r.stdout) as { cause?: string }).cause ?? '' };
}



const ratio = (a: readonly number[], b: readonly number[]) => Math.round(median(a.map((x, i) => x / b[i])) * 1000) / 1000;

await runBenchmark({
  name: 'trace-evidence', needsRoot: 'it brings up a lab',
  check: async () => ((await exec(['sh', '-c', 'command -v iperf3'])).code !== 0 ? 'the trace-evidence benchmark needs iperf3 (apt-get install iperf3)' : undefined),
  leftovers: () => labLeftovers([lab]),
}, async (ctx) => {
  const runner = new ShellRunner();
  const deps: LabDeps = { host: new Host(runner), stateRoot: join(ctx.tmp, 'state'), random };
  try {
    return await ctx.guard.guarded(() => labDown(deps, lab), async () => {
      const state = await labUp(deps, lab, parseTopology({ nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'agent1' }] }));
      const pod = (n: string) => state.pods.find((p) => p.name === n)!;
      const [p1, p2] = [pod('pod1'), pod('pod2')];
      const server = spawn('nsenter', [`--net=/run/netns/${p2.netns}`, 'iperf3', '-s', '-p', '5201'], { stdio: 'ignore' });
      try {
        await sleep(300);
        // 1. the failing trace, with and without evidence
        await labBreak(deps, lab, { fault: 'ip-forward-off', node: 'server' });
        const withEv: number[] = [];
        const without: number[] = [];
        let cause = '';
        try {
          for (let i = 0; i < REPS && !ctx.guard.interrupted; i++) {
            const order = i % 2 === 0 ? [true, false] : [false, true];
            for (const ev of order) {
              const r = failingTrace(deps.stateRoot, ev);
              (ev ? withEv : without).push(round(r.ms));
              if (ev) cause = r.cause;
            }
          }
        } finally {
          await labHeal(deps, lab);
        }
        const failing = { withEvidenceMs: round(median(withEv)), noEvidenceMs: round(median(without)), extraMs: round(median(withEv.map((x, i) => x - without[i]))), samples: { withEvidence: withEv, noEvidence: without }, cause };
        // 2. iperf3 with and without drop-reason collection, and with the whole evidence
        const base: number[] = [];
        const drops: number[] = [];
        const full: number[] = [];
        const nodes = state.plan.nodes.map((n) => ({ name: n.name, netns: labNetns(nodeNetnsName(lab, n.name)).path }));
        for (let i = 0; i < REPS && !ctx.guard.interrupted; i++) {
          base.push(await iperf(p1.netns, p2.ip!, IPERF_S));
          const w = await DropWatch.start({ runner, exclude: ['NOT_SPECIFIED'], filter: 'protocol == 2048 || protocol == 2054' });
          try { drops.push(await iperf(p1.netns, p2.ip!, IPERF_S)); } finally { await w.stop(); }
          const ev = await EvidenceSession.start(deps.host, { nodes, mode: 'iptables', flows: traceFlows([p1.ip!], 'tcp'), tag: `bench-${hex(2)}` });
          try { full.push(await iperf(p1.netns, p2.ip!, IPERF_S)); } finally { await ev.abort(); }
        }
        const thr = { baselineGbps: median(base), dropReasonsGbps: median(drops), fullEvidenceGbps: median(full), dropReasonsRatio: ratio(drops, base), fullEvidenceRatio: ratio(full, base), samples: { baseline: base, dropReasons: drops, fullEvidence: full } };
        console.log(`\n## A failing trace (pod1 → pod2 --tcp, ip-forward-off on server), CLI end to end, median of ${REPS}\n`);
        console.log('| | ms |\n|---|---|');
        console.log(`| with evidence (drop reasons, rule tracing, conntrack) | ${failing.withEvidenceMs} |`);
        console.log(`| --no-evidence | ${failing.noEvidenceMs} |`);
        console.log(`| extra time for evidence (median of paired differences) | ${failing.extraMs} |`);
        console.log(`\ncause: ${cause}\n`);
        console.log(`## iperf3 pod1 → pod2 across nodes (${IPERF_S} s × ${REPS}, medians)\n`);
        console.log('| while running | Gbit/s | ÷ baseline |\n|---|---|---|');
        console.log(`| nothing (baseline) | ${thr.baselineGbps} | 1 |`);
        console.log(`| skb:kfree_skb in a tracefs instance (a trace's drop reasons) | ${thr.dropReasonsGbps} | ${thr.dropReasonsRatio} |`);
        console.log(`| a trace's whole evidence (TRACE rules on the stream, xtables-monitor, drop reasons) | ${thr.fullEvidenceGbps} | ${thr.fullEvidenceRatio} |`);
        await ctx.write({ date: new Date().toISOString(), machine: machineFacts(), quick: ctx.quick, reps: REPS, iperfSeconds: IPERF_S, targetMs: TARGET_MS, failing, throughput: thr });
        await labDown(deps, lab);
        return failing.withEvidenceMs <= TARGET_MS ? 0 : 1;
      } finally {
        server.kill();
      }
    });
  } finally {
    runner.close();
  }
});
