// Packets the kernel dropped, as the skb:kfree_skb tracepoint reports them through tracefs: who was
// running (comm, pid, cpu), when (the trace clock, in ns), which skb, which ethertype, where in the
// kernel (location) and why (the drop reason's name). Pure: the text comes in as a string; mounting
// tracefs and reading the buffer is src/host/tracefs.ts's job. The tracepoint carries no network
// namespace, so nothing here says which namespace a drop happened in.
export { DROP_REASONS, explainDrop } from './drop-reasons.js';

/** The kernel function that freed the skb: `__udp4_lib_rcv+0x4bc/0xd00 [module]` split into parts. */
export interface DropLocation {
  /** The symbol, or the raw address (`0xffffffff…`) when the kernel could not name it. */
  symbol: string;
  /** Bytes into the function. */
  offset?: number;
  /** The function's length. */
  size?: number;
  /** The module the function lives in, when it is not built in. */
  module?: string;
}

/** One kfree_skb event. */
export interface DropEvent {
  /** When it happened, on the trace clock (podnet sets `mono`: CLOCK_MONOTONIC), in ns. The text
   * format prints microseconds, so the last three digits are always 0. */
  tsNs: bigint;
  cpu: number;
  /** The task running when the skb was freed (often not the packet's sender: softirqs run anywhere). */
  pid: number;
  /** Its command name; `<...>` when the trace had not recorded it, `<idle>` for the idle task. */
  comm: string;
  /** The skb's address as the kernel printed it (hashed: only useful to match events to each other). */
  skbaddr: string;
  /** The receiving socket, when the kernel reports one and it is not NULL. */
  rxSk?: string;
  /** The ethertype: 2048 = IPv4, 2054 = ARP, 34525 = IPv6. */
  protocol: number;
  location: DropLocation;
  /** The drop reason's name (`NO_SOCKET`, `NETFILTER_DROP`, …), or a hex number the kernel could not name. */
  reason: string;
}

/** What a read of the trace buffer held. */
export interface DropTrace {
  events: DropEvent[];
  /** Events the kernel reported as lost (`CPU:N [LOST M EVENTS]` lines). */
  lost: number;
  /** From the header: events still in the buffer and events ever written (more written = overwritten). */
  entries?: number;
  written?: number;
}

/** `  comm-pid  [(tgid)] [cpu] [flags] secs.usecs: event: body` — comm may hold spaces and dashes. */
const LINE = /^\s*(.{1,64}?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:[^\s:]{4,6}\s+)?(\d+)\.(\d+):\s+([\w:]+):\s(.*)$/;
const LOST = /^CPU:\s*\d+\s+\[LOST\s+(\d+)\s+EVENTS\]/;
const HEADER = /entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)/;

/** Parses the text of a tracefs `trace` file, keeping the kfree_skb events; comment lines, lost-event
 * lines, other events and lines it cannot read are skipped. */
export function parseDropTrace(text: string): DropTrace {
  const out: DropTrace = { events: [], lost: 0 };
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) {
      const h = HEADER.exec(line);
      if (h) {
        out.entries = Number(h[1]);
        out.written = Number(h[2]);
      }
      continue;
    }
    const lost = line.includes('LOST') ? LOST.exec(line.trim()) : null;
    if (lost) {
      out.lost += Number(lost[1]);
      continue;
    }
    const ev = parseDropLine(line);
    if (ev) out.events.push(ev);
  }
  return out;
}

/** One trace line as a DropEvent, or undefined if it is not a well-formed kfree_skb line. */
export function parseDropLine(line: string): DropEvent | undefined {
  const m = LINE.exec(line);
  if (!m || m[6] !== 'kfree_skb' && !m[6].endsWith(':kfree_skb')) return undefined;
  const f = bodyFields(m[7]);
  if (!f) return undefined;
  const { skbaddr, rxSk, protocol, location, module, reason } = f;
  const usecs = m[5].padEnd(6, '0').slice(0, 6);
  const ev: DropEvent = {
    tsNs: BigInt(m[4]) * 1_000_000_000n + BigInt(usecs) * 1000n,
    cpu: Number(m[3]),
    pid: Number(m[2]),
    comm: m[1].trim(),
    skbaddr,
    protocol: Number(protocol),
    location: parseLocation(location, module),
    reason,
  };
  if (rxSk !== undefined && !/^(0+|\(null\))$/.test(rxSk)) ev.rxSk = rxSk;
  return ev;
}

