// The packet a trace sends, from inside the source pod: one ICMP echo, a TCP handshake (with a
// listener podnet starts in the destination if the port has none), or one UDP datagram.
import { readFile } from 'node:fs/promises';
import type { Runner } from '../host/runner.js';
import { inNetns, netnsAt } from '../host/netns.js';
import { processStart, processStopAll } from '../host/process.js';
import type { TracePath } from '../model/trace.js';
import { TRACE_OWNER } from './capture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when something in the namespace of `pid` listens on TCP `port` (its /proc/PID/net/tcp is that namespace's). */
async function listening(pid: number, port: number): Promise<boolean> {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    return (await readFile(`/proc/${pid}/net/tcp`, 'utf8')).split('\n').some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1]?.endsWith(`:${hex}`) && f[3] === '0A';
    });
  } catch {
    return false;
  }
}

/** Sends the probe; resolves with what the probing command printed. Equivalent to, in the source pod:
 * `ping -c 1 -W 1 DST`, or `busybox nc -w 1 DST PORT`, or `bash -c 'printf podnet > /dev/udp/DST/PORT'`. */
export async function sendProbe(runner: Runner, path: TracePath, protocol: 'icmp' | 'tcp' | 'udp', port: number | undefined, dstNetns: string | undefined): Promise<string> {
  const src = netnsAt(path.points[0].netns);
  if (protocol === 'icmp') {
    const r = await runner.run({ argv: inNetns(src, 'ping', ['-c', '1', '-W', '1', path.dst.ip]), mutates: false });
    return (r.stdout + r.stderr).trim();
  }
  const p = port ?? (protocol === 'tcp' ? 8080 : 53);
  let listener: number | undefined;
  if (protocol === 'tcp' && dstNetns) {
    // A listener of podnet's own, unless the port already has one (nc then fails to bind and exits).
    listener = await processStart(runner, netnsAt(dstNetns), ['busybox', 'nc', '-l', '-p', String(p)], TRACE_OWNER);
    for (let i = 0; i < 100 && !(await listening(listener, p)); i++) await sleep(10);
  }
  try {
    // Debian's busybox nc has no UDP mode; bash (Essential on Debian) sends a datagram through /dev/udp.
    const argv = protocol === 'tcp'
      ? inNetns(src, 'busybox', ['nc', '-w', '1', path.dst.ip, String(p)])
      : inNetns(src, 'bash', ['-c', 'printf "podnet\\n" > "/dev/udp/$0/$1"', path.dst.ip, String(p)]);
    const r = await runner.run({ argv, mutates: false });
    if (protocol === 'udp') await sleep(200); // time for an answer, or an ICMP port unreachable
    return (r.stdout + r.stderr).trim();
  } finally {
    if (listener) await processStopAll(runner, [listener], TRACE_OWNER, 200);
  }
}
