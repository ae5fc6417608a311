// Does forwarded pod traffic get through netfilter? Walks iptables' FORWARD chain (and every other
// base chain hooked at forward) the way a pod's packet would: an ACCEPT of the cluster network first
// (flannel's FLANNEL-FWD, directly or in a chain jumped to) lets it pass; a DROP or REJECT that
// matches it first (no conditions but addresses and interfaces) kills it; a DROP policy at the end
// kills what nothing accepted. Rules with other conditions (conntrack state, marks) are left alone.
// In nftables every base chain on a hook must accept a packet, so a drop in any of them counts. Pure.
import { containsCidr, overlaps, parseCidr } from '../ip.js';
import type { IptablesDump, IptablesRule } from '../netfilter-iptables.js';
import { splitIptablesWords } from '../netfilter-iptables.js';
import type { NftRule } from '../netfilter-nft.js';
import { inNs } from './commands.js';
import { on, type Check } from './node.js';
import { ruleText, simpleMatches } from './nft-text.js';
import type { Finding, NodeObservation } from './types.js';

const IPTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);
const CORE = new Set(['-s', '-d', '-i', '-o', '-p']);

/** How an address match relates to pod traffic: covers all of it, some of it, or none. */
function addrRel(value: string, negated: boolean, cluster: string): 'all' | 'some' | 'none' {
  let c;
  try {
    c = parseCidr(value.includes('/') ? value : `${value}/32`);
  } catch {
    return 'none';
  }
  const net = parseCidr(cluster);
  if (negated) return overlaps(c, net) ? (containsCidr(c, net) ? 'none' : 'some') : 'all';
  return containsCidr(c, net) ? 'all' : overlaps(c, net) ? 'some' : 'none';
}

/** A rule's conditions as seen by pod traffic: undefined when it has conditions the walk cannot judge. */
function podMatch(ms: readonly { field: string; value: string; negated: boolean }[], cluster: string): 'all' | 'some' | 'none' {
  let rel: 'all' | 'some' | 'none' = 'all';
  for (const m of ms) {
    if (m.field !== 'saddr' && m.field !== 'daddr') { rel = rel === 'none' ? 'none' : 'some'; continue; }
    const r = addrRel(m.value, m.negated, cluster);
    if (r === 'none') return 'none';
    if (r === 'some') rel = 'some';
  }
  return rel;
}

/** An iptables rule's conditions in the walk's terms, or undefined when it has others (modules, …). */
function iptablesMatches(r: IptablesRule): { field: string; negated: boolean; value: string }[] | undefined {
  const out: { field: string; negated: boolean; value: string }[] = [];
  for (const o of r.matches) {
    if (o.option === '-m' && o.value === 'comment') continue;
    if (o.module === 'comment') continue;
    if (!CORE.has(o.option)) return undefined;
    const field = ({ '-s': 'saddr', '-d': 'daddr', '-i': 'iifname', '-o': 'oifname', '-p': 'proto' } as const)[o.option as '-s'];
    out.push({ field, negated: o.negated, value: o.value });
  }
  return out;
}

