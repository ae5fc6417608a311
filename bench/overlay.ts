// Benchmark (the overlay issue): podnet's multi-node lab against the same thing made without podnet,
// side by side in one run. Each measurement is one entry of MEASUREMENTS:
//   dataPath   — iperf3, one TCP stream, pod to pod: across nodes through podnet's flannel.1 vs. a
//                flannel configuration built by hand with plain `ip`/`bridge` commands (target:
//                podnet ≥ 0.95× the hand-built), the same with flannel's ip-masq nft rules added
//                (which podnet's lab has, as K3s does), and on one node pod → cni0 → pod vs. a raw veth;
//   labUpDown  — `lab up` / `lab down` of 3 nodes and 30 pods vs. the reference plugins with the
//                same overlay wired by hand.
//   convergence — `podnet node add` on an etcd lab: the new lease held → every node programmed
//                (target: under 1 s; absolute, there is no reference flannel to run beside it).
// Prints Markdown tables; writes bench/results/overlay.json.
// Usage (root): `npm run bench:overlay`, or `node dist/bench/overlay.js [--quick]` (--quick: one short
// iperf3 run per path and one lab of each kind; writes nothing).
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { Host } from '../src/host/host.js';
import { ShellRunner } from '../src/host/shell-runner.js';
import { processRunning } from '../src/host/process.js';
import { labUp } from '../src/lab/lifecycle.js';
import { labDown } from '../src/lab/down.js';
import { nodeAdd, nodeDelete } from '../src/lab/nodes.js';
import { type LabDeps } from '../src/lab/deps.js';
import { readFile } from 'node:fs/promises';
import { LOOPBACK_NETWORK, podNetwork, resolvePlan } from '../src/lab/plan.js';
import { parseTopology, type Topology } from '../src/model/topology.js';
import { QUICK, exec, hex, labLeftovers, machineFacts, median, random, round, runBenchmark, sleep, waitFor, type Exit, type Guard } from './common.js';
import { ReferenceRun, netnsNames } from './reference.js';

/** iperf3: `reps` runs per path of one TCP stream, `seconds` measured after `omit` seconds left out (slow start). */
const IPERF = QUICK ? { reps: 1, seconds: 1, omit: 0 } : { reps: 7, seconds: 3, omit: 1 };
const PORT = 5201;
/** The lab whose up and down are timed. */
const LAB_SIZE = { nodes: ['server', 'agent1', 'agent2'], pods: 30, reps: QUICK ? 1 : 5 };
/** From the issue: cross-node throughput through podnet's overlay at least 0.95× the hand-built one. */
const TARGET = { what: 'cross-node pod-to-pod TCP throughput, podnet ÷ hand-built flannel', min: 0.95 };
/** Every command but iperf3's client is bounded by this. */
const CMD_MS = 30_000;

/** The run's guard (undo actions for what is live, interrupted?) and temp dir, set by runBenchmark. */
let guard: Guard;
let tmp = '';
/** Everything this run creates, checked for leftovers at the end: lab names, namespace prefixes, PIDs. */
const made = { labs: [] as string[], prefixes: [] as string[], pids: [] as number[] };

// ---------------------------------------------------------------------------------------------
// Measurements: each returns its section of overlay.json, its lines for the console, and its target
// if the issue set one.

/** A target (a floor or a ceiling) and whether this run met it. */
interface Target { what: string; min?: number; max?: number; measured: number; met: boolean }
/** One measurement's results. */
interface Section { results: Record<string, unknown>; table: string[]; target?: Target }
/** One measurement: `key` names its section in overlay.json. */
interface Measurement { key: string; title: string; run: () => Promise<Section> }

const MEASUREMENTS: Measurement[] = [
  { key: 'dataPath', title: 'Data path: iperf3 pod to pod, podnet vs. hand-built', run: dataPath },
  { key: 'labUpDown', title: `lab up / lab down: ${LAB_SIZE.nodes.length} nodes, ${LAB_SIZE.pods} pods`, run: labUpDown },
  { key: 'convergence', title: `Convergence after \`podnet node add\` with etcd (${LAB_SIZE.nodes.length} nodes + 1)`, run: convergenceAfterNodeAdd },
];

// ---------------------------------------------------------------------------------------------
// Commands and namespaces.

