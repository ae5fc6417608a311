// Benchmark: reading a lab node of 10, 100 and 250 pods — podnet's inspect path (scanHost, identify,
// resolvePeers: what `podnet inspect <node>` runs) scoped to the lab and unscoped, against the naive
// way (the blog's commands, one `ip` process per object type and namespace, run one after another) —
// side by side in one run, rotating which goes first. Prints a Markdown table; writes
// bench/results/inspect.json.
// Usage (root): `npm run bench:inspect`, or `node dist/bench/inspect.js [--quick]` (--quick: 1 repetition).
import { execFile } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Host } from '../src/host/host.js';
import { ExecRunner } from '../src/host/runner.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { CountingRunner, QUICK, hex, labLeftovers, machineFacts, median, random, round, runBenchmark, type Guard } from './common.js';
import { netnsList, netnsNamed } from '../src/host/netns.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import { type LabDeps } from '../src/lab/deps.js';
import type { LabState } from '../src/lab/state.js';
import { defaultTopology, parseTopology } from '../src/model/topology.js';
import { resolvePeers, peerKey, type Snapshot } from '../src/model/snapshot.js';
import { scanHost } from '../src/inspect/scan.js';
import { defaultEvidence, identify } from '../src/inspect/identify.js';
import { inspectHostCli } from './inspect-cli.js';

const SIZES = [10, 100, 250];
const REPS = QUICK ? 1 : 5;
/** From the issue: 250 pods inspected in under 1 s, and at least 5× faster than the naive way. */
const TARGET = { pods: 250, maxMs: 1000, minRatio: 5 };

const execFileP = promisify(execFile);

/** One podnet inspection: wall time, and where it went. */
interface PodnetSample { ms: number; scanMs: number; identifyMs: number; joinMs: number; commands: number; shells: number; namespaces: number }
/** One naive inspection. */
interface NaiveSample { ms: number; processes: number }

/** A lab that is up: its state and the namespaces an inspection of its node covers. */
interface LiveLab { name: string; state: LabState; node: string; pods: string[] }

// Everything this run creates (checked for leftovers at the end); the run's guard (undo actions for
// what is live right now) and temp dir, set by runBenchmark.
const labsUsed: string[] = [];
let guard: Guard;
let tmp = '';
const stateRoot = () => join(tmp, 'state');

/** Namespaces of lab `lab` that exist right now. */
async function labNetns(lab: string): Promise<string[]> {
  return (await netnsList(new ExecRunner())).filter((n) => n.startsWith(`podnet-${lab}-`));
}

/** podnet, as `podnet inspect <node>` runs it: scan the node (and, scoped, only the lab's pod and
 * node namespaces; unscoped, every namespace on the machine), name every namespace, join the veths. */
async function podnetSample(lab: LiveLab, scoped: boolean): Promise<{ sample: PodnetSample; snapshot: Snapshot; peers: ReturnType<typeof resolvePeers> }> {
  const shells = new ShellRunner(8); // what `podnet inspect` uses: commands through 8 persistent shells
  const runner = new CountingRunner(shells);
  try {
    const t0 = performance.now();
    const scanned = await scanHost(new Host(runner), { host: netnsNamed(lab.node), ...(scoped ? { only: [lab.node, ...lab.pods] } : {}) });
    const t1 = performance.now();
    const snapshot = await identify(scanned, defaultEvidence(stateRoot()));
    const t2 = performance.now();
    const peers = resolvePeers(snapshot);
    const t3 = performance.now();
    const sample = {
      ms: t3 - t0, scanMs: t1 - t0, identifyMs: t2 - t1, joinMs: t3 - t2,
      commands: runner.count, shells: shells.started, namespaces: snapshot.namespaces.length,
    };
    return { sample, snapshot, peers };
  } finally {
    shells.close();
  }
}

type Json = Record<string, unknown>;

/** The naive way, as the blog's commands (or a gist script looping over them) do it: per namespace one
 * process per object type, `ip -n NS -json -d link show`, `… addr show`, `… route show`, `… neigh
 * show`, plus `bridge -n NODE -json fdb show` — each exec'd and awaited before the next. Each pod's
 * host veth is then found in the dumps already taken (`eth0@ifN` → the node link with ifindex N). */
