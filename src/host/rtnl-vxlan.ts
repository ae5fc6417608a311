// flannel.1's creation line (ip-lines.ts linkAddVxlan) as rtnetlink: IFLA_INFO_DATA holding the
// attributes iproute2's ip/iplink_vxlan.c sends for exactly these words — the underlay device's
// index (IFLA_VXLAN_LINK, put while parsing `dev`), then the VNI, the local address, learning (always
// sent on creation, 1 or 0) and the UDP port in network byte order — so the kernel makes the same
// device either way. Other vxlan options (group, remote, ttl, external…) are not known here: such a
// line goes to iproute2.
import { VXLAN, type Attrs } from '../model/rtnetlink.js';
import { isDottedQuad } from '../model/ip.js';

/** `link add NAME [address MAC] [mtu N] type vxlan id VNI local IPv4 dev DEV dstport PORT [no]learning`:
 * a VNI below 2^24 and a port below 2^16 (ip refuses others before asking the kernel). */
const VXLAN_ADD = new RegExp(`^link add \\S+( address \\S+)?( mtu \\d+)? type vxlan id (\\d+) local (\\S+) dev \\S+ dstport (\\d+) (?:no)?learning$`);

/** True for a vxlan line whose numbers ip would accept. */
export function vxlanKnown(line: string): boolean {
  const m = VXLAN_ADD.exec(line);
  return !!m && Number(m[3]) < 1 << 24 && isDottedQuad(m[4]) && Number(m[5]) < 1 << 16;
}

/** The words after `type vxlan` as IFLA_INFO_DATA, given the index of the `dev` they name. */
export function vxlanData(words: readonly string[], link: number): (d: Attrs) => void {
  const opt = (k: string) => words[words.indexOf(k) + 1];
  return (d) => {
    d.u32(VXLAN.LINK, link).u32(VXLAN.ID, Number(opt('id'))).ip(VXLAN.LOCAL, opt('local')).u8(VXLAN.LEARNING, words.includes('learning') ? 1 : 0);
    // `dstport 0` means the kernel's default port: ip then sends none.
    const port = Number(opt('dstport'));
    if (port) d.bytes(VXLAN.PORT, Uint8Array.of(port >> 8, port & 0xff));
  };
}
