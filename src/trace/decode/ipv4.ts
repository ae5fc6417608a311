// IPv4: the header (checksum checked, options skipped, fragments noted), then the transport by protocol. Pure.
import type { Ipv4Info } from '../../model/packet.js';
import { ip, short, u16 } from './bytes.js';
import type { Decoded, EthernetDecoder } from './frame.js';
import { icmp } from './icmp.js';
import { tcp, udp } from './udp-tcp.js';

/** A malformed header's complaint, or undefined when the header at `p` can be read. */
function headerProblem(b: Uint8Array, p: number, end: number): string | undefined {
  if (end - p < 20) return short('IPv4 header', p, end - p, 20);
  const version = b[p] >> 4;
  if (version !== 4) return `IPv4 header at offset ${p}: version ${version}, not 4`;
  const ihl = (b[p] & 0x0f) * 4;
  if (ihl < 20) return `IPv4 header at offset ${p}: header length ${ihl} is below 20`;
  if (end - p < ihl) return short('IPv4 options', p, end - p, ihl);
  return undefined;
}

/** Decodes IPv4 from `p` into `d`, then TCP, UDP (VXLAN inside, with `ethernet`) or ICMP. */
export function ipv4(d: Decoded, b: Uint8Array, p: number, end: number, depth: number, ethernet: EthernetDecoder): void {
  const problem = headerProblem(b, p, end);
  if (problem !== undefined) {
    d.error = problem;
    return;
  }
  const ihl = (b[p] & 0x0f) * 4;
  let sum = 0;
  for (let i = p; i < p + ihl; i += 2) sum += (b[i] << 8) | b[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const totalLength = u16(b, p + 2);
  const frag = u16(b, p + 6);
  const proto = b[p + 9];
  const info: Ipv4Info = {
    src: ip(b, p + 12), dst: ip(b, p + 16), id: u16(b, p + 4), ttl: b[p + 8], proto, totalLength,
    dontFragment: (frag & 0x4000) !== 0, badChecksum: sum !== 0xffff,
    headerLength: ihl, fragmentOffset: (frag & 0x1fff) * 8, moreFragments: (frag & 0x2000) !== 0,
  };
  d.ipv4 = info;
  // The datagram ends at its total length (Ethernet pads short frames). A total length of 0 is what
  // segmentation offload leaves in captures of large sends: the datagram is the rest of the frame.
  let ipEnd = end;
  if (totalLength !== 0) {
    if (totalLength < ihl) {
      d.error = `IPv4 header at offset ${p}: total length ${totalLength} is below the header length ${ihl}`;
      return;
    }
    if (p + totalLength < end) ipEnd = p + totalLength;
  }
  if (info.fragmentOffset !== 0) return; // a later fragment: no transport header here
  const l4 = p + ihl;
  const l4Len = (totalLength !== 0 ? p + totalLength : end) - l4;
  if (proto === 6) tcp(d, b, l4, ipEnd, l4Len);
  else if (proto === 17) udp(d, b, l4, ipEnd, depth, ethernet);
  else if (proto === 1) icmp(d, b, l4, ipEnd);
}
