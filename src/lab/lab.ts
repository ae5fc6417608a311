// Apply: make a plan real, and take it down again. Namespaces for the underlay switch, the nodes and
// the pods; the underlay wired with veths; flannel's overlay from subnet leases (src/lab/cluster.ts);
// each pod attached exactly as K3s's containerd would (loopback, then the cbr0 conflist: flannel →
// bridge → host-local, portmap) through podnet's CNI plugins. A failed `up` unwinds.
import { mkdir } from 'node:fs/promises';
import { removeDir } from '../host/dirs.js';
import { join } from 'node:path';
import type { Host } from '../host/host.js';
import { lockFile } from '../host/lock.js';
import { pool } from '../host/pool.js';
import { netnsAdd, netnsDelete, netnsList, netnsNamed } from '../host/netns.js';
import { processStart, processStopAll, processesInNetns, netnsInode, processOwner } from '../host/process.js';
import { defaultRegistry, inProcessContext } from '../cni/context.js';
import { CniRuntime, type Attachment, type NetworkConfigList } from '../cni/runtime.js';
import { DiskStore } from '../cni/ipam/disk-store.js';
import { MemoryStore } from '../cni/ipam/memory-store.js';
import { parseRangeSets, planAllocations } from '../cni/ipam/allocator.js';
import { checkAgainstRoutes, parseTopology, type Topology } from '../model/topology.js';
import { routeFromJson } from '../model/kernel.js';
import { LOOPBACK_NETWORK, isPodNetnsOf, planPod, podNetwork, resolvePlan, type LabPlan, type NodePlan, type PodPlan, type RandomSource } from './plan.js';
import { flannelPodNetwork } from '../cni/install.js';
import { macFromBytes } from '../model/mac.js';
import { addIp, networkOf, parseCidr } from '../model/ip.js';
import {
  DEFAULT_TTL_S, controlPlaneIP, labConfig, etcdNetnsName, freeSubnet, inProcessAgent, openLabStore, startAgent, startEtcd, subnetFileOf,
  waitConverged, waitForSubnet, type OverlayState, type StoreChoice,
} from './cluster.js';
import type { NodeAgent } from '../overlay/agent.js';
import type { LeaseStore } from '../overlay/store.js';
import { LabDir, listLabDirs, type LabState, type PodState } from './state.js';
import { LabError } from './errors.js';

/** What lab operations need from their caller. */
export interface LabDeps {
  host: Host;
  stateRoot: string;
  random: RandomSource;
}

/** The long-running process each pod holds, so the pod can be found through /proc like a real one. */
export const PAUSE_ARGV = ['busybox', 'sleep', '2147483647'];
/** How many pods are attached at once (the node side of concurrent ADDs shares one batch). A dry run
 * goes one pod at a time, so its script reads (and replays) in a fixed order. */
const concurrency = (deps: LabDeps) => (deps.host.dryRun ? 1 : Number(process.env.PODNET_CONCURRENCY) || 64);

const now = () => new Date().toISOString();


/** Serialises commands on one lab across processes (two `lab up` of one name must not interleave). */
async function withLabLock<T>(deps: LabDeps, lab: string, fn: () => Promise<T>): Promise<T> {
  if (deps.host.dryRun) return fn();
  await mkdir(join(deps.stateRoot, '.locks'), { recursive: true, mode: 0o700 });
  const held = await lockFile(join(deps.stateRoot, '.locks', `${lab}.lock`), 120);
  try {
    return await fn();
  } finally {
    await held.release();
  }
}

/** A plan without its pods: what every pod operation needs to know about the lab. */
type LabShape = Omit<LabPlan, 'pods'>;

function nodeOf(plan: LabShape, name: string): NodePlan {
  const n = plan.nodes.find((x) => x.name === name);
  if (!n) throw new LabError(`unknown node "${name}" (nodes: ${plan.nodes.map((x) => x.name).join(', ')})`);
  return n;
}

/** How the lab attaches a pod: K8s's CNI_ARGS, plus the planned MAC and IP (MAC=, IP=) so the kernel
 * ends up exactly as `lab up --dry-run` showed, whatever order concurrent ADDs finish in. */
function attachment(p: PodPlan): Attachment {
  return {
    containerId: p.containerId, netns: `/run/netns/${p.netns}`, ifname: 'eth0',
    args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: p.name, K8S_POD_INFRA_CONTAINER_ID: p.containerId, MAC: p.mac, ...(p.ip ? { IP: p.ip } : {}) },
  };
}

