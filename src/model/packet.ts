// Captured and decoded packets: the contract between the capture codecs (pcap, pcapng), the decoder,
// the correlator and the renderers. Pure types.

/** Link types podnet reads (LINKTYPE_* of pcap/pcapng). */
export const LinkType = { Ethernet: 1, Raw: 101, LinuxSll: 113, LinuxSll2: 276 } as const;

/** One frame as a capture file holds it. */
export interface CapturedFrame {
  /** Capture time in nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** The link type of the interface it was captured on. */
  linkType: number;
  /** The bytes captured (may be shorter than origLen when the snap length cut it). */
  data: Uint8Array;
  /** The frame's length on the wire. */
  origLen: number;
  /** pcapng: the interface index in the file (0 for pcap). */
  ifIndex: number;
}

/** An interface block of a pcapng file (or the single interface of a pcap file). */
export interface CaptureInterface {
  linkType: number;
  /** if_name option (podnet writes `node/iface`). */
  name?: string;
  /** if_description option. */
  description?: string;
  snapLen: number;
  /** Timestamp resolution: units per second (1e6 for µs, 1e9 for ns). */
  tsResolution: number;
}

/** A whole capture file. */
export interface CaptureFile {
  format: 'pcap' | 'pcapng';
  interfaces: CaptureInterface[];
  frames: CapturedFrame[];
}

/** ARP (RFC 826) for IPv4 over Ethernet. */
export interface ArpInfo {
  op: 'request' | 'reply' | number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** IPv4 header fields that matter to tracing. */
export interface Ipv4Info {
  src: string;
  dst: string;
  /** Identification: stays the same across hops, identifies one datagram. */
  id: number;
  ttl: number;
  proto: number;
  totalLength: number;
  dontFragment: boolean;
  /** True when the header checksum in the frame is wrong (or offloaded: 0). */
  badChecksum?: boolean;
  /** Header length in bytes (IHL × 4: 20 without options). */
  headerLength?: number;
  /** Fragment offset in bytes (0 for the first or only fragment; later fragments carry no L4 header). */
  fragmentOffset?: number;
  /** The MF flag: more fragments follow. */
  moreFragments?: boolean;
}

/** ICMP (echo request/reply carry id and seq). */
export interface IcmpInfo {
  type: number;
  code: number;
  id?: number;
  seq?: number;
  /** Destination unreachable, fragmentation needed (type 3 code 4): the next hop's MTU. */
  mtu?: number;
  /** Errors (destination unreachable, time exceeded): the datagram that caused them, as quoted. */
  original?: IcmpOriginal;
}

/** The head of the datagram an ICMP error quotes: enough to find the packet it answers. */
export interface IcmpOriginal {
  src: string;
  dst: string;
  id: number;
  proto: number;
  /** TCP/UDP ports, when the quote reaches them. */
  srcPort?: number;
  dstPort?: number;
}

/** The Linux "cooked" header of `tcpdump -i any` (SLL, or SLL2 which adds the interface index). */
export interface SllInfo {
  /** 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us (PACKET_* of packet(7)). */
  packetType: number;
  /** ARPHRD_* of the interface (1 Ethernet, 772 loopback). */
  hatype: number;
  /** The link-layer source address when it is a MAC. */
  src?: string;
  /** The protocol (an ethertype for Ethernet interfaces). */
  protocol: number;
  /** SLL2 only: the capturing host's ifindex of the interface. */
  ifIndex?: number;
}

/** UDP. */
export interface UdpInfo {
  srcPort: number;
  dstPort: number;
  length: number;
}

/** TCP. */
export interface TcpInfo {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Set flags by name: SYN, ACK, FIN, RST, PSH, URG, ECE, CWR. */
  flags: string[];
  payloadLength: number;
}

/** VXLAN (UDP 4789, or 8472 as flannel and the Linux default use). */
export interface VxlanInfo {
  vni: number;
  /** The inner Ethernet frame, decoded. */
  inner: DecodedFrame;
}

/** A frame decoded layer by layer; layers it does not have are absent. */
export interface DecodedFrame {
  eth?: { src: string; dst: string; ethertype: number; vlan?: number };
  /** Linux cooked capture header (link types 113, 276) in place of `eth`. */
  sll?: SllInfo;
  arp?: ArpInfo;
  ipv4?: Ipv4Info;
  icmp?: IcmpInfo;
  udp?: UdpInfo;
  tcp?: TcpInfo;
  vxlan?: VxlanInfo;
  /** One line like tcpdump's: `10.42.0.2 > 10.42.0.3: ICMP echo request, id 7, seq 1`. */
  summary: string;
  /** Set when a layer was cut short or malformed: what and where. */
  error?: string;
}
