// The transport headers: UDP (and VXLAN by its destination port) and TCP. Pure.
import type { UdpInfo } from '../../model/packet.js';
import { TCP_FLAG_BITS, short, u16, u32 } from './bytes.js';
import type { Decoded, EthernetDecoder } from './frame.js';
import { vxlan } from './vxlan.js';

/** The flag names for each value of the flags byte, shared (frozen) so decoding allocates none. */
const TCP_FLAGS: string[][] = Array.from({ length: 256 }, (_, v) =>
  Object.freeze(TCP_FLAG_BITS.filter(([bit]) => v & bit).map(([, name]) => name)) as string[]);

/** Decodes UDP from `p`; a datagram to 4789 (IANA) or 8472 (the Linux default, flannel's) is VXLAN. */
export function udp(d: Decoded, b: Uint8Array, p: number, end: number, depth: number, ethernet: EthernetDecoder): void {
  if (end - p < 8) {
    d.error = short('UDP header', p, end - p, 8);
    return;
  }
  const info: UdpInfo = { srcPort: u16(b, p), dstPort: u16(b, p + 2), length: u16(b, p + 4) };
  d.udp = info;
  if (info.dstPort !== 4789 && info.dstPort !== 8472) return;
  const vEnd = info.length >= 8 && p + info.length < end ? p + info.length : end;
  vxlan(d, b, p + 8, vEnd, depth, ethernet);
}

/** Decodes TCP from `p`; `segLen` is the segment's length by the IP header (for the payload length). */
export function tcp(d: Decoded, b: Uint8Array, p: number, end: number, segLen: number): void {
  if (end - p < 20) {
    d.error = short('TCP header', p, end - p, 20);
    return;
  }
  const hlen = (b[p + 12] >> 4) * 4;
  const payload = segLen - hlen;
  d.tcp = {
    srcPort: u16(b, p), dstPort: u16(b, p + 2), seq: u32(b, p + 4), ack: u32(b, p + 8),
    flags: TCP_FLAGS[b[p + 13]], payloadLength: payload > 0 ? payload : 0,
  };
  if (hlen < 20) d.error = `TCP header at offset ${p}: header length ${hlen} is below 20`;
  else if (end - p < hlen) d.error = short('TCP options', p, end - p, hlen);
}
