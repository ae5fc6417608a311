// The pcapng format (what Wireshark and dumpcap write; podnet writes it to keep one interface per hop
// in one file). Reads sections in either byte order: SHB, IDB (if_name, if_description, if_tsresol,
// if_tsoffset), EPB, SPB and the obsolete PB; skips every other block by its length, one function per
// block type. The writer (SHB, one IDB per interface with nanosecond timestamps, EPBs) is in
// pcapng-write.ts. Pure: bytes in, bytes out; frames read are views into the input buffer, never copies.
import type { CaptureInterface } from '../model/packet.js';
import { plainBytes, type CaptureRead } from './pcap.js';
import { BYTE_ORDER_MAGIC, EPB, IDB, IF_DESCRIPTION, IF_NAME, IF_TSOFFSET, IF_TSRESOL, OPT_END, PB, SHB, SPB } from './pcapng-format.js';

export { writePcapng, type PcapngWriteOptions } from './pcapng-write.js';

/** True when `buf` starts with a pcapng Section Header Block. */
export function isPcapng(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x0a && buf[1] === 0x0d && buf[2] === 0x0d && buf[3] === 0x0a;
}

/** How one interface's timestamps become nanoseconds: ts × mul / 2^shift / div + offset. */
interface TsConv { mul: bigint; div: bigint; shift: bigint; offsetNs: bigint; ns: boolean }

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The state of one read: the input, what was read, the current section's byte order and interfaces. */
interface Reader {
  buf: Uint8Array;
  view: DataView;
  out: CaptureRead;
  le: boolean;
  /** Index in out.interfaces of this section's interface 0. */
  base: number;
  conv: TsConv[];
  // The high 32 bits of a timestamp change rarely: their BigInt is made once per change.
  lastHi: number;
  hiTicks: bigint;
}

/** One block's place in the buffer: its start, type, body and the end of its body. */
interface Block { off: number; type: number; body: number; bodyEnd: number }

/** Reads a pcapng file: every packet of every section, in file order; `frames[i].ifIndex` indexes
 * `interfaces` across all sections. Never throws: a corrupt block (bad or mismatched length, a block
 * running past the end, a packet on an undefined interface) ends the read with `error` naming its
 * byte offset; what was read before it is kept. Simple Packet Blocks carry no timestamp: tsNs 0. */
export function readPcapng(input: Uint8Array): CaptureRead {
  const buf = plainBytes(input);
  const r: Reader = {
    buf, view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), out: { format: 'pcapng', interfaces: [], frames: [] },
    le: true, base: 0, conv: [], lastHi: -1, hiTicks: 0n,
  };
  let inSection = false;
  let off = 0;
  while (off < buf.length) {
    const block = nextBlock(r, off, inSection);
    const problem = typeof block === 'string' ? block : readBlock(r, block);
    if (problem !== undefined) {
      r.out.error = problem.startsWith('pcapng: ') ? problem : `pcapng: block at offset ${off}: ${problem}`;
      break;
    }
    const b = block as Block;
    if (b.type === SHB) inSection = true;
    off = b.bodyEnd + 4;
  }
  return r.out;
}

/** The block at `off` (its byte order settled by a section header), or what is wrong with it. */
function nextBlock(r: Reader, off: number, inSection: boolean): Block | string {
  const { view } = r;
  const left = r.buf.length - off;
  if (left < 12) return `truncated: ${left} bytes left, a block takes at least 12`;
  const type = view.getUint32(off, r.le);
  if (type === SHB) {
    const magic = view.getUint32(off + 8, true);
    if (magic === BYTE_ORDER_MAGIC) r.le = true;
    else if (magic === 0x4d3c2b1a) r.le = false;
    else return `section header with bad byte-order magic 0x${magic.toString(16).padStart(8, '0')}`;
  } else if (!inSection) {
    return `pcapng: not a pcapng file: the first block (type 0x${type.toString(16)}) is not a section header`;
  }
  const len = view.getUint32(off + 4, r.le);
  if (len < 12 || len % 4 !== 0) return `bad total length ${len} (must be a multiple of 4, at least 12)`;
  if (len > left) return `total length ${len} runs past the end of the file (${left} bytes left)`;
  const trailing = view.getUint32(off + len - 4, r.le);
  if (trailing !== len) return `trailing length ${trailing} differs from the leading length ${len}`;
  return { off, type, body: off + 8, bodyEnd: off + len - 4 };
}

/** Reads one block into `r.out`; returns what is wrong with it, if anything. Blocks of other types
 * (name resolution, interface statistics, decryption secrets, custom) are skipped. */
function readBlock(r: Reader, b: Block): string | undefined {
  if (b.type === EPB || b.type === PB) return readPacket(r, b);
  if (b.type === SPB) return readSimplePacket(r, b);
  if (b.type === IDB) return readInterface(r, b);
  if (b.type === SHB) return readSection(r, b);
  return undefined;
}

