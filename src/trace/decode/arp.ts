// ARP for IPv4 over Ethernet (RFC 826). Pure.
import { ETH_IPV4, ip, mac, short, u16 } from './bytes.js';
import type { Decoded } from './frame.js';

/** Decodes ARP from `p` into `d`; anything but Ethernet/IPv4 ARP is reported in `error`. */
export function arp(d: Decoded, b: Uint8Array, p: number, end: number): void {
  if (end - p < 8) {
    d.error = short('ARP header', p, end - p, 8);
    return;
  }
  const htype = u16(b, p);
  const ptype = u16(b, p + 2);
  if (htype !== 1 || ptype !== ETH_IPV4 || b[p + 4] !== 6 || b[p + 5] !== 4) {
    d.error = `ARP at offset ${p}: hardware type ${htype}, protocol 0x${ptype.toString(16)} is not decoded (podnet decodes Ethernet/IPv4)`;
    return;
  }
  if (end - p < 28) {
    d.error = short('ARP', p, end - p, 28);
    return;
  }
  const op = u16(b, p + 6);
  d.arp = {
    op: op === 1 ? 'request' : op === 2 ? 'reply' : op,
    senderMac: mac(b, p + 8), senderIp: ip(b, p + 14), targetMac: mac(b, p + 18), targetIp: ip(b, p + 24),
  };
}
