// The link layers: Ethernet II (at most one 802.1Q tag), Linux cooked capture (SLL, SLL2) and raw IP,
// then the network layer by ethertype. Pure.
import type { DecodedFrame, SllInfo } from '../../model/packet.js';
import { arp } from './arp.js';
import { ETH_ARP, ETH_IPV4, ETH_VLAN, mac, short, u16, u32 } from './bytes.js';
import type { Decoded } from './frame.js';
import { ipv4 } from './ipv4.js';

/** Decodes an Ethernet II frame from `o` to `end` into `d`, then its payload by ethertype. */
export function ethernet(d: Decoded, b: Uint8Array, o: number, end: number, depth: number): void {
  if (end - o < 14) {
    d.error = short('Ethernet header', o, end - o, 14);
    return;
  }
  let et = u16(b, o + 12);
  let p = o + 14;
  const eth: NonNullable<DecodedFrame['eth']> = { src: mac(b, o + 6), dst: mac(b, o), ethertype: et };
  d.eth = eth;
  if (et === ETH_VLAN) {
    if (end - p < 4) {
      d.error = short('802.1Q tag', p, end - p, 4);
      return;
    }
    eth.vlan = u16(b, p) & 0x0fff;
    et = u16(b, p + 2);
    eth.ethertype = et;
    p += 4;
  }
  network(d, b, p, end, et, depth);
}

/** Linux cooked capture: SLL (16-byte header) or SLL2 (20 bytes, with the interface index). */
export function sll(d: Decoded, b: Uint8Array, v2: boolean): void {
  const need = v2 ? 20 : 16;
  if (b.length < need) {
    d.error = short(v2 ? 'Linux SLL2 header' : 'Linux SLL header', 0, b.length, need);
    return;
  }
  const info: SllInfo = v2
    ? { packetType: b[10], hatype: u16(b, 8), protocol: u16(b, 0), ifIndex: u32(b, 4) }
    : { packetType: u16(b, 0), hatype: u16(b, 2), protocol: u16(b, 14) };
  const addrLen = v2 ? b[11] : u16(b, 4);
  if (addrLen === 6) info.src = mac(b, v2 ? 12 : 6);
  d.sll = info;
  network(d, b, need, b.length, info.protocol, 0);
}

/** Raw IP: the version nibble says which. */
export function raw(d: Decoded, b: Uint8Array): void {
  if (b.length === 0) d.error = short('raw IP packet', 0, 0, 1);
  else if (b[0] >> 4 === 4) ipv4(d, b, 0, b.length, 0, ethernet);
  else d.error = `raw IP version ${b[0] >> 4} is not decoded (podnet decodes IPv4)`;
}

function network(d: Decoded, b: Uint8Array, p: number, end: number, et: number, depth: number): void {
  if (et === ETH_IPV4) ipv4(d, b, p, end, depth, ethernet);
  else if (et === ETH_ARP) arp(d, b, p, end);
}
