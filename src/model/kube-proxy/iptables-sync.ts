// One node's iptables-restore --noflush input, as kube-proxy builds it: a full sync writes every
// chain, the canary chains and the jumps missing from the built-in chains, and deletes service
// chains it finds but no longer uses; a partial sync rewrites the chains every sync owns
// (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ and the filter chains), only
// the chains of the Service ports that changed, and deletes (`-X`) the chains no port uses any
// more. Chains left out of the input stay as they are (--noflush). A partial input first adds and
// deletes a rule in each table's KUBE-PROXY-CANARY: when someone flushed the table, that fails before
// anything of the table changed, and the caller syncs everything (kube-proxy watches the same
// canaries from a background loop). Pure.
import type { ServicePortEndpoints } from '../k8s.js';
import type { IptablesDump } from '../netfilter-iptables.js';
import { isIptablesServiceChain, portProtoHash } from './names.js';
import { iptablesBase, isLargeCluster, jumpLine, portChains, portTop, type IptablesBase, type IptablesJump } from './iptables.js';
import { portViews, type ProxyNode } from './ports.js';
import { blockHash, staleNames, unchangedPort, type ProxyRecord } from './record.js';
import { recordedEndpoints, staleFlows, type StaleFlow } from './conntrack.js';
import type { ProxySyncPlan } from './mode.js';

/** What a full sync needs to know of the tables as they are (from iptables-save -t nat / -t filter). */
export interface IptablesExisting {
  /** Every chain of the nat table. */
  natChains: string[];
  /** `table chain target comment` of every rule in a built-in chain. */
  jumps: Set<string>;
}

/** Nothing there yet (a new node). */
export const NO_IPTABLES: IptablesExisting = { natChains: [], jumps: new Set() };

const jumpKey = (table: string, chain: string, target: string | undefined, comment: string | undefined): string => `${table} ${chain} ${target ?? ''} ${comment ?? ''}`;

/** What a full sync needs from iptables-save's nat and filter tables. */
export function iptablesExisting(dump: IptablesDump): IptablesExisting {
  const nat = dump.tables.find((t) => t.name === 'nat');
  const jumps = new Set<string>();
  for (const t of dump.tables) {
    const builtin = new Set(t.chains.filter((c) => c.builtin).map((c) => c.name));
    for (const r of t.rules) if (builtin.has(r.chain)) jumps.add(jumpKey(t.name, r.chain, r.target, r.comment));
  }
  return { natChains: nat?.chains.map((c) => c.name) ?? [], jumps };
}

const chainLine = (name: string): string => `:${name} - [0:0]`;

/** The restore input that brings `node` to `ports`: partial against `previous`, or full (previous
 * undefined) against what `existing` says the tables hold. Only ports whose fingerprint changed are
 * generated again. */
export function iptablesSync(ports: readonly ServicePortEndpoints[], node: ProxyNode, previous: ProxyRecord | undefined, existing: IptablesExisting = NO_IPTABLES): ProxySyncPlan {
  const full = previous === undefined;
  const views = portViews(ports, node);
  const large = isLargeCluster(views);
  const context = `v1 ${node.clusterCIDR} ${large ? 'large' : 'small'}`;
  const base = iptablesBase();
  const record: ProxyRecord = { version: 1, mode: 'iptables', context, ports: {} };
  const active = new Set<string>();
  // Text is built as strings (V8 joins them lazily): 10 000 Services are ~100 000 lines.
  const out = { natChains: lines(base.natChains.map(chainLine)), nat: lines(base.natHead), filter: lines(base.filterHead), top: '' };
  const flows: StaleFlow[] = [];
  let written = 0;
  for (const v of views) {
    const key = `${v.name}/${v.proto}`;
    const same = full ? undefined : unchangedPort(previous, context, key, v.fingerprint);
    const h = same?.h ?? portProtoHash(v.name, v.proto);
    const top = portTop(v, h);
    const shared = lines(top.filter) + lines(top.natTop);
    out.filter += lines(top.filter);
    out.nat += lines(top.natTop);
    out.top += shared;
    if (same) {
      record.ports[key] = same;
      for (const c of same.chains) active.add(c);
      continue;
    }
    const chains = portChains(v, node, large);
    record.ports[key] = { fp: v.fingerprint, h, chains: chains.map((c) => c.name), ...recordedEndpoints(v) };
    if (!full) flows.push(...staleFlows(v, previous.ports[key]));
    written++;
    for (const c of chains) {
      active.add(c.name);
      out.natChains += `${chainLine(c.name)}\n`;
      out.nat += lines(c.rules);
    }
  }
  const stale = full ? existing.natChains.filter((c) => isIptablesServiceChain(c) && !active.has(c)).sort() : staleNames(previous, active).chains;
  out.natChains += lines(stale.map(chainLine));
  out.nat += lines(stale.map((c) => `-X ${c}`)) + lines(base.natTail);
  record.top = blockHash([lines(base.filterHead), lines(base.filterTail), lines(base.natHead), out.top, lines(base.natTail)]);
  const plan = { mode: 'iptables' as const, record, full, written, ports: views.length, stale, conntrack: flows };
  if (!full && written === 0 && stale.length === 0 && previous.top === record.top) return { ...plan, text: '' };
  return { ...plan, text: restoreText(base, full, existing, out) };
}

/** Lines, each ended by a newline. */
const lines = (xs: readonly string[]): string => (xs.length ? `${xs.join('\n')}\n` : '');

/** The restore input's three tables. */
function restoreText(base: IptablesBase, full: boolean, existing: IptablesExisting, out: { natChains: string; nat: string; filter: string }): string {
  const missing = full ? base.jumps.filter((j) => !existing.jumps.has(jumpKey(j.table, j.chain, j.target, j.comment))) : [];
  const jumps = (table: IptablesJump['table']) => lines(missing.filter((j) => j.table === table).map(jumpLine));
  // Full: (re)create the canaries. Partial: a no-op rule in each, which fails when the table was flushed.
  const guard = (table: keyof IptablesBase['canaries']) => (full ? '' : lines([`-A ${base.canaries[table]} -j RETURN`, `-D ${base.canaries[table]} -j RETURN`]));
  const canary = (table: keyof IptablesBase['canaries']) => (full ? `${chainLine(base.canaries[table])}\n` : '');
  return (full ? `*mangle\n${canary('mangle')}COMMIT\n` : '')
    + `*filter\n${guard('filter')}${lines(base.filterChains.map(chainLine))}${canary('filter')}${jumps('filter')}${out.filter}${lines(base.filterTail)}COMMIT\n`
    + `*nat\n${guard('nat')}${out.natChains}${canary('nat')}${jumps('nat')}${out.nat}COMMIT\n`;
}
