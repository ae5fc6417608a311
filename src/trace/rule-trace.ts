// Rule tracing as a trace uses it: which packets to mark on each node (the flows of the trace's
// addresses, both ways), the marking rules in both dialects (one nft table, or `-j TRACE` rules in the
// raw table), what the tracer printed turned into rule hits tied to packets by their IP id, and the
// chain walks worth showing — the jumps into kube-proxy's and flannel's chains that ended in a NAT or
// a verdict other than accept. Pure.
import type { TraceFlow } from '../model/netfilter-flow.js';
import { TRACE_PREFIX, traceFlowNft, xtablesTraceRules } from '../model/netfilter-flow.js';
import type { TraceEvent, TraceParse } from '../model/netfilter-trace.js';
import type { RuleHit, TraceProtocol } from '../model/trace.js';

/** The flows to mark on a node: every packet of `protocol` from or to one of `hosts` (and, for TCP and
 * UDP probes, the ICMP errors about them). */
export function traceFlows(hosts: readonly string[], protocol: TraceProtocol): TraceFlow[] {
  const protos = protocol === 'icmp' ? ['icmp'] : [protocol, 'icmp'];
  return [...new Set(hosts)].flatMap((h) => protos.flatMap((proto) => [{ src: h, proto }, { dst: h, proto }]));
}

/** podnet's nft tracing table for a trace: one base chain at prerouting and one at output (priority
 * -350, before conntrack), one `meta nftrace set 1` rule per flow. Replaces a table of the same name. */
export function nftTraceTableText(tag: string, flows: readonly TraceFlow[]): { table: string; text: string } {
  const table = `${TRACE_PREFIX}${tag}`;
  const rules = flows.map((f) => `    ${traceFlowNft(f)} meta nftrace set 1 comment "${table}"`);
  const chain = (name: string, hook: string) => [`  chain ${name} {`, `    type filter hook ${hook} priority -350; policy accept;`, ...rules, '  }'];
  const text = [`table ip ${table} {}`, `delete table ip ${table}`, `table ip ${table} {`, ...chain('pre', 'prerouting'), ...chain('out', 'output'), '}', ''].join('\n');
  return { table, text };
}

/** The iptables-restore input (for --noflush) adding a `-j TRACE` rule per flow to raw PREROUTING and
 * OUTPUT, each commented `podnet-trace-<tag>`. */
export function xtablesTraceText(tag: string, flows: readonly TraceFlow[]): { comment: string; text: string } {
  const parts = flows.map((f) => xtablesTraceRules(tag, f));
  const lines = parts.flatMap((p) => p.text.split('\n').filter((l) => l.startsWith('-A ')));
  return { comment: parts[0]?.comment ?? `${TRACE_PREFIX}${tag}`, text: ['*raw', ...lines, 'COMMIT', ''].join('\n') };
}

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

/** True for the lines about podnet's own marking rule (its table, or its TRACE rule in raw). */
const ownRule = (e: TraceEvent) => e.table.startsWith(TRACE_PREFIX) || (e.rule ?? '').includes(TRACE_PREFIX);

/** What one node's tracer printed, as rule hits: each line with the IP id, source and destination of
 * the packet it is about (the packet line before it with the same trace id), podnet's own marking
 * rules left out. */
export function ruleHits(node: string, parse: TraceParse): RuleHit[] {
  const last = new Map<string, { ipId?: number; src?: string; dst?: string }>();
  const out: RuleHit[] = [];
  for (const e of parse.events) {
    if (e.type === 'packet' && e.packet) {
      const f = e.packet.fields;
      const ipId = num(f.ID ?? f['ip id']);
      last.set(e.id, { ...(ipId !== undefined ? { ipId } : {}), ...(e.packet.src ? { src: e.packet.src } : {}), ...(e.packet.dst ? { dst: e.packet.dst } : {}) });
      continue;
    }
    if (ownRule(e) || e.type === 'other') continue;
    out.push({
      node, table: e.table, chain: e.chain, type: e.type, ...(e.rule ? { rule: e.rule } : {}), ...(e.handle !== undefined ? { handle: e.handle } : {}),
      ...(e.verdict ? { verdict: e.verdict } : {}), ...(e.target ? { target: e.target } : {}), ...last.get(e.id),
    });
  }
  return out;
}

