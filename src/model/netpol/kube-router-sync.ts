// How one node is brought to a new ruleset: the sets first (changed ones refilled through a swap, so
// rules never see a half-filled set), then one iptables-restore --noflush transaction of the filter
// table (changed chains declared — which empties them — and refilled, stale chains emptied and
// removed, the jumps from the built-in chains added or taken out), then the sets nothing references
// any more destroyed. A record of what was written (a hash per chain and per set, and the jumps) lets
// the next sync rewrite only what changed — kube-router rewrites everything at every sync; podnet
// keeps names stable and counters of untouched chains. Every write also takes out and puts back the
// jumps from the built-in chains, so a flushed table fails the write and a full sync follows. Without a record (or after a partial sync
// failed) a full sync starts from what the kernel holds. Pure.
import { createHash } from 'node:crypto';
import { ipsetDestroyScript, ipsetSwapScript } from '../ipset.js';
import type { IptablesDump } from '../netfilter-iptables.js';
import { isKubeRouterChain, isKubeRouterSet, tmpSet, TOP_CHAINS } from './names.js';
import type { NodeRuleset } from './kube-router-node.js';

/** What the last sync wrote on a node. */
export interface KubeRouterRecord {
  kind: 'kube-router';
  /** Chain → hash of its rules. */
  chains: Record<string, string>;
  /** Set → hash of its type and members. */
  sets: Record<string, string>;
  /** The jump lines in the built-in chains (`-A INPUT …`). */
  jumps: string[];
}

/** What the kernel holds of kube-router's (for a full sync). */
export interface KubeRouterExisting {
  chains: string[];
  /** Jumps from the built-in chains to KUBE-ROUTER-*, as iptables-save printed them. */
  jumps: string[];
  sets: string[];
}

/** One node's sync: the scripts in the order they run, and the record to keep. */
export interface KubeRouterSyncPlan {
  full: boolean;
  /** `ipset restore -exist` input run first ('' for none). */
  setsScript: string;
  /** `iptables-restore --noflush` input ('' when no chain or jump changes). */
  iptables: string;
  /** Sets to destroy after the iptables transaction. */
  destroySets: string[];
  /** The record after this sync (empty when nothing of kube-router's is left). */
  record: KubeRouterRecord;
  changedChains: string[];
  removedChains: string[];
  changedSets: string[];
}

const hash = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/** True when `x` is a record of this kind. */
export function isKubeRouterRecord(x: unknown): x is KubeRouterRecord {
  const r = x as KubeRouterRecord;
  return typeof r === 'object' && r !== null && r.kind === 'kube-router' && typeof r.chains === 'object' && typeof r.sets === 'object' && Array.isArray(r.jumps);
}

/** What kube-router's chains, jumps and sets the kernel holds, from `iptables-save -t filter` and the set names. */
export function kubeRouterExisting(filter: IptablesDump, setNames: readonly string[]): KubeRouterExisting {
  const table = filter.tables.find((t) => t.name === 'filter');
  const tops = new Set<string>(Object.values(TOP_CHAINS));
  return {
    chains: (table?.chains ?? []).filter((c) => !c.builtin && isKubeRouterChain(c.name)).map((c) => c.name),
    jumps: (table?.rules ?? []).filter((r) => ['INPUT', 'FORWARD', 'OUTPUT'].includes(r.chain) && r.target !== undefined && tops.has(r.target)).map((r) => r.text),
    sets: setNames.filter(isKubeRouterSet),
  };
}

/** The plan that brings a node from `previous` (or, without one, from `existing`) to `desired`. */
export function kubeRouterSync(desired: NodeRuleset, previous: KubeRouterRecord | undefined, existing?: KubeRouterExisting): KubeRouterSyncPlan {
  const full = previous === undefined;
  const chainHash = new Map([...desired.chains].map(([name, rules]) => [name, hash(rules.join('\n'))]));
  const setHash = new Map(desired.sets.map((s) => [s.name, hash(`${s.type} ${s.options.join(' ')}\n${s.entries.map((e) => e.join(' ')).sort().join('\n')}`)]));
  const oldChains = full ? new Set(existing?.chains ?? []) : new Set(Object.keys(previous.chains));
  const oldSets = full ? new Set(existing?.sets ?? []) : new Set(Object.keys(previous.sets));
  const oldJumps = full ? existing?.jumps ?? [] : previous.jumps;
  const changedChains = [...chainHash].filter(([n, h]) => full || previous.chains[n] !== h).map(([n]) => n);
  const removedChains = [...oldChains].filter((n) => !chainHash.has(n));
  const changedSets = [...setHash].filter(([n, h]) => full || previous.sets[n] !== h).map(([n]) => n);
  const destroySets = [...oldSets].filter((n) => !setHash.has(n)).sort();
  // Every transaction takes the jumps out and puts them back first in their chains (kube-router keeps
  // them at position 1 too): a jump someone removed makes the -D fail, and a full sync follows.
  const writes = full || changedChains.length + removedChains.length > 0 || oldJumps.join('\n') !== desired.jumps.join('\n');
  const dropJumps = writes ? oldJumps : [];
  const addJumps = writes ? desired.jumps : [];
  const iptables = !writes ? '' : [
    '*filter',
    ...[...changedChains, ...removedChains].map((c) => `:${c} - [0:0]`),
    ...dropJumps.map((j) => j.replace(/^-A /, '-D ')),
    ...changedChains.flatMap((c) => desired.chains.get(c) ?? []),
    ...[...addJumps].reverse().map((j) => j.replace(/^-A (\S+) /, '-I $1 1 ')),
    ...removedChains.map((c) => `-X ${c}`),
    'COMMIT', '',
  ].join('\n');
  const setsScript = ipsetSwapScript(desired.sets.filter((s) => changedSets.includes(s.name)), tmpSet);
  const record: KubeRouterRecord = { kind: 'kube-router', chains: Object.fromEntries(chainHash), sets: Object.fromEntries(setHash), jumps: [...desired.jumps] };
  return { full, setsScript, iptables, destroySets, record, changedChains, removedChains, changedSets };
}

/** True when a record says nothing of kube-router's is on the node. */
export const isEmptyRecord = (r: KubeRouterRecord): boolean => Object.keys(r.chains).length === 0 && Object.keys(r.sets).length === 0 && r.jumps.length === 0;

/** The `ipset restore` input that destroys the plan's stale sets. */
export const destroyScript = (plan: Pick<KubeRouterSyncPlan, 'destroySets'>): string => ipsetDestroyScript(plan.destroySets);