async function naiveSample(lab: LiveLab): Promise<{ sample: NaiveSample; hostVeth: Map<string, string | undefined> }> {
  let processes = 0;
  const run = async (argv: string[]): Promise<Json[]> => {
    processes++;
    const { stdout } = await execFileP(argv[0], argv.slice(1), { maxBuffer: 256 * 1024 * 1024 });
    return stdout.trim() ? (JSON.parse(stdout) as Json[]) : [];
  };
  const dump = async (ns: string) => ({
    links: await run(['ip', '-n', ns, '-json', '-d', 'link', 'show']),
    addrs: await run(['ip', '-n', ns, '-json', 'addr', 'show']),
    routes: await run(['ip', '-n', ns, '-json', 'route', 'show']),
    neighs: await run(['ip', '-n', ns, '-json', 'neigh', 'show']),
  });
  const t0 = performance.now();
  const node = await dump(lab.node);
  const fdb = await run(['bridge', '-n', lab.node, '-json', 'fdb', 'show']);
  const pods = new Map<string, Awaited<ReturnType<typeof dump>>>();
  for (const ns of lab.pods) pods.set(ns, await dump(ns));
  const byIndex = new Map(node.links.map((l) => [l.ifindex, l]));
  const hostVeth = new Map<string, string | undefined>();
  for (const [ns, d] of pods) {
    const eth0 = d.links.find((l) => l.ifname === 'eth0');
    hostVeth.set(ns, eth0 ? (byIndex.get(eth0.link_index)?.ifname as string | undefined) : undefined);
  }
  const ms = performance.now() - t0;
  if (fdb.length === 0) throw new Error('naive: bridge fdb show returned nothing on the node');
  return { sample: { ms, processes }, hostVeth };
}

/** Fails unless both paths saw what the lab made: every pod named, its eth0 joined to its host veth. */
function check(lab: LiveLab, snapshot: Snapshot, peers: ReturnType<typeof resolvePeers>, scoped: boolean): void {
  const nodeId = snapshot.host;
  const node = snapshot.namespaces.find((n) => n.id === nodeId);
  if (node?.identity.kind !== 'node') throw new Error(`podnet: the node was identified as ${node?.identity.kind}`);
  if (scoped && snapshot.namespaces.length !== lab.pods.length + 1) throw new Error(`podnet: scanned ${snapshot.namespaces.length} namespaces, expected ${lab.pods.length + 1}`);
  for (const pod of lab.state.pods) {
    const ns = snapshot.namespaces.find((n) => n.names.includes(pod.netns));
    if (!ns) throw new Error(`podnet: pod ${pod.name} (${pod.netns}) missing from the snapshot`);
    if (ns.error) throw new Error(`podnet: pod ${pod.name}: ${ns.error}`);
    if (ns.identity.kind !== 'pod' || ns.identity.name !== pod.name) throw new Error(`podnet: ${pod.netns} identified as ${ns.identity.kind} ${ns.identity.name}, expected pod ${pod.name}`);
    const eth0 = ns.links.find((l) => l.name === 'eth0');
    const peer = eth0 && peers.get(peerKey(ns.id, eth0.index));
    if (peer?.netns !== nodeId || peer.name !== pod.hostVeth) throw new Error(`podnet: ${pod.name} eth0 joined to ${peer?.name ?? 'nothing'}, expected ${pod.hostVeth} on the node`);
  }
}

function checkNaive(lab: LiveLab, hostVeth: Map<string, string | undefined>): void {
  for (const pod of lab.state.pods) {
    if (hostVeth.get(pod.netns) !== pod.hostVeth) throw new Error(`naive: ${pod.name} host veth ${hostVeth.get(pod.netns) ?? 'not found'}, expected ${pod.hostVeth}`);
  }
}