/** What a pod's forwarded packet meets in iptables' FORWARD: the rule that drops it, the DROP policy, or nothing. */
function walkIptables(dump: IptablesDump, cluster: string): { rule?: IptablesRule; policy?: boolean } {
  const filter = dump.tables.find((t) => t.name === 'filter');
  if (!filter) return {};
  const chainAccepts = (name: string) => filter.rules.some((r) => r.chain === name && r.target === 'ACCEPT' && (() => {
    const ms = iptablesMatches(r);
    return ms !== undefined && ms.length > 0 && podMatch(ms, cluster) !== 'none';
  })());
  for (const r of filter.rules.filter((x) => x.chain === 'FORWARD')) {
    const ms = iptablesMatches(r);
    if (r.target === 'ACCEPT' && ms && podMatch(ms, cluster) === 'all') return {};
    if ((r.target === 'DROP' || r.target === 'REJECT') && ms && podMatch(ms, cluster) !== 'none') return { rule: r };
    if (ms && r.target && !['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'LOG', 'MARK'].includes(r.target) && chainAccepts(r.target)) return {};
  }
  return { policy: filter.chains.find((c) => c.name === 'FORWARD')?.policy === 'DROP' };
}

/** The same walk over nftables' own base chains at forward (iptables-nft's tables are read above). */
function walkNft(obs: NodeObservation, cluster: string): { rule?: NftRule; chain?: string } {
  const rs = obs.nft;
  if (!rs) return {};
  const ipt = new Set(obs.iptables?.tables.map((t) => t.name) ?? []);
  for (const c of rs.chains.filter((x) => x.hook === 'forward' && !(x.family === 'ip' && IPTABLES_TABLES.has(x.table) && ipt.has(x.table)))) {
    let accepted = false;
    for (const r of rs.rules.filter((x) => x.family === c.family && x.table === c.table && x.chain === c.name)) {
      const ms = simpleMatches(r.expr);
      const kind = r.expr.some((e) => typeof e === 'object' && e !== null && 'reject' in e) ? 'reject' : r.verdict?.kind;
      if (kind === 'accept' && ms && podMatch(ms, cluster) === 'all') { accepted = true; break; }
      if ((kind === 'drop' || kind === 'reject') && ms && podMatch(ms, cluster) !== 'none') return { rule: r };
    }
    if (!accepted && c.policy === 'drop') return { chain: `${c.family} ${c.table} ${c.name}` };
  }
  return {};
}

const BREAKS = 'Every packet routed through this node is refused: pods here reach nothing beyond cni0, and nothing from other nodes reaches them.';

/** iptables' FORWARD and every nftables base chain at forward let pod traffic through. */
export const checkForward: Check = (exp, obs) => {
  const cluster = exp.clusterCIDR;
  if (!cluster) return [];
  const out: Finding[] = [];
  const save = inNs(obs.ns, ['iptables-save', '-t', 'filter']);
  const ipt = obs.iptables ? walkIptables(obs.iptables, cluster) : {};
  if (ipt.rule) {
    const words = splitIptablesWords(ipt.rule.text).map((w) => w.value);
    out.push(on(obs, { id: 'forward-reject', severity: 'error', reach: 'node',
      what: `A ${ipt.rule.target} rule in iptables' FORWARD chain catches pod traffic before anything accepts it: ${ipt.rule.text}`, breaks: BREAKS,
      evidence: [{ command: save, value: ipt.rule.text }], fix: [inNs(obs.ns, ['iptables', '-D', ...words.slice(1)])] }));
  } else if (ipt.policy) {
    out.push(on(obs, { id: 'forward-policy-drop', severity: 'error', reach: 'node',
      what: `iptables' FORWARD policy is DROP and no rule accepts the cluster network ${cluster} before it`, breaks: BREAKS,
      evidence: [{ command: save, value: ':FORWARD DROP' }],
      fix: [inNs(obs.ns, ['iptables', '-I', 'FORWARD', '1', '-s', cluster, '-j', 'ACCEPT']), inNs(obs.ns, ['iptables', '-I', 'FORWARD', '2', '-d', cluster, '-j', 'ACCEPT'])] }));
  }
  const nft = walkNft(obs, cluster);
  if (nft.rule) {
    const r = nft.rule;
    out.push(on(obs, { id: 'forward-reject', severity: 'error', reach: 'node',
      what: `nftables chain ${r.family} ${r.table} ${r.chain} drops pod traffic: ${ruleText(r.expr)}`, breaks: BREAKS,
      evidence: [{ command: inNs(obs.ns, ['nft', '-a', 'list', 'chain', r.family, r.table, r.chain]), value: `${ruleText(r.expr)} # handle ${r.handle}` }],
      fix: [inNs(obs.ns, ['nft', 'delete', 'rule', r.family, r.table, r.chain, 'handle', String(r.handle)])] }));
  } else if (nft.chain) {
    const [family, table, chain] = nft.chain.split(' ');
    out.push(on(obs, { id: 'forward-policy-drop', severity: 'error', reach: 'node',
      what: `nftables chain ${nft.chain} (hook forward) drops by policy and accepts nothing of ${cluster}`, breaks: BREAKS,
      evidence: [{ command: inNs(obs.ns, ['nft', 'list', 'chain', family, table, chain]), value: 'policy drop' }],
      fix: [inNs(obs.ns, ['nft', 'insert', 'rule', family, table, chain, 'ip', 'saddr', cluster, 'accept']), inNs(obs.ns, ['nft', 'insert', 'rule', family, table, chain, 'ip', 'daddr', cluster, 'accept'])] }));
  }
  return out;
};
