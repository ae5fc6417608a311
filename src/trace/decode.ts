// The packet decoder: one captured frame → its layers (Ethernet/802.1Q or Linux cooked, ARP, IPv4,
// ICMP, UDP, TCP, VXLAN with its inner frame) and a tcpdump-like summary line, one protocol per file
// under decode/. Pure and built for bulk: it reads the frame's bytes in place (no copies, no
// DataView), shares its lookup tables, and builds the summary string only when someone reads it. It
// never throws: a layer cut short or malformed sets `error` (what and at which byte offset of the
// frame) and keeps every layer decoded before it.
import type { CapturedFrame, DecodedFrame } from '../model/packet.js';
import { ethernet, raw, sll } from './decode/ethernet.js';
import { Decoded } from './decode/frame.js';

export { summarize } from './decode/summary.js';

const LINK_TYPES = '1 (Ethernet), 101 (raw IP), 113 (Linux SLL), 276 (Linux SLL2)';

/** Decodes one captured frame by its link type. Never throws; an unknown link type gives a frame
 * with only `error` set. */
export function decodeFrame(frame: CapturedFrame): DecodedFrame {
  const d = new Decoded();
  const b = frame.data;
  switch (frame.linkType) {
    case 1: ethernet(d, b, 0, b.length, 0); break;
    case 113: sll(d, b, false); break;
    case 276: sll(d, b, true); break;
    case 101: raw(d, b); break;
    default: d.error = `link type ${frame.linkType} is not decoded (podnet decodes ${LINK_TYPES})`;
  }
  return d;
}

/** Decodes an Ethernet II frame (the bytes from the destination MAC on). */
export function decodeEthernet(bytes: Uint8Array): DecodedFrame {
  const d = new Decoded();
  ethernet(d, bytes, 0, bytes.length, 0);
  return d;
}
