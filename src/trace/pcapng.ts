// The pcapng format (what Wireshark and dumpcap write; podnet writes it to keep one interface per hop
// in one file). Reads sections in either byte order: SHB, IDB (if_name, if_description, if_tsresol,
// if_tsoffset), EPB, SPB and the obsolete PB; skips every other block by its length. Writes SHB, one
// IDB per interface (nanosecond timestamps) and EPBs. Pure: bytes in, bytes out; frames read are views
// into the input buffer, never copies.
import type { CaptureInterface, CapturedFrame } from '../model/packet.js';
import { plainBytes, type CaptureRead } from './pcap.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const PB = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_END = 0;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

/** True when `buf` starts with a pcapng Section Header Block. */
export function isPcapng(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x0a && buf[1] === 0x0d && buf[2] === 0x0d && buf[3] === 0x0a;
}

/** How one interface's timestamps become nanoseconds: ts × mul / 2^shift / div + offset. */
interface TsConv { mul: bigint; div: bigint; shift: bigint; offsetNs: bigint; ns: boolean }

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Reads a pcapng file: every packet of every section, in file order; `frames[i].ifIndex` indexes
 * `interfaces` across all sections. Never throws: a corrupt block (bad or mismatched length, a block
 * running past the end, a packet on an undefined interface) ends the read with `error` naming its
 * byte offset; what was read before it is kept. Simple Packet Blocks carry no timestamp: tsNs 0. */
