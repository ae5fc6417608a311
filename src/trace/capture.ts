// tcpdump on every capture point at once, each inside its namespace, with the settings that work on
// this machine (measured-on-this-machine.md): --immediate-mode (else a short capture can end with no
// packet), nanosecond timestamps, -U, promiscuous (cni0 only shows unicast pod-to-pod frames then).
// On a node's uplink and the underlay the flow travels inside VXLAN: the filter there matches the
// outer UDP port and the inner packet's addresses.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../host/runner.js';
import { netnsAt } from '../host/netns.js';
import { processOwner, processRunning, processStart, processStopAll } from '../host/process.js';
import { ipToInt } from '../model/ip.js';
import type { CapturePoint } from '../model/trace.js';

/** The owner mark on capture and probe processes (PODNET_LAB=podnet-trace). */
export const TRACE_OWNER = 'podnet-trace';

/** A running capture. */
export interface Capture {
  point: CapturePoint;
  pid: number;
  file: string;
}

/** The tcpdump filter for a trace: the flow between the two addresses, and ARP. */
export function captureFilter(protocol: 'icmp' | 'tcp' | 'udp', a: string, b: string, port?: number): string {
  const flow = protocol === 'icmp' ? 'icmp' : `${protocol}${port ? ` port ${port}` : ''}`;
  // ICMP errors (port unreachable) about a UDP/TCP probe come back as ICMP.
  const errors = protocol === 'icmp' ? '' : ' or icmp';
  return `((${flow}${errors}) and host ${a} and host ${b}) or arp`;
}

/** The tcpdump filter for a node uplink or the underlay: UDP to the VXLAN port carrying an IPv4 packet
 * of the flow between the two addresses. Offsets count from the outer UDP header: 8 bytes of UDP,
 * 8 of VXLAN and 14 of inner Ethernet put the inner ethertype at 28 and the inner IPv4 header at 30
 * (protocol at 39, addresses at 42 and 46). */
export function vxlanFilter(protocol: 'icmp' | 'tcp' | 'udp', a: string, b: string, vxlanPort: number): string {
  const hex = (ip: string) => `0x${ipToInt(ip).toString(16).padStart(8, '0')}`;
  const proto = protocol === 'icmp' ? 'udp[39] = 1' : `(udp[39] = ${protocol === 'tcp' ? 6 : 17} or udp[39] = 1)`;
  const pair = `((udp[42:4] = ${hex(a)} and udp[46:4] = ${hex(b)}) or (udp[42:4] = ${hex(b)} and udp[46:4] = ${hex(a)}))`;
  return `udp dst port ${vxlanPort} and udp[28:2] = 0x0800 and ${proto} and ${pair}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function size(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return -1;
  }
}

/** Starts tcpdump on every point, and resolves when each has written its file header (it is capturing
 * by then). Equivalent to, per point: `nsenter --net=NS tcpdump --immediate-mode --time-stamp-precision=nano
 * -U -s 262144 -i IFACE -w FILE FILTER &`. `filter` is one for all points or one per point. Stops what it
 * started if one does not come up within `timeoutMs`. */
export async function startCaptures(runner: Runner, points: readonly CapturePoint[], dir: string, filter: string | ((p: CapturePoint) => string), timeoutMs = 5000): Promise<Capture[]> {
  const caps = await Promise.all(points.map(async (point, i): Promise<Capture> => {
    const file = join(dir, `${i}-${point.iface}.pcap`);
    const argv = ['tcpdump', '--immediate-mode', '--time-stamp-precision=nano', '-U', '-s', '262144', '-i', point.iface, '-w', file, typeof filter === 'string' ? filter : filter(point)];
    return { point, file, pid: await processStart(runner, netnsAt(point.netns), argv, TRACE_OWNER) };
  }));
  const deadline = Date.now() + timeoutMs;
  for (const c of caps) {
    while ((await size(c.file)) < 24) {
      if (Date.now() > deadline || !(await processRunning(c.pid))) {
        await stopCaptures(runner, caps);
        throw new Error(`tcpdump did not start on ${c.point.id} within ${timeoutMs} ms (is tcpdump installed? run \`npm run setup\` as root)`);
      }
      await sleep(10);
    }
  }
  return caps;
}

/** Stops the captures (SIGINT: tcpdump flushes and exits), waiting at most `timeoutMs`. */
export async function stopCaptures(runner: Runner, caps: readonly Capture[], timeoutMs = 3000): Promise<void> {
  const live = async () => (await Promise.all(caps.map(async (c) => ((await processOwner(c.pid)) === TRACE_OWNER ? c.pid : 0)))).filter((p) => p > 0);
  for (const pid of await live()) await runner.signal(pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while ((await live()).length > 0 && Date.now() < deadline) await sleep(10);
  await processStopAll(runner, await live(), TRACE_OWNER, 200);
}

/** The bytes each capture wrote. */
export async function readCaptures(caps: readonly Capture[]): Promise<{ point: CapturePoint; bytes: Uint8Array }[]> {
  return Promise.all(caps.map(async (c) => ({ point: c.point, bytes: new Uint8Array(await readFile(c.file).catch(() => Buffer.alloc(0))) })));
}