/** Runs argv (bounded) and throws unless it exits 0; returns stdout. */
async function must(argv: readonly string[], input = ''): Promise<string> {
  const r = await exec(argv, input, undefined, CMD_MS);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** argv run inside namespace `ns`: `nsenter --net=/run/netns/NS ARGV…`. */
const inNs = (ns: string, argv: readonly (string | number)[]) => ['nsenter', `--net=/run/netns/${ns}`, ...argv.map(String)];
/** `ip -n NS -batch -`: the lines, in one process in one namespace. */
const ipBatch = (ns: string, lines: readonly string[]) => must(['ip', '-n', ns, '-batch', '-'], lines.map((l) => `${l}\n`).join(''));
/** `bridge -n NS -batch -`. */
const bridgeBatch = (ns: string, lines: readonly string[]) => must(['bridge', '-n', ns, '-batch', '-'], lines.map((l) => `${l}\n`).join(''));
/** A locally administered unicast MAC. */
const randomMac = () => `0e:${hex(5).replace(/(..)(?!$)/g, '$1:')}`;

/** Namespaces made with `ip netns add`, all named `<prefix><suffix>`. */
class BareNamespaces {
  constructor(readonly prefix: string) {
    made.prefixes.push(prefix);
  }

  /** `ip netns add <prefix><suffix>` for each suffix; returns the names. */
  async add(...suffixes: string[]): Promise<string[]> {
    const names = suffixes.map((s) => `${this.prefix}${s}`);
    for (const n of names) await must(['ip', 'netns', 'add', n]);
    return names;
  }

  /** Deletes every namespace under the prefix (their links go with them). */
  async removeAll(): Promise<void> {
    for (const n of (await netnsNames()).filter((x) => x.startsWith(this.prefix))) await exec(['ip', 'netns', 'del', n], '', undefined, CMD_MS);
  }
}

/** A node of a hand-wired overlay: namespace, underlay IP, pod subnet (10.42.X.0/24), VTEP MAC. */
interface HandNode { netns: string; ip: string; podCIDR: string; vtepMac: string }

/** Flannel's node state made by hand, with the commands a person would type: a switch namespace
 * with bridge sw0 and a veth per node (the node's eth0 on 203.0.113.0/24), ip_forward=1, flannel.1
 * (vxlan id 1, dstport 8472, nolearning, local = node IP, MTU 1450, address 10.42.X.0/32), and per
 * remote node a permanent neighbour, an FDB entry and an onlink route. */
async function wireFlannelByHand(sw: string, nodes: readonly HandNode[]): Promise<void> {
  const vtep = (n: HandNode) => n.podCIDR.split('/')[0];
  await ipBatch(sw, [
    'link add sw0 type bridge',
    'link set sw0 up',
    ...nodes.flatMap((n, i) => [`link add nd${i} type veth peer name eth0 netns ${n.netns}`, `link set nd${i} master sw0 up`]),
  ]);
  await Promise.all(nodes.map(async (n) => {
    const remotes = nodes.filter((r) => r !== n);
    await must(inNs(n.netns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']));
    await ipBatch(n.netns, [
      'link set lo up',
      'link set eth0 up',
      `addr add ${n.ip}/24 dev eth0`,
      `link add flannel.1 address ${n.vtepMac} mtu 1450 type vxlan id 1 local ${n.ip} dev eth0 dstport 8472 nolearning`,
      `addr add ${vtep(n)}/32 dev flannel.1`,
      'link set flannel.1 up',
      ...remotes.map((r) => `neigh replace ${vtep(r)} lladdr ${r.vtepMac} dev flannel.1 nud permanent`),
    ]);
    await bridgeBatch(n.netns, remotes.map((r) => `fdb append ${r.vtepMac} dev flannel.1 dst ${r.ip} self permanent`));
    await ipBatch(n.netns, remotes.map((r) => `route replace ${r.podCIDR} via ${vtep(r)} dev flannel.1 onlink`));
  }));
}

// ---------------------------------------------------------------------------------------------
// Data path.

/** A pod (or bare namespace) and the IPv4 address iperf3 binds to or connects to. */
interface Endpoint { netns: string; ip: string }
type PathKey = 'podnet' | 'handBuilt' | 'handBuiltMasq' | 'labSameNode' | 'rawVeth';
/** One path iperf3 measures; `vxlanNode`: the client's node, whose flannel.1 must carry the bytes. */
interface DataPath { key: PathKey; label: string; client: Endpoint; server: Endpoint; vxlanNode?: string }

/** flannel's `--ip-masq` rules (docs/facts.md#flannel) for a node with pod CIDR 10.42.X.0/24, in
 * nft: the masquerade chain on postrouting and the accept chain on forward. */
const flannelMasqRules = (podCIDR: string) => `table ip flannel {
  chain FLANNEL-POSTRTG {
    type nat hook postrouting priority srcnat; policy accept;
    meta mark & 0x4000 == 0x4000 return
    ip saddr ${podCIDR} ip daddr 10.42.0.0/16 return
    ip saddr 10.42.0.0/16 ip daddr ${podCIDR} return
    ip saddr != 10.42.0.0/16 ip daddr ${podCIDR} return
    ip saddr 10.42.0.0/16 ip daddr != 224.0.0.0/4 masquerade random,fully-random
    ip saddr != 10.42.0.0/16 ip daddr 10.42.0.0/16 masquerade random,fully-random
  }
  chain FLANNEL-FWD {
    type filter hook forward priority filter; policy accept;
    ip saddr 10.42.0.0/16 accept
    ip daddr 10.42.0.0/16 accept
  }
}
`;

/** Two nodes with one pod each, flannel-style, by hand: pod0 (10.42.0.2 on node0) and pod1 (10.42.1.2
 * on node1), namespaces named `<tag>…`; with `masq`, each node also gets flannel's `--ip-masq` rules. */
async function handBuiltPods(ns: BareNamespaces, tag: string, masq: boolean): Promise<{ client: Endpoint; server: Endpoint; clientNode: string }> {
  const [sw, node0, node1, pod0, pod1] = await ns.add(...['sw', 'node0', 'node1', 'pod0', 'pod1'].map((s) => `${tag}${s}`));
  const nodes: HandNode[] = [node0, node1].map((netns, i) => ({ netns, ip: `203.0.113.${2 + i}`, podCIDR: `10.42.${i}.0/24`, vtepMac: randomMac() }));
  await wireFlannelByHand(sw, nodes);
  if (masq) for (const n of nodes) await must(inNs(n.netns, ['nft', '-f', '-']), flannelMasqRules(n.podCIDR));
  const pods = [pod0, pod1];
  await Promise.all(nodes.map(async (n, i) => {
    await ipBatch(n.netns, [
      'link add cni0 type bridge',
      `addr add 10.42.${i}.1/24 dev cni0`,
      'link set cni0 up',
      `link add vethpod${i} mtu 1450 type veth peer name eth0 netns ${pods[i]}`,
      `link set vethpod${i} master cni0 up`,
    ]);
    await ipBatch(pods[i], ['link set lo up', 'link set eth0 mtu 1450 up', `addr add 10.42.${i}.2/24 dev eth0`, `route add default via 10.42.${i}.1`]);
  }));
  return { client: { netns: pod0, ip: '10.42.0.2' }, server: { netns: pod1, ip: '10.42.1.2' }, clientNode: node0 };
}

/** Two bare namespaces joined by one veth (MTU 1500): 10.42.200.1 and 10.42.200.2. */
async function rawVeth(ns: BareNamespaces): Promise<{ client: Endpoint; server: Endpoint }> {
  const [a, b] = await ns.add('rawa', 'rawb');
  await ipBatch(a, ['link set lo up', `link add eth0 type veth peer name eth0 netns ${b}`, 'addr add 10.42.200.1/24 dev eth0', 'link set eth0 up']);
  await ipBatch(b, ['link set lo up', 'addr add 10.42.200.2/24 dev eth0', 'link set eth0 up']);
  return { client: { netns: a, ip: '10.42.200.1' }, server: { netns: b, ip: '10.42.200.2' } };
}

/** An iperf3 server in the foreground, a child of this process, bound to one address; stopped by its PID. */
class IperfServer {
  private readonly stderr: Buffer[] = [];
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((r) => { child.on('exit', () => r()); child.on('error', () => r()); });
    child.stderr?.on('data', (b: Buffer) => this.stderr.push(b));
  }

  /** Starts `iperf3 -s -B IP -p PORT` inside the endpoint's namespace and waits until it listens. */
  static async start(at: Endpoint): Promise<IperfServer> {
    // nsenter execs iperf3 in its own place: the child's PID is iperf3's.
    const s = new IperfServer(spawn('nsenter', [`--net=/run/netns/${at.netns}`, 'iperf3', '-s', '-B', at.ip, '-p', String(PORT)], { stdio: ['ignore', 'ignore', 'pipe'] }));
    if (s.child.pid) made.pids.push(s.child.pid);
    const listening = await waitFor(async () => s.running() && (await exec(inNs(at.netns, ['ss', '-Hltn', `sport = :${PORT}`]), '', undefined, CMD_MS)).stdout.includes(`${at.ip}:${PORT}`), 5000, 50);
    if (!listening) {
      await s.stop();
      throw new Error(`iperf3 server on ${at.ip} in ${at.netns} did not start listening: ${Buffer.concat(s.stderr).toString().trim()}`);
    }
    return s;
  }

  private running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it is still there after 3 s; waits (bounded) for it to end. */
  async stop(): Promise<void> {
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      if (!this.running()) return;
      this.child.kill(sig);
      await Promise.race([this.exited, sleep(3000)]);
    }
  }
}

/** One iperf3 run. */
interface IperfSample {
  gbps: number;
  /** Payload bytes the client sent in the measured seconds. */
  bytes: number;
  retransmits: number;
  /** iperf3's own CPU utilization, % of one CPU's time over the run: client side and server side. */
  cpuClient: number;
  cpuServer: number;
  /** How many bytes flannel.1 on the client's node sent during the run (cross-node paths). */
  flannelTxBytes?: number;
  /** The 1-minute load average when the run ended (other work on the machine shows here). */
  load1: number;
}

interface IperfJson {
  error?: string;
  end?: {
    sum_sent?: { bytes: number; retransmits?: number };
    sum_received?: { bits_per_second: number };
    cpu_utilization_percent?: { host_total: number; remote_total: number };
  };
}

/** flannel.1's transmitted bytes in namespace `ns` (`ip -n NS -s -json link show flannel.1`). */
async function flannelTx(ns: string): Promise<number> {
  const [dev] = JSON.parse(await must(['ip', '-n', ns, '-s', '-json', 'link', 'show', 'flannel.1'])) as { stats64?: { tx?: { bytes?: number } } }[];
  const bytes = dev?.stats64?.tx?.bytes;
  if (typeof bytes !== 'number') throw new Error(`no tx byte counter for flannel.1 in ${ns}`);
  return bytes;
}

/** One TCP stream from the path's client to its server for `seconds` (after `omit`); fails loudly
 * when a cross-node path's bytes did not leave through flannel.1. */
async function iperf(path: DataPath, seconds: number, omit: number): Promise<IperfSample> {
  const before = path.vxlanNode ? await flannelTx(path.vxlanNode) : 0;
  const argv = inNs(path.client.netns, ['iperf3', '-c', path.server.ip, '-p', PORT, '-t', seconds, '-O', omit, '-J']);
  let r: Exit | undefined;
  // The server takes a moment between tests; a client that comes too early is told it is busy.
  for (let attempt = 0; attempt < 10; attempt++) {
    r = await exec(argv, '', undefined, (seconds + omit + 30) * 1000);
    if (r.code === 0 || !/busy/i.test(r.stdout + r.stderr)) break;
    await sleep(300);
  }
  const out = r!;
  let j: IperfJson = {};
  try { j = JSON.parse(out.stdout) as IperfJson; } catch { /* reported below */ }
  const end = j.end;
  if (out.code !== 0 || j.error || !end?.sum_sent || !end.sum_received) {
    throw new Error(`iperf3 ${path.label}: exited ${out.code}: ${j.error ?? (out.stderr.trim() || out.stdout.trim().slice(0, 300))}`);
  }
  const sample: IperfSample = {
    gbps: end.sum_received.bits_per_second / 1e9,
    bytes: end.sum_sent.bytes,
    retransmits: end.sum_sent.retransmits ?? 0,
    cpuClient: end.cpu_utilization_percent?.host_total ?? NaN,
    cpuServer: end.cpu_utilization_percent?.remote_total ?? NaN,
    load1: round(os.loadavg()[0]),
  };
  if (path.vxlanNode) {
    sample.flannelTxBytes = (await flannelTx(path.vxlanNode)) - before;
    // flannel.1 counts what it encapsulates: about the payload (a GSO packet's headers count once,
    // measured: 99.9% of iperf3's bytes); much less means the stream took another way.
    if (sample.flannelTxBytes < 0.9 * sample.bytes) {
      throw new Error(`${path.label}: flannel.1 in ${path.vxlanNode} sent ${sample.flannelTxBytes} bytes while iperf3 sent ${sample.bytes}: the traffic did not cross the overlay`);
    }
  }
  return sample;
}

/** Calls `fn` once; later calls get the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** The two-node lab the data path runs on: pod1 and pod3 on `server`, pod2 on `agent1`. */
const DATA_LAB: Topology = parseTopology({
  nodes: [{ name: 'server' }, { name: 'agent1' }],
  pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'agent1' }, { name: 'pod3', node: 'server' }],
});