export function readPcapng(input: Uint8Array): CaptureRead {
  const buf = plainBytes(input);
  const out: CaptureRead = { format: 'pcapng', interfaces: [], frames: [] };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = buf.length;
  const frames = out.frames;
  let le = true;
  let inSection = false;
  let base = 0; // index in out.interfaces of this section's interface 0
  let conv: TsConv[] = [];
  let off = 0;
  // The high 32 bits of a timestamp change rarely: their BigInt is made once per change.
  let lastHi = -1;
  let hiTicks = 0n;
  const fail = (msg: string) => { out.error = `pcapng: block at offset ${off}: ${msg}`; };
  while (off < end) {
    if (end - off < 12) {
      fail(`truncated: ${end - off} bytes left, a block takes at least 12`);
      break;
    }
    const rawType = view.getUint32(off, le);
    if (rawType === SHB) {
      const magic = view.getUint32(off + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (magic === 0x4d3c2b1a) le = false;
      else {
        fail(`section header with bad byte-order magic 0x${magic.toString(16).padStart(8, '0')}`);
        break;
      }
    } else if (!inSection) {
      out.error = `pcapng: not a pcapng file: the first block (type 0x${rawType.toString(16)}) is not a section header`;
      break;
    }
    const len = view.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0) {
      fail(`bad total length ${len} (must be a multiple of 4, at least 12)`);
      break;
    }
    if (len > end - off) {
      fail(`total length ${len} runs past the end of the file (${end - off} bytes left)`);
      break;
    }
    const trailing = view.getUint32(off + len - 4, le);
    if (trailing !== len) {
      fail(`trailing length ${trailing} differs from the leading length ${len}`);
      break;
    }
    const body = off + 8;
    const bodyEnd = off + len - 4;
    const bodyLen = bodyEnd - body;
    if (rawType === EPB || rawType === PB) {
      if (bodyLen < 20) {
        fail(`packet block body of ${bodyLen} bytes is shorter than its 20-byte header`);
        break;
      }
      const ifId = rawType === EPB ? view.getUint32(body, le) : view.getUint16(body, le);
      const c = conv[ifId];
      if (c === undefined) {
        fail(`packet on interface ${ifId}, but this section defines ${conv.length} interface(s)`);
        break;
      }
      const capLen = view.getUint32(body + 12, le);
      if (capLen > bodyLen - 20) {
        fail(`captured length ${capLen} exceeds the block (${bodyLen - 20} bytes of packet data)`);
        break;
      }
      const hi = view.getUint32(body + 4, le);
      const lo = view.getUint32(body + 8, le);
      if (hi !== lastHi) {
        lastHi = hi;
        hiTicks = BigInt(hi) << 32n;
      }
      const start = body + 20;
      const iface = out.interfaces[base + ifId];
      frames.push({
        tsNs: toNs(c, hiTicks + BigInt(lo)), linkType: iface.linkType, data: buf.subarray(start, start + capLen),
        origLen: view.getUint32(body + 16, le), ifIndex: base + ifId,
      });
    } else if (rawType === SPB) {
      if (bodyLen < 4) {
        fail(`simple packet block body of ${bodyLen} bytes is shorter than its 4-byte header`);
        break;
      }
      if (conv.length === 0) {
        fail('simple packet block before any interface description block');
        break;
      }
      const iface = out.interfaces[base];
      const origLen = view.getUint32(body, le);
      let capLen = Math.min(origLen, bodyLen - 4);
      if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
      frames.push({ tsNs: 0n, linkType: iface.linkType, data: buf.subarray(body + 4, body + 4 + capLen), origLen, ifIndex: base });
    } else if (rawType === IDB) {
      if (bodyLen < 8) {
        fail(`interface description body of ${bodyLen} bytes is shorter than its 8-byte header`);
        break;
      }
      const iface: CaptureInterface = { linkType: view.getUint16(body, le), snapLen: view.getUint32(body + 4, le), tsResolution: 1e6 };
      let tsresol = 6;
      let offsetSec = 0n;
      forOptions(buf, view, le, body + 8, bodyEnd, (code, at, n) => {
        if (code === IF_NAME) iface.name = text(buf, at, n);
        else if (code === IF_DESCRIPTION) iface.description = text(buf, at, n);
        else if (code === IF_TSRESOL && n >= 1) tsresol = buf[at];
        else if (code === IF_TSOFFSET && n >= 8) offsetSec = view.getBigInt64(at, le);
      });
      const { conv: c, resolution } = tsConv(tsresol, offsetSec);
      iface.tsResolution = resolution;
      out.interfaces.push(iface);
      conv.push(c);
    } else if (rawType === SHB) {
      if (bodyLen < 16) {
        fail(`section header body of ${bodyLen} bytes is shorter than its 16-byte header`);
        break;
      }
      const major = view.getUint16(body + 4, le);
      if (major !== 1) {
        fail(`section header version ${major}.${view.getUint16(body + 6, le)} is not 1.x`);
        break;
      }
      inSection = true;
      base = out.interfaces.length;
      conv = [];
    }
    // Anything else (name resolution, interface statistics, decryption secrets, custom) is skipped.
    off += len;
  }
  return out;
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

/** Options of {@link writePcapng}. */
export interface PcapngWriteOptions {
  /** shb_userappl: the application that wrote the file (default "podnet"). */
  application?: string;
}

const enc = new TextEncoder();
const pad4 = (n: number) => (n + 3) & ~3;

/** Writes a little-endian pcapng file: one section, one IDB per interface (if_name, if_description,
 * if_tsresol 9: nanoseconds) and one EPB per frame, in the order given, on interface `frame.ifIndex`.
 * Throws when a frame names an interface that is not given or has another link type. */
export function writePcapng(interfaces: readonly CaptureInterface[], frames: readonly CapturedFrame[], options: PcapngWriteOptions = {}): Uint8Array {
  const appl = enc.encode(options.application ?? 'podnet');
  const names = interfaces.map((i) => (i.name === undefined ? undefined : enc.encode(i.name)));
  const descs = interfaces.map((i) => (i.description === undefined ? undefined : enc.encode(i.description)));
  const opt = (v: Uint8Array | undefined) => (v === undefined ? 0 : 4 + pad4(v.length));

  let size = 28 + opt(appl) + 4;
  for (let i = 0; i < interfaces.length; i++) size += 20 + opt(names[i]) + opt(descs[i]) + 8 + 4;
  for (const f of frames) {
    const iface = interfaces[f.ifIndex];
    if (iface === undefined) throw new Error(`writePcapng: frame on interface ${f.ifIndex}, but ${interfaces.length} interface(s) given`);
    if (iface.linkType !== f.linkType) {
      throw new Error(`writePcapng: frame link type ${f.linkType} differs from interface ${f.ifIndex}'s ${iface.linkType}`);
    }
    size += 32 + pad4(f.data.length);
  }

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let off = 0;
  const u16 = (v: number) => { view.setUint16(off, v, true); off += 2; };
  const u32 = (v: number) => { view.setUint32(off, v, true); off += 4; };
  const option = (code: number, v: Uint8Array | undefined) => {
    if (v === undefined) return;
    u16(code);
    u16(v.length);
    out.set(v, off);
    off += pad4(v.length);
  };
  const block = (type: number, body: () => void) => {
    const start = off;
    off += 8;
    body();
    const len = off + 4 - start;
    view.setUint32(start, type, true);
    view.setUint32(start + 4, len, true);
    u32(len);
  };

  block(SHB, () => {
    u32(BYTE_ORDER_MAGIC);
    u16(1);
    u16(0);
    u32(0xffffffff); // section length: not given
    u32(0xffffffff);
    option(SHB_USERAPPL, appl);
    u32(OPT_END);
  });
  interfaces.forEach((iface, i) => block(IDB, () => {
    u16(iface.linkType);
    u16(0);
    u32(iface.snapLen);
    option(IF_NAME, names[i]);
    option(IF_DESCRIPTION, descs[i]);
    option(IF_TSRESOL, Uint8Array.of(9));
    u32(OPT_END);
  }));
  for (const f of frames) {
    const n = f.data.length;
    const len = 32 + pad4(n);
    view.setUint32(off, EPB, true);
    view.setUint32(off + 4, len, true);
    view.setUint32(off + 8, f.ifIndex, true);
    view.setUint32(off + 12, Number(f.tsNs >> 32n) >>> 0, true);
    view.setUint32(off + 16, Number(f.tsNs & 0xffffffffn), true);
    view.setUint32(off + 20, n, true);
    view.setUint32(off + 24, Math.max(f.origLen, n), true);
    out.set(f.data, off + 28);
    view.setUint32(off + len - 4, len, true);
    off += len;
  }
  return out;
}