/** The CNI runtime of one node: plugins run with the node's namespace as their host. */
function runtimeFor(deps: LabDeps, dir: LabDir, node: NodePlan): CniRuntime {
  const ctx = inProcessContext({ host: deps.host, hostNetns: netnsNamed(node.netns), dryRun: deps.host.dryRun, random: deps.random });
  return new CniRuntime(registry, ctx, dir.resultsDir(node.name), deps.host.dryRun);
}
const registry = defaultRegistry();

/** Predicts the IPs host-local will hand the next pods on a node (pure allocator over the current store). */
async function predictIps(dir: LabDir, node: NodePlan, count: number): Promise<string[]> {
  const sets = parseRangeSets({ ranges: [[{ subnet: node.podCIDR }]] });
  const snap = await MemoryStore.snapshotOf(new DiskStore(dir.ipamDir(node.name), 'cbr0'));
  const taken = (await snap.list()).map((e) => e.ip);
  const last = await snap.lastReservedIP(0);
  return planAllocations(sets, { lastReserved: [last], taken }, count).map((ips) => ips[0]);
}

/** Reads the machine's own routes (root namespace, read only) to refuse overlapping lab ranges. */
async function machineRoutes(deps: LabDeps): Promise<{ dst: string; dev?: string }[]> {
  const r = await deps.host.runner.run({ argv: ['ip', '-json', 'route', 'show', 'table', 'all'], mutates: false });
  if (r.exitCode !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as Record<string, unknown>[]).map(routeFromJson).filter((x) => x.dst && x.dst !== 'default');
}

/** How a lab keeps its leases (default: the file store). */
export interface LabUpOptions {
  store?: StoreChoice;
  /** Lease TTL of the agents of an etcd lab, seconds (flannel: 24 h). */
  leaseTtl?: number;
}

/** Brings a lab up from a validated topology. Returns the state written. */
export function labUp(deps: LabDeps, lab: string, topology: Topology, opts: LabUpOptions = {}): Promise<LabState> {
  return withLabLock(deps, lab, () => up(deps, lab, topology, opts));
}

async function up(deps: LabDeps, lab: string, topology: Topology, opts: LabUpOptions): Promise<LabState> {
  const dir = new LabDir(deps.stateRoot, lab);
  const existing = deps.host.dryRun ? undefined : await dir.read();
  if (existing?.status === 'up') throw new LabError(`lab "${lab}" is already up: use it, or run \`podnet lab down${lab === 'demo' ? '' : ` --name ${lab}`}\` first`);
  if (existing) throw new LabError(`lab "${lab}" was interrupted while ${existing.status === 'creating' ? 'coming up' : 'going down'}: run \`podnet lab down${lab === 'demo' ? '' : ` --name ${lab}`}\` to remove what is left`);
  if (!deps.host.dryRun) {
    const taken = (await netnsList(deps.host.runner)).filter((n) => n.startsWith(`podnet-${lab}-`) && (n.endsWith('-underlay') || n === etcdNetnsName(lab) || topology.nodes.some((x) => n === `podnet-${lab}-${x.name}`) || isPodNetnsOf(lab, n)));
    if (taken.length) throw new LabError(`namespaces of lab "${lab}" already exist (${taken[0]}…) without state: run \`podnet clean\` first`);
  }
  checkAgainstRoutes(topology, await machineRoutes(deps));
  const plan = resolvePlan(lab, topology, deps.random);
  const store = opts.store ?? { kind: 'file' };
  const overlay: OverlayState = {
    store: store.kind, agents: {}, ttlSeconds: store.kind === 'etcd' ? opts.leaseTtl ?? DEFAULT_TTL_S : 0,
    ...(store.kind === 'etcd' ? { endpoint: store.endpoint ?? `etcd://${controlPlaneIP(plan).split('/')[0]}:2379` } : {}),
  };
  const { pods: _p, ...planNoPods } = plan;
  const state: LabState = { version: 1, lab, status: 'creating', createdAt: now(), plan: planNoPods, overlay, pods: plan.pods.map((p) => ({ ...p, createdAt: now() })) };
  if (!deps.host.dryRun) await dir.write(state);
  try {
    const managedEtcd = store.kind === 'etcd' && !store.endpoint;
    await netnsAdd(deps.host.runner, [plan.underlay.netns, ...(managedEtcd ? [etcdNetnsName(lab)] : []), ...plan.nodes.map((n) => n.netns), ...plan.pods.map((p) => p.netns)]);
    await wireUnderlay(deps, plan, plan.nodes, managedEtcd ? { netns: etcdNetnsName(lab), ip: controlPlaneIP(plan) } : undefined);
    if (managedEtcd) {
      overlay.etcd = await startEtcd(deps, dir, lab, controlPlaneIP(plan));
      if (!deps.host.dryRun) await dir.write(state);
    }
    const pids = pool(plan.pods, concurrency(deps), (p) => processStart(deps.host.runner, netnsNamed(p.netns), PAUSE_ARGV, lab));
    pids.catch(() => undefined); // awaited below; a failure must not become an unhandled rejection meanwhile
    try {
      await startOverlay(deps, dir, state, plan.nodes);
    } catch (e) {
      await pids.catch(() => undefined);
      throw e;
    }
    for (const node of plan.nodes) {
      const pods = plan.pods.filter((p) => p.node === node.name);
      const ips = pods.length ? await predictIps(dir, node, pods.length) : [];
      pods.forEach((p, i) => { p.ip = ips[i]; });
    }
    // Per pod, as containerd does: the loopback network, then the pod network; pods overlap.
    const attached = await pool(plan.pods, concurrency(deps), (p) => attachPod(deps, dir, plan, nodeOf(plan, p.node), p))
      .finally(() => pids.catch(() => undefined));
    const started = await pids;
    state.pods = plan.pods.map((p, i) => ({ ...p, ...attached[i], pid: started[i], createdAt: now() }));
    state.status = 'up';
    if (!deps.host.dryRun) await dir.write(state);
    return state;
  } catch (err) {
    if (!deps.host.dryRun) await down(deps, lab).catch(() => undefined);
    throw err;
  }
}

