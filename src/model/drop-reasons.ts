// What the kernel's drop reasons (enum skb_drop_reason, printed by skb:kfree_skb) mean for someone
// debugging pod networking: one sentence each, with the usual suspect where there is one. Written for
// podnet; the names are the kernel's.

/** One sentence per drop reason name, for the reasons pod networking runs into. */
export const DROP_REASONS: Readonly<Record<string, string>> = Object.freeze({
  NOT_SPECIFIED: 'The kernel freed the packet without saying why (many older code paths still drop this way; the location tells more).',
  NO_SOCKET: 'Nothing was listening: no socket was bound to the destination port, so the packet was dropped (UDP answers with ICMP port unreachable, TCP with a reset).',
  SOCKET_CLOSE: 'The socket the packet belonged to was being closed.',
  SOCKET_FILTER: 'A socket filter (a BPF program attached to the socket, e.g. by tcpdump or a load balancer) rejected the packet.',
  SOCKET_RCVBUFF: 'The receiving socket\'s buffer was full: the application is not reading fast enough.',
  SOCKET_BACKLOG: 'The socket\'s backlog was full while the socket was busy, so the packet could not be queued.',
  PKT_TOO_SMALL: 'The packet was shorter than its headers say it should be.',
  TCP_CSUM: 'The TCP checksum was wrong.',
  UDP_CSUM: 'The UDP checksum was wrong (on a VXLAN overlay, suspect checksum offload on the flannel.1 device).',
  ICMP_CSUM: 'The ICMP checksum was wrong.',
  SKB_CSUM: 'Checksum verification of the packet failed.',
  NETFILTER_DROP: 'A netfilter rule (nftables or iptables: a NetworkPolicy, a FORWARD chain policy, a kube-proxy reject) dropped the packet.',
  OTHERHOST: 'The frame was addressed to another host\'s MAC address, so this host ignored it (a wrong neighbour or FDB entry is the usual cause).',
  IP_CSUM: 'The IPv4 header checksum was wrong.',
  IP_INHDR: 'The IP header was malformed (bad version, length or options).',
  IP_RPFILTER: 'Reverse-path filtering dropped it: the source address would not be routed back out of the interface it came in on (rp_filter on an asymmetric path).',
  UNICAST_IN_L2_MULTICAST: 'An IP unicast packet arrived in a link-layer multicast or broadcast frame.',
  XFRM_POLICY: 'An IPsec (xfrm) policy did not allow the packet.',
  IP_NOPROTO: 'No handler exists for the IP protocol number the packet carries.',
  IP_INADDRERRORS: 'The packet was not for this host and the host would not forward it: most often net.ipv4.ip_forward is 0 on the receiving side (dropped in ip_error).',
  IP_INNOROUTES: 'Forwarding was on but no route matched the packet\'s destination on its way in.',
  IP_OUTNOROUTES: 'No route matched the destination when the packet was being sent.',
  IP_LOCAL_SOURCE: 'The packet arrived from outside with one of this host\'s own addresses as its source.',
  IP_INVALID_SOURCE: 'The source address is one no packet may come from (multicast, broadcast, or similar).',
  IP_LOCALNET: 'A 127.0.0.0/8 address appeared on an interface where loopback addresses are not allowed (route_localnet is off).',
  IP_INVALID_DEST: 'The destination address is not valid for this packet.',
  PKT_TOO_BIG: 'The packet was larger than the path MTU and could not be fragmented (DF set): check the MTUs, e.g. a VXLAN device needs the underlay MTU minus 50.',
  NEIGH_CREATEFAIL: 'The kernel could not create a neighbour (ARP/NDP) entry for the next hop.',
  NEIGH_FAILED: 'Neighbour resolution failed: nobody answered ARP (or NDP) for the next hop, so the queued packet was discarded.',
  NEIGH_QUEUEFULL: 'Too many packets were waiting for the same unresolved neighbour, so this one was discarded.',
  NEIGH_DEAD: 'The neighbour entry the packet was waiting on was removed.',
  NEIGH_HH_FILLFAIL: 'The link-layer header for the next hop could not be built.',
  TC_INGRESS: 'A traffic-control (tc) program or action on ingress dropped the packet.',
  TC_EGRESS: 'A traffic-control (tc) program or action on egress dropped the packet.',
  TC_COOKIE_ERROR: 'A tc classifier cookie did not match.',
  TC_CHAIN_NOTFOUND: 'A tc filter jumped to a chain that does not exist.',
  TC_RECLASSIFY_LOOP: 'A tc filter reclassified the packet too many times.',
  QDISC_DROP: 'The queueing discipline dropped the packet (its queue was full or it decided to shed load).',
  QDISC_OVERLIMIT: 'The queueing discipline was over its configured limit (a bandwidth shaper, for instance).',
  QDISC_CONGESTED: 'The queueing discipline dropped the packet to signal congestion.',
  CPU_BACKLOG: 'The per-CPU backlog queue was full (netdev_max_backlog): the host is receiving faster than it can process.',
  XDP: 'An XDP program dropped the packet.',
  UNHANDLED_PROTO: 'No handler was registered for the packet\'s ethertype.',
  DEV_HDR: 'The device-level header was invalid.',
  DEV_READY: 'The device was not up or not ready to send.',
  FULL_RING: 'The device\'s ring or queue was full.',
  NOMEM: 'The kernel ran out of memory while handling the packet.',
  HDR_TRUNC: 'The packet was truncated in its headers.',
  BPF_CGROUP_EGRESS: 'A cgroup BPF program on egress rejected the packet.',
  IPV6DISABLED: 'IPv6 is disabled on the interface, so the IPv6 packet was dropped.',
  SECURITY_HOOK: 'A security module (SELinux, AppArmor, a BPF LSM) rejected the packet.',
  FRAG_REASM_TIMEOUT: 'Not all fragments of a datagram arrived in time to reassemble it.',
  FRAG_TOO_FAR: 'A fragment arrived too far out of order to be kept.',
  DUP_FRAG: 'A duplicate fragment arrived.',
  VXLAN_INVALID_HDR: 'The VXLAN header of an encapsulated packet was invalid.',
  VXLAN_VNI_NOT_FOUND: 'A VXLAN packet carried a VNI no local VXLAN device uses (flannel uses VNI 1 on port 8472).',
  VXLAN_ENTRY_EXISTS: 'A VXLAN forwarding entry already existed.',
  MAC_INVALID_SOURCE: 'The frame\'s source MAC address was invalid (multicast or all zeros).',
  NO_TX_TARGET: 'A tunnel device found no destination to send the packet to (no FDB entry for the remote end).',
  TUNNEL_TXINFO: 'A tunnel had no usable transmit information for the packet.',
  LOCAL_MAC: 'The frame came in with this host\'s own MAC address as its source.',
  BRIDGE_INGRESS_STP_STATE: 'The bridge port is not forwarding (spanning tree state), so the bridge dropped the frame.',
  QUEUE_PURGE: 'A queue holding the packet was purged (an interface went down or a socket was closed).',
  PACKET_SOCK_ERROR: 'A packet socket (such as a capture) failed to accept the packet.',
  RECURSION_LIMIT: 'The packet looped through too many nested devices or tunnels.',
});

