// Benchmark: the cluster DNS of a lab, queried from a pod with dnsperf (Debian's, run in the pod's
// network namespace through src/host) — through the kube-dns Service (10.43.0.10: kube-proxy's DNAT
// and conntrack on the way) vs. straight to the DNS pod's address, side by side in one run,
// alternating which goes first. Then the same load through the Service while Services are created and
// deleted (each change rewrites the records and has unbound reload them): how many queries are lost.
// Prints Markdown tables; writes bench/results/dns.json.
// Usage (root): `node dist/bench/dns.js [--quick]` (--quick: one 1-second run per path; writes nothing).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { processRun } from '../src/host/process.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import type { LabDeps } from '../src/lab/deps.js';
import { clusterDnsIP, DNS_POD } from '../src/lab/dns.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import { labNetns } from '../src/lab/names.js';
import { applyManifests, deleteManifests } from '../src/lab/services.js';
import type { ServiceManifest } from '../src/model/manifest.js';
import { defaultTopology, parseTopology } from '../src/model/topology.js';
import { exec, hex, labLeftovers, machineFacts, median, random, round, runBenchmark, sleep, type BenchContext } from './common.js';

/** Repetitions per path, seconds per dnsperf run, dnsperf's clients (sockets). */
const RUN = (quick: boolean) => (quick ? { reps: 1, seconds: 1 } : { reps: 9, seconds: 2 });
const CLIENTS = 4;
/** What dnsperf asks, round robin: a ClusterIP Service, the kube-dns Service, an SRV, an NXDOMAIN. */
const QUERIES = ['web.default.svc.cluster.local A', 'kube-dns.kube-system.svc.cluster.local A', '_http._tcp.web.default.svc.cluster.local SRV', 'nope.default.svc.cluster.local A'];

/** One dnsperf run. */
interface Sample { qps: number; avgLatencyMs: number; sent: number; lost: number }

const labs: string[] = [];

/** A ClusterIP Service with a named port (its records: A, PTR, SRV). */
const service = (name: string): ServiceManifest => ({
  kind: 'Service', name, namespace: 'default', type: 'ClusterIP', selector: { app: name }, externalTrafficPolicy: 'Cluster', sessionAffinity: 'None',
  ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
});

/** dnsperf's summary as numbers. */
export function parseDnsperf(out: string): Sample {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  return {
    qps: round(num(/Queries per second:\s+([\d.]+)/)), avgLatencyMs: round(num(/Average Latency \(s\):\s+([\d.]+)/) * 1000 * 1000) / 1000,
    sent: num(/Queries sent:\s+(\d+)/), lost: num(/Queries lost:\s+(\d+)/),
  };
}

/** Runs dnsperf in `netns` against `server` for `seconds`. Equivalent to:
 * `nsenter --net=/run/netns/NS dnsperf -s SERVER -d FILE -l SECONDS -c 4`. */
async function dnsperf(deps: LabDeps, netns: string, server: string, file: string, seconds: number): Promise<Sample> {
  const r = await processRun(deps.host.runner, labNetns(netns), ['dnsperf', '-s', server, '-d', file, '-l', String(seconds), '-c', String(CLIENTS)], { mutates: false });
  const s = parseDnsperf(r.stdout);
  if (r.exitCode !== 0 || Number.isNaN(s.qps)) throw new Error(`dnsperf -s ${server} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim()}`);
  return s;
}

/** The medians of some samples. */
const medians = (xs: readonly Sample[]) => ({ qps: round(median(xs.map((x) => x.qps))), avgLatencyMs: median(xs.map((x) => x.avgLatencyMs)), lost: xs.reduce((n, x) => n + x.lost, 0) });

/** Service vs. direct, alternating which goes first. */
async function sideBySide(ctx: BenchContext, deps: LabDeps, client: string, paths: Record<'service' | 'direct', string>, file: string) {
  const { reps, seconds } = RUN(ctx.quick);
  const samples: Record<'service' | 'direct', Sample[]> = { service: [], direct: [] };
  for (let i = 0; i < reps && !ctx.guard.interrupted; i++) {
    const order = (i % 2 === 0 ? ['service', 'direct'] : ['direct', 'service']) as ('service' | 'direct')[];
    for (const path of order) samples[path].push(await dnsperf(deps, client, paths[path], file, seconds));
  }
  return samples;
}