/** The body as this kernel prints it, in one match; other layouts (older kernels, fields reordered) field by field. */
const BODY = /^skbaddr=(\S+)(?: rx_sk=(\S+))? protocol=(\d+) location=(\S+)(?: \[([\w-]+)\])? reason: (\S+)\s*$/;

function bodyFields(body: string): { skbaddr: string; rxSk?: string; protocol: string; location: string; module?: string; reason: string } | undefined {
  const b = BODY.exec(body);
  if (b) return { skbaddr: b[1], rxSk: b[2], protocol: b[3], location: b[4], module: b[5], reason: b[6] };
  const skbaddr = /(?:^|\s)skbaddr=(\S+)/.exec(body)?.[1];
  const protocol = /(?:^|\s)protocol=(\d+)/.exec(body)?.[1];
  const location = /(?:^|\s)location=(\S+)(?:\s\[([\w-]+)\])?/.exec(body);
  const reason = /(?:^|\s)reason:\s*(\S+)/.exec(body)?.[1];
  if (skbaddr === undefined || protocol === undefined || !location || reason === undefined) return undefined;
  return { skbaddr, rxSk: /(?:^|\s)rx_sk=(\S+)/.exec(body)?.[1], protocol, location: location[1], module: location[2], reason };
}

/** `sym+0x4bc/0xd00` (and an optional module) as a DropLocation. */
export function parseLocation(text: string, module?: string): DropLocation {
  const m = /^(.+?)\+0x([0-9a-f]+)\/0x([0-9a-f]+)$/i.exec(text);
  const loc: DropLocation = m ? { symbol: m[1], offset: parseInt(m[2], 16), size: parseInt(m[3], 16) } : { symbol: text };
  if (module) loc.module = module;
  return loc;
}

/** A location as the kernel prints it: `__udp4_lib_rcv+0x4bc/0xd00`. */
export function formatLocation(loc: DropLocation): string {
  const off = loc.offset !== undefined ? `+0x${loc.offset.toString(16)}${loc.size !== undefined ? `/0x${loc.size.toString(16)}` : ''}` : '';
  return `${loc.symbol}${off}${loc.module ? ` [${loc.module}]` : ''}`;
}

const ETHERTYPES: Record<number, string> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q', 0x88a8: '802.1ad', 0x0003: 'ETH_P_ALL', 0x0004: '802.2' };

/** The ethertype's usual name (`IPv4`, `ARP`, `IPv6`, …), or `0x….` for others. */
export function ethertypeName(protocol: number): string {
  return ETHERTYPES[protocol] ?? `0x${protocol.toString(16).padStart(4, '0')}`;
}

/** A mono-clock time converted to the wall clock with an offset measured as realtime − mono (both in ns). */
export function monoToRealtimeNs(monoNs: bigint, offsetNs: bigint): bigint {
  return monoNs + offsetNs;
}

/** The drop-reason numbers of this kernel, by name, read from the kfree_skb `format` file's
 * `__print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, …)` (the numbers change between kernels). */
export function parseDropReasonCodes(format: string): Map<string, number> {
  const codes = new Map<string, number>();
  const start = format.indexOf('__print_symbolic(REC->reason');
  if (start < 0) return codes;
  for (const m of format.slice(start).matchAll(/\{\s*(\d+)\s*,\s*"(\w+)"\s*\}/g)) codes.set(m[2], Number(m[1]));
  return codes;
}

/** True when a tracepoint `format` file declares a `reason` field (kernels from 5.17 on). */
export function formatHasReason(format: string): boolean {
  return /^\s*field:[^;]*\breason;/m.test(format);
}

/** A tracefs event filter that leaves out the named reasons: `reason != 2 && reason != 3`. Throws
 * on a name this kernel does not know, listing the known ones. Undefined when `exclude` is empty. */
export function excludeReasonsFilter(codes: ReadonlyMap<string, number>, exclude: readonly string[]): string | undefined {
  const parts = exclude.map((name) => {
    const code = codes.get(name);
    if (code === undefined) throw new Error(`unknown drop reason ${name} (this kernel knows: ${[...codes.keys()].join(', ')})`);
    return `reason != ${code}`;
  });
  return parts.length ? parts.join(' && ') : undefined;
}
