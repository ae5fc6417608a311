// The decoded frame: own properties for the layers, the summary line made on first read. Pure.
import type { ArpInfo, DecodedFrame, IcmpInfo, Ipv4Info, SllInfo, TcpInfo, UdpInfo, VxlanInfo } from '../../model/packet.js';
import { summarize } from './summary.js';

/** A decoded frame: own properties for the layers, `summary` computed on first read (then cached).
 * `toJSON` includes the summary, so JSON output carries it. */
export class Decoded implements DecodedFrame {
  declare eth?: DecodedFrame['eth'];
  declare sll?: SllInfo;
  declare arp?: ArpInfo;
  declare ipv4?: Ipv4Info;
  declare icmp?: IcmpInfo;
  declare udp?: UdpInfo;
  declare tcp?: TcpInfo;
  declare vxlan?: VxlanInfo;
  declare error?: string;
  #summary: string | undefined = undefined;

  get summary(): string {
    if (this.#summary === undefined) this.#summary = summarize(this);
    return this.#summary;
  }

  toJSON(): Omit<DecodedFrame, 'summary'> & { summary: string } {
    return { ...this, summary: this.summary };
  }
}

/** Decodes an Ethernet frame from `o` to `end` into `d` (passed down to VXLAN, whose payload is one). */
export type EthernetDecoder = (d: Decoded, b: Uint8Array, o: number, end: number, depth: number) => void;
