// A lab's life: up (namespaces for the underlay switch, the nodes and the pods; the underlay wired;
// flannel's overlay from subnet leases; each pod attached exactly as K3s's containerd would) and
// down (processes, namespaces, CNI DEL for IPAM, files). A failed `up` unwinds; `down` works from
// partial state after a crash.
import { pool } from '../host/pool.js';
import { netnsAdd } from '../host/netns.js';
import { helpersCool, helpersWarm, pauseStartAll } from '../host/process.js';
import { UserError } from '../model/errors.js';
import { TopologyError } from '../model/names.js';
import { addressOf } from '../model/ip.js';
import type { Topology } from '../model/topology.js';
import { FLANNEL_LEASE_TTL_S } from '../model/k3s.js';
import { checkpoint, concurrency, now, type LabDeps } from './deps.js';
import { resolvePlan, type NodePlan } from './plan.js';
import { etcdNetnsName, labFlag, labNetns } from './names.js';
export { requireUp } from './state.js';
import { controlPlaneIP, startEtcd, type StoreChoice } from './cluster.js';
import { startOverlay } from './overlay.js';
import { wireUnderlay, checkMachineRoutes } from './underlay.js';
import { attachPod, predictIps } from './attach.js';
import { withLabLock } from './lock.js';
import { LabDir, type LabState, type OverlayState, type PodState } from './state.js';
import { labNamespacesInKernel } from './owned.js';
import { down } from './down.js';
import { defaultServices } from '../model/k8s.js';
import { syncServices } from './sync.js';
import { proxySysctls } from './proxy.js';
import { dnsReady, planDnsPod, startDnsServer } from './dns-pod.js';
import { DNS_POD } from './dns.js';
import { outsideNamespaces, startOutside } from './outside.js';

/** How a lab keeps its leases (default: the file store), and kube-proxy's mode (default: iptables, as K3s). */
export interface LabUpOptions {
  store?: StoreChoice;
  proxyMode?: 'iptables' | 'nftables';
  /** Lease TTL of the agents of an etcd lab, seconds (flannel: 24 h). */
  leaseTtl?: number;
  /** Make the outside host `podnet-<lab>-outside` (./outside.ts; default true). */
  outside?: boolean;
  /** Run the cluster DNS: the kube-dns pod on the server node (./dns-pod.ts; default false). */
  dns?: boolean;
}

/** Brings a lab up from a validated topology. Returns the state written. */
export function labUp(deps: LabDeps, lab: string, topology: Topology, opts: LabUpOptions = {}): Promise<LabState> {
  // The helpers the lab will ask for start now, while the lock and the checks are waited for.
  // (The pause spawner carries the lab's mark: it goes when the pods are started, or here if up fails first.)
  if (!deps.host.dryRun) helpersWarm(deps.host.runner, lab);
  return withLabLock(deps, lab, () => up(deps, lab, topology, opts)).finally(() => helpersCool(lab));
}

/** Refuses to bring up a lab that is up, half made, or whose namespaces exist without state. */
async function refuseExisting(deps: LabDeps, dir: LabDir, lab: string): Promise<void> {
  if (deps.host.dryRun) return;
  const existing = await dir.read();
  if (existing?.status === 'up') throw new UserError('exists', `lab "${lab}" is already up: use it, or run \`podnet lab down${labFlag(lab)}\` first`);
  if (existing) throw new UserError('state', `lab "${lab}" was interrupted while ${existing.status === 'creating' ? 'coming up' : 'going down'}: run \`podnet lab down${labFlag(lab)}\` to remove what is left`);
  const taken = await labNamespacesInKernel(deps, lab);
  if (taken.length) throw new UserError('exists', `namespaces of lab "${lab}" already exist (${taken[0]}…) without state: run \`podnet lab down${labFlag(lab)}\` first`);
}

