// Rule tracing as data: the lines of `nft monitor trace` (nftables 1.0.6) and `xtables-monitor --trace`
// (iptables 1.8.9) become events — a packet seen at a base chain, a rule that matched with its
// verdict, a chain's policy — grouped by trace id (one id per packet). Pure: text in, values out.

/** The packet a trace line describes; `fields` holds every field as printed, the rest is read from them. */
export interface TracePacket {
  iif?: string;
  oif?: string;
  src?: string;
  dst?: string;
  /** The layer-4 header nft printed fields of (`tcp`, `udp`, `icmp`, …); xtables-monitor does not say. */
  proto?: string;
  sport?: number;
  dport?: number;
  length?: number;
  fields: Record<string, string>;
}

/** What a trace line reports: the packet entering a base chain, a rule's verdict, a chain's policy, a return. */
export type TraceEventType = 'packet' | 'rule' | 'policy' | 'return' | 'other';

/** One line of a trace. */
export interface TraceEvent {
  /** The trace id: the same for every line about one packet. */
  id: string;
  /** `ip`, `ip6`, `inet`, `bridge`, … */
  family: string;
  table: string;
  chain: string;
  type: TraceEventType;
  /** The rule's handle (nft -a, xtables-monitor). */
  handle?: number;
  /** The rule as the monitor printed it (nft syntax, or iptables syntax from xtables-monitor). */
  rule?: string;
  /** accept, drop, continue, return, jump, goto, queue, … (lower case). */
  verdict?: string;
  /** The chain of a jump or goto. */
  target?: string;
  packet?: TracePacket;
  /** The line as printed. */
  line: string;
}

/** Parsed trace output: events, and lines that were not trace lines (a monitor's complaints). */
export interface TraceParse {
  events: TraceEvent[];
  warnings: string[];
}

/** The events of one packet (one trace id), with its first packet line and its fate. */
export interface TraceGroup {
  id: string;
  family: string;
  packet?: TracePacket;
  events: TraceEvent[];
  /** `drop` (or another non-accept terminal verdict) if one was given, else the last accept. */
  verdict?: string;
}

const TERMINAL = new Set(['accept', 'drop', 'queue', 'stolen', 'stop', 'repeat']);

/** Splits on spaces, keeping double-quoted words whole (quotes removed). */
function words(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

const toNum = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** The fields of nft's `packet:` line: `iif "eth0" ip saddr 203.0.113.1 … tcp flags == syn`. */
export function parseNftPacket(text: string): TracePacket {
  const w = words(text);
  const fields: Record<string, string> = {};
  const single = new Set(['iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype']);
  for (let i = 0; i < w.length;) {
    const oneWord = single.has(w[i]) || w[i].startsWith('@');
    const key = oneWord ? w[i] : `${w[i]} ${w[i + 1] ?? ''}`;
    let j = oneWord ? i + 1 : i + 2;
    if (w[j] === '==') j++;
    let value = w[j] ?? '';
    while (w[j + 1] === '|' || w[j + 1] === ',') { value += ` ${w[j + 1]} ${w[j + 2] ?? ''}`; j += 2; }
    fields[key] = value;
    i = j + 1;
  }
  const l4 = Object.keys(fields).map((k) => /^(tcp|udp|udplite|sctp|dccp|icmp|icmpv6|igmp|esp|ah) /.exec(k)?.[1]).find((p) => p !== undefined);
  return defined({
    iif: fields.iif ?? fields.iifname, oif: fields.oif ?? fields.oifname,
    src: fields['ip saddr'] ?? fields['ip6 saddr'], dst: fields['ip daddr'] ?? fields['ip6 daddr'], proto: l4,
    sport: toNum(l4 ? fields[`${l4} sport`] : undefined), dport: toNum(l4 ? fields[`${l4} dport`] : undefined),
    length: toNum(fields['ip length'] ?? fields['ip6 length']), fields,
  });
}

/** Parses `nft [-a] monitor trace` output. */
export function parseNftTrace(text: string): TraceParse {
  const events: TraceEvent[] = [];
  const warnings: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) continue;
    const m = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (\S+)(?: (.*))?$/.exec(line);
    if (!m) {
      warnings.push(line.trim());
      continue;
    }
    const [, id, family, table, chain, kind, restRaw] = m;
    const rest = (restRaw ?? '').trim();
    const base = { id, family, table, chain, line };
    if (kind === 'packet:') events.push({ ...base, type: 'packet', packet: parseNftPacket(rest) });
    else if (kind === 'rule') events.push({ ...base, type: 'rule', ...nftRuleVerdict(rest) });
    else if (kind === 'policy') events.push({ ...base, type: 'policy', verdict: rest.split(' ')[0] });
    else if (kind === 'return' || kind === 'verdict') events.push({ ...base, type: kind === 'return' ? 'return' : 'other', ...splitVerdict(rest || 'return') });
    else events.push({ ...base, type: 'other', rule: `${kind} ${rest}`.trim() });
  }
  return { events, warnings };
}

function splitVerdict(v: string): { verdict: string; target?: string } {
  const [verdict, ...target] = v.trim().split(/\s+/);
  return target.length ? { verdict: verdict.toLowerCase(), target: target.join(' ') } : { verdict: verdict.toLowerCase() };
}

