// The lab's overlay control plane: which lease store the lab uses, the etcd it may run, and the
// node agents. With the default file store, `lab up` runs each node's agent in process, once
// (leases are reservations: nothing renews them); with etcd, the lab starts etcd in a control-plane
// namespace on the underlay and one `podnet agent` process per node inside the node's namespace,
// talking to etcd across the underlay — a distributed run on one machine. podnet itself reaches the
// lab's etcd through a unix socket in the lab's directory (sockets are files, not bound to a netns),
// so the lab never needs an address in the root namespace.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../host/dirs.js';
import { packagePath } from '../host/package-root.js';
import { CURRENT_NETNS, type Netns } from '../host/netns.js';
import { processRunning, processStart } from '../host/process.js';
import { addIp, addressOf, broadcastOf, parseCidr, networkOf, formatCidr, type CidrText } from '../model/ip.js';
import { labNetworkConfig } from '../model/flannel.js';
import { parseSubnetEnv, podSubnet } from '../model/subnet-env.js';
import { NodeAgent } from '../overlay/agent.js';
import { FileLeaseStore } from '../overlay/file-store.js';
import { MemoryLeaseStore } from '../overlay/memory-store.js';
import { StoreError, etcdEndpoints, openEtcd, type LeaseStore } from '../overlay/store.js';
import { Vtep, diffEntries, remotesOf, FLANNEL } from '../overlay/vxlan.js';
import { UserError } from '../model/errors.js';
import type { LabDeps } from './deps.js';
import type { LabPlan, NodePlan } from './plan.js';
import type { LabDir, OverlayState } from './state.js';
import { etcdNetnsName, labNetns } from './names.js';

/** Where a lab keeps its leases: `file` (default), `etcd` (the lab runs its own), `etcd://HOST:PORT`. */
export type StoreChoice = { kind: 'file' } | { kind: 'etcd'; endpoint?: string };

/** Parses `--store`: one line naming the flag and the fix when it is wrong. */
export function parseStoreChoice(text: string): StoreChoice {
  if (text === 'file') return { kind: 'file' };
  if (text === 'etcd') return { kind: 'etcd' };
  if (text.startsWith('etcd://')) {
    try {
      etcdEndpoints(text);
    } catch (e) {
      throw new UserError('usage', (e as StoreError).message);
    }
    return { kind: 'etcd', endpoint: text };
  }
  throw new UserError('usage', `--store ${text}: use "file" (the default), "etcd" (the lab runs its own) or etcd://HOST:PORT`);
}

/** The control-plane namespace's address: the underlay's last usable address. */
export function controlPlaneIP(plan: Pick<LabPlan, 'underlay'>): CidrText {
  const c = parseCidr(plan.underlay.cidr);
  return `${addIp(broadcastOf(c), -1)}/${c.prefix}`;
}

/** The lab's store, as podnet (in the root namespace) reaches it. */
export async function openLabStore(deps: LabDeps, dir: LabDir, o: OverlayState | undefined): Promise<LeaseStore> {
  if (deps.host.dryRun) return new MemoryLeaseStore();
  if (!o || o.store === 'file') return new FileLeaseStore(join(dir.dir, 'leases.json'));
  if (o.etcd) return openEtcd([`unix://${o.etcd.socket}`]);
  return openEtcd(etcdEndpoints(o.endpoint!));
}

/** subnet.env of a node, in the node's data directory (flannel: /run/flannel/subnet.env). */
export const subnetFileOf = (dir: LabDir, node: string) => join(dir.nodeDir(node), 'flannel', 'subnet.env');