/** The overlay for `nodes` (all of a new lab's, or one added later): leases, flannel.1, rules and
 * subnet.env on each, then every node (old ones too) programmed with every other node's lease.
 * Records each node's subnet and VTEP MAC in the state's plan. */
async function startOverlay(deps: LabDeps, dir: LabDir, state: LabState, nodes: NodePlan[]): Promise<void> {
  const o = state.overlay!;
  const store = await openLabStore(deps, dir, o);
  try {
    if (o.store === 'file') {
      const agents = await Promise.all(nodes.map(async (n) => {
        const agent = inProcessAgent(deps, dir, state.plan, n, store);
        await agent.setup();
        return { n, agent };
      }));
      for (const { n, agent } of agents) learnLease(n, agent.subnet!, agent.lease!.attrs.BackendData.VtepMAC);
      await converge(deps, dir, state, store, agents.map((x) => x.agent));
      return;
    }
    await store.putConfigIfAbsent(labConfig(state.plan));
    const pids = await Promise.all(nodes.map((n) => startAgent(deps, dir, state.lab, n, o)));
    nodes.forEach((n, i) => { o.agents[n.name] = pids[i]; });
    if (!deps.host.dryRun) await dir.write(state);
    const subnets = await Promise.all(nodes.map((n) => waitForSubnet(deps, dir, n.name)));
    const { leases } = deps.host.dryRun ? { leases: [] } : await store.list();
    nodes.forEach((n, i) => {
      const lease = leases.find((l) => l.attrs.PublicIP === n.ip.split('/')[0]);
      if (subnets[i]) learnLease(n, subnets[i], lease?.attrs.BackendData.VtepMAC ?? n.vtepMac);
    });
    await converge(deps, dir, state, store);
  } finally {
    await store.close();
  }
}

/** Brings every node of the lab to the store's leases. With the file store, in process: each node
 * reconciles (the agents in `ready` were just set up; the others take their own lease again first),
 * so new nodes learn the old and the old learn the new. With etcd, the agents do it by watching:
 * this waits until the kernel of every node shows it. */
