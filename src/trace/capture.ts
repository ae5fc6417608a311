// tcpdump on every capture point at once, each inside its namespace (src/host/tcpdump.ts has the
// settings that work on this kind of machine).
// On a node's uplink and the underlay the flow travels inside VXLAN: the filter there matches the
// outer UDP port and the inner packet's addresses.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { tcpdumpStart, tcpdumpStop, tcpdumpWaitReady } from '../host/tcpdump.js';
import { traceOwner } from '../host/trace-journal.js';
import { ipToInt } from '../model/ip.js';
import type { CapturePoint, TraceProtocol } from '../model/trace.js';

/** The owner mark on capture and probe processes (PODNET_LAB=podnet-trace). */
/** The mark of this trace process's captures, listeners and rule tracers (PODNET_LAB=podnet-trace-<pid>). */
export const TRACE_OWNER = traceOwner();

/** A running capture. */
export interface Capture {
  point: CapturePoint;
  pid: number;
  file: string;
}

/** The tcpdump filter for a trace: the flow between the two addresses, and ARP. */
export function captureFilter(protocol: TraceProtocol, a: string, b: string, port?: number): string {
  const flow = protocol === 'icmp' ? 'icmp' : `${protocol}${port ? ` port ${port}` : ''}`;
  // ICMP errors (port unreachable) about a UDP/TCP probe come back as ICMP.
  const errors = protocol === 'icmp' ? '' : ' or icmp';
  return `((${flow}${errors}) and host ${a} and host ${b}) or arp`;
}

/** The tcpdump filter of a live watch (--watch, --count): the traffic between the two addresses (of
 * one protocol and port when given, with the ICMP errors about it but not pings), and ARP that asks
 * for or answers one of them. */
export function watchFilter(protocol: TraceProtocol | undefined, a: string, b: string, port?: number): string {
  const arp = `(arp and (host ${a} or host ${b}))`;
  if (!protocol) return `(host ${a} and host ${b}) or ${arp}`;
  const errors = 'icmp and icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply';
  const flow = protocol === 'icmp' ? 'icmp' : `${protocol}${port ? ` port ${port}` : ''} or (${errors})`;
  return `((${flow}) and host ${a} and host ${b}) or ${arp}`;
}

/** The watch's filter for a node uplink or the underlay: the pair inside VXLAN, of one protocol (with
 * ICMP errors but not pings: the inner ICMP type is at 50 when the inner IPv4 header has no options). */
export function vxlanWatchFilter(protocol: TraceProtocol | undefined, a: string, b: string, vxlanPort: number): string {
  if (protocol === undefined || protocol === 'icmp') return vxlanFilter(protocol ?? 'any', a, b, vxlanPort);
  return `${vxlanFilter('any', a, b, vxlanPort)} and (udp[39] = ${protocol === 'tcp' ? 6 : 17} or (udp[39] = 1 and udp[50] != 8 and udp[50] != 0))`;
}

/** The tcpdump filter for a node uplink or the underlay: UDP to the VXLAN port carrying an IPv4 packet
 * of the flow between the two addresses (of any protocol for 'any'). Offsets count from the outer UDP
 * header: 8 bytes of UDP, 8 of VXLAN and 14 of inner Ethernet put the inner ethertype at 28 and the
 * inner IPv4 header at 30 (protocol at 39, addresses at 42 and 46). */
export function vxlanFilter(protocol: TraceProtocol | 'any', a: string, b: string, vxlanPort: number): string {
  const hex = (ip: string) => `0x${ipToInt(ip).toString(16).padStart(8, '0')}`;
  const proto = protocol === 'any' ? '' : protocol === 'icmp' ? 'udp[39] = 1 and ' : `(udp[39] = ${protocol === 'tcp' ? 6 : 17} or udp[39] = 1) and `;
  const pair = `((udp[42:4] = ${hex(a)} and udp[46:4] = ${hex(b)}) or (udp[42:4] = ${hex(b)} and udp[46:4] = ${hex(a)}))`;
  return `udp dst port ${vxlanPort} and udp[28:2] = 0x0800 and ${proto}${pair}`;
}

/** The filter of a trace through NAT, on every point: the probe's protocol on its ports (with the
 * ICMP errors about it) to or from any of `hosts` — the addresses the packet carries before and after
 * the rewrite — plain or inside VXLAN (inner source and destination both among `hosts`), and ARP. */
export function natFilter(protocol: TraceProtocol, hosts: readonly string[], ports: readonly number[], vxlanPort: number): string {
  const hex = (ip: string) => `0x${ipToInt(ip).toString(16).padStart(8, '0')}`;
  const l4 = protocol === 'icmp' || ports.length === 0 ? protocol : `(${protocol} and (${ports.map((p) => `port ${p}`).join(' or ')}))`;
  const flow = `(${protocol === 'icmp' ? 'icmp' : `${l4} or icmp`}) and (${hosts.map((h) => `host ${h}`).join(' or ')})`;
  const inSet = (at: number) => hosts.map((h) => `udp[${at}:4] = ${hex(h)}`).join(' or ');
  const proto = protocol === 'icmp' ? 'udp[39] = 1' : `(udp[39] = ${protocol === 'tcp' ? 6 : 17} or udp[39] = 1)`;
  return `(${flow}) or (udp dst port ${vxlanPort} and udp[28:2] = 0x0800 and ${proto} and (${inSet(42)}) and (${inSet(46)})) or arp`;
}

/** Each point's filter: `flow` on pods, veths, bridges and VXLAN devices; on uplinks and the underlay,
 * where the flow travels inside VXLAN, `vxlan`. */
export function filterByRole(flow: string, vxlan: string): (p: CapturePoint) => string {
  return (p) => (p.role === 'node-uplink' || p.role === 'underlay' ? vxlan : flow);
}

/** Starts tcpdump on every point, each inside its namespace, and resolves when each has written its
 * file header (it is capturing by then); stops what it started if one does not come up within
 * `timeoutMs`. `filter` is one for all points or one per point. */
export async function startCaptures(h: Host, points: readonly CapturePoint[], dir: string, filter: string | ((p: CapturePoint) => string), timeoutMs = 5000): Promise<Capture[]> {
  const caps = await Promise.all(points.map(async (point, i): Promise<Capture> => {
    const file = join(dir, `${i}-${point.iface}.pcap`);
    return { point, file, pid: await tcpdumpStart(h.runner, netnsAt(point.netns), point.iface, file, typeof filter === 'string' ? filter : filter(point), TRACE_OWNER) };
  }));
  const late = await tcpdumpWaitReady(caps, timeoutMs);
  if (late) {
    await stopCaptures(h, caps);
    const c = caps.find((x) => x.pid === late.pid)!;
    throw new Error(`tcpdump did not start on ${c.point.id} within ${timeoutMs} ms (is tcpdump installed? run \`npm run setup\` as root)`);
  }
  return caps;
}

/** Stops the captures (tcpdump flushes and exits), waiting at most `timeoutMs`. */
export async function stopCaptures(h: Host, caps: readonly Capture[], timeoutMs = 3000): Promise<void> {
  await tcpdumpStop(h.runner, caps.map((c) => c.pid), TRACE_OWNER, timeoutMs);
}

/** The bytes each capture wrote. */
export async function readCaptures(caps: readonly Capture[]): Promise<{ point: CapturePoint; bytes: Uint8Array }[]> {
  return Promise.all(caps.map(async (c) => ({ point: c.point, bytes: new Uint8Array(await readFile(c.file).catch(() => Buffer.alloc(0))) })));
}
