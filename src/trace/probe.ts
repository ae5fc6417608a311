// The packet a trace sends, from inside the source's namespace (a pod, or the lab's outside host):
// one ICMP echo, a TCP handshake (with a listener podnet starts where the packet is delivered if the
// port has none), or one UDP datagram. The probe prints its PID first (`podnet-pid N`, then it execs
// the program), so drop events the kernel records in its context can be told from other processes'.
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { processRun, processStopAll } from '../host/process.js';
import { tcpListenerStart } from '../host/probe.js';
import type { TraceJournal } from '../host/trace-journal.js';
import type { TraceProtocol } from '../model/trace.js';
import { TRACE_OWNER } from './capture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the probe printed, and its PID. */
export interface ProbeRun {
  printed: string;
  pid?: number;
}

/** The probe's argv: ping, busybox nc, or bash's /dev/udp, behind a shell that prints its PID and execs it. */
export function probeArgv(protocol: TraceProtocol, dst: string, port: number | undefined, size?: number): string[] {
  const p = String(port ?? (protocol === 'tcp' ? 8080 : 53));
  const cmd = protocol === 'icmp' ? ['ping', '-c', '1', '-W', '1', ...(size !== undefined ? ['-s', String(size), '-M', 'do'] : []), dst]
    : protocol === 'tcp' ? ['busybox', 'nc', '-w', '1', dst, p]
      : ['bash', '-c', 'printf "podnet\\n" > "/dev/udp/$0/$1"', dst, p];
  return ['sh', '-c', 'echo "podnet-pid $$"; exec "$@"', 'sh', ...cmd];
}

/** Sends the probe from `srcNetns` to `dst`; TCP listeners of podnet's own go in `listeners` first
 * (each exits at once when its port already has one) and are stopped by PID afterwards. */
export async function sendProbe(h: Host, srcNetns: string, dst: string, protocol: TraceProtocol, port: number | undefined,
  listeners: readonly { netns: string; port: number }[], journal?: TraceJournal, size?: number): Promise<ProbeRun> {
  const started = protocol === 'tcp' ? await Promise.all(listeners.map((l) => tcpListenerStart(h.runner, netnsAt(l.netns), l.port, TRACE_OWNER))) : [];
  await journal?.add(...started.map((pid) => ({ kind: 'process' as const, pid, owner: TRACE_OWNER })));
  try {
    const r = await processRun(h.runner, netnsAt(srcNetns), probeArgv(protocol, dst, port, size), { mutates: false });
    const out = (r.stdout + r.stderr).trim();
    const m = /^podnet-pid (\d+)\n?/.exec(out);
    if (protocol === 'udp') await sleep(200); // time for an answer, or an ICMP port unreachable
    return { printed: m ? out.slice(m[0].length).trim() : out, ...(m ? { pid: Number(m[1]) } : {}) };
  } finally {
    if (started.length) await processStopAll(h.runner, started, TRACE_OWNER, 200);
  }
}
