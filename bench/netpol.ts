// Benchmark: NetworkPolicy as kube-router enforces it in a lab, against the bare tools in the same run.
//   sync       — 100 policies over 500 pods (two nodes, 250 pods each; pods labelled app=a0…a49 and
//                role=r0…r9; each policy selects one app, admits one role on one port, half of them
//                also isolate egress to another app): podnet's time from "applied" to enforced (the
//                policy model, the rules and sets planned for both nodes, `ipset restore` and one
//                `iptables-restore --noflush` per node — podnet's sync returns when the kernel holds
//                them; they are then read back with iptables-save, not timed) against the bare tools
//                loading the very same ipset and iptables input into fresh namespaces, one per node,
//                side by side; then one policy more at 100 (the incremental sync a cluster does all day).
//   throughput — iperf3 from a pod to a pod on the same node and on the other node, without any
//                policy and with a default-deny plus policies that allow exactly that flow (both
//                ends isolated, so the packet runs both pods' KUBE-POD-FW chains and a policy chain
//                with its sets), alternating, median of the runs (target ≥ 0.9×).
// Usage (root): `node dist/bench/netpol.js [--quick]` (--quick: 100 pods, 20 policies, one repetition,
// 2 s streams; writes nothing). Writes bench/results/netpol.json.
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import type { Command, Runner } from '../src/host/runner.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import type { LabDeps } from '../src/lab/deps.js';
import { withLabLock } from '../src/lab/lock.js';
import { podRun } from '../src/lab/pods.js';
import { applyManifests, deleteManifests } from '../src/lab/services.js';
import { LabDir } from '../src/lab/state.js';
import { parseManifest, type Manifest } from '../src/model/manifest.js';
import { addressOf } from '../src/model/ip.js';
import { parseTopology } from '../src/model/topology.js';
import { QUICK, exec, hex, iperf, labLeftovers, machineFacts, median, random, round, runBenchmark, sleep } from './common.js';

const PODS = QUICK ? 100 : 500;
const POLICIES = QUICK ? 20 : 100;
const REPS = QUICK ? 1 : 5;
const IPERF_S = QUICK ? 2 : 3;
const TARGET_RATIO = 0.9;
const labs: string[] = [];
/** Two decimals (ratios, Gbit/s). */
const r2 = (x: number): number => Math.round(x * 100) / 100;
const bareNs: string[] = [];

/** Passes every command through and keeps the stdin of the ipset and iptables-restore writes. */
class Recorder implements Runner {
  writes: { argv: readonly string[]; input: string }[] = [];
  constructor(private readonly inner: Runner) {}
  run(cmd: Command) {
    if (cmd.input !== undefined && cmd.argv.some((a) => a === 'iptables-restore' || a === 'ipset')) this.writes.push({ argv: cmd.argv, input: cmd.input });
    return this.inner.run(cmd);
  }
  start(cmd: Command) { return this.inner.start(cmd); }
  signal(pid: number, signal: NodeJS.Signals) { return this.inner.signal(pid, signal); }
}

const np = (name: string, spec: Record<string, unknown>): Manifest => parseManifest({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'default' }, spec }, name);

/** Policy i: selects app a(i % 50), admits role r(i % 10) on 8080 + i % 5; odd ones also isolate egress to app a((i + 7) % 50). */
function policy(i: number): Manifest {
  const egress = i % 2 ? { egress: [{ to: [{ podSelector: { matchLabels: { app: `a${(i + 7) % 50}` } } }] }] } : {};
  return np(`p${i}`, {
    podSelector: { matchLabels: { app: `a${i % 50}` } }, policyTypes: i % 2 ? ['Ingress', 'Egress'] : ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { role: `r${i % 10}` } } }], ports: [{ port: 8080 + (i % 5) }] }], ...egress,
  });
}

/** The namespace a recorded write ran in (`ip netns exec NS …` or `nsenter --net=/run/netns/NS …`). */
function nsOf(argv: readonly string[]): string {
  const i = argv.indexOf('exec');
  if (argv[0] === 'ip' && i > 0) return argv[i + 1];
  const net = argv.find((a) => a.startsWith('--net='));
  return net ? net.slice('--net='.length).split('/').pop()! : '?';
}