/** `RULE TEXT # handle N (verdict jump c1)` → rule text, handle, verdict, target. */
function nftRuleVerdict(rest: string): Pick<TraceEvent, 'rule' | 'handle' | 'verdict' | 'target'> {
  let rule = rest;
  let v: { verdict: string; target?: string } | undefined;
  const at = rule.lastIndexOf(' (verdict ');
  const vm = /^\(verdict ([^)]*)\)$/.exec(at >= 0 ? rule.slice(at + 1).trim() : rule);
  if (vm) {
    v = splitVerdict(vm[1]);
    rule = at >= 0 ? rule.slice(0, at) : '';
  }
  const h = /\s*# handle (\d+)$/.exec(rule);
  if (h) rule = rule.slice(0, h.index);
  return defined({ rule: rule.trim(), handle: h ? Number(h[1]) : undefined, ...v });
}

const NFPROTO: Record<string, string> = { 1: 'inet', 2: 'ip', 3: 'arp', 5: 'netdev', 7: 'bridge', 10: 'ip6' };
/** Verdict codes xtables-monitor prints in hex when it has no name for them (NF_* and NFT_*). */
const VERDICT_CODES: Record<string, string> = {
  '0x0': 'drop', '0x1': 'accept', '0x2': 'stolen', '0x3': 'queue', '0x4': 'repeat', '0x5': 'stop',
  '0xffffffff': 'continue', '0xfffffffe': 'break', '0xfffffffd': 'jump', '0xfffffffc': 'goto', '0xfffffffb': 'return',
};

/** The fields of xtables-monitor's `PACKET:` line: `IN=eth0 SRC=… DST=… LEN=84 … DF`. */
export function parseXtablesPacket(text: string): TracePacket {
  const fields: Record<string, string> = {};
  for (const w of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = w.indexOf('=');
    if (eq < 0) fields[w] = '';
    else fields[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return defined({
    iif: fields.IN, oif: fields.OUT, src: fields.SRC, dst: fields.DST,
    sport: toNum(fields.SPORT ?? fields.SPT), dport: toNum(fields.DPORT ?? fields.DPT), length: toNum(fields.LEN), fields,
  });
}

/** One `TRACE:` word, `table:chain:rule:0xHANDLE:VERDICT[:TARGET]` or `table:chain:policy:VERDICT`. */
function xtablesWhere(word: string): Pick<TraceEvent, 'table' | 'chain' | 'type' | 'handle' | 'verdict' | 'target'> {
  const parts = word.split(':');
  const at = parts.findIndex((p, i) => i >= 2 && (p === 'rule' || p === 'policy' || p === 'return'));
  if (at < 0) return { table: parts[0], chain: parts.slice(1).join(':'), type: 'other' };
  const type = parts[at] as 'rule' | 'policy' | 'return';
  const rest = parts.slice(at + 1);
  const handle = type === 'rule' && /^0x[0-9a-f]+$/i.test(rest[0] ?? '') ? parseInt(rest.shift() ?? '', 16) : undefined;
  const code = (rest.shift() ?? '').toLowerCase();
  const verdict = VERDICT_CODES[code] ?? (code || undefined);
  return defined({ table: parts[0], chain: parts.slice(1, at).join(':'), type, handle, verdict, target: rest.length ? rest.join(':') : undefined });
}

/** Parses `xtables-monitor --trace` output. */
export function parseXtablesTrace(text: string): TraceParse {
  const events: TraceEvent[] = [];
  const warnings: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) continue;
    const p = /^PACKET: (\d+) ([0-9a-f]+) ?(.*)$/.exec(line);
    const t = /^\s*TRACE: (\d+) ([0-9a-f]+) (\S+)(?: +(.*))?$/.exec(line);
    if (p) {
      const packet = parseXtablesPacket(p[3]);
      events.push({ id: p[2], family: NFPROTO[p[1]] ?? p[1], table: '', chain: '', type: 'packet', packet, line });
    } else if (t) {
      const rule = (t[4] ?? '').trim();
      events.push({ id: t[2], family: NFPROTO[t[1]] ?? t[1], ...xtablesWhere(t[3]), ...(rule ? { rule } : {}), line });
    } else {
      warnings.push(line.trim());
    }
  }
  // xtables-monitor prints the packet before the table and chain it enters: take them from the next line.
  const next = new Map<string, TraceEvent>();
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    const after = next.get(e.id);
    if (e.type !== 'packet') next.set(e.id, e);
    else if (after) Object.assign(e, { table: after.table, chain: after.chain });
  }
  return { events, warnings };
}

/** Groups events by trace id, in the order the ids were first seen. */
export function groupTraces(events: readonly TraceEvent[]): TraceGroup[] {
  const groups = new Map<string, TraceGroup>();
  for (const e of events) {
    let g = groups.get(e.id);
    if (!g) {
      g = { id: e.id, family: e.family, events: [] };
      groups.set(e.id, g);
    }
    g.events.push(e);
    if (!g.packet && e.packet) g.packet = e.packet;
    if (e.verdict && TERMINAL.has(e.verdict) && (g.verdict === undefined || g.verdict === 'accept')) g.verdict = e.verdict;
  }
  return [...groups.values()];
}