async function converge(deps: LabDeps, dir: LabDir, state: LabState, store: LeaseStore, ready: readonly NodeAgent[] = []): Promise<void> {
  if (state.overlay?.store === 'etcd') return waitConverged(deps, state.plan.nodes, store);
  await Promise.all(state.plan.nodes.map(async (n) => {
    const agent = ready.find((a) => a.o.node === n.name) ?? inProcessAgent(deps, dir, state.plan, n, store);
    if (!agent.lease) await agent.acquire();
    await agent.reconcile();
  }));
}

/** The plan learns what the lease says: the node's subnet (cni0 gets its first address) and VTEP MAC. */
function learnLease(n: NodePlan, subnet: string, vtepMac: string): void {
  const c = parseCidr(subnet);
  n.podCIDR = subnet;
  n.bridgeIP = `${addIp(networkOf(c), 1)}/${c.prefix}`;
  n.vtepMac = vtepMac;
}

/** The underlay: a switch namespace with a bridge, a veth per node whose node end is the node's eth0
 * (and one for the control-plane namespace when the lab runs etcd). */
async function wireUnderlay(deps: LabDeps, plan: Pick<LabPlan, 'underlay'>, nodes: readonly NodePlan[], control?: { netns: string; ip: string }, createSwitch = true): Promise<void> {
  const u = plan.underlay;
  const sw = deps.host.net(netnsNamed(u.netns));
  const members = [...nodes.map((n) => ({ port: n.name, netns: n.netns, ip: n.ip })), ...(control ? [{ port: 'etcd', netns: control.netns, ip: control.ip }] : [])];
  (await sw.batch([
    ...(createSwitch ? [`link add ${u.bridge} type bridge`, `link set ${u.bridge} up`, `addr add ${u.gateway} dev ${u.bridge}`] : []),
    ...members.flatMap((m) => [
      `link add ${m.port} type veth peer name eth0 netns ${m.netns}`,
      `link set ${m.port} master ${u.bridge}`,
      `link set ${m.port} up`,
    ]),
  ])).ok();
  await Promise.all(members.map(async (m) => {
    (await deps.host.net(netnsNamed(m.netns)).configure([['net/ipv4/ip_forward', '1']], [
      'link set lo up',
      'link set eth0 up',
      `addr add ${m.ip} dev eth0`,
      `route add default via ${u.gateway.split('/')[0]} dev eth0`,
    ])).ok();
  }));
}

/** The pod network of a node: K3s's cbr0 conflist (flannel → bridge → host-local, then portmap),
 * reading the subnet.env the node's agent wrote. A dry run has no subnet.env to read, so it attaches
 * with the very bridge config flannel would delegate (the commands are the same). */
function nodeNetwork(deps: LabDeps, dir: LabDir, plan: Pick<LabPlan, 'mtu' | 'clusterCIDR'>, node: NodePlan): NetworkConfigList {
  if (deps.host.dryRun) return podNetwork(plan, node, dir.ipamDir(node.name));
  return flannelPodNetwork({ subnetFile: subnetFileOf(dir, node.name), dataDir: join(dir.nodeDir(node.name), 'cni', 'flannel'), ipamDataDir: dir.ipamDir(node.name) });
}

/** Attaches one pod as a runtime would: the loopback network, then cbr0. */
async function attachPod(deps: LabDeps, dir: LabDir, plan: LabShape, node: NodePlan, p: PodPlan): Promise<Pick<PodState, 'ip' | 'hostVeth'>> {
  const rt = runtimeFor(deps, dir, node);
  await rt.add(LOOPBACK_NETWORK, attachment(p));
  const result = await rt.add(nodeNetwork(deps, dir, plan, node), attachment(p));
  return {
    ip: result.ips?.[0]?.address,
    hostVeth: result.interfaces?.find((i) => i.name.startsWith('veth') && !i.sandbox)?.name,
  };
}

/** Takes a lab down: its processes, its namespaces (the veths and bridges go with them), CNI DEL for
 * every pod (IPAM released), its state. Works from partial state after a crash. Returns false when
 * there was nothing to remove. */
export function labDown(deps: LabDeps, lab: string): Promise<boolean> {
  return withLabLock(deps, lab, () => down(deps, lab));
}

