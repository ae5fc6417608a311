// Benchmark: kube-proxy's rules in a lab, both modes, against the bare tools in the same run.
//   sync      — N Services (2 endpoints each) appear: podnet's time from "Services changed" to the
//               rules in the node's kernel (kube-proxy's syncer: endpoints, the transaction planned and
//               written, iptables-restore / nft -f; the DNS syncer is not timed) against the bare tool applying the very same
//               transaction text to a namespace holding the same rules before it (target: ≤ 1.3×;
//               nftables at 10,000 under 1 s); then one endpoint added at the largest N.
//   dataPath  — TCP connections/s to a ClusterIP (sorted last) at 10 and at the largest N Services,
//               iptables vs nftables, and to the pod directly; one iperf3 stream to the ClusterIP vs
//               the pod IP (target ≥ 0.95×). (./services-datapath.ts)
// Usage (root): `npm run bench:services`, or `node dist/bench/services.js [--quick]` (--quick: 10 and
// 1,000 Services, one repetition, short data-path runs; writes nothing). Writes bench/results/services.json.
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import type { LabDeps } from '../src/lab/deps.js';
import { proxyFiles, syncKubeProxy } from '../src/lab/proxy.js';
import { LabDir, type LabState } from '../src/lab/state.js';
import { labEndpoints } from '../src/lab/sync.js';
import { intToIp, ipToInt } from '../src/model/ip.js';
import type { Service } from '../src/model/k8s.js';
import type { ProxyMode } from '../src/model/kube-proxy/mode.js';
import { parseTopology } from '../src/model/topology.js';
import { QUICK, exec, hex, labLeftovers, machineFacts, median, random, round, runBenchmark, type BenchContext } from './common.js';
import { dataPath, type DataPathResult } from './services-datapath.js';

const MODES: ProxyMode[] = ['iptables', 'nftables'];
/** Sizes and repetitions (10,000 Services take the bare tools tens of seconds on this kernel). */
const SIZES: { n: number; reps: number }[] = QUICK ? [{ n: 10, reps: 1 }, { n: 1000, reps: 1 }] : [{ n: 10, reps: 7 }, { n: 1000, reps: 3 }, { n: 10000, reps: 1 }];
const LARGEST = SIZES[SIZES.length - 1].n;
const DATA = QUICK ? { reps: 1, connectMs: 1000, iperfSeconds: 2 } : { reps: 7, connectMs: 2000, iperfSeconds: 3 };
const TARGETS = { syncRatio: 1.3, nft10kMs: 1000, iperfRatio: 0.95 };
const CMD_MS = 600_000;

const labs: string[] = [];
const bareNs: string[] = [];
let ctx: BenchContext;

/** `n` Services in namespace `bench`, each with two endpoints given by hand (one said to be on this node). */
function benchServices(n: number, createdAt: string): Service[] {
  return Array.from({ length: n }, (_, i): Service => ({
    name: `svc${i}`, namespace: 'bench', type: 'ClusterIP', clusterIP: intToIp(ipToInt('10.43.1.0') + i), selector: {},
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }], externalTrafficPolicy: 'Cluster', sessionAffinity: 'None', createdAt,
    manualEndpoints: [0, 1].map((k) => ({ ip: `10.42.${100 + k}.${(i % 250) + 2}`, node: k ? 'elsewhere' : 'server', ports: [{ name: 'http', port: 8080 + Math.floor(i / 250), protocol: 'TCP' as const }] })),
  }));
}

/** A one-node lab in `mode` (kube-proxy synced with the default Services), its deps and files. */
async function newLab(mode: ProxyMode): Promise<{ deps: LabDeps; lab: string; dir: LabDir; rules: string }> {
  const lab = `bsvc${hex(3)}`;
  labs.push(lab);
  const deps: LabDeps = { host: new Host(new ShellRunner()), stateRoot: join(ctx.tmp, 'state'), random };
  await labUp(deps, lab, parseTopology({ nodes: [{ name: 'server' }], pods: [] }), { proxyMode: mode });
  const dir = new LabDir(deps.stateRoot, lab);
  return { deps, lab, dir, rules: proxyFiles(dir, 'server', mode).rules };
}

/** Applies a transaction file with the bare tool in `ns`; resolves with its wall time (ms). */
async function bare(mode: ProxyMode, ns: string, file: string): Promise<number> {
  const tool = mode === 'iptables' ? ['iptables-restore', '-w', '--noflush', file] : ['nft', '-f', file];
  const r = await exec(['nsenter', `--net=/run/netns/${ns}`, ...tool], '', undefined, CMD_MS);
  if (r.code !== 0) throw new Error(`${tool.join(' ')} in ${ns}: ${r.stderr.trim().slice(0, 300)}`);
  return r.ms;
}

/** Times podnet's sync of a change made by `change`; copies the transaction it wrote to `copy`. */
async function podnetSync(l: Awaited<ReturnType<typeof newLab>>, change: (s: LabState) => void, copy: string): Promise<number> {
  const state = (await l.dir.read())!;
  change(state);
  await l.dir.write(state);
  const t0 = performance.now();
  await syncKubeProxy(l.deps, l.dir, state, await labEndpoints(state));
  const ms = performance.now() - t0;
  await copyFile(l.rules, copy);
  return ms;
}

interface SyncSample { podnetMs: number; bareMs: number; incremental?: { podnetMs: number; bareMs: number } }

