// Writes pcapng: one section, one interface block per capture point (its name, nanosecond
// timestamps), one enhanced packet block per frame. Pure: frames in, bytes out.
import type { CaptureInterface, CapturedFrame } from '../model/packet.js';
import { BYTE_ORDER_MAGIC, EPB, IDB, IF_DESCRIPTION, IF_NAME, IF_TSRESOL, OPT_END, SHB, SHB_USERAPPL } from './pcapng-format.js';

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
