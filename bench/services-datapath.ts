// The data-path half of bench/services.ts, on a lab whose Services are programmed already: a client
// pod and a server pod on the same node, a Service in front of the server sorted last in
// KUBE-SERVICES (`zz/target`), then (1) TCP connections per second to its ClusterIP and straight to
// the pod (each connection's first packet walks the nat rules; conntrack does the rest), and (2) one
// iperf3 TCP stream to the ClusterIP and to the pod's own address.
import { podRun } from '../src/lab/pods.js';
import { applyManifests } from '../src/lab/services.js';
import type { LabDeps } from '../src/lab/deps.js';
import type { LabState } from '../src/lab/state.js';
import { exec, iperf, median, round, sleep } from './common.js';

/** A node script: accepts TCP connections and closes them at once (the server closes first, so the
 * client's ports never sit in TIME_WAIT). */
const ACCEPTOR = "require('net').createServer((s) => { s.on('error', () => {}); s.end(); }).listen(8080)";
/** A node script: sequential connections to ARGV ip:port for ARGV ms; prints how many completed. */
const CONNECTOR = `const net = require('net'); const [ip, port, ms] = process.argv.slice(1); const end = Date.now() + Number(ms); let n = 0;
const one = () => { if (Date.now() >= end) { console.log(n); return; } const s = net.connect(Number(port), ip);
  s.on('end', () => { n++; s.destroy(); one(); }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); s.resume(); };
one();`;

/** What the data path measured on one lab. */
export interface DataPathResult {
  services: number;
  connectsPerSecond: { clusterIP: number[]; podIP: number[] };
  /** The median of each repetition's ClusterIP ÷ pod IP (the two measured back to back). */
  connectRatio: number;
  iperfGbps?: { clusterIP: number[]; podIP: number[]; ratio: number };
}

const inNs = (ns: string, argv: readonly string[]) => ['nsenter', `--net=/run/netns/${ns}`, ...argv];

/** Adds the client and server pods and the target Service (a partial sync at the lab's size). */
export async function addTargets(deps: LabDeps, lab: string, withIperf: boolean): Promise<{ client: string; server: string; serverIP: string; clusterIP: string }> {
  const commands = [[process.execPath, '-e', ACCEPTOR], ...(withIperf ? [['iperf3', '-s', '-p', '5201']] : [])];
  const server = await podRun(deps, lab, 'zz-server', 'server', { namespace: 'zz', labels: { app: 'target' }, commands,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'iperf', containerPort: 5201, protocol: 'TCP' }] });
  const client = await podRun(deps, lab, 'zz-client', 'server', { namespace: 'zz' });
  await applyManifests(deps, lab, [{ kind: 'Service', name: 'target', namespace: 'zz', type: 'ClusterIP', selector: { app: 'target' }, externalTrafficPolicy: 'Cluster', sessionAffinity: 'None',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }, { name: 'iperf', protocol: 'TCP', port: 5201, targetPort: 'iperf' }] }]);
  await sleep(300); // the acceptor and iperf3 start listening
  return { client: client.netns, server: server.netns, serverIP: server.ip!, clusterIP: '' };
}

/** Connections per second from `ns` to ip:port over `ms`. */
async function connectRate(ns: string, ip: string, port: number, ms: number): Promise<number> {
  const r = await exec(inNs(ns, [process.execPath, '-e', CONNECTOR, ip, String(port), String(ms)]), '', undefined, ms + 20_000);
  if (r.code !== 0) throw new Error(`connect loop to ${ip}:${port}: ${r.stderr.trim()}`);
  return round(Number(r.stdout.trim()) / (ms / 1000));
}


/** Measures the data path on `lab` (its Services programmed): connect rates, and iperf3 when asked. */
export async function dataPath(deps: LabDeps, state: () => Promise<LabState>, lab: string, o: { reps: number; connectMs: number; iperfSeconds?: number }): Promise<DataPathResult> {
  const t = await addTargets(deps, lab, o.iperfSeconds !== undefined);
  const s = await state();
  t.clusterIP = s.services!.find((x) => x.namespace === 'zz' && x.name === 'target')!.clusterIP;
  const out: DataPathResult = { services: s.services!.length, connectsPerSecond: { clusterIP: [], podIP: [] }, connectRatio: 0 };
  const c = out.connectsPerSecond;
  for (let i = 0; i < o.reps; i++) {
    // Back to back, alternating which goes first: a busy machine's load drifts.
    const toService = () => connectRate(t.client, t.clusterIP, 80, o.connectMs);
    const toPod = () => connectRate(t.client, t.serverIP, 8080, o.connectMs);
    const podFirst = i % 2 === 1 ? await toPod() : undefined;
    c.clusterIP.push(await toService());
    c.podIP.push(podFirst ?? (await toPod()));
  }
  out.connectRatio = Math.round(100 * median(c.clusterIP.map((x, i) => x / c.podIP[i]))) / 100;
  if (o.iperfSeconds !== undefined) {
    const g = { clusterIP: [] as number[], podIP: [] as number[] };
    for (let i = 0; i < Math.min(o.reps, 5); i++) {
      g.clusterIP.push(await iperf(t.client, t.clusterIP, o.iperfSeconds));
      g.podIP.push(await iperf(t.client, t.serverIP, o.iperfSeconds));
    }
    out.iperfGbps = { ...g, ratio: Math.round(100 * median(g.clusterIP.map((x, i) => x / g.podIP[i]))) / 100 };
  }
  return out;
}