async function down(deps: LabDeps, lab: string): Promise<boolean> {
  const dir = new LabDir(deps.stateRoot, lab);
  const state = await dir.read();
  const names = new Set<string>();
  if (state) {
    names.add(state.plan.underlay.netns);
    for (const n of state.plan.nodes) names.add(n.netns);
    for (const p of state.pods) names.add(p.netns);
  }
  for (const n of await netnsList(deps.host.runner)) if (isPodNetnsOf(lab, n) || n === `podnet-${lab}-underlay` || n === etcdNetnsName(lab)) names.add(n);
  if (!state && names.size === 0) {
    // Files without state (a crash before state.json was written) are still ours to remove.
    if (!deps.host.dryRun && (await deps.host.exists(dir.dir))) {
      await dir.remove();
      return true;
    }
    return false;
  }
  if (state && !deps.host.dryRun) await dir.write({ ...state, status: 'deleting' });

  const o = state?.overlay;
  await stopProcesses(deps, lab, [...names], [...(state?.pods.map((p) => p.pid ?? 0) ?? []), ...Object.values(o?.agents ?? {}), o?.etcd?.pid ?? 0]);
  if (o?.store === 'etcd' && !o.etcd && state) await releaseLeases(deps, dir, state, state.plan.nodes);
  await netnsDelete(deps.host.runner, [...names]);
  if (state) {
    // The namespaces are gone, as after a node crash: CNI DEL then only releases IPAM and caches.
    await pool(state.pods, concurrency(deps), async (p) => {
      const node = state.plan.nodes.find((n) => n.name === p.node);
      if (node) await runtimeFor(deps, dir, node).del(nodeNetwork(deps, dir, state.plan, node), attachment(p)).catch(() => undefined);
    });
  }
  if (!deps.host.dryRun) await dir.remove();
  return true;
}

/** Removes the leases of `nodes` from the lab's store (an etcd that outlives the lab; a node deleted). */
async function releaseLeases(deps: LabDeps, dir: LabDir, state: LabState, nodes: readonly NodePlan[]): Promise<void> {
  const store = await openLabStore(deps, dir, state.overlay);
  try {
    const { leases } = await store.list();
    const ips = new Set(nodes.map((n) => n.ip.split('/')[0]));
    for (const l of leases) if (ips.has(l.attrs.PublicIP)) await store.remove(l.subnet);
  } finally {
    await store.close();
  }
}

/** Stops podnet's processes in the given namespaces (by recorded PID, and any found through /proc). */
async function stopProcesses(deps: LabDeps, lab: string, netns: string[], pids: number[]): Promise<void> {
  if (deps.host.dryRun) {
    for (const pid of pids) if (pid > 0) await deps.host.runner.signal(pid, 'SIGTERM');
    return;
  }
  const inodes = new Set((await Promise.all(netns.map((n) => netnsInode(`/run/netns/${n}`)))).filter((x): x is number => x !== undefined));
  const found = (await processesInNetns(inodes)).map((p) => p.pid);
  await processStopAll(deps.host.runner, [...new Set([...pids.filter((p) => p > 0), ...found])], lab);
}

/** Adds a pod to a lab that is up. */
export function podRun(deps: LabDeps, lab: string, name: string, nodeName?: string): Promise<PodState> {
  return withLabLock(deps, lab, () => run(deps, lab, name, nodeName));
}

async function run(deps: LabDeps, lab: string, name: string, nodeName?: string): Promise<PodState> {
  const dir = new LabDir(deps.stateRoot, lab);
  const state = await requireUp(dir, lab);
  if (state.pods.some((p) => p.name === name)) throw new LabError(`pod "${name}" already exists in lab "${lab}"`);
  parseTopology({ pods: [{ name }] });
  const node = nodeOf(state.plan, nodeName ?? leastLoaded(state));
  const p = planPod(lab, name, node.name, deps.random);
  [p.ip] = await predictIps(dir, node, 1);
  const pod: PodState = { ...p, createdAt: now() };
  state.pods.push(pod);
  if (!deps.host.dryRun) await dir.write(state);
  try {
    await netnsAdd(deps.host.runner, [p.netns]);
    pod.pid = await processStart(deps.host.runner, netnsNamed(p.netns), PAUSE_ARGV, lab);
    Object.assign(pod, await attachPod(deps, dir, state.plan, node, p));
    if (!deps.host.dryRun) await dir.write(state);
    return pod;
  } catch (err) {
    if (!deps.host.dryRun) await remove(deps, lab, name).catch(() => undefined);
    throw err;
  }
}

function leastLoaded(state: LabState): string {
  const count = (n: string) => state.pods.filter((p) => p.node === n).length;
  return [...state.plan.nodes].sort((a, b) => count(a.name) - count(b.name))[0].name;
}

