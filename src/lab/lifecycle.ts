// A lab's life: up (namespaces for the underlay switch, the nodes and the pods; the underlay wired;
// flannel's overlay from subnet leases; each pod attached exactly as K3s's containerd would) and
// down (processes, namespaces, CNI DEL for IPAM, files). A failed `up` unwinds; `down` works from
// partial state after a crash.
import { pool } from '../host/pool.js';
import { netnsAdd, netnsDelete } from '../host/netns.js';
import { pauseStartAll, processStopAll, processesInNetns, netnsInode } from '../host/process.js';
import { UserError } from '../model/errors.js';
import { addressOf } from '../model/ip.js';
import type { Topology } from '../model/topology.js';
import { FLANNEL_LEASE_TTL_S } from '../model/k3s.js';
import { checkpoint, concurrency, now, type LabDeps } from './deps.js';
import { resolvePlan, type NodePlan } from './plan.js';
import { etcdNetnsName, labFlag, labNetns } from './names.js';
export { requireUp } from './state.js';
import { controlPlaneIP, startEtcd, type StoreChoice } from './cluster.js';
import { releaseLeases, startOverlay } from './overlay.js';
import { wireUnderlay, checkMachineRoutes } from './underlay.js';
import { attachPod, predictIps } from './attach.js';
import { withLabLock } from './lock.js';
import { LabDir, StateError, labNamespaces, type LabState, type OverlayState } from './state.js';
import { labNamespacesInKernel, labProcessesInKernel } from './owned.js';
import { defaultServices } from '../model/k8s.js';
import { syncServices } from './sync.js';
import { proxySysctls } from './proxy.js';
import { startDnsPod } from './dns-pod.js';
import { undoOutsideLab } from './faults.js';
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
  return withLabLock(deps, lab, () => up(deps, lab, topology, opts));
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
  const store = opts.store ?? { kind: 'file' };
  const overlay: OverlayState = {
    store: store.kind, agents: {}, ttlSeconds: store.kind === 'etcd' ? opts.leaseTtl ?? FLANNEL_LEASE_TTL_S : 0,
    ...(store.kind === 'etcd' ? { endpoint: store.endpoint ?? `etcd://${addressOf(controlPlaneIP(plan))}:2379` } : {}),
  };
  const { pods: _p, ...planNoPods } = plan;
  const createdAt = now();
  const state: LabState = {
    version: 1, lab, status: 'creating', createdAt, plan: planNoPods, overlay, pods: plan.pods.map((p) => ({ ...p, createdAt })),
    services: defaultServices(plan.serviceCIDR, plan.nodes[0] && { name: plan.nodes[0].name, ip: addressOf(plan.nodes[0].ip) }, createdAt), proxyMode: opts.proxyMode ?? 'iptables',
  };
  if (!deps.host.dryRun) await dir.write(state);
  try {
    const managedEtcd = store.kind === 'etcd' && !store.endpoint;
    const outside = outsideNamespaces(plan, opts.outside ?? true, deps.warn);
    await netnsAdd(deps.host.runner, [plan.underlay.netns, ...(managedEtcd ? [etcdNetnsName(lab)] : []), ...plan.nodes.map((n) => n.netns), ...plan.pods.map((p) => p.netns), ...outside]);
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
    pids.catch(() => undefined); // awaited below; a failure must not become an unhandled rejection meanwhile
    try {
      await startOverlay(deps, dir, state, plan.nodes);
    } catch (e) {
      await pids.catch(() => undefined);
      throw e;
    }
    checkpoint(deps);
    for (const node of plan.nodes) {
      const pods = plan.pods.filter((p) => p.node === node.name);
      const ips = pods.length ? await predictIps(dir, node, pods.length) : [];
      pods.forEach((p, i) => { p.ip = ips[i]; });
    }
    // Per pod, as containerd does: the loopback network, then the pod network; pods overlap.
    const attached = await pool(plan.pods, concurrency(deps), (p) => attachPod(deps, dir, plan, nodeOf(plan.nodes, p.node), p), deps.signal)
      .finally(() => pids.catch(() => undefined));
    const started = await pids;
    state.pods = plan.pods.map((p, i) => ({ ...p, ...attached[i], pid: started[i], createdAt: now() }));
    if (opts.dns) await startDnsPod(deps, dir, state);
    await syncServices(deps, dir, state);
    state.status = 'up';
    if (!deps.host.dryRun) await dir.write(state);
    return state;
  } catch (err) {
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

/** Takes a lab down: its processes, its namespaces (the veths and bridges go with them), its state
 * directory (the nodes' CNI state with it). Works from partial state after a crash. Returns false
 * when there was nothing to remove. */
export function labDown(deps: LabDeps, lab: string): Promise<boolean> {
  return withLabLock(deps, lab, () => down(deps, lab));
}

/** The lab's state for taking it down: undefined when there is none or it is damaged (then the lab
 * is taken down from kernel state alone, and the damage is reported). */
async function stateForDown(dir: LabDir, warn: (line: string) => void): Promise<LabState | undefined> {
  try {
    return await dir.read();
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    warn(`${dir.file} is damaged (${e.message.slice(e.message.indexOf('(') + 1, e.message.indexOf('):'))}): removing what the kernel holds for lab "${dir.lab}" instead`);
    return undefined;
  }
}

async function down(deps: LabDeps, lab: string): Promise<boolean> {
  const dir = new LabDir(deps.stateRoot, lab);
  // Everything named for the lab and every process marked for it, whatever the state file says; the
  // state adds recorded PIDs (an agent on an outside etcd lives in podnet's own namespace). The three
  // reads are independent: the /proc scan runs while `ip netns list` does.
  const [state, inKernel, marked] = await Promise.all([
    stateForDown(dir, deps.warn ?? (() => undefined)), labNamespacesInKernel(deps, lab), deps.host.dryRun ? [] : labProcessesInKernel(lab)]);
  const names = [...new Set([...(state ? labNamespaces(state) : []), ...inKernel])];
  if (!state && names.length === 0 && marked.length === 0) {
    // Files without state (a crash before state.json was written) are still ours to remove.
    if (!deps.host.dryRun && (await deps.host.exists(dir.dir))) {
      await dir.remove();
      return true;
    }
    return false;
  }
  if (state && !deps.host.dryRun) await dir.write({ ...state, status: 'deleting' });

  const o = state?.overlay;
  // The namespaces go while the processes in them exit (a namespace outlives its file until its last
  // process has left, so nothing waits on the other).
  const pids = [...marked, ...(state?.pods.map((p) => p.pid ?? 0) ?? []), ...Object.values(o?.agents ?? {}), o?.etcd?.pid ?? 0];
  await stopProcesses(deps, lab, names, pids, () => netnsDelete(deps.host.runner, names));
  if (state && !o?.etcd && !deps.host.dryRun) await undoOutsideLab(deps, dir, state).catch((e: unknown) => deps.warn?.(`an injected fault stays in ${o?.endpoint ?? 'the lease store'}: ${(e as Error).message}`));
  if (o?.store === 'etcd' && !o.etcd && state) await releaseLeases(deps, dir, state, state.plan.nodes).catch((e: unknown) => deps.warn?.(`the leases stay in ${o.endpoint}: ${(e as Error).message}`));
  // No CNI DEL per pod: with the namespaces gone it could only delete the reservations, result caches
  // and saved delegates under the lab's directory, which goes whole — as K3s's k3s-killall.sh takes a
  // node down (processes, links, then rm -rf /var/lib/cni), not as kubelet deletes one pod.
  if (!deps.host.dryRun) await dir.remove();
  return true;
}

/** Stops podnet's processes in the given namespaces (by recorded PID, and any found through /proc);
 * `meanwhile` runs once they are signalled, while they exit (processStopAll). */
export async function stopProcesses(deps: LabDeps, lab: string, netns: string[], pids: number[], meanwhile?: () => Promise<void>): Promise<void> {
  if (deps.host.dryRun) {
    for (const pid of pids) if (pid > 0) await deps.host.runner.signal(pid, 'SIGTERM');
    await meanwhile?.();
    return;
  }
  const inodes = new Set((await Promise.all(netns.map((n) => netnsInode(labNetns(n).path)))).filter((x): x is number => x !== undefined));
  const found = (await processesInNetns(inodes)).map((p) => p.pid);
  await processStopAll(deps.host.runner, [...new Set([...pids.filter((p) => p > 0), ...found])], lab, undefined, meanwhile);
}