/** An Enhanced Packet Block (or the obsolete Packet Block): interface, timestamp, lengths, data. */
function readPacket(r: Reader, b: Block): string | undefined {
  const { view, le } = r;
  const bodyLen = b.bodyEnd - b.body;
  if (bodyLen < 20) return `packet block body of ${bodyLen} bytes is shorter than its 20-byte header`;
  const ifId = b.type === EPB ? view.getUint32(b.body, le) : view.getUint16(b.body, le);
  const c = r.conv[ifId];
  if (c === undefined) return `packet on interface ${ifId}, but this section defines ${r.conv.length} interface(s)`;
  const capLen = view.getUint32(b.body + 12, le);
  if (capLen > bodyLen - 20) return `captured length ${capLen} exceeds the block (${bodyLen - 20} bytes of packet data)`;
  const hi = view.getUint32(b.body + 4, le);
  const lo = view.getUint32(b.body + 8, le);
  if (hi !== r.lastHi) {
    r.lastHi = hi;
    r.hiTicks = BigInt(hi) << 32n;
  }
  const start = b.body + 20;
  const iface = r.out.interfaces[r.base + ifId];
  r.out.frames.push({
    tsNs: toNs(c, r.hiTicks + BigInt(lo)), linkType: iface.linkType, data: r.buf.subarray(start, start + capLen),
    origLen: view.getUint32(b.body + 16, le), ifIndex: r.base + ifId,
  });
  return undefined;
}

/** A Simple Packet Block: on the section's first interface, no timestamp. */
function readSimplePacket(r: Reader, b: Block): string | undefined {
  const bodyLen = b.bodyEnd - b.body;
  if (bodyLen < 4) return `simple packet block body of ${bodyLen} bytes is shorter than its 4-byte header`;
  if (r.conv.length === 0) return 'simple packet block before any interface description block';
  const iface = r.out.interfaces[r.base];
  const origLen = r.view.getUint32(b.body, r.le);
  let capLen = Math.min(origLen, bodyLen - 4);
  if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
  r.out.frames.push({ tsNs: 0n, linkType: iface.linkType, data: r.buf.subarray(b.body + 4, b.body + 4 + capLen), origLen, ifIndex: r.base });
  return undefined;
}

/** An Interface Description Block: link type, snap length, name, description, timestamp units. */
function readInterface(r: Reader, b: Block): string | undefined {
  const { buf, view, le } = r;
  const bodyLen = b.bodyEnd - b.body;
  if (bodyLen < 8) return `interface description body of ${bodyLen} bytes is shorter than its 8-byte header`;
  const iface: CaptureInterface = { linkType: view.getUint16(b.body, le), snapLen: view.getUint32(b.body + 4, le), tsResolution: 1e6 };
  let tsresol = 6;
  let offsetSec = 0n;
  forOptions(buf, view, le, b.body + 8, b.bodyEnd, (code, at, n) => {
    if (code === IF_NAME) iface.name = text(buf, at, n);
    else if (code === IF_DESCRIPTION) iface.description = text(buf, at, n);
    else if (code === IF_TSRESOL && n >= 1) tsresol = buf[at];
    else if (code === IF_TSOFFSET && n >= 8) offsetSec = view.getBigInt64(at, le);
  });
  const { conv: c, resolution } = tsConv(tsresol, offsetSec);
  iface.tsResolution = resolution;
  r.out.interfaces.push(iface);
  r.conv.push(c);
  return undefined;
}

/** A Section Header Block: version 1.x; the interfaces that follow are this section's. */
function readSection(r: Reader, b: Block): string | undefined {
  const bodyLen = b.bodyEnd - b.body;
  if (bodyLen < 16) return `section header body of ${bodyLen} bytes is shorter than its 16-byte header`;
  const major = r.view.getUint16(b.body + 4, r.le);
  if (major !== 1) return `section header version ${major}.${r.view.getUint16(b.body + 6, r.le)} is not 1.x`;
  r.base = r.out.interfaces.length;
  r.conv = [];
  return undefined;
}

/** Calls `each(code, valueOffset, valueLength)` for each option in [at, end); stops quietly at
 * opt_endofopt or at an option that does not fit. */
function forOptions(buf: Uint8Array, view: DataView, le: boolean, at: number, end: number,
  each: (code: number, at: number, n: number) => void): void {
  while (end - at >= 4) {
    const code = view.getUint16(at, le);
    const n = view.getUint16(at + 2, le);
    if (code === OPT_END || n > end - at - 4) return;
    each(code, at + 4, n);
    at += 4 + ((n + 3) & ~3);
  }
}

/** An option's UTF-8 text (without trailing NULs, which some writers add). */
function text(buf: Uint8Array, at: number, n: number): string {
  let e = at + n;
  while (e > at && buf[e - 1] === 0) e--;
  return utf8.decode(buf.subarray(at, e));
}

/** The conversion for if_tsresol `r` (MSB clear: 10^-r s; set: 2^-(r&0x7f) s) and if_tsoffset. */
function tsConv(r: number, offsetSec: bigint): { conv: TsConv; resolution: number } {
  const offsetNs = offsetSec * 1_000_000_000n;
  if (r & 0x80) {
    const e = r & 0x7f;
    return { conv: { mul: 1_000_000_000n, div: 1n, shift: BigInt(e), offsetNs, ns: false }, resolution: 2 ** e };
  }
  const mul = r <= 9 ? 10n ** BigInt(9 - r) : 1n;
  const div = r > 9 ? 10n ** BigInt(r - 9) : 1n;
  return { conv: { mul, div, shift: 0n, offsetNs, ns: r === 9 }, resolution: 10 ** r };
}

/** A timestamp in the interface's units, in nanoseconds since the epoch. */
function toNs(c: TsConv, ticks: bigint): bigint {
  if (c.ns) return c.offsetNs === 0n ? ticks : ticks + c.offsetNs;
  let t = ticks * c.mul;
  if (c.shift !== 0n) t >>= c.shift;
  if (c.div !== 1n) t /= c.div;
  return t + c.offsetNs;
}
