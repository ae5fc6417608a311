// A pcap read as it arrives (tcpdump -w - through a pipe): bytes in any chunks, whole frames out as
// soon as their record is complete. Pure: the same reader as a file (readPcap), fed the header and
// whatever is left of an unfinished record.
import type { CapturedFrame } from '../model/packet.js';
import { readPcap } from './pcap.js';

const HEADER_LEN = 24;
const RECORD_LEN = 16;

/** Reads one pcap stream incrementally. */
export class PcapStream {
  private header: Uint8Array | undefined;
  private pending: Uint8Array = new Uint8Array(0);
  /** Set when the stream is not pcap or a record is impossible: nothing more is read. */
  error: string | undefined;

  /** Feeds the next bytes; returns the frames they complete, in order. */
  push(chunk: Uint8Array): CapturedFrame[] {
    if (this.error !== undefined) return [];
    let bytes = concat(this.pending, chunk);
    if (!this.header) {
      if (bytes.length < HEADER_LEN) {
        this.pending = bytes;
        return [];
      }
      this.header = bytes.slice(0, HEADER_LEN);
      bytes = bytes.subarray(HEADER_LEN);
    }
    const read = readPcap(concat(this.header, bytes));
    let used = 0;
    for (const f of read.frames) used += RECORD_LEN + f.data.length;
    // A record cut short waits for the rest; anything else wrong ends the stream.
    if (read.error !== undefined && !/truncated/.test(read.error)) this.error = read.error;
    this.pending = bytes.slice(used);
    return read.frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
