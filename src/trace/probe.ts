// The packet a trace sends, from inside the source pod: one ICMP echo, a TCP handshake (with a
// listener podnet starts in the destination if the port has none), or one UDP datagram.
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { processStopAll } from '../host/process.js';
import { pingOnce, tcpConnect, tcpListenerStart, udpSend } from '../host/probe.js';
import type { TracePath, TraceProtocol } from '../model/trace.js';
import { TRACE_OWNER } from './capture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the probe; resolves with what the probing command printed. */
export async function sendProbe(h: Host, path: TracePath, protocol: TraceProtocol, port: number | undefined, dstNetns: string | undefined): Promise<string> {
  const src = netnsAt(path.points[0].netns);
  if (protocol === 'icmp') return pingOnce(h.runner, src, path.dst.ip);
  const p = port ?? (protocol === 'tcp' ? 8080 : 53);
  // A listener of podnet's own, unless the port already has one (nc then fails to bind and exits).
  const listener = protocol === 'tcp' && dstNetns ? await tcpListenerStart(h.runner, netnsAt(dstNetns), p, TRACE_OWNER) : undefined;
  try {
    if (protocol === 'tcp') return await tcpConnect(h.runner, src, path.dst.ip, p);
    const printed = await udpSend(h.runner, src, path.dst.ip, p);
    await sleep(200); // time for an answer, or an ICMP port unreachable
    return printed;
  } finally {
    if (listener) await processStopAll(h.runner, [listener], TRACE_OWNER, 200);
  }
}
