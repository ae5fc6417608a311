// Connection tracking entries as the `conntrack` tool prints them (`-L`, `-D`, `-E`, with or without
// `-o extended,id,timestamp`), its `-S` statistics, and what an entry says about NAT: the reply tuple
// is the original's mirror unless DNAT or SNAT rewrote an address or port. Pure: text in, values out.

/** One direction of a connection: addresses, ports (TCP, UDP, SCTP, …) or ICMP type/code/id. */
export interface ConntrackTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  type?: number;
  code?: number;
  /** The ICMP echo identifier. */
  id?: number;
  /** Per-direction counters (when nf_conntrack_acct is on). */
  packets?: number;
  bytes?: number;
}

/** What `conntrack -E` reported happening to an entry. */
export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY';

/** One connection tracking entry (or event). */
export interface ConntrackEntry {
  /** `ipv4` / `ipv6`, when printed (`-o extended`). */
  family?: string;
  /** The layer-4 protocol's name (`tcp`, `udp`, `icmp`, `unknown`) and number. */
  proto: string;
  protonum: number;
  /** Seconds until the entry expires. */
  timeout?: number;
  /** TCP's (or SCTP's, DCCP's) state: SYN_SENT, ESTABLISHED, TIME_WAIT, … */
  state?: string;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** Status flags in brackets: ASSURED, UNREPLIED, OFFLOAD, HW_OFFLOAD, USERSPACE, … */
  flags: string[];
  mark?: number;
  zone?: number;
  use?: number;
  /** The entry's id (`-o id`): the same connection has the same id in -L and in its events. */
  id?: number;
  event?: ConntrackEventType;
  /** When the event was printed (`-o timestamp`), wall clock, ns (printed to µs). */
  tsNs?: bigint;
  /** Other fields, as printed (`delta-time`, `portid`, `progname`, `secctx`, `labels`, `start`, …). */
  extra?: Record<string, string>;
}

/** `conntrack -S`: counters per CPU and their sums. */
export interface ConntrackStats {
  cpus: { cpu: number; counters: Record<string, number> }[];
  total: Record<string, number>;
}

const TUPLE_NUMBERS = new Set(['sport', 'dport', 'type', 'code', 'id', 'packets', 'bytes']);
const ICMP = new Set(['icmp', 'icmpv6']);

/** Parses conntrack's entry lines (`-L`, `-D`, `-E`; plain or `-o extended,id,timestamp`); summary,
 * warning and malformed lines are skipped. */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseConntrackLine(line);
    if (e) out.push(e);
  }
  return out;
}

/** One entry line, or undefined when the line is not one. */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  let rest = line.trim();
  let tsNs: bigint | undefined;
  const ts = /^\[(\d+)\.(\d{1,9})\]\s*/.exec(rest);
  if (ts) {
    tsNs = BigInt(ts[1]) * 1_000_000_000n + BigInt(ts[2].padEnd(9, '0'));
    rest = rest.slice(ts[0].length);
  }
  let event: ConntrackEventType | undefined;
  const ev = /^\[(NEW|UPDATE|DESTROY)\]\s*/.exec(rest);
  if (ev) {
    event = ev[1] as ConntrackEventType;
    rest = rest.slice(ev[0].length);
  }
  const tokens = rest.split(/\s+/).filter(Boolean);
  let i = 0;
  let family: string | undefined;
  if (/^\d+$/.test(tokens[1] ?? '') && /^\d+$/.test(tokens[3] ?? '') && !/^\d+$/.test(tokens[2] ?? '') && !tokens[2]?.includes('=')) {
    family = tokens[0];
    i = 2;
  }
  const proto = tokens[i];
  const protonum = Number(tokens[i + 1]);
  if (!proto || !/^[a-z][\w-]*$/.test(proto) || !/^\d+$/.test(tokens[i + 1] ?? '')) return undefined;
  const entry: ConntrackEntry = { proto, protonum, original: { src: '', dst: '' }, reply: { src: '', dst: '' }, flags: [] };
  if (family) entry.family = family;
  i += 2;
  if (/^\d+$/.test(tokens[i] ?? '')) entry.timeout = Number(tokens[i++]);
  if (/^[A-Z][A-Z0-9_]*$/.test(tokens[i] ?? '')) entry.state = tokens[i++];
  if (!readFields(entry, tokens.slice(i))) return undefined;
  if (event) entry.event = event;
  if (tsNs !== undefined) entry.tsNs = tsNs;
  return entry;
}

