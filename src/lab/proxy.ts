// kube-proxy on every node of a lab: a ServiceSyncer (./sync.ts) that brings each node's iptables or
// nftables rules to the lab's Services and endpoints in one transaction per node, in the node's own
// namespace. Like kube-proxy, it rewrites only the Service ports that changed since the last sync
// and deletes what nothing uses any more; what it last wrote is kept beside the node's other files
// (`nodes/<node>/kube-proxy.json`, and the last transaction as `kube-proxy.iptables` / `.nft`), so
// the next podnet command can sync partially too. A partial transaction fails as a whole when
// kube-proxy's rules were flushed behind its back (see the planners in src/model/kube-proxy), and a
// full sync follows, as after kube-proxy's needFullSync. Then, as kube-proxy does, the UDP conntrack
// entries that would keep a client's flow on an endpoint that is gone are deleted.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conntrackDelete } from '../host/conntrack.js';
import { ensureDir } from '../host/dirs.js';
import { iptablesRestore, iptablesRestoreFile, iptablesSave } from '../host/iptables.js';
import { nftApply, nftApplyFile } from '../host/nft.js';
import type { Netns } from '../host/netns.js';
import { addressOf } from '../model/ip.js';
import type { ServicePortEndpoints } from '../model/k8s.js';
import { iptablesExisting, iptablesSync } from '../model/kube-proxy/iptables-sync.js';
import type { ProxyMode, ProxySyncPlan } from '../model/kube-proxy/mode.js';
import { nftSync } from '../model/kube-proxy/nftables-sync.js';
import type { ProxyNode } from '../model/kube-proxy/ports.js';
import { isRecord, type ProxyRecord } from '../model/kube-proxy/record.js';
import type { LabDeps } from './deps.js';
import type { NodePlan } from './plan.js';
import { labNetns } from './names.js';
import type { LabDir, LabState } from './state.js';
import type { ServiceSyncer } from './sync.js';

/** The files of kube-proxy on one node: its record and its last transaction. */
export function proxyFiles(dir: LabDir, node: string, mode: ProxyMode): { record: string; rules: string } {
  const base = join(dir.nodeDir(node), 'kube-proxy');
  return { record: `${base}.json`, rules: `${base}.${mode === 'iptables' ? 'iptables' : 'nft'}` };
}

/** kube-proxy's view of a lab node. */
export function proxyNode(state: Pick<LabState, 'plan'>, node: NodePlan): ProxyNode {
  return { name: node.name, ip: addressOf(node.ip), clusterCIDR: state.plan.clusterCIDR, serviceCIDR: state.plan.serviceCIDR };
}

/** The sysctls kube-proxy sets on its node at start-up: in iptables mode route_localnet, so NodePorts
 * answer on 127.0.0.1 too (with kube-proxy's KUBE-FIREWALL rule against martians from outside). */
export function proxySysctls(mode: ProxyMode = 'iptables'): [string, string][] {
  return mode === 'iptables' ? [['net/ipv4/conf/all/route_localnet', '1']] : [];
}

/** What one node's sync did (for tests and the benchmark). */
export interface NodeSyncResult {
  node: string;
  plan: ProxySyncPlan;
  /** True when a partial sync failed and everything was synced after it. */
  retried: boolean;
}

/** Syncs kube-proxy's rules on every node of the lab, the nodes side by side. */
export async function syncKubeProxy(deps: LabDeps, dir: LabDir, state: LabState, endpoints: readonly ServicePortEndpoints[]): Promise<NodeSyncResult[]> {
  const mode = state.proxyMode ?? 'iptables';
  return Promise.all(state.plan.nodes.map((n) => syncNode(deps, dir, state, n, mode, endpoints)));
}

/** The ServiceSyncer of kube-proxy. */
export const kubeProxySyncer: ServiceSyncer = {
  name: 'kube-proxy',
  async sync(deps, dir, state, endpoints) {
    await syncKubeProxy(deps, dir, state, endpoints);
  },
};

/** Syncs one node: partially against its record, else everything; a partial sync that fails is
 * followed by a full one. */
export async function syncNode(deps: LabDeps, dir: LabDir, state: LabState, node: NodePlan, mode: ProxyMode, endpoints: readonly ServicePortEndpoints[]): Promise<NodeSyncResult> {
  const ns = labNetns(node.netns);
  const pnode = proxyNode(state, node);
  const files = proxyFiles(dir, node.name, mode);
  const previous = deps.host.dryRun ? undefined : await readRecord(files.record, mode);
  let plan = await planNode(deps, ns, mode, endpoints, pnode, previous);
  let retried = false;
  try {
    await apply(deps, ns, mode, files.rules, plan);
  } catch (e) {
    if (plan.full) throw e;
    retried = true;
    plan = await planNode(deps, ns, mode, endpoints, pnode, undefined);
    await apply(deps, ns, mode, files.rules, plan);
  }
  if (!deps.host.dryRun) await writeFile(files.record, JSON.stringify(plan.record));
  // As kube-proxy after a sync: UDP flows that still point at an endpoint that is gone (or at none).
  for (const f of plan.conntrack) await conntrackDelete(deps.host.runner, ns, f);
  return { node: node.name, plan, retried };
}

/** The record of the last sync, when it reads as one of this mode. */
async function readRecord(file: string, mode: ProxyMode): Promise<ProxyRecord | undefined> {
  try {
    const record: unknown = JSON.parse(await readFile(file, 'utf8'));
    return isRecord(record, mode) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The transaction for one node. A full iptables sync first reads the nat and filter tables (stale
 * service chains, jumps already in the built-in chains). */
async function planNode(deps: LabDeps, ns: Netns, mode: ProxyMode, endpoints: readonly ServicePortEndpoints[], node: ProxyNode, previous: ProxyRecord | undefined): Promise<ProxySyncPlan> {
  if (mode === 'nftables') return nftSync(endpoints, node, previous);
  if (previous) return iptablesSync(endpoints, node, previous);
  // One iptables-save for both tables kube-proxy writes (one process, not two).
  const dump = await iptablesSave(deps.host.runner, ns);
  return iptablesSync(endpoints, node, undefined, iptablesExisting({ tables: dump.tables.filter((t) => t.name === 'nat' || t.name === 'filter'), warnings: [] }));
}

/** Applies a plan in one transaction (nothing when nothing changed): from a file beside the record
 * (kept: the node's last transaction), or through stdin in a dry run (nothing is written). */
async function apply(deps: LabDeps, ns: Netns, mode: ProxyMode, file: string, plan: ProxySyncPlan): Promise<void> {
  if (plan.text === '') return;
  if (deps.host.dryRun) {
    if (mode === 'iptables') await iptablesRestore(deps.host.runner, ns, plan.text, { noflush: true });
    else await nftApply(deps.host.runner, ns, plan.text);
    return;
  }
  await ensureDir(join(file, '..'));
  await writeFile(file, plan.text);
  if (mode === 'iptables') await iptablesRestoreFile(deps.host.runner, ns, file, { noflush: true });
  else await nftApplyFile(deps.host.runner, ns, file);
}