/** Brings up a lab of `n` pods on one node (not timed), runs `body`, takes it down and verifies it is gone. */
async function withLab<T>(n: number, body: (lab: LiveLab) => Promise<T>): Promise<T> {
  const shells = new ShellRunner(8);
  const deps: LabDeps = { host: new Host(shells), stateRoot: stateRoot(), random };
  const name = `ibench${hex(2)}`;
  labsUsed.push(name);
  try {
    const result = await guard.guarded(() => labDown(deps, name), async () => {
      const state = await labUp(deps, name, parseTopology(defaultTopology(n)));
      const lab: LiveLab = { name, state, node: state.plan.nodes[0].netns, pods: state.pods.map((p) => p.netns) };
      const r = await body(lab);
      await labDown(deps, name);
      return r;
    });
    const left = await labNetns(name);
    if (left.length) throw new Error(`lab ${name}: namespaces left after lab down: ${left.join(', ')}`);
    return result;
  } finally {
    shells.close();
  }
}

type Path = 'podnet' | 'unscoped' | 'naive';

/** One size: a fresh lab, one unrecorded round of each path, then REPS rounds rotating the order. */
async function measure(n: number) {
  return withLab(n, async (lab) => {
    const podnet: PodnetSample[] = [];
    const unscoped: PodnetSample[] = [];
    const naive: NaiveSample[] = [];
    const once = async (path: Path, record: boolean) => {
      if (guard.interrupted) throw new Error('interrupted');
      if (path === 'naive') {
        const r = await naiveSample(lab);
        checkNaive(lab, r.hostVeth);
        if (record) naive.push(r.sample);
      } else {
        const r = await podnetSample(lab, path === 'podnet');
        check(lab, r.snapshot, r.peers, path === 'podnet');
        if (record) (path === 'podnet' ? podnet : unscoped).push(r.sample);
      }
    };
    console.error(`N=${n}: warm-up (one unrecorded round of each path)`);
    for (const p of ['podnet', 'unscoped', 'naive'] as const) await once(p, false);
    const paths: Path[] = ['podnet', 'unscoped', 'naive'];
    for (let r = 0; r < REPS; r++) {
      console.error(`N=${n} repetition ${r + 1}/${REPS}`);
      // Rotate which path goes first, so drift in the machine hits all alike.
      for (let i = 0; i < paths.length; i++) await once(paths[(r + i) % paths.length], true);
    }
    return { podnet, unscoped, naive };
  });
}

const podnetMedian = (xs: readonly PodnetSample[]) => ({
  ms: round(median(xs.map((x) => x.ms))), scanMs: round(median(xs.map((x) => x.scanMs))),
  identifyMs: round(median(xs.map((x) => x.identifyMs))), joinMs: round(median(xs.map((x) => x.joinMs))),
});
const roundPodnet = (s: PodnetSample): PodnetSample => ({ ...s, ms: round(s.ms), scanMs: round(s.scanMs), identifyMs: round(s.identifyMs), joinMs: round(s.joinMs) });

interface Row {
  pods: number;
  podnet: { median: ReturnType<typeof podnetMedian>; commands: number; shells: number };
  podnetUnscoped: { median: ReturnType<typeof podnetMedian>; commands: number; shells: number; namespaces: number };
  naive: { median: { ms: number }; processes: number };
  ratio: { naiveOverPodnet: number; naiveOverUnscoped: number };
}