/** Removes one pod the way a runtime does: CNI DEL with the namespace still there, stop, namespace gone. */
export function podDelete(deps: LabDeps, lab: string, name: string): Promise<void> {
  return withLabLock(deps, lab, () => remove(deps, lab, name));
}

async function remove(deps: LabDeps, lab: string, name: string): Promise<void> {
  const dir = new LabDir(deps.stateRoot, lab);
  const state = await requireUp(dir, lab, true);
  const pod = state.pods.find((p) => p.name === name);
  if (!pod) throw new LabError(`unknown pod "${name}" in lab "${lab}" (pods: ${state.pods.map((p) => p.name).join(', ') || 'none'})`);
  const node = nodeOf(state.plan, pod.node);
  const rt = runtimeFor(deps, dir, node);
  await rt.del(nodeNetwork(deps, dir, state.plan, node), attachment(pod));
  await rt.del(LOOPBACK_NETWORK, attachment(pod));
  await stopProcesses(deps, lab, [pod.netns], [pod.pid ?? 0]);
  await netnsDelete(deps.host.runner, [pod.netns]);
  state.pods = state.pods.filter((p) => p.name !== name);
  if (!deps.host.dryRun) await dir.write(state);
}

/** Adds a node to a lab that is up: its namespace on the underlay, its lease, flannel.1, and every
 * node programmed with every other (with etcd: the running agents converge by watching). */
export function nodeAdd(deps: LabDeps, lab: string, name: string): Promise<NodePlan> {
  return withLabLock(deps, lab, () => addNode(deps, lab, name));
}

async function addNode(deps: LabDeps, lab: string, name: string): Promise<NodePlan> {
  const dir = new LabDir(deps.stateRoot, lab);
  const state = await requireUp(dir, lab);
  if (state.plan.nodes.some((n) => n.name === name)) throw new LabError(`node "${name}" already exists in lab "${lab}"`);
  parseTopology({ nodes: [{ name }] });
  const underlay = parseCidr(state.plan.underlay.cidr);
  const used = new Set([...state.plan.nodes.map((n) => n.ip.split('/')[0]), controlPlaneIP(state.plan).split('/')[0]]);
  let ip = '';
  for (let i = 2; i < 2 ** (32 - underlay.prefix) - 2 && !ip; i++) if (!used.has(addIp(networkOf(underlay), i))) ip = addIp(networkOf(underlay), i);
  if (!ip) throw new LabError(`the underlay ${state.plan.underlay.cidr} has no free address for another node`);
  const podCIDR = freeSubnet(state.plan);
  const node: NodePlan = { name, netns: `podnet-${lab}-${name}`, ip: `${ip}/${underlay.prefix}`, podCIDR, bridgeIP: '', vtepMac: macFromBytes(deps.random(6)) };
  learnLease(node, podCIDR, node.vtepMac);
  state.plan.nodes.push(node);
  if (!deps.host.dryRun) await dir.write(state);
  try {
    await netnsAdd(deps.host.runner, [node.netns]);
    await wireUnderlay(deps, state.plan, [node], undefined, false);
    await startOverlay(deps, dir, state, [node]);
    if (!deps.host.dryRun) await dir.write(state);
    return node;
  } catch (err) {
    if (!deps.host.dryRun) await deleteNode(deps, lab, name, true).catch(() => undefined);
    throw err;
  }
}

/** Removes a node: its pods (CNI DEL, as a drained node's runtime would), its agent, its lease, its
 * namespace; the other nodes drop their entries for it (with etcd: by watching the lease go). */
export function nodeDelete(deps: LabDeps, lab: string, name: string): Promise<void> {
  return withLabLock(deps, lab, () => deleteNode(deps, lab, name));
}