/** Reads the `key=value` and `[FLAG]` tokens after the state into `entry`; false when a tuple is missing. */
function readFields(entry: ConntrackEntry, tokens: readonly string[]): boolean {
  // 0: before the original tuple, 1: in it, 2: in the reply tuple, 3: after both.
  let phase = 0;
  const tuple = () => (phase === 1 ? entry.original : entry.reply);
  for (const tok of tokens) {
    const flag = /^\[([A-Z_]+)\]$/.exec(tok);
    if (flag) {
      entry.flags.push(flag[1]);
      continue;
    }
    const kv = /^\[?([\w-]+)=([^\]]*)\]?$/.exec(tok);
    if (!kv) continue;
    const [, key, value] = kv;
    if (key === 'src' && phase < 2) {
      phase++;
      tuple().src = value;
      continue;
    }
    if ((phase === 1 || phase === 2) && inTuple(entry, tuple(), key)) {
      if (key === 'dst') tuple().dst = value;
      else tuple()[key as 'sport'] = Number(value);
      continue;
    }
    if (phase === 2) phase = 3;
    setEntryField(entry, key, value);
  }
  return entry.original.src !== '' && entry.original.dst !== '' && entry.reply.src !== '' && entry.reply.dst !== '';
}

/** True when `key` belongs to the tuple being read: a tuple field it does not have yet (`id` only for ICMP). */
function inTuple(entry: ConntrackEntry, t: ConntrackTuple, key: string): boolean {
  if (key === 'dst') return t.dst === '';
  if (!TUPLE_NUMBERS.has(key) || t[key as 'sport'] !== undefined) return false;
  return key !== 'id' || ICMP.has(entry.proto);
}

function setEntryField(entry: ConntrackEntry, key: string, value: string): void {
  if ((key === 'mark' || key === 'zone' || key === 'use' || key === 'id') && /^(\d+|0x[0-9a-f]+)$/i.test(value)) {
    entry[key] = Number(value);
    return;
  }
  entry.extra = { ...entry.extra, [key]: value };
}

/** Parses `conntrack -S`: `cpu=0 found=0 invalid=5 …` per CPU; the totals are the sums. */
export function parseConntrackStats(text: string): ConntrackStats {
  const stats: ConntrackStats = { cpus: [], total: {} };
  for (const line of text.split('\n')) {
    const pairs = [...line.matchAll(/([\w-]+)=(\d+)/g)];
    const cpu = pairs.find((p) => p[1] === 'cpu');
    if (!cpu) continue;
    const counters: Record<string, number> = {};
    for (const [, k, v] of pairs) {
      if (k === 'cpu') continue;
      counters[k] = Number(v);
      stats.total[k] = (stats.total[k] ?? 0) + Number(v);
    }
    stats.cpus.push({ cpu: Number(cpu[2]), counters });
  }
  return stats;
}

/** True when the reply tuple is not the mirror of the original: DNAT and/or SNAT rewrote it. */
export function isNatted(e: ConntrackEntry): boolean {
  return dnatted(e) || snatted(e);
}

function dnatted(e: ConntrackEntry): boolean {
  return e.reply.src !== e.original.dst || (e.original.dport !== undefined && e.reply.sport !== e.original.dport);
}

function snatted(e: ConntrackEntry): boolean {
  return e.reply.dst !== e.original.src || (e.original.sport !== undefined && e.reply.dport !== e.original.sport)
    || (ICMP.has(e.proto) && e.original.id !== e.reply.id);
}

/** `10.43.0.10:53`, `[fd00::1]:80`, or the bare address when there is no port. */
export function formatEndpoint(addr: string, port?: number): string {
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** One line naming the NAT an entry shows ("DNAT 10.43.0.10:53 → 10.42.0.5:53", both joined by "; "),
 * or undefined when there is none. */
export function describeNat(e: ConntrackEntry): string | undefined {
  const o = e.original;
  const r = e.reply;
  const parts: string[] = [];
  if (dnatted(e)) parts.push(`DNAT ${formatEndpoint(o.dst, o.dport)} → ${formatEndpoint(r.src, r.sport)}`);
  if (snatted(e)) {
    const icmpId = ICMP.has(e.proto) && o.id !== r.id ? ` (id ${o.id} → ${r.id})` : '';
    parts.push(`SNAT ${formatEndpoint(o.src, o.sport)} → ${formatEndpoint(r.dst, r.dport)}${icmpId}`);
  }
  return parts.length ? parts.join('; ') : undefined;
}

/** What else conntrack wrote among its entries: warnings (ENOBUFS: events were lost), errors; not
 * its "N flow entries have been shown." summaries. */
export function conntrackWarnings(text: string): string[] {
  return text.split('\n').map((l) => l.trim())
    .filter((l) => l !== '' && parseConntrackLine(l) === undefined && conntrackSummaryCount(l) === undefined && !/table has been emptied/.test(l));
}

/** The number conntrack reports in its summary line ("N flow entries have been deleted."), or undefined. */
export function conntrackSummaryCount(stderr: string): number | undefined {
  const m = /(\d+) flow (?:entries|events) ha(?:s|ve) been/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}