/** A rule's comment (`--comment "…"` or nft's `comment "…"`), if it has one. */
export function ruleComment(rule: string | undefined): string | undefined {
  return /(?:--comment|comment) "([^"]*)"/.exec(rule ?? '')?.[1] ?? /--comment (\S+)/.exec(rule ?? '')?.[1];
}

/** The NAT or mark a rule applies, in a few words: `DNAT to 10.42.1.2:8080`, `MASQUERADE`, `MARK 0x4000`. */
export function ruleAction(rule: string | undefined): string | undefined {
  const r = rule ?? '';
  const dnat = /-j DNAT --to-destination (\S+)|\bdnat (?:ip )?to (\S+)/.exec(r);
  if (dnat) return `DNAT to ${dnat[1] ?? dnat[2]}`;
  const snat = /-j SNAT --to-source (\S+)|\bsnat (?:ip )?to (\S+)/.exec(r);
  if (snat) return `SNAT to ${snat[1] ?? snat[2]}`;
  if (/-j MASQUERADE|\bmasquerade\b/.test(r)) return `MASQUERADE${/random-fully|fully-random/.test(r) ? ' (fully random ports)' : ''}`;
  const mark = /-j MARK --set-xmark (0x[0-9a-f]+)|meta mark set mark or (0x[0-9a-f]+)/i.exec(r);
  if (mark) return `MARK ${mark[1] ?? mark[2]}`;
  if (/-j REJECT|\breject\b/.test(r)) return 'REJECT';
  return undefined;
}

/** One walk through a table for one packet: the chains it jumped through and what happened at the end. */
export interface ChainWalk {
  node: string;
  table: string;
  /** `PREROUTING → KUBE-SERVICES → KUBE-SVC-… (default/web:http -> 10.42.1.2:8080) → KUBE-SEP-…`. */
  chains: string[];
  /** NAT and marks applied on the way, and the final verdict when it was not accept. */
  actions: string[];
  verdict?: string;
}

/** The walks of the hits of one packet on one node (in order), each table once per base chain entered. */
export function chainWalks(hits: readonly RuleHit[]): ChainWalk[] {
  const walks: ChainWalk[] = [];
  let cur: ChainWalk | undefined;
  for (const h of hits) {
    if (!cur || cur.table !== h.table || (h.chain !== cur.chains.at(-1)?.split(' ')[0] && !cur.chains.some((c) => c.split(' ')[0] === h.chain))) {
      cur = { node: h.node, table: h.table, chains: [h.chain], actions: [] };
      walks.push(cur);
    }
    const action = ruleAction(h.rule);
    if (action) cur.actions.push(action);
    if ((h.verdict === 'jump' || h.verdict === 'goto') && h.target) {
      const comment = ruleComment(h.rule);
      cur.chains.push(comment && /->|endpoint|service/.test(comment) ? `${h.target} (${comment})` : h.target);
    }
    if (h.verdict && !['jump', 'goto', 'continue', 'return', 'accept'].includes(h.verdict)) cur.verdict = h.verdict;
  }
  return walks;
}

/** The walks worth a line: those that rewrote or marked the packet, or ended in a drop. */
export const telling = (w: ChainWalk): boolean => w.actions.length > 0 || w.verdict !== undefined;

/** `nat PREROUTING → KUBE-SERVICES → … → KUBE-SEP-…: DNAT to 10.42.1.2:8080`. */
export function walkText(w: ChainWalk): string {
  const tail = [...new Set(w.actions.filter((a) => !a.startsWith('MARK') || w.actions.length === 1))];
  return `${w.table} ${w.chains.join(' → ')}${tail.length ? `: ${tail.join(', ')}` : ''}${w.verdict ? ` (${w.verdict})` : ''}`;
}