/** An in-process agent for a file-store lab: leases are reservations (no agent runs to renew them). */
export function inProcessAgent(deps: LabDeps, dir: LabDir, plan: Pick<LabPlan, 'clusterCIDR' | 'mtu' | 'nodes'>, node: NodePlan, store: LeaseStore, log: (l: string) => void = () => undefined): NodeAgent {
  return new NodeAgent({
    host: deps.host, netns: labNetns(node.netns), store, node: node.name,
    publicIP: addressOf(node.ip), underlayDev: 'eth0', underlayMtu: plan.mtu + FLANNEL.overhead,
    dataDir: dir.nodeDir(node.name), subnetFile: subnetFileOf(dir, node.name), ttlSeconds: 0,
    hint: node.podCIDR, vtepMac: node.vtepMac, ipMasq: true, log, random: deps.random, initConfig: labConfig(plan),
  });
}

/** Runs `argv` in `ns` as a lab process with its output appended to `log`, in directory `cwd`.
 * Equivalent to: `nsenter --net=NS sh -c 'cd CWD && exec ARGV… >>LOG 2>&1' &`. */
function startLogged(deps: LabDeps, ns: Netns, argv: readonly string[], lab: string, log: string, cwd: string): Promise<number> {
  return processStart(deps.host.runner, ns, ['sh', '-c', 'cd "$0" && l="$1" && shift && exec "$@" >>"$l" 2>&1', cwd, log, ...argv], lab);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `ready` every `everyMs` until it returns a value, or fails with `what` after `timeoutMs`. */
async function waitFor<T>(what: string, timeoutMs: number, ready: () => Promise<T | undefined>, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    try {
      const v = await ready();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new UserError('unavailable', `${what} did not happen within ${timeoutMs / 1000}s${last ? ` (${(last as Error).message.split('\n')[0]})` : ''}`);
}

/** Starts the lab's etcd (Debian's etcd-server) in its namespace; resolves once it answers. */
export async function startEtcd(deps: LabDeps, dir: LabDir, lab: string, ip: CidrText): Promise<NonNullable<OverlayState['etcd']>> {
  const netns = etcdNetnsName(lab);
  const home = join(dir.dir, 'etcd');
  await ensureDir(home);
  const addr = addressOf(ip);
  const pid = await startLogged(deps, labNetns(netns), [
    'etcd', '--name', 'podnet', '--data-dir', join(home, 'data'),
    '--listen-client-urls', `http://${addr}:2379,unix://etcd.sock:0`, '--advertise-client-urls', `http://${addr}:2379`,
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'podnet=http://127.0.0.1:2380', '--logger', 'zap', '--log-outputs', 'stderr',
  ], lab, join(home, 'etcd.log'), home);
  const etcd = { netns, ip, pid, socket: join(home, 'etcd.sock:0') };
  if (deps.host.dryRun) return etcd;
  const store = await openEtcd([`unix://${etcd.socket}`]);
  try {
    await waitFor('etcd answering on its socket', 20_000, async () => ((await store.getConfig()) ?? '') as string, 50);
  } finally {
    await store.close();
  }
  return etcd;
}

/** The `podnet` executable the agents run (this package's bin/podnet.js, with this Node). */
function podnetArgv(): string[] {
  return [process.execPath, packagePath('bin', 'podnet.js')];
}

/** Starts `podnet agent` for a node: inside the node's namespace when it reaches the lab's etcd over
 * the underlay; in podnet's own namespace (managing the node's) for an etcd outside the lab. */
export async function startAgent(deps: LabDeps, dir: LabDir, lab: string, node: NodePlan, o: OverlayState): Promise<number> {
  const home = dir.nodeDir(node.name);
  await ensureDir(join(home, 'flannel'));
  const inside = !!o.etcd;
  const argv = [
    ...podnetArgv(), 'agent', '--node', node.name, '--store', o.endpoint!,
    '--public-ip', addressOf(node.ip), '--iface', 'eth0', '--data-dir', home, '--subnet-file', subnetFileOf(dir, node.name),
    '--subnet-hint', node.podCIDR, '--vtep-mac', node.vtepMac, '--lease-ttl', String(o.ttlSeconds),
    ...(inside ? [] : ['--netns', node.netns]),
  ];
  return startLogged(deps, inside ? labNetns(node.netns) : CURRENT_NETNS, argv, lab, join(home, 'agent.log'), home);
}

/** Waits for a node's agent to write subnet.env; returns the node's subnet. */
export async function waitForSubnet(deps: LabDeps, dir: LabDir, node: string, timeoutMs = 20_000): Promise<string> {
  if (deps.host.dryRun) return '';
  const file = subnetFileOf(dir, node);
  return waitFor(`node ${node}'s agent writing ${file} (see ${join(dir.nodeDir(node), 'agent.log')})`, timeoutMs,
    async () => podSubnet(parseSubnetEnv(await readFile(file, 'utf8'))));
}

/** The nodes whose flannel.1 does not hold exactly the entries the store's leases call for (none:
 * converged). A node whose flannel.1 cannot be read is behind: its agent may have written subnet.env
 * and not made the device yet (setup makes both at once). */
export async function unconverged(deps: LabDeps, nodes: readonly NodePlan[], store: LeaseStore): Promise<string[]> {
  const { leases } = await store.list();
  const results = await Promise.all(nodes.map(async (n) => {
    const own = leases.find((l) => l.attrs.PublicIP === addressOf(n.ip));
    if (!own) return n.name;
    const have = await new Vtep(deps.host, labNetns(n.netns)).state().catch(() => undefined);
    if (!have) return n.name;
    const { remove, add } = diffEntries(have, remotesOf(leases, own.subnet));
    return remove.ip.length + remove.fdb.length + add.neigh.length === 0 ? undefined : n.name;
  }));
  return results.filter((x): x is string => x !== undefined);
}

/** Waits until every node converged on the store's leases; on timeout, names the nodes that did not
 * and whether their agent is running. */
export async function waitConverged(deps: LabDeps, nodes: readonly NodePlan[], store: LeaseStore, agents: Record<string, number> = {}, timeoutMs = 20_000): Promise<void> {
  if (deps.host.dryRun) return;
  // Until a check has answered, every node is behind: a store that fails to answer is no convergence.
  let behind = nodes.map((n) => n.name);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    behind = await unconverged(deps, nodes, store).catch(() => behind);
    if (behind.length === 0) return;
    await sleep(20);
  }
  const why = await Promise.all(behind.map(async (n) => `${n}${agents[n] && !(await processRunning(agents[n])) ? ` (its agent, pid ${agents[n]}, is not running)` : ''}`));
  throw new UserError('unavailable', `node${behind.length > 1 ? 's' : ''} ${why.join(', ')} did not program every other node's lease within ${timeoutMs / 1000}s (see ${behind.map((n) => `nodes/${n}/agent.log`).join(', ')} in the lab's state directory)`);
}

/** The size of every node's subnet (flannel's SubnetLen): the nodes' podCIDR prefix (the topology
 * makes them all alike; K3s: /24). */
const subnetLen = (plan: Pick<LabPlan, 'nodes'>) => parseCidr(plan.nodes[0]?.podCIDR ?? '10.42.0.0/24').prefix;

/** The network config a lab stores. */
export const labConfig = (plan: Pick<LabPlan, 'clusterCIDR' | 'nodes'>) => labNetworkConfig(plan.clusterCIDR, subnetLen(plan));

/** A subnet for a node added later: the first one of the cluster network (of the nodes' size) no node holds. */
export function freeSubnet(plan: Pick<LabPlan, 'clusterCIDR' | 'nodes'>): CidrText {
  const net = parseCidr(plan.clusterCIDR);
  const len = subnetLen(plan);
  const taken = new Set(plan.nodes.map((n) => n.podCIDR));
  for (let i = 0; i < Math.min(2 ** (len - net.prefix), 65536); i++) {
    const s = formatCidr({ ip: addIp(networkOf(net), i * 2 ** (32 - len)), prefix: len });
    if (!taken.has(s)) return s;
  }
  throw new UserError('conflict', `no free /${len} left in ${plan.clusterCIDR}`);
}

