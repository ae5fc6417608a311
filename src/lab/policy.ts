// kube-router's network policy controller on every node of a lab, as K3s runs it: a ServiceSyncer
// (./sync.ts) that brings each node's filter table and ipsets to the lab's NetworkPolicies, pods and
// namespaces — sets refilled first, then one iptables-restore transaction, then stale sets destroyed —
// inside the node's own namespace, the nodes side by side. Only what changed since the last sync is
// written (the record `nodes/<node>/kube-router.json`, kept empty once the last policy went); without a
// record, or when a partial sync fails (someone flushed the rules), a full sync starts from what the
// kernel holds. A lab with no policy gets no rules at all; deleting the last policy takes every chain,
// jump and set away again.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../host/dirs.js';
import { iptablesRestore, iptablesSave } from '../host/iptables.js';
import { ipsetNames, ipsetRestore } from '../host/ipset.js';
import type { Netns } from '../host/netns.js';
import { nodeRuleset, type NodeRuleset } from '../model/netpol/kube-router-node.js';
import { destroyScript, isEmptyRecord, isKubeRouterRecord, kubeRouterExisting, kubeRouterSync, type KubeRouterRecord, type KubeRouterSyncPlan } from '../model/netpol/kube-router-sync.js';
import { labSyncVersion } from '../model/netpol/names.js';
import type { PolicyWorld } from '../model/netpol/types.js';
import type { LabDeps } from './deps.js';
import { labNetns } from './names.js';
import type { NodePlan } from './plan.js';
import { policyWorldOf } from './policy-world.js';
import type { LabDir, LabState } from './state.js';
import type { ServiceSyncer } from './sync.js';

/** The record of kube-router's last sync on a node. */
export const policyRecordFile = (dir: LabDir, node: string): string => join(dir.nodeDir(node), 'kube-router.json');

/** What one node's sync did (for tests, `inspect policies` and the benchmark). */
export interface PolicyNodeSync {
  node: string;
  /** Undefined when there was nothing to do (no policy now and none before). */
  plan?: KubeRouterSyncPlan;
  ruleset: NodeRuleset;
  /** True when a partial sync failed and a full one followed. */
  retried: boolean;
}

/** The ruleset of one node of a lab (what kube-router would hold there now). */
export function labNodeRuleset(state: LabState, node: string, world: PolicyWorld = policyWorldOf(state)): NodeRuleset {
  return nodeRuleset(world, { node, serviceCIDR: state.plan.serviceCIDR, version: labSyncVersion(state.createdAt) });
}

/** Syncs kube-router's rules on every node of the lab, side by side. */
export async function syncPolicies(deps: LabDeps, dir: LabDir, state: LabState): Promise<PolicyNodeSync[]> {
  const world = policyWorldOf(state);
  return Promise.all(state.plan.nodes.map((n) => syncPolicyNode(deps, dir, state, n, world)));
}

/** The ServiceSyncer of kube-router's policy controller. */
export const kubeRouterSyncer: ServiceSyncer = {
  name: 'kube-router',
  async sync(deps, dir, state) {
    await syncPolicies(deps, dir, state);
  },
};

/** Syncs one node against its record (a full sync without one, or after a partial one failed). */
export async function syncPolicyNode(deps: LabDeps, dir: LabDir, state: LabState, node: NodePlan, world: PolicyWorld): Promise<PolicyNodeSync> {
  const file = policyRecordFile(dir, node.name);
  const previous = deps.host.dryRun ? undefined : await readRecord(file);
  const ruleset = labNodeRuleset(state, node.name, world);
  if (world.policies.length === 0 && (!previous || isEmptyRecord(previous))) return { node: node.name, ruleset, retried: false };
  const ns = labNetns(node.netns);
  let plan = previous ? kubeRouterSync(ruleset, previous) : await fullPlan(deps, ns, ruleset);
  let retried = false;
  try {
    await applyPlan(deps, ns, plan);
  } catch (e) {
    if (plan.full) throw e;
    retried = true;
    plan = await fullPlan(deps, ns, ruleset);
    await applyPlan(deps, ns, plan);
  }
  if (!deps.host.dryRun) await writeRecord(file, plan.record);
  return { node: node.name, plan, ruleset, retried };
}

/** A full sync's plan: from the chains, jumps and sets the node's kernel holds now. */
async function fullPlan(deps: LabDeps, ns: Netns, ruleset: NodeRuleset): Promise<KubeRouterSyncPlan> {
  const [filter, sets] = await Promise.all([iptablesSave(deps.host.runner, ns, { table: 'filter' }), ipsetNames(deps.host.runner, ns)]);
  return kubeRouterSync(ruleset, undefined, kubeRouterExisting(filter, sets));
}

/** Sets first, then the filter table in one transaction, then the sets nothing uses any more. */
async function applyPlan(deps: LabDeps, ns: Netns, plan: KubeRouterSyncPlan): Promise<void> {
  await ipsetRestore(deps.host.runner, ns, plan.setsScript);
  if (plan.iptables) await iptablesRestore(deps.host.runner, ns, plan.iptables, { noflush: true });
  await ipsetRestore(deps.host.runner, ns, destroyScript(plan));
}

async function readRecord(file: string): Promise<KubeRouterRecord | undefined> {
  try {
    const record: unknown = JSON.parse(await readFile(file, 'utf8'));
    return isKubeRouterRecord(record) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the record beside the node's other files (an empty one once the last policy went: the next
 * sync starts from it, without reading the kernel). */
async function writeRecord(file: string, record: KubeRouterRecord): Promise<void> {
  await ensureDir(join(file, '..'));
  await writeFile(file, JSON.stringify(record));
}