/** The results as a Markdown table. */
function table(rows: readonly Row[]): string {
  const lines = rows.map((r) => {
    const p = r.podnet.median;
    return `| ${r.pods} | ${p.ms} (${p.scanMs} / ${p.identifyMs} / ${p.joinMs}) | ${r.podnetUnscoped.median.ms} (${r.podnetUnscoped.namespaces} ns) | ${r.naive.median.ms} | **${r.ratio.naiveOverPodnet}×** (${r.ratio.naiveOverUnscoped}×) | ${r.podnet.commands} + ${r.podnet.shells} sh / ${r.podnetUnscoped.commands} + ${r.podnetUnscoped.shells} sh / ${r.naive.processes} |`;
  });
  return [
    '| pods | podnet ms (scan / identify / join) | podnet unscoped ms (namespaces) | naive ms | naive ÷ podnet (÷ unscoped) | processes: podnet / unscoped / naive |',
    '|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
}

/** Runs the whole benchmark and writes the results. */
/** Namespace prefixes of the reference node the CLI column reads (checked for leftovers). */
const prefixesUsed: string[] = [];

await runBenchmark({ name: 'inspect', needsRoot: 'it creates network namespaces', leftovers: () => labLeftovers(labsUsed, prefixesUsed) }, async (ctx) => {
  ({ guard, tmp } = ctx);
  const loadBefore = os.loadavg();
  const results = [];
  const rows: Row[] = [];
  for (const n of SIZES) {
    const m = await measure(n);
    const pm = podnetMedian(m.podnet);
    const um = podnetMedian(m.unscoped);
    const nm = { ms: round(median(m.naive.map((x) => x.ms))) };
    const row: Row = {
      pods: n,
      podnet: { median: pm, commands: median(m.podnet.map((s) => s.commands)), shells: median(m.podnet.map((s) => s.shells)) },
      podnetUnscoped: { median: um, commands: median(m.unscoped.map((s) => s.commands)), shells: median(m.unscoped.map((s) => s.shells)), namespaces: median(m.unscoped.map((s) => s.namespaces)) },
      naive: { median: nm, processes: median(m.naive.map((s) => s.processes)) },
      ratio: { naiveOverPodnet: round(nm.ms / pm.ms), naiveOverUnscoped: round(nm.ms / um.ms) },
    };
    rows.push(row);
    results.push({
      ...row,
      podnet: { ...row.podnet, samples: m.podnet.map(roundPodnet) },
      podnetUnscoped: { ...row.podnetUnscoped, samples: m.unscoped.map(roundPodnet) },
      naive: { ...row.naive, samples: m.naive.map((s) => ({ ...s, ms: round(s.ms) })) },
    });
  }
  const cliHost = await inspectHostCli(tmp, guard, prefixesUsed, TARGET.pods, REPS);
  const at = rows.find((r) => r.pods === TARGET.pods);
  const measuredMs = at?.podnet.median.ms;
  const measuredRatio = at?.ratio.naiveOverPodnet;
  const met = measuredMs !== undefined && measuredRatio !== undefined && measuredMs < TARGET.maxMs && measuredRatio >= TARGET.minRatio;
  const out = {
    date: new Date().toISOString(),
    machine: { ...machineFacts(), loadavgBefore: loadBefore.map(round), loadavgAfter: os.loadavg().map(round) },
    quick: QUICK,
    repetitions: REPS,
    what: {
      podnet: 'identify(await scanHost(new ShellRunner(8), { host: netnsNamed(node), only: [node, ...pods] }), defaultEvidence(stateRoot)) then resolvePeers(snapshot); a fresh ShellRunner per sample',
      podnetUnscoped: 'the same without `only`: every namespace on the machine',
      naive: 'per namespace (node, then each pod) `ip -n NS -json -d link show`, `ip -n NS -json addr show`, `ip -n NS -json route show`, `ip -n NS -json neigh show`, plus `bridge -n NODE -json fdb show`; each an execFile awaited before the next; host veths found by parsing the link dumps',
      commands: 'podnet: commands the runner ran (plus `shells` persistent sh processes); naive: processes exec\'d',
    },
    results,
    target: { pods: TARGET.pods, maxMs: TARGET.maxMs, minRatio: TARGET.minRatio, measuredMs, measuredRatio, met },
    cliHost: { what: '`nsenter --net=NODE node bin/podnet.js inspect --host -o json`, a fresh process per run, on a node of reference-plugin pods', ...cliHost },
  };
  await ctx.write(out);
  console.log(table(rows));
  console.log(`\nCLI: podnet inspect --host -o json on ${cliHost.pods} reference pods, as a process: median ${cliHost.medianMs} ms (target < ${cliHost.target.maxMs} ms — ${cliHost.target.met ? 'met' : 'NOT met'})`);
  console.log(`\ntarget: ${TARGET.pods} pods inspected in < ${TARGET.maxMs} ms and ≥ ${TARGET.minRatio}× faster than the naive way: measured ${measuredMs} ms, ${measuredRatio}× — ${met ? 'met' : 'NOT met'}`);
});
