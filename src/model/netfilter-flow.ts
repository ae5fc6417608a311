// Which packets to trace, said once and written in both dialects: iptables options for a `-j TRACE`
// rule in the raw table, and an nft match for `meta nftrace set 1` in a table of podnet's own
// (`podnet-trace-<tag>`, base chains at prerouting/output priority -350, before conntrack and raw).
// Every value is checked first, since it ends up inside a ruleset text. Pure.
import { UserError } from './errors.js';
import { quoteIptablesWord } from './netfilter-iptables.js';

/** Every name podnet gives a tracing table or rule comment starts with this. */
export const TRACE_PREFIX = 'podnet-trace-';

/** The packets to trace; every field narrows, none traces everything. */
export interface TraceFlow {
  /** `ip` (IPv4) or `ip6`; by default read from the addresses (IPv4 without any). */
  family?: 'ip' | 'ip6';
  /** Source and destination address or prefix (`203.0.113.1`, `10.42.0.0/16`). */
  src?: string;
  dst?: string;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, … or a protocol number. */
  proto?: string;
  sport?: number;
  dport?: number;
  /** The interface the packet came in on (traces at prerouting only). */
  iif?: string;
}

/** The hooks a trace rule sits at. */
export type TraceHook = 'prerouting' | 'output';

const V4 = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/;
const V6 = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(\/\d{1,3})?$/;

/** Checks a flow and fills in its family; throws a usage error naming the field. */
export function checkTraceFlow(flow: TraceFlow): TraceFlow & { family: 'ip' | 'ip6' } {
  const bad = (field: string, why: string) => new UserError('usage', `trace flow: ${field} ${why}`);
  const addrs = [flow.src, flow.dst].filter((a): a is string => a !== undefined);
  for (const [field, a] of [['src', flow.src], ['dst', flow.dst]] as const) {
    if (a !== undefined && !V4.test(a) && !V6.test(a)) throw bad(field, `${JSON.stringify(a)} is not an IPv4 or IPv6 address or prefix`);
  }
  const family = flow.family ?? (addrs.some((a) => a.includes(':')) ? 'ip6' : 'ip');
  if (addrs.some((a) => a.includes(':') !== (family === 'ip6'))) throw bad('src/dst', `do not match family ${family}`);
  if (flow.proto !== undefined && !/^([a-z][a-z0-9-]{0,15}|\d{1,3})$/.test(flow.proto)) throw bad('proto', `${JSON.stringify(flow.proto)} is not a protocol name or number`);
  for (const field of ['sport', 'dport'] as const) {
    const p = flow[field];
    if (p === undefined) continue;
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw bad(field, `${p} is not a port (1-65535)`);
    if (!['tcp', 'udp', 'sctp', 'udplite', 'dccp'].includes(flow.proto ?? '')) throw bad(field, 'needs proto tcp, udp or sctp');
  }
  if (flow.iif !== undefined && !/^[A-Za-z0-9_.+-]{1,15}$/.test(flow.iif)) throw bad('iif', `${JSON.stringify(flow.iif)} is not an interface name`);
  return { ...flow, family };
}

/** Checks a tag (the part of podnet's names after `podnet-trace-`): lower-case letters, digits, dashes. */
export function checkTraceTag(tag: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,23}$/.test(tag)) throw new UserError('usage', `trace tag ${JSON.stringify(tag)}: use 1-24 lower-case letters, digits and dashes`);
  return tag;
}

/** The hooks a flow is traced at: prerouting and output, or only prerouting for a flow with `iif`. */
export function traceHooks(flow: TraceFlow): TraceHook[] {
  return flow.iif !== undefined ? ['prerouting'] : ['prerouting', 'output'];
}

/** The flow as iptables options: `-s 203.0.113.1/32 -p icmp` (checked first). */
export function traceFlowIptables(flow: TraceFlow): string[] {
  const f = checkTraceFlow(flow);
  return [
    ...(f.iif !== undefined ? ['-i', f.iif] : []),
    ...(f.src !== undefined ? ['-s', f.src] : []),
    ...(f.dst !== undefined ? ['-d', f.dst] : []),
    ...(f.proto !== undefined ? ['-p', f.proto] : []),
    ...(f.sport !== undefined ? ['--sport', String(f.sport)] : []),
    ...(f.dport !== undefined ? ['--dport', String(f.dport)] : []),
  ];
}

/** The flow as an nft match: `ip saddr 203.0.113.1 meta l4proto icmp` (checked first; '' matches everything). */
export function traceFlowNft(flow: TraceFlow): string {
  const f = checkTraceFlow(flow);
  return [
    ...(f.iif !== undefined ? [`iifname "${f.iif}"`] : []),
    ...(f.src !== undefined ? [`${f.family} saddr ${f.src}`] : []),
    ...(f.dst !== undefined ? [`${f.family} daddr ${f.dst}`] : []),
    ...(f.proto !== undefined ? [`meta l4proto ${f.proto}`] : []),
    ...(f.sport !== undefined ? [`th sport ${f.sport}`] : []),
    ...(f.dport !== undefined ? [`th dport ${f.dport}`] : []),
  ].join(' ');
}

/** podnet's tracing table for `tag`: its family and name, and the ruleset that (re)creates it in one
 * transaction — a base chain per hook at priority -350 whose one rule sets nftrace on the flow. */
export function nftTraceRuleset(tag: string, flow: TraceFlow): { family: 'ip' | 'ip6'; table: string; ruleset: string } {
  const f = checkTraceFlow(flow);
  const table = `${TRACE_PREFIX}${checkTraceTag(tag)}`;
  const match = traceFlowNft(f);
  const chains = traceHooks(f).flatMap((hook) => [
    `  chain ${hook === 'prerouting' ? 'pre' : 'out'} {`,
    `    type filter hook ${hook} priority -350; policy accept;`,
    `    ${match ? `${match} ` : ''}meta nftrace set 1 comment "${table}"`,
    '  }',
  ]);
  const ruleset = [`table ${f.family} ${table} {}`, `delete table ${f.family} ${table}`, `table ${f.family} ${table} {`, ...chains, '}', ''].join('\n');
  return { family: f.family, table, ruleset };
}

/** The iptables-restore input (for `--noflush`) that adds `-j TRACE` rules for the flow to the raw
 * table's PREROUTING (and OUTPUT), marked with the comment `podnet-trace-<tag>`. */
export function xtablesTraceRules(tag: string, flow: TraceFlow): { comment: string; text: string } {
  const comment = `${TRACE_PREFIX}${checkTraceTag(tag)}`;
  const match = traceFlowIptables(flow).map(quoteIptablesWord).join(' ');
  const rules = traceHooks(flow).map((h) => `-A ${h === 'prerouting' ? 'PREROUTING' : 'OUTPUT'} ${match ? `${match} ` : ''}-m comment --comment ${comment} -j TRACE`);
  return { comment, text: ['*raw', ...rules, 'COMMIT', ''].join('\n') };
}