/** The bare tools: each recorded write replayed, with its own argv's tool, into a fresh namespace per node, nodes side by side. */
async function bare(writes: Recorder['writes']): Promise<number> {
  const byNs = new Map<string, Recorder['writes']>();
  for (const w of writes) byNs.set(nsOf(w.argv), [...(byNs.get(nsOf(w.argv)) ?? []), w]);
  const fresh = [...byNs.keys()].map(() => `pn-bnp-${hex(3)}`);
  bareNs.push(...fresh);
  for (const ns of fresh) await exec(['ip', 'netns', 'add', ns]);
  const t0 = performance.now();
  await Promise.all([...byNs.values()].map(async (ws, k) => {
    for (const w of ws) {
      const tool = w.argv.slice(w.argv.findIndex((a) => a === 'iptables-restore' || a === 'ipset'));
      const r = await exec(['nsenter', `--net=/run/netns/${fresh[k]}`, ...tool], w.input, undefined, 120_000);
      if (r.code !== 0) throw new Error(`bare ${tool.join(' ')}: ${r.stderr.trim().slice(0, 300)}`);
    }
  }));
  const ms = performance.now() - t0;
  for (const ns of fresh) await exec(['ip', 'netns', 'del', ns]);
  return ms;
}

/** Labels every pod (state edited under the lab's lock, as a runtime's metadata would be). */
async function label(deps: LabDeps, lab: string): Promise<void> {
  await withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = (await dir.read())!;
    state.pods.forEach((p, j) => { p.labels = { app: `a${j % 50}`, role: `r${j % 10}` }; });
    await dir.write(state);
  });
}

interface SyncResult { pods: number; policies: number; podnetMs: number; bareMs: number; ratio: number; chainsRead: number; oneMore: { podnetMs: number; bareMs: number; ratio: number } }

async function sync(stateRoot: string): Promise<SyncResult> {
  const rec = new Recorder(new ShellRunner());
  const deps: LabDeps = { host: new Host(rec), stateRoot, random };
  const lab = `bnp${hex(2)}`;
  labs.push(lab);
  const half = PODS / 2;
  const pods = Array.from({ length: PODS }, (_, j) => ({ name: `pod${j + 1}`, node: j < half ? 'server' : 'agent1' }));
  await labUp(deps, lab, parseTopology({ nodes: [{ name: 'server' }, { name: 'agent1' }], pods }));
  await label(deps, lab);
  const manifests = Array.from({ length: POLICIES }, (_, i) => policy(i));
  rec.writes = [];
  let t0 = performance.now();
  await applyManifests(deps, lab, manifests);
  const podnetMs = performance.now() - t0;
  const all = rec.writes;
  const saved = (await exec(['ip', 'netns', 'exec', `podnet-${lab}-server`, 'iptables-save', '-t', 'filter'])).stdout;
  const chainsRead = new Set(saved.split('\n').filter((l) => l.startsWith(':KUBE-NWPLCY-') && !/COMMON|DEFAULT/.test(l))).size;
  if (chainsRead !== POLICIES) throw new Error(`server holds ${chainsRead} policy chains, not ${POLICIES}`);
  const bareMs = await bare(all);
  rec.writes = [];
  t0 = performance.now();
  await applyManifests(deps, lab, [policy(POLICIES)]);
  const oneMs = performance.now() - t0;
  // the bare reference for one more: the incremental writes alone, on namespaces holding the 100 first
  const oneBare = await bareAfter(all, rec.writes);
  await deleteManifests(deps, lab, [...manifests, policy(POLICIES)]);
  await labDown(deps, lab);
  return { pods: PODS, policies: POLICIES, podnetMs: round(podnetMs), bareMs: round(bareMs), ratio: r2(podnetMs / bareMs), chainsRead, oneMore: { podnetMs: round(oneMs), bareMs: round(oneBare), ratio: r2(oneMs / oneBare) } };
}

/** Loads `before` into fresh namespaces (not timed), then times `after` on top of it. */
async function bareAfter(before: Recorder['writes'], after: Recorder['writes']): Promise<number> {
  const byNs = new Map<string, { before: Recorder['writes']; after: Recorder['writes'] }>();
  for (const w of before) { const k = nsOf(w.argv); byNs.set(k, { before: [...(byNs.get(k)?.before ?? []), w], after: byNs.get(k)?.after ?? [] }); }
  for (const w of after) { const k = nsOf(w.argv); byNs.set(k, { before: byNs.get(k)?.before ?? [], after: [...(byNs.get(k)?.after ?? []), w] }); }
  const fresh = [...byNs.keys()].map(() => `pn-bnp-${hex(3)}`);
  bareNs.push(...fresh);
  const replay = async (ns: string, ws: Recorder['writes']) => {
    for (const w of ws) {
      const tool = w.argv.slice(w.argv.findIndex((a) => a === 'iptables-restore' || a === 'ipset'));
      const r = await exec(['nsenter', `--net=/run/netns/${ns}`, ...tool], w.input, undefined, 120_000);
      if (r.code !== 0) throw new Error(`bare ${tool.join(' ')}: ${r.stderr.trim().slice(0, 300)}`);
    }
  };
  const groups = [...byNs.values()];
  for (let k = 0; k < fresh.length; k++) { await exec(['ip', 'netns', 'add', fresh[k]]); await replay(fresh[k], groups[k].before); }
  const t0 = performance.now();
  await Promise.all(groups.map((g, k) => replay(fresh[k], g.after)));
  const ms = performance.now() - t0;
  for (const ns of fresh) await exec(['ip', 'netns', 'del', ns]);
  return ms;
}


