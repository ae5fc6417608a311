// The classic pcap format (libpcap, tcpdump -w): read either byte order, µs or ns timestamps; write
// little-endian with the ns magic. Pure: bytes in, bytes out. Frames read are views into the input
// buffer, never copies.
import type { CaptureFile, CapturedFrame } from '../model/packet.js';

/** A capture as read: what could be read, plus `error` (where and what) when the file ended badly. */
export type CaptureRead = CaptureFile & { error?: string };

/** The four magic numbers as they appear in the first 4 bytes read big-endian. */
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_US_SWAPPED = 0xd4c3b2a1;
const MAGIC_NS_SWAPPED = 0x4d3cb2a1;

const HEADER_LEN = 24;
const RECORD_LEN = 16;
/** A record longer than this (and than the snap length) is taken as corruption, as Wireshark does. */
const MAX_RECORD = 262144;

/** True when `buf` starts with a pcap magic number (either byte order, µs or ns). */
export function isPcap(buf: Uint8Array): boolean {
  if (buf.length < 4) return false;
  const m = ((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3]) >>> 0;
  return m === MAGIC_US || m === MAGIC_NS || m === MAGIC_US_SWAPPED || m === MAGIC_NS_SWAPPED;
}

/** Reads a pcap file: every whole record, in file order. Never throws: a short header, a record cut
 * short or an impossible length ends the read with `error` naming the byte offset. */
export function readPcap(buf: Uint8Array): CaptureRead {
  const out: CaptureRead = { format: 'pcap', interfaces: [], frames: [] };
  if (buf.length < HEADER_LEN) {
    out.error = `pcap: file header truncated: ${buf.length} of ${HEADER_LEN} bytes`;
    return out;
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  let le: boolean;
  if (magic === MAGIC_US || magic === MAGIC_NS) le = false;
  else if (magic === MAGIC_US_SWAPPED || magic === MAGIC_NS_SWAPPED) le = true;
  else {
    out.error = `pcap: bad magic 0x${magic.toString(16).padStart(8, '0')} at offset 0`;
    return out;
  }
  const nano = magic === MAGIC_NS || magic === MAGIC_NS_SWAPPED;
  const snapLen = view.getUint32(16, le);
  // Bits 0-15 are the link type; the upper bits carry FCS information we do not need.
  const linkType = view.getUint32(20, le) & 0xffff;
  out.interfaces.push({ linkType, snapLen, tsResolution: nano ? 1e9 : 1e6 });

  const maxRecord = Math.max(snapLen, MAX_RECORD);
  const frames = out.frames;
  // Frames are views of a plain Uint8Array: a Buffer's subarray costs more (and is not needed).
  const bytes = plainBytes(buf);
  const end = buf.length;
  let off = HEADER_LEN;
  // Packets come many to a second: the second's BigInt is made once.
  let lastSec = -1;
  let secNs = 0n;
  while (off < end) {
    if (end - off < RECORD_LEN) {
      out.error = `pcap: record header at offset ${off} truncated: ${end - off} of ${RECORD_LEN} bytes`;
      break;
    }
    const sec = view.getUint32(off, le);
    const frac = view.getUint32(off + 4, le);
    const inclLen = view.getUint32(off + 8, le);
    const origLen = view.getUint32(off + 12, le);
    if (inclLen > maxRecord) {
      out.error = `pcap: record at offset ${off}: captured length ${inclLen} exceeds the snap length ${snapLen} (corrupt file?)`;
      break;
    }
    const start = off + RECORD_LEN;
    if (inclLen > end - start) {
      out.error = `pcap: record at offset ${off} truncated: ${end - start} of ${inclLen} captured bytes present`;
      break;
    }
    if (sec !== lastSec) {
      lastSec = sec;
      secNs = BigInt(sec) * 1_000_000_000n;
    }
    const tsNs = secNs + BigInt(nano ? frac : frac * 1000);
    frames.push({ tsNs, linkType, data: bytes.subarray(start, start + inclLen), origLen, ifIndex: 0 });
    off = start + inclLen;
  }
  return out;
}

/** `buf` as a plain Uint8Array over the same memory (a Node Buffer's subarray is slower to make). */
export function plainBytes(buf: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(buf) === Uint8Array.prototype ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Options of {@link writePcap}. */
export interface PcapWriteOptions {
  /** Link type of the file (default: the first frame's, else Ethernet). */
  linkType?: number;
  /** Snap length written in the header (default 262144, tcpdump's). */
  snapLen?: number;
}

/** Writes frames as a little-endian pcap file with nanosecond timestamps (magic 0xa1b23c4d). A pcap
 * holds one link type: frames of another link type are refused (write pcapng for mixed captures). */
export function writePcap(frames: readonly CapturedFrame[], options: PcapWriteOptions = {}): Uint8Array {
  const linkType = options.linkType ?? frames[0]?.linkType ?? 1;
  const snapLen = options.snapLen ?? MAX_RECORD;
  let size = HEADER_LEN;
  for (const f of frames) {
    if (f.linkType !== linkType) {
      throw new Error(`writePcap: frame link type ${f.linkType} differs from the file's ${linkType}: a pcap holds one link type (use writePcapng)`);
    }
    size += RECORD_LEN + f.data.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_NS, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, snapLen, true);
  view.setUint32(20, linkType, true);
  let off = HEADER_LEN;
  for (const f of frames) {
    const sec = f.tsNs / 1_000_000_000n;
    view.setUint32(off, Number(sec), true);
    view.setUint32(off + 4, Number(f.tsNs - sec * 1_000_000_000n), true);
    view.setUint32(off + 8, f.data.length, true);
    view.setUint32(off + 12, Math.max(f.origLen, f.data.length), true);
    out.set(f.data, off + RECORD_LEN);
    off += RECORD_LEN + f.data.length;
  }
  return out;
}