async function deleteNode(deps: LabDeps, lab: string, name: string, unwinding = false): Promise<void> {
  const dir = new LabDir(deps.stateRoot, lab);
  const state = await requireUp(dir, lab, unwinding);
  const node = nodeOf(state.plan, name);
  if (state.plan.nodes.length === 1) throw new LabError(`node "${name}" is the last node of lab "${lab}": run \`podnet lab down${lab === 'demo' ? '' : ` --name ${lab}`}\` instead`);
  const pods = state.pods.filter((p) => p.node === name);
  const rt = runtimeFor(deps, dir, node);
  for (const pod of pods) {
    await rt.del(nodeNetwork(deps, dir, state.plan, node), attachment(pod)).catch(() => undefined);
    await rt.del(LOOPBACK_NETWORK, attachment(pod)).catch(() => undefined);
  }
  const o = state.overlay;
  await stopProcesses(deps, lab, [node.netns, ...pods.map((p) => p.netns)], [...pods.map((p) => p.pid ?? 0), o?.agents[name] ?? 0]);
  await releaseLeases(deps, dir, state, [node]);
  await netnsDelete(deps.host.runner, [node.netns, ...pods.map((p) => p.netns)]);
  state.pods = state.pods.filter((p) => p.node !== name);
  state.plan.nodes = state.plan.nodes.filter((n) => n.name !== name);
  if (o) delete o.agents[name];
  if (!deps.host.dryRun) await dir.write(state);
  const store = await openLabStore(deps, dir, o);
  try {
    await converge(deps, dir, state, store);
  } finally {
    await store.close();
  }
  if (!deps.host.dryRun) await removeDir(dir.nodeDir(name));
}

/** The state of a lab that is up, or a LabError saying what to do. */
export async function requireUp(dir: LabDir, lab: string, allowPartial = false): Promise<LabState> {
  const state = await dir.read();
  if (!state) throw new LabError(`lab "${lab}" is not up: run \`podnet lab up${lab === 'demo' ? '' : ` --name ${lab}`}\``);
  if (state.status !== 'up' && !allowPartial) throw new LabError(`lab "${lab}" is ${state.status === 'creating' ? 'still coming up (or was interrupted)' : 'going down'}: run \`podnet lab down${lab === 'demo' ? '' : ` --name ${lab}`}\` to reset it`);
  return state;
}

/** Runs `argv` inside a pod's namespace with the terminal passed through; resolves with its exit code. */
export function podExecArgv(state: LabState, pod: string, argv: readonly string[]): string[] {
  const p = state.pods.find((x) => x.name === pod);
  if (!p) throw new LabError(`unknown pod "${pod}" in lab "${state.lab}" (pods: ${state.pods.map((x) => x.name).join(', ') || 'none'})`);
  return ['nsenter', `--net=/run/netns/${p.netns}`, '--', ...argv];
}

/** True when the process is still podnet's pause process for `lab`. */
export async function podRunning(lab: string, pod: PodState): Promise<boolean> {
  return pod.pid !== undefined && pod.pid > 0 && (await processOwner(pod.pid)) === lab;
}

/** Removes every podnet object found on the machine: processes and namespaces named `podnet-*`, and all lab state. */
export async function cleanAll(deps: LabDeps): Promise<{ netns: string[]; processes: number; labs: string[] }> {
  const labs = await listLabDirs(deps.stateRoot);
  const netns = (await netnsList(deps.host.runner)).filter((n) => n.startsWith('podnet-'));
  const inodes = new Set((await Promise.all(netns.map((n) => netnsInode(`/run/netns/${n}`)))).filter((x): x is number => x !== undefined));
  // Agents of a lab on an outside etcd live in podnet's own namespace: found by their recorded PIDs.
  const agents = (await Promise.all(labs.map(async (lab) => Object.values((await new LabDir(deps.stateRoot, lab).read().catch(() => undefined))?.overlay?.agents ?? {})))).flat();
  const procs = [...new Set([...(await processesInNetns(inodes)).map((p) => p.pid), ...agents])];
  const owners = await Promise.all(procs.map(async (pid) => ({ pid, owner: await processOwner(pid) })));
  const ours = owners.filter((o): o is { pid: number; owner: string } => o.owner !== undefined);
  for (const owner of new Set(ours.map((o) => o.owner))) await processStopAll(deps.host.runner, ours.filter((o) => o.owner === owner).map((o) => o.pid), owner);
  const stopped = ours.length;
  await netnsDelete(deps.host.runner, netns);
  for (const lab of labs) await new LabDir(deps.stateRoot, lab).remove();
  return { netns, processes: stopped, labs };
}

/** Raises when podnet is not root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN). */
export function requireRoot(verb: string): void {
  if (process.getuid?.() !== 0) throw new LabError(`podnet ${verb} needs root (it creates network namespaces): run it with sudo`);
}