async function up(deps: LabDeps, lab: string, topology: Topology, opts: LabUpOptions): Promise<LabState> {
  const dir = new LabDir(deps.stateRoot, lab);
  await refuseExisting(deps, dir, lab);
  await checkMachineRoutes(deps, topology);
  const plan = resolvePlan(lab, topology, deps.random);
  const clash = opts.dns ? plan.pods.findIndex((p) => p.name === DNS_POD) : -1;
  if (clash >= 0) throw new TopologyError(`pods[${clash}].name`, `"${DNS_POD}" is the cluster DNS pod's name (kube-system): rename the pod, or bring the lab up with --no-dns`);
  const store = opts.store ?? { kind: 'file' };
  const overlay: OverlayState = {
    store: store.kind, agents: {}, ttlSeconds: store.kind === 'etcd' ? opts.leaseTtl ?? FLANNEL_LEASE_TTL_S : 0,
    ...(store.kind === 'etcd' ? { endpoint: store.endpoint ?? `etcd://${addressOf(controlPlaneIP(plan))}:2379` } : {}),
  };
  const { pods: _p, ...planNoPods } = plan;
  const createdAt = now();
  // The DNS pod is planned with the others (last, on the server node): one namespace batch, one
  // attach pool, its server started beside their pause processes.
  const dnsPod = opts.dns && plan.nodes[0] ? planDnsPod(dir, lab, plan.nodes[0].name, deps.random, createdAt) : undefined;
  const all: PodState[] = [...plan.pods.map((p) => ({ ...p, createdAt })), ...(dnsPod ? [dnsPod] : [])];
  const state: LabState = {
    version: 1, lab, status: 'creating', createdAt, plan: planNoPods, overlay, pods: all,
    services: defaultServices(plan.serviceCIDR, plan.nodes[0] && { name: plan.nodes[0].name, ip: addressOf(plan.nodes[0].ip) }, createdAt), proxyMode: opts.proxyMode ?? 'iptables',
  };
  if (!deps.host.dryRun) await dir.write(state);
  let starting: Promise<unknown> | undefined;
  try {
    const managedEtcd = store.kind === 'etcd' && !store.endpoint;
    const outside = outsideNamespaces(plan, opts.outside ?? true, deps.warn);
    await netnsAdd(deps.host.runner, [plan.underlay.netns, ...(managedEtcd ? [etcdNetnsName(lab)] : []), ...plan.nodes.map((n) => n.netns), ...all.map((p) => p.netns), ...outside]);
    checkpoint(deps);
    // The outside host's port joins the switch in the nodes' batch (group commit); both settle before going on.
    const wired = await Promise.allSettled([wireUnderlay(deps, plan, plan.nodes, managedEtcd ? { netns: etcdNetnsName(lab), ip: controlPlaneIP(plan) } : undefined, true, proxySysctls(state.proxyMode)),
      ...(outside.length ? [startOutside(deps, dir, plan)] : [])]);
    const failed = wired.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    checkpoint(deps);
    if (managedEtcd) {
      overlay.etcd = await startEtcd(deps, dir, lab, controlPlaneIP(plan));
      if (!deps.host.dryRun) await dir.write(state);
    }
    const pids = pauseStartAll(deps.host.runner, plan.pods.map((p) => labNetns(p.netns)), lab, { concurrency: concurrency(deps), signal: deps.signal });
    const dnsPids = dnsPod ? startDnsServer(deps, dir, state, dnsPod) : Promise.resolve([]);
    // Whatever fails from here on, the unwinding waits until every process start has settled: a pause
    // forked after `down` looked would outlive the lab.
    // (allSettled also keeps a failure from becoming an unhandled rejection before it is awaited.)
    starting = Promise.allSettled([pids, dnsPids]);
    await startOverlay(deps, dir, state, plan.nodes);
    checkpoint(deps);
    for (const node of plan.nodes) {
      const pods = all.filter((p) => p.node === node.name);
      const ips = pods.length ? await predictIps(dir, node, pods.length) : [];
      pods.forEach((p, i) => { p.ip = ips[i]; });
    }
    // Per pod, as containerd does: the loopback network, then the pod network; pods overlap.
    const attached = await pool(all, concurrency(deps), (p) => attachPod(deps, dir, plan, nodeOf(plan.nodes, p.node), p), deps.signal);
    const [pauses, servers] = await Promise.all([pids, dnsPids]);
    state.pods = all.map((p, i) => ({ ...p, ...attached[i], ...(p === dnsPod ? { pid: servers[0], pids: servers } : { pid: pauses[i] }), createdAt: now() }));
    // The Services are synced while the DNS server finishes starting (its records reload waits for it).
    const [synced, ready] = await Promise.allSettled([syncServices(deps, dir, state), dnsPod && dnsReady(deps, dir, state)]);
    if (ready.status === 'rejected') throw ready.reason;
    if (synced.status === 'rejected') throw synced.reason;
    state.status = 'up';
    if (!deps.host.dryRun) await dir.write(state);
    return state;
  } catch (err) {
    await starting;
    if (!deps.host.dryRun) await down(deps, lab).catch(() => undefined);
    throw err;
  }
}

/** The node named `name`, or a not-found error listing the nodes. */
export function nodeOf(nodes: readonly NodePlan[], name: string): NodePlan {
  const n = nodes.find((x) => x.name === name);
  if (!n) throw new UserError('not-found', `unknown node "${name}" (nodes: ${nodes.map((x) => x.name).join(', ')})`);
  return n;
}