/** Load through the Service while Services come and go every 250 ms: the changes made, the queries lost. */
async function duringReloads(ctx: BenchContext, deps: LabDeps, lab: string, client: string, server: string, file: string) {
  const { seconds } = RUN(ctx.quick);
  let changes = 0;
  let stop = false;
  const churn = (async () => {
    await sleep(200);
    for (let i = 0; !stop && i < 100; i++) {
      const s = service(`churn${i % 3}`);
      await (i % 2 === 0 ? applyManifests(deps, lab, [s]) : deleteManifests(deps, lab, [service(`churn${(i - 1) % 3}`)]));
      changes++;
      await sleep(250);
    }
  })();
  const sample = await dnsperf(deps, client, server, file, seconds + 1).finally(() => { stop = true; });
  await churn;
  return { changes, ...sample };
}

await runBenchmark({
  name: 'dns', needsRoot: 'it creates network namespaces',
  check: async () => {
    for (const p of ['dnsperf', 'unbound']) if ((await exec(['sh', '-c', `command -v ${p}`])).code !== 0) return `the dns benchmark needs ${p} (apt-get install ${p}; npm run setup installs it)`;
    return undefined;
  },
  leftovers: () => labLeftovers(labs),
}, async (ctx) => {
  const runner = new ShellRunner();
  const deps: LabDeps = { host: new Host(runner), stateRoot: join(ctx.tmp, 'state'), random };
  const lab = `bdns${hex(3)}`;
  labs.push(lab);
  const file = join(ctx.tmp, 'queries.txt');
  await writeFile(file, `${QUERIES.join('\n')}\n`);
  try {
    return await ctx.guard.guarded(() => labDown(deps, lab), async () => {
      const state = await labUp(deps, lab, parseTopology(defaultTopology(1)), { dns: true });
      await applyManifests(deps, lab, [service('web')]);
      const client = state.pods.find((p) => p.name === 'pod1')?.netns ?? '';
      const paths = { service: clusterDnsIP(state), direct: state.pods.find((p) => p.name === DNS_POD)?.ip ?? '' };
      const samples = await sideBySide(ctx, deps, client, paths, file);
      const reload = await duringReloads(ctx, deps, lab, client, paths.service, file);
      const m = { service: medians(samples.service), direct: medians(samples.direct) };
      // Each repetition runs both paths back to back: the median of their ratios is less moved by
      // other load on the machine than the ratio of the medians.
      const ratio = Math.round(median(samples.service.map((x, i) => x.qps / samples.direct[i].qps)) * 100) / 100;
      console.log(`\n## DNS queries per second from a pod (dnsperf, ${CLIENTS} clients, ${RUN(ctx.quick).seconds} s × ${RUN(ctx.quick).reps} per path, medians)\n`);
      console.log('| path | queries/s | avg latency | lost |\n|---|---|---|---|');
      console.log(`| through the kube-dns Service (${paths.service}) | ${m.service.qps} | ${m.service.avgLatencyMs} ms | ${m.service.lost} |`);
      console.log(`| straight to the DNS pod (${paths.direct}) | ${m.direct.qps} | ${m.direct.avgLatencyMs} ms | ${m.direct.lost} |`);
      console.log(`\nService ÷ direct (median of each repetition's ratio): ${ratio}×. During ${reload.changes} Service changes (a reload each): ${reload.qps} queries/s, ${reload.lost} of ${reload.sent} lost.\n`);
      await ctx.write({ date: new Date().toISOString(), machine: machineFacts(), quick: ctx.quick, run: { ...RUN(ctx.quick), clients: CLIENTS, queries: QUERIES }, paths, samples, medians: m, ratio, duringReloads: reload });
      await labDown(deps, lab);
    });
  } finally {
    runner.close();
  }
});