/** A family of reasons sharing a prefix, with one sentence for all its members. */
const FAMILIES: [RegExp, string][] = [
  [/^TCP_/, 'TCP dropped the segment while checking it against the connection\'s state (sequence numbers, flags, options or window)'],
  [/^NEIGH_/, 'Neighbour (ARP/NDP) resolution for the next hop could not deliver the packet'],
  [/^QDISC_|^CAKE_|^FQ_|^DUALPI2_/, 'A queueing discipline dropped the packet'],
  [/^TC_/, 'Traffic control (tc) dropped the packet'],
  [/^IPV6_/, 'IPv6 input processing rejected the packet'],
  [/^IP_/, 'IP input or output processing rejected the packet'],
  [/^VXLAN_/, 'The VXLAN driver rejected the packet'],
  [/^FRAG_/, 'IP fragment reassembly gave up on the packet'],
  [/^SOCKET_|^UNIX_/, 'The receiving socket could not take the packet'],
  [/^CAN/, 'The CAN bus stack rejected the frame'],
  [/^PSP_|^XFRM_/, 'Packet encryption processing rejected the packet'],
];

/** One sentence saying what a drop reason means; unknown names get a generic sentence naming them. */
export function explainDrop(reason: string): string {
  const known = DROP_REASONS[reason];
  if (known) return known;
  for (const [re, sentence] of FAMILIES) if (re.test(reason)) return `${sentence} (${reason}).`;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(reason)) return `The kernel gave a drop reason it could not name (${reason}): usually a subsystem-specific reason.`;
  return `The kernel dropped the packet with reason ${reason || '(none)'}; the location names the function that dropped it.`;
}
