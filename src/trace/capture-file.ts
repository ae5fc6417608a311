// Reads a capture file in either format, told apart by its first four bytes. Pure: bytes in.
import { isPcap, readPcap, type CaptureRead } from './pcap.js';
import { isPcapng, readPcapng } from './pcapng.js';

export type { CaptureRead } from './pcap.js';

/** The format `buf` starts like, or undefined when it is neither pcap nor pcapng. */
export function captureFormat(buf: Uint8Array): 'pcap' | 'pcapng' | undefined {
  if (isPcapng(buf)) return 'pcapng';
  if (isPcap(buf)) return 'pcap';
  return undefined;
}

/** Reads a pcap or pcapng file. Never throws: an unknown format, a truncated record or a corrupt block
 * is reported in `error` (with the byte offset), next to every frame read before it. For a buffer that
 * is neither format, `format` is 'pcap' and nothing is read. */
export function readCapture(buf: Uint8Array): CaptureRead {
  const format = captureFormat(buf);
  if (format === 'pcapng') return readPcapng(buf);
  if (format === 'pcap') return readPcap(buf);
  const head = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return {
    format: 'pcap', interfaces: [], frames: [],
    error: `not a capture file: ${buf.length < 4 ? `only ${buf.length} bytes` : `starts with ${head}`} (expected a pcap magic a1b2c3d4/a1b23c4d in either byte order, or a pcapng section header 0a0d0d0a)`,
  };
}
