// flannel's overlay for a lab: every node's lease, flannel.1, rules and subnet.env; then every node
// programmed with every other node's lease. With the file store, in process (each node's agent runs
// once); with etcd, one `podnet agent` process per node, and podnet waits until the kernel of every
// node shows the others (./cluster.ts).
import { addIp, addressOf, networkOf, parseCidr, type CidrText } from '../model/ip.js';
import type { NodeAgent } from '../overlay/agent.js';
import type { LeaseStore } from '../overlay/store.js';
import type { LabDeps } from './deps.js';
import type { NodePlan } from './plan.js';
import type { LabDir, LabState } from './state.js';
import { inProcessAgent, labConfig, openLabStore, startAgent, waitConverged, waitForSubnet } from './cluster.js';
import { processRunning } from '../host/process.js';
import { UserError } from '../model/errors.js';
import { labFlag } from './names.js';

/** The plan learns what the lease says: the node's subnet (cni0 gets its first address) and VTEP MAC. */
export function learnLease(n: NodePlan, subnet: CidrText, vtepMac: string): void {
  const c = parseCidr(subnet);
  n.podCIDR = subnet;
  n.bridgeIP = `${addIp(networkOf(c), 1)}/${c.prefix}`;
  n.vtepMac = vtepMac;
}

/** The overlay for `nodes` (all of a new lab's, or one added later): leases, flannel.1, rules and
 * subnet.env on each, then every node (old ones too) programmed with every other node's lease.
 * Records each node's subnet and VTEP MAC in the state's plan. */
export async function startOverlay(deps: LabDeps, dir: LabDir, state: LabState, nodes: NodePlan[]): Promise<void> {
  const o = state.overlay!;
  const store = await openLabStore(deps, dir, o);
  try {
    if (o.store === 'file') {
      const agents = await Promise.all(nodes.map(async (n) => {
        const agent = inProcessAgent(deps, dir, state.plan, n, store);
        await agent.setup();
        return { n, agent };
      }));
      for (const { n, agent } of agents) learnLease(n, agent.subnet! as CidrText, agent.lease!.attrs.BackendData.VtepMAC);
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
      const lease = leases.find((l) => l.attrs.PublicIP === addressOf(n.ip));
      if (subnets[i]) learnLease(n, subnets[i] as CidrText, lease?.attrs.BackendData.VtepMAC ?? n.vtepMac);
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
export async function converge(deps: LabDeps, dir: LabDir, state: LabState, store: LeaseStore, ready: readonly NodeAgent[] = []): Promise<void> {
  if (state.overlay?.store === 'etcd') return waitConverged(deps, state.plan.nodes, store, state.overlay.agents);
  await Promise.all(state.plan.nodes.map(async (n) => {
    const agent = ready.find((a) => a.o.node === n.name) ?? inProcessAgent(deps, dir, state.plan, n, store);
    if (!agent.lease) await agent.acquire();
    await agent.reconcile();
  }));
}

/** Converges the lab on its store (opened and closed here): after a node left. */
export async function convergeLab(deps: LabDeps, dir: LabDir, state: LabState): Promise<void> {
  const store = await openLabStore(deps, dir, state.overlay);
  try {
    await converge(deps, dir, state, store);
  } finally {
    await store.close();
  }
}

/** Removes the leases of `nodes` from the lab's store (an etcd that outlives the lab; a node deleted). */
export async function releaseLeases(deps: LabDeps, dir: LabDir, state: LabState, nodes: readonly NodePlan[]): Promise<void> {
  const store = await openLabStore(deps, dir, state.overlay);
  try {
    const { leases } = await store.list();
    const ips = new Set(nodes.map((n) => addressOf(n.ip)));
    for (const l of leases) if (ips.has(l.attrs.PublicIP)) await store.remove(l.subnet);
  } finally {
    await store.close();
  }
}

/** Fails with one line, before anything changes, when the lab's lease store cannot be reached (its
 * etcd stopped, an outside etcd down): says which store, why, and what to do. */
export async function checkStore(deps: LabDeps, dir: LabDir, state: LabState): Promise<void> {
  const o = state.overlay;
  if (deps.host.dryRun || !o || o.store === 'file') return;
  let store: LeaseStore | undefined;
  try {
    store = await openLabStore(deps, dir, o);
    await store.list();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const own = o.etcd && !(await processRunning(o.etcd.pid));
    const todo = o.etcd
      ? own ? `its etcd (pid ${o.etcd.pid}) has stopped: run \`podnet lab down${labFlag(state.lab)}\` and bring the lab up again` : 'its etcd is not answering: try again in a moment'
      : `start the etcd at ${o.endpoint} (or check --store)`;
    throw new UserError('unavailable', `the lease store of lab "${state.lab}" is unreachable (${why}): ${todo}; nothing was changed`);
  } finally {
    await store?.close().catch(() => undefined);
  }
}