/** iperf3 on five paths, interleaved (the order rotates every repetition, so drift hits all alike). */
async function dataPath(): Promise<Section> {
  const ns = new BareNamespaces(`pnbov${hex(3)}-`);
  const runner = new ShellRunner();
  const deps: LabDeps = { host: new Host(runner), stateRoot: join(tmp, 'state-data'), random };
  const lab = `ovd${hex(2)}`;
  made.labs.push(lab);
  const servers: IperfServer[] = [];
  const undo = once(async () => {
    for (const s of servers) await s.stop();
    await labDown(deps, lab).catch((e: unknown) => console.error(`lab down ${lab} failed: ${(e as Error).message}`));
    await ns.removeAll();
    runner.close();
  });
  return guard.guarded(undo, async () => {
    try {
      console.error('setting up: podnet lab (2 nodes, 3 pods), hand-built flannel without and with ip-masq rules (2 nodes, 2 pods each), raw veth');
      const state = await labUp(deps, lab, DATA_LAB);
      const pod = (name: string): Endpoint => {
        const p = state.pods.find((x) => x.name === name);
        if (!p?.ip) throw new Error(`lab ${lab}: ${name} has no IP`);
        return { netns: p.netns, ip: p.ip.split('/')[0] };
      };
      const serverNode = state.plan.nodes.find((n) => n.name === 'server')!.netns;
      const hand = await handBuiltPods(ns, 'hb-', false);
      const handMasq = await handBuiltPods(ns, 'hm-', true);
      const raw = await rawVeth(ns);
      const paths: DataPath[] = [
        { key: 'podnet', label: 'cross-node, podnet lab (pod1@server → pod2@agent1)', client: pod('pod1'), server: pod('pod2'), vxlanNode: serverNode },
        { key: 'handBuilt', label: 'cross-node, hand-built flannel (pod0@node0 → pod1@node1)', client: hand.client, server: hand.server, vxlanNode: hand.clientNode },
        { key: 'handBuiltMasq', label: 'cross-node, hand-built flannel + flannel\'s ip-masq nft rules', client: handMasq.client, server: handMasq.server, vxlanNode: handMasq.clientNode },
        { key: 'labSameNode', label: 'same node, podnet lab (pod1 → cni0 → pod3, MTU 1450)', client: pod('pod1'), server: pod('pod3') },
        { key: 'rawVeth', label: 'raw veth between two bare namespaces (MTU 1500)', client: raw.client, server: raw.server },
      ];
      for (const p of paths) servers.push(await IperfServer.start(p.server));
      console.error('warm-up: one unrecorded 1 s run per path');
      for (const p of paths) await iperf(p, 1, 0);
      const samples = Object.fromEntries(paths.map((p) => [p.key, [] as IperfSample[]])) as Record<PathKey, IperfSample[]>;
      for (let r = 0; r < IPERF.reps; r++) {
        if (guard.interrupted) throw new Error('interrupted');
        const order = paths.map((_, i) => paths[(r + i) % paths.length]);
        console.error(`repetition ${r + 1}/${IPERF.reps}: ${order.map((p) => p.key).join(', ')}`);
        for (const p of order) samples[p.key].push(await iperf(p, IPERF.seconds, IPERF.omit));
      }
      return dataPathSection(paths, samples);
    } finally {
      await undo();
    }
  });
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Medians, spread and ratios of the data path, and its target. */
function dataPathSection(paths: readonly DataPath[], samples: Record<PathKey, IperfSample[]>): Section {
  const stat = (xs: readonly number[]) => ({ median: r2(median(xs)), min: r2(Math.min(...xs)), max: r2(Math.max(...xs)) });
  const summary = (p: DataPath) => {
    const s = samples[p.key];
    return {
      what: p.label,
      gbps: stat(s.map((x) => x.gbps)),
      retransmits: median(s.map((x) => x.retransmits)),
      cpuPercent: { client: round(median(s.map((x) => x.cpuClient))), server: round(median(s.map((x) => x.cpuServer))) },
      samples: s.map((x) => ({ ...x, gbps: r2(x.gbps), cpuClient: round(x.cpuClient), cpuServer: round(x.cpuServer) })),
    };
  };
  const per = Object.fromEntries(paths.map((p) => [p.key, summary(p)])) as Record<PathKey, ReturnType<typeof summary>>;
  // Ratio of the medians, and the spread of the ratios of runs made back to back (same repetition).
  const ratio = (a: PathKey, b: PathKey) => {
    const paired = samples[a].map((x, i) => x.gbps / samples[b][i].gbps);
    return { ofMedians: r2(median(samples[a].map((x) => x.gbps)) / median(samples[b].map((x) => x.gbps))), paired: stat(paired) };
  };
  const crossNode = ratio('podnet', 'handBuilt');
  const podnetOverMasq = ratio('podnet', 'handBuiltMasq');
  const masqCost = ratio('handBuiltMasq', 'handBuilt');
  const sameNode = ratio('labSameNode', 'rawVeth');
  const target: Target = { what: TARGET.what, min: TARGET.min, measured: crossNode.ofMedians, met: crossNode.ofMedians >= TARGET.min };
  const row = (k: PathKey) => `| ${per[k].what} | **${per[k].gbps.median}** (${per[k].gbps.min}–${per[k].gbps.max}) | ${per[k].retransmits} | ${per[k].cpuPercent.client} / ${per[k].cpuPercent.server} |`;
  return {
    results: {
      method: `iperf3 ${IPERF.reps} × ${IPERF.seconds} s (after ${IPERF.omit} s omitted), one TCP stream, client \`nsenter --net=/run/netns/CLIENT iperf3 -c SERVER_IP -p ${PORT} -t ${IPERF.seconds} -O ${IPERF.omit} -J\`, server \`iperf3 -s -B SERVER_IP\` in the server pod; paths interleaved, order rotating; Gbit/s = receiver side; offloads as the kernel sets them`,
      paths: per,
      ratios: { crossNodePodnetOverHandBuilt: crossNode, crossNodePodnetOverHandBuiltMasq: podnetOverMasq, handBuiltMasqOverHandBuilt: masqCost, sameNodeLabOverRawVeth: sameNode },
    },
    table: [
      '| path | Gbit/s median (min–max) | retransmits (median) | iperf3 CPU % client / server |',
      '|---|---|---|---|',
      ...paths.map((p) => row(p.key)),
      '',
      `cross node: podnet ÷ hand-built = **${crossNode.ofMedians}×** (runs of one repetition paired: median ${crossNode.paired.median}×, ${crossNode.paired.min}–${crossNode.paired.max}×)`,
      `cross node: podnet ÷ hand-built with flannel's ip-masq rules = ${podnetOverMasq.ofMedians}× (paired median ${podnetOverMasq.paired.median}×); those rules alone: hand-built with ÷ without = ${masqCost.ofMedians}× (paired median ${masqCost.paired.median}×)`,
      `same node: lab pod → cni0 → pod ÷ raw veth = **${sameNode.ofMedians}×** (paired: median ${sameNode.paired.median}×, ${sameNode.paired.min}–${sameNode.paired.max}×)`,
    ],
    target,
  };
}

// ---------------------------------------------------------------------------------------------
// lab up / lab down at 3 nodes × 30 pods.

/** Up, down and total wall time, in ms. */
interface Sample { up: number; down: number; total: number }

const LAB_TOPOLOGY: Topology = parseTopology({ nodes: LAB_SIZE.nodes.map((name) => ({ name })), pods: Array.from({ length: LAB_SIZE.pods }, (_, i) => ({ name: `pod${i + 1}` })) });

/** podnet in process, as `podnet lab up` / `lab down` run it (commands through persistent shells). */
async function podnetLabSample(): Promise<Sample> {
  const runner = new ShellRunner();
  const deps: LabDeps = { host: new Host(runner), stateRoot: join(tmp, 'state-size'), random };
  const lab = `ovb${hex(2)}`;
  made.labs.push(lab);
  try {
    return await guard.guarded(() => labDown(deps, lab), async () => {
      const t0 = performance.now();
      await labUp(deps, lab, LAB_TOPOLOGY);
      const t1 = performance.now();
      await labDown(deps, lab);
      const t2 = performance.now();
      return { up: t1 - t0, down: t2 - t1, total: t2 - t0 };
    });
  } finally {
    runner.close();
  }
}

/** The reference: per node a ReferenceRun (node namespace, then per pod netns + loopback ADD + bridge
 * ADD with the Debian plugins, pods one by one; the nodes at once, as three kubelets would), then the
 * underlay and flannel's overlay wired by hand (wireFlannelByHand). Down: per node the plugins' DEL
 * and `ip netns del` per pod, then the node; then the switch. */
async function referenceLabSample(): Promise<Sample> {
  const ns = new BareNamespaces(`pnbref${hex(3)}-`);
  const plan = resolvePlan('refbench', LAB_TOPOLOGY, random);
  const nodes = plan.nodes.map((n, i) => ({
    plan: n,
    pods: plan.pods.filter((p) => p.node === n.name).length,
    // ReferenceRun names its node namespace `<its prefix>node`.
    run: new ReferenceRun(`${ns.prefix}${n.name}-`, podNetwork(plan, n, join(tmp, ns.prefix, n.name)), LOOPBACK_NETWORK),
    hand: { netns: `${ns.prefix}${n.name}-node`, ip: `203.0.113.${2 + i}`, podCIDR: n.podCIDR, vtepMac: randomMac() },
  }));
  const undo = async () => {
    for (const n of nodes) await n.run.cleanup();
    await ns.removeAll();
  };
  return guard.guarded(undo, async () => {
    const t0 = performance.now();
    const results = await Promise.all(nodes.map((n) => n.run.up(n.pods)));
    const [sw] = await ns.add('sw');
    await wireFlannelByHand(sw, nodes.map((n) => n.hand));
    const t1 = performance.now();
    await Promise.all(nodes.map((n, i) => n.run.down(results[i])));
    await ns.removeAll();
    const t2 = performance.now();
    return { up: t1 - t0, down: t2 - t1, total: t2 - t0 };
  });
}

async function labUpDown(): Promise<Section> {
  console.error('warm-up: one unrecorded lab of each kind');
  await podnetLabSample();
  await referenceLabSample();
  const podnet: Sample[] = [];
  const reference: Sample[] = [];
  for (let r = 0; r < LAB_SIZE.reps; r++) {
    console.error(`lab repetition ${r + 1}/${LAB_SIZE.reps}`);
    // Alternate which goes first, so drift in the machine hits both alike.
    if (r % 2 === 0) { podnet.push(await podnetLabSample()); reference.push(await referenceLabSample()); }
    else { reference.push(await referenceLabSample()); podnet.push(await podnetLabSample()); }
  }
  const med = (xs: readonly Sample[]): Sample => ({ up: round(median(xs.map((x) => x.up))), down: round(median(xs.map((x) => x.down))), total: round(median(xs.map((x) => x.total))) });
  const rs = (s: Sample): Sample => ({ up: round(s.up), down: round(s.down), total: round(s.total) });
  const pm = med(podnet);
  const ref = med(reference);
  const ratio = { up: r2(ref.up / pm.up), down: r2(ref.down / pm.down), total: r2(ref.total / pm.total) };
  const f = (s: Sample) => `${s.up} / ${s.down} / ${s.total}`;
  return {
    results: {
      topology: `${LAB_SIZE.nodes.length} nodes (${LAB_SIZE.nodes.join(', ')}), ${LAB_SIZE.pods} pods spread over them (${LAB_SIZE.pods / LAB_SIZE.nodes.length} per node)`,
      repetitions: LAB_SIZE.reps,
      podnet: { what: 'labUp then labDown in process (ShellRunner), fresh lab name and state root', medianMs: pm, samples: podnet.map(rs) },
      reference: { what: 'per node, at once: ReferenceRun.up (Debian loopback + bridge + host-local, pods one by one, no pause process), then switch + underlay + flannel.1/neigh/fdb/routes by hand (ip/bridge -batch per namespace); down: ReferenceRun.down per node, then the switch', medianMs: ref, samples: reference.map(rs) },
      ratio: { what: 'reference ÷ podnet', ...ratio },
    },
    table: [
      '| lab of 3 nodes × 30 pods | up ms | down ms | total ms |',
      '|---|---|---|---|',
      `| podnet (labUp / labDown) | ${pm.up} | ${pm.down} | ${pm.total} |`,
      `| reference plugins + overlay by hand | ${ref.up} | ${ref.down} | ${ref.total} |`,
      `| reference ÷ podnet | ${ratio.up}× | ${ratio.down}× | **${ratio.total}×** |`,
      '',
      `(median of ${LAB_SIZE.reps}: ${f(pm)} vs ${f(ref)})`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Convergence after `podnet node add` on an etcd lab: each agent runs as its own process in its node's
// namespace and logs every change with a millisecond timestamp. Convergence = from the moment the new
// node's agent holds its lease to the last `route replace` for it on the old nodes (and the new
// node's own routes to them): the time flannel's watch-and-reconcile takes to spread one lease. The
// kernel is checked afterwards (every node routes to every other). `total` is the whole `node add`:
// namespace, underlay port, a new agent process (Node + the etcd client start), lease, convergence.
// There is no reference flannel on Debian to run beside it: the target (under 1 s) is absolute.

const CONVERGE = { rounds: QUICK ? 2 : 7, targetMs: 1000 };

/** Timestamps (ms since the epoch) of the agent log lines of `node` that match `pattern`. */
async function logTimes(stateRoot: string, lab: string, node: string, pattern: RegExp): Promise<number[]> {
  const text = await readFile(join(stateRoot, lab, 'nodes', node, 'agent.log'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => pattern.test(l)).map((l) => Date.parse(l.slice(0, l.indexOf(' '))));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function convergenceAfterNodeAdd(): Promise<Section> {
  const runner = new ShellRunner();
  const stateRoot = join(tmp, 'state-converge');
  const deps: LabDeps = { host: new Host(runner), stateRoot, random };
  const lab = `ovc${hex(2)}`;
  made.labs.push(lab);
  try {
    return await guard.guarded(() => labDown(deps, lab), async () => {
      await labUp(deps, lab, parseTopology({ nodes: LAB_SIZE.nodes.map((name) => ({ name })) }), { store: { kind: 'etcd' } });
      const samples: { convergeMs: number; totalMs: number }[] = [];
      for (let r = 0; r < CONVERGE.rounds; r++) {
        if (guard.interrupted) throw new Error('interrupted');
        const name = `new${r}`;
        const t0 = performance.now();
        const node = await nodeAdd(deps, lab, name);
        const totalMs = performance.now() - t0;
        const subnet = escape(node.podCIDR);
        const [acquired] = await logTimes(stateRoot, lab, name, new RegExp(` acquired lease ${subnet} `));
        const spread = await Promise.all(LAB_SIZE.nodes.map((n) => logTimes(stateRoot, lab, n, new RegExp(`route replace ${subnet} via`))));
        const own = await logTimes(stateRoot, lab, name, /route replace /);
        if (acquired === undefined || spread.some((t) => t.length === 0) || own.length < LAB_SIZE.nodes.length) throw new Error(`round ${r}: the agents' logs do not show ${name}'s lease spreading (see ${join(stateRoot, lab, 'nodes')})`);
        for (const n of LAB_SIZE.nodes) {
          const routes = await must(['ip', '-n', `podnet-${lab}-${n}`, '-json', 'route', 'show', node.podCIDR]);
          if (!routes.includes('flannel.1')) throw new Error(`round ${r}: ${n} has no route to ${node.podCIDR} through flannel.1`);
        }
        samples.push({ convergeMs: Math.max(...spread.map((t) => Math.max(...t)), ...own) - acquired, totalMs });
        await nodeDelete(deps, lab, name);
      }
      await labDown(deps, lab);
      const converge = round(median(samples.map((x) => x.convergeMs)));
      const total = round(median(samples.map((x) => x.totalMs)));
      const target: Target = { what: 'all nodes converged after node add with etcd, ms (lease held → last route programmed)', max: CONVERGE.targetMs, measured: converge, met: converge < CONVERGE.targetMs };
      return {
        results: {
          what: `etcd lab of ${LAB_SIZE.nodes.length} nodes, agents as processes in their node namespaces; per round \`nodeAdd\` of one node, then \`nodeDelete\``,
          rounds: CONVERGE.rounds,
          medianMs: { converge, nodeAddTotal: total },
          samples: samples.map((x) => ({ convergeMs: round(x.convergeMs), totalMs: round(x.totalMs) })),
        },
        table: [
          '| node add with etcd | median ms | min–max ms |',
          '|---|---|---|',
          `| convergence: new lease held → every node programmed | **${converge}** | ${round(Math.min(...samples.map((x) => x.convergeMs)))}–${round(Math.max(...samples.map((x) => x.convergeMs)))} |`,
          `| whole \`node add\` (namespace, agent process start, lease, convergence) | ${total} | ${round(Math.min(...samples.map((x) => x.totalMs)))}–${round(Math.max(...samples.map((x) => x.totalMs)))} |`,
        ],
        target,
      };
    });
  } finally {
    runner.close();
  }
}

// ---------------------------------------------------------------------------------------------

/** Namespaces and processes this run made that are still there (should be none). */
async function leftovers(): Promise<string[]> {
  const iperfs = (await Promise.all(made.pids.map(async (pid) => ((await processRunning(pid)) ? `iperf3 pid ${pid}` : '')))).filter(Boolean);
  return [...(await labLeftovers(made.labs, made.prefixes)), ...iperfs];
}

/** The iperf3 version line, or undefined when iperf3 cannot run. */
let iperf3Version: string | undefined;

/** Runs every measurement and writes the results. */
await runBenchmark({
  name: 'overlay',
  needsRoot: 'it creates network namespaces',
  async check() {
    const version = await exec(['iperf3', '--version'], '', undefined, CMD_MS).catch(() => undefined);
    iperf3Version = version?.code === 0 ? version.stdout.split('\n')[0].trim() : undefined;
    return iperf3Version === undefined ? 'iperf3 is missing: install it (`npm run setup` does)' : undefined;
  },
  leftovers,
}, async (ctx) => {
  ({ guard, tmp } = ctx);
  const loadBefore = os.loadavg();
  const sections: Record<string, Section & { loadavg: { before: number[]; after: number[] } }> = {};
  for (const m of MEASUREMENTS) {
    if (guard.interrupted) throw new Error('interrupted');
    console.error(`\n== ${m.title}`);
    const before = os.loadavg().map(round);
    const s = await m.run();
    sections[m.key] = { ...s, loadavg: { before, after: os.loadavg().map(round) } };
  }
  const targets = Object.values(sections).flatMap((s) => (s.target ? [s.target] : []));
  const out = {
    date: new Date().toISOString(),
    machine: { ...machineFacts(), iperf3: iperf3Version, loadavgBefore: loadBefore.map(round), loadavgAfter: os.loadavg().map(round) },
    quick: QUICK,
    results: Object.fromEntries(Object.entries(sections).map(([k, s]) => [k, { ...s.results, loadavg: s.loadavg }])),
    targets,
    met: targets.every((t) => t.met),
  };
  for (const m of MEASUREMENTS) console.log(`\n### ${m.title}\n\n${sections[m.key].table.join('\n')}`);
  console.log(`\nload average: ${out.machine.loadavgBefore.join(' ')} before, ${out.machine.loadavgAfter.join(' ')} after`);
  for (const t of targets) console.log(`target: ${t.what} ${t.min !== undefined ? `≥ ${t.min}` : `≤ ${t.max}`}: measured ${t.measured} — ${t.met ? 'met' : 'NOT met'}`);
  await ctx.write(out);
});
