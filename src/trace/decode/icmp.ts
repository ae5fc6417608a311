// ICMP: echo and timestamp (id, seq), and the errors (unreachable, time exceeded, parameter problem)
// with the head of the datagram they quote. Pure.
import type { IcmpInfo, IcmpOriginal } from '../../model/packet.js';
import { ip, short, u16 } from './bytes.js';
import type { Decoded } from './frame.js';

/** Decodes ICMP from `p` into `d`. */
export function icmp(d: Decoded, b: Uint8Array, p: number, end: number): void {
  if (end - p < 4) {
    d.error = short('ICMP header', p, end - p, 4);
    return;
  }
  const type = b[p];
  const info: IcmpInfo = { type, code: b[p + 1] };
  d.icmp = info;
  if (type === 0 || type === 8 || type === 13 || type === 14) {
    if (end - p < 8) {
      d.error = short('ICMP echo header', p, end - p, 8);
      return;
    }
    info.id = u16(b, p + 4);
    info.seq = u16(b, p + 6);
  } else if (type === 3 || type === 11 || type === 12) {
    if (end - p < 8) {
      d.error = short('ICMP error header', p, end - p, 8);
      return;
    }
    if (type === 3 && info.code === 4) info.mtu = u16(b, p + 6);
    const original = quoted(b, p + 8, end);
    if (original) info.original = original;
  }
}

/** The head of the datagram an ICMP error quotes from `q`, when there is one (it is optional in practice). */
function quoted(b: Uint8Array, q: number, end: number): IcmpOriginal | undefined {
  if (end - q < 20 || b[q] >> 4 !== 4) return undefined;
  const ihl = (b[q] & 0x0f) * 4;
  const original: IcmpOriginal = { src: ip(b, q + 12), dst: ip(b, q + 16), id: u16(b, q + 4), proto: b[q + 9] };
  const l4 = q + ihl;
  if (ihl >= 20 && end - l4 >= 4 && (original.proto === 6 || original.proto === 17)) {
    original.srcPort = u16(b, l4);
    original.dstPort = u16(b, l4 + 2);
  }
  return original;
}