interface Pair { name: string; without: number[]; withPolicy: number[]; ratio: number; met: boolean }

async function throughput(stateRoot: string): Promise<Pair[]> {
  const deps: LabDeps = { host: new Host(new ShellRunner()), stateRoot, random };
  const lab = `bnq${hex(2)}`;
  labs.push(lab);
  await labUp(deps, lab, parseTopology({ nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [] }));
  const srv = { labels: { app: 'iperf' }, ports: [{ name: 'iperf', containerPort: 5201, protocol: 'TCP' as const }], commands: [['iperf3', '-s', '-p', '5201']] };
  const near = await podRun(deps, lab, 'near', 'server', srv);
  const far = await podRun(deps, lab, 'far', 'agent1', srv);
  const client = await podRun(deps, lab, 'client', 'server', { labels: { role: 'client' } });
  await sleep(300);
  const allow = [
    np('deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    np('client-out', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'iperf' } } }], ports: [{ port: 'iperf' }] }] }),
    np('iperf-in', { podSelector: { matchLabels: { app: 'iperf' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 5201 }] }] }),
  ];
  const pairs = [{ name: 'same node (client → near)', ip: addressOf(near.ip ?? '') }, { name: 'across nodes (client → far)', ip: addressOf(far.ip ?? '') }];
  const out: Pair[] = pairs.map((p) => ({ name: p.name, without: [], withPolicy: [], ratio: 0, met: false }));
  for (let r = 0; r < REPS; r++) {
    for (const withPolicy of r % 2 ? [true, false] : [false, true]) {
      if (withPolicy) await applyManifests(deps, lab, allow);
      for (const [k, p] of pairs.entries()) (withPolicy ? out[k].withPolicy : out[k].without).push(await iperf(client.netns, p.ip, IPERF_S));
      if (withPolicy) await deleteManifests(deps, lab, allow);
    }
  }
  for (const o of out) {
    o.ratio = r2(median(o.withPolicy.map((x, i) => x / o.without[i])));
    o.met = o.ratio >= TARGET_RATIO;
    console.log(`${o.name}: without ${r2(median(o.without))} Gbit/s, with policy ${r2(median(o.withPolicy))} Gbit/s → ${o.ratio}× (target ≥ ${TARGET_RATIO})`);
  }
  await labDown(deps, lab);
  return out;
}

await runBenchmark({
  name: 'netpol', needsRoot: 'it creates network namespaces',
  check: async () => ((await exec(['sh', '-c', 'for t in iperf3 ipset iptables-restore; do command -v $t; done'])).stdout.trim().split('\n').length < 3 ? 'iperf3, ipset and iptables-restore are needed (npm run setup)' : undefined),
  leftovers: async () => [...await labLeftovers(labs), ...(await exec(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => bareNs.some((n) => l.startsWith(n)))],
}, async (ctx) => {
  const stateRoot = join(ctx.tmp, 'state');
  const down = async () => { for (const l of labs) await labDown({ host: new Host(new ShellRunner()), stateRoot, random }, l).catch(() => undefined); for (const n of bareNs) await exec(['ip', 'netns', 'del', n]); };
  const s = await ctx.guard.guarded(down, () => sync(stateRoot));
  console.log(`sync: ${s.policies} policies over ${s.pods} pods: podnet ${s.podnetMs} ms, bare ipset + iptables-restore ${s.bareMs} ms → ${s.ratio}×; one more policy: ${s.oneMore.podnetMs} ms vs ${s.oneMore.bareMs} ms (${s.oneMore.ratio}×)`);
  const t = await ctx.guard.guarded(down, () => throughput(stateRoot));
  const load = (await exec(['cat', '/proc/loadavg'])).stdout.split(' ').slice(0, 3).join(' ');
  await ctx.write({ machine: machineFacts(), loadavg: load, reps: REPS, iperfSeconds: IPERF_S, sync: s, throughput: t, targets: { throughputRatio: TARGET_RATIO } });
});