/** One sample at size n: a lab (podnet) and a bare namespace holding the lab's first rules (bare). */
async function syncSample(mode: ProxyMode, n: number, last: boolean): Promise<{ sample: SyncSample; data?: DataPathResult }> {
  const l = await newLab(mode);
  const ns = `pnbsvc${hex(3)}`;
  bareNs.push(ns);
  try {
    const base = join(ctx.tmp, `${l.lab}.base`);
    await copyFile(l.rules, base);
    const r = await exec(['ip', 'netns', 'add', ns]);
    if (r.code !== 0) throw new Error(r.stderr);
    await bare(mode, ns, base);
    const text = join(ctx.tmp, `${l.lab}.n`);
    const podnetMs = await podnetSync(l, (s) => { s.services = [...s.services!, ...benchServices(n, s.createdAt)]; }, text);
    const sample: SyncSample = { podnetMs: round(podnetMs), bareMs: round(await bare(mode, ns, text)) };
    if (n === LARGEST) {
      const inc = join(ctx.tmp, `${l.lab}.inc`);
      const incMs = await podnetSync(l, (s) => { s.services!.find((x) => x.name === 'svc7')!.manualEndpoints!.push({ ip: '10.42.102.9', node: 'elsewhere', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }); }, inc);
      sample.incremental = { podnetMs: round(incMs), bareMs: round(await bare(mode, ns, inc)) };
    }
    const wantData = last && (n === SIZES[0].n || n === LARGEST);
    const data = wantData ? await dataPath(l.deps, async () => (await l.dir.read())!, l.lab, { ...DATA, ...(n === SIZES[0].n ? {} : { iperfSeconds: undefined }) }) : undefined;
    return { sample, ...(data ? { data } : {}) };
  } finally {
    await labDown(l.deps, l.lab);
    await exec(['ip', 'netns', 'del', ns]);
  }
}

const ratio = (a: number, b: number) => Math.round((100 * a) / b) / 100;

await runBenchmark({
  name: 'services', needsRoot: 'it creates network namespaces',
  check: async () => ((await exec(['sh', '-c', 'for t in iperf3 nft iptables-restore; do command -v $t; done'])).stdout.trim().split('\n').length < 3 ? 'iperf3, nft and iptables-restore are needed (npm run setup)' : undefined),
  leftovers: () => labLeftovers(labs, ['pnbsvc']),
}, async (c) => {
  ctx = c;
  const sync: Record<string, Record<string, { samples: SyncSample[]; podnetMs: number; bareMs: number; ratio: number }>> = {};
  const data: Record<string, DataPathResult[]> = {};
  for (const mode of MODES) {
    sync[mode] = {};
    data[mode] = [];
    for (const { n, reps } of SIZES) {
      const samples: SyncSample[] = [];
      for (let i = 0; i < reps; i++) {
        const s = await ctx.guard.guarded(async () => undefined, () => syncSample(mode, n, i === reps - 1));
        samples.push(s.sample);
        if (s.data) data[mode].push(s.data);
      }
      const p = median(samples.map((s) => s.podnetMs));
      const b = median(samples.map((s) => s.bareMs));
      sync[mode][n] = { samples, podnetMs: round(p), bareMs: round(b), ratio: ratio(p, b) };
      console.log(`${mode} ${n} Services: podnet ${round(p)} ms, bare ${round(b)} ms (${ratio(p, b)}×)${samples[0].incremental ? `; +1 endpoint: podnet ${samples[0].incremental.podnetMs} ms, bare ${samples[0].incremental.bareMs} ms` : ''}`);
    }
    for (const d of data[mode]) console.log(`${mode} data path at ${d.services} Services: ${median(d.connectsPerSecond.clusterIP)} connects/s to the ClusterIP, ${median(d.connectsPerSecond.podIP)} to the pod (${d.connectRatio}×)${d.iperfGbps ? `; iperf3 ${median(d.iperfGbps.clusterIP)} vs ${median(d.iperfGbps.podIP)} Gbit/s (${d.iperfGbps.ratio}×)` : ''}`);
  }
  const worst = Math.max(...MODES.flatMap((m) => Object.values(sync[m]).map((s) => s.ratio)));
  const nft = sync.nftables[LARGEST]?.podnetMs ?? NaN;
  const iperfRatios = MODES.flatMap((m) => data[m].flatMap((d) => (d.iperfGbps ? [d.iperfGbps.ratio] : [])));
  const targets = {
    syncRatio: { what: 'podnet ÷ bare tool, worst size and mode', max: TARGETS.syncRatio, measured: worst, met: worst <= TARGETS.syncRatio },
    nft10k: { what: `nftables, ${LARGEST} Services, podnet ms`, max: TARGETS.nft10kMs, measured: nft, met: nft < TARGETS.nft10kMs },
    iperf: { what: 'iperf3 ClusterIP ÷ pod IP, worst mode', min: TARGETS.iperfRatio, measured: Math.min(...iperfRatios), met: Math.min(...iperfRatios) >= TARGETS.iperfRatio },
  };
  for (const t of Object.values(targets)) console.log(`target ${t.what}: ${t.measured} (${t.met ? 'met' : 'not met'})`);
  const kernel = (await readFile('/proc/version', 'utf8')).trim();
  await ctx.write({ machine: machineFacts(), kernel, sizes: SIZES, sync, dataPath: data, targets, at: new Date().toISOString() });
});
