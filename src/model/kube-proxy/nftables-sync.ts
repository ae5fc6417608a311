// One node's `nft -f` transaction, as kube-proxy's nftables proxier builds it: a full sync (no record
// of what is there) replaces the table — set-up, every chain, every element — in one atomic
// transaction; a partial sync adds and flushes only the chains of the Service ports that changed,
// deletes and adds only the map and set elements that changed, and flushes and deletes the chains
// and affinity sets nothing uses any more (this kernel lets a chain go in the same transaction as
// the last element that pointed at it; kube-proxy waits a second for kernels before 6.2). A partial
// transaction starts by adding the node's address to `nodeport-ips` again: when the table is gone it
// fails as a whole, and the caller syncs everything. Nothing changed: nothing to run. Pure.
import type { ServicePortEndpoints } from '../k8s.js';
import { NFT_TABLE, elementText, nftSetup, portBase, portChainsNft, portElements } from './nftables.js';
import { portViews, type ProxyNode } from './ports.js';
import { staleNames, unchangedPort, type ProxyRecord } from './record.js';
import { recordedEndpoints, staleFlows, type StaleFlow } from './conntrack.js';
import type { ProxySyncPlan } from './mode.js';

const T = `ip ${NFT_TABLE}`;

/** The transaction that brings `node` to `ports`: partial against `previous`, or full when there is
 * none. Only ports whose fingerprint changed get their chains generated again. */
export function nftSync(ports: readonly ServicePortEndpoints[], node: ProxyNode, previous: ProxyRecord | undefined): ProxySyncPlan {
  const full = previous === undefined;
  const views = portViews(ports, node);
  const context = `v1 ${node.clusterCIDR} ${node.serviceCIDR} ${node.ip}`;
  const record: ProxyRecord = { version: 1, mode: 'nftables', context, ports: {}, elements: {} };
  const elements = record.elements!;
  const activeChains = new Set<string>();
  const activeSets = new Set<string>();
  const declare: string[] = [];
  const flush: string[] = [];
  const body: string[] = [];
  const flows: StaleFlow[] = [];
  let written = 0;
  for (const v of views) {
    const key = `${v.name}/${v.proto}`;
    const same = full ? undefined : unchangedPort(previous, context, key, v.fingerprint);
    const base = same?.h ?? portBase(v);
    for (const e of portElements(v, base)) elements[`${e.container} ${e.key}`] = elementText(e);
    if (same) {
      record.ports[key] = same;
      same.chains.forEach((c) => activeChains.add(c));
      same.sets?.forEach((s) => activeSets.add(s));
      continue;
    }
    const { chains, sets } = portChainsNft(v, node, base);
    record.ports[key] = { fp: v.fingerprint, h: base, chains: chains.map((c) => c.name), ...(sets.length ? { sets: sets.map((s) => s.name) } : {}), ...recordedEndpoints(v) };
    if (!full) flows.push(...staleFlows(v, previous.ports[key]));
    written++;
    for (const s of sets) {
      activeSets.add(s.name);
      declare.push(`add set ${T} ${s.name} ${s.body}`);
    }
    for (const c of chains) {
      activeChains.add(c.name);
      declare.push(`add chain ${T} ${c.name}`);
      if (!full) flush.push(`flush chain ${T} ${c.name}`);
      for (const r of c.rules) body.push(`add rule ${T} ${c.name} ${r}`);
    }
  }
  const { removed, added } = elementChanges(elements, full ? undefined : previous.elements ?? {});
  const stale = full ? { chains: [], sets: [] } : staleNames(previous, activeChains, activeSets);
  const plan = { mode: 'nftables' as const, record, full, written, ports: views.length, stale: [...stale.chains, ...stale.sets], conntrack: flows };
  if (!full && written === 0 && removed.length === 0 && added.length === 0 && plan.stale.length === 0) return { ...plan, text: '' };
  const setup = nftSetup(node);
  const guard = setup.filter((l) => l.startsWith(`add element ${T} nodeport-ips `));
  const text = [
    ...(full ? [`add table ${T}`, `delete table ${T}`, ...setup] : guard),
    ...declare, ...flush, ...body,
    ...removed.map((id) => `delete element ${T} ${id.slice(0, id.indexOf(' '))} { ${id.slice(id.indexOf(' ') + 1)} }`),
    ...added.map((id) => `add element ${T} ${id.slice(0, id.indexOf(' '))} { ${elements[id]} }`),
    ...stale.chains.map((c) => `flush chain ${T} ${c}`),
    ...stale.chains.map((c) => `delete chain ${T} ${c}`),
    ...stale.sets.map((s) => `delete set ${T} ${s}`),
    '',
  ].join('\n');
  return { ...plan, text };
}

/** The elements to delete (gone, or their value changed) and to add (new, or changed). */
function elementChanges(now: Record<string, string>, before: Record<string, string> | undefined): { removed: string[]; added: string[] } {
  if (!before) return { removed: [], added: Object.keys(now) };
  const removed = Object.keys(before).filter((id) => now[id] !== before[id]);
  const added = Object.keys(now).filter((id) => before[id] !== now[id]);
  return { removed, added };
}
