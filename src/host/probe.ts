// The programs a trace sends its packet with, from inside a pod's namespace: ping for ICMP, busybox
// nc for a TCP handshake (and as a listener), bash's /dev/udp for one UDP datagram (Debian's busybox
// nc has no UDP mode; bash is Essential on Debian).
import { readFile } from 'node:fs/promises';
import type { Runner } from './runner.js';
import type { Netns } from './netns.js';
import { processRun, processRunning, processStart } from './process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const printed = (r: { stdout: string; stderr: string }) => (r.stdout + r.stderr).trim();

/** One ICMP echo; resolves with what ping printed. Equivalent to: `ping -c 1 -W TIMEOUT DST`. */
export async function pingOnce(runner: Runner, ns: Netns, dst: string, timeoutS = 1): Promise<string> {
  return printed(await processRun(runner, ns, ['ping', '-c', '1', '-W', String(timeoutS), dst], { mutates: false }));
}

/** A TCP handshake (and close); resolves with what nc printed. Equivalent to: `busybox nc -w TIMEOUT DST PORT`. */
export async function tcpConnect(runner: Runner, ns: Netns, dst: string, port: number, timeoutS = 1): Promise<string> {
  return printed(await processRun(runner, ns, ['busybox', 'nc', '-w', String(timeoutS), dst, String(port)], { mutates: false }));
}

/** One UDP datagram. Equivalent to: `bash -c 'printf "podnet\n" > /dev/udp/DST/PORT'`. */
export async function udpSend(runner: Runner, ns: Netns, dst: string, port: number): Promise<string> {
  return printed(await processRun(runner, ns, ['bash', '-c', 'printf "podnet\\n" > "/dev/udp/$0/$1"', dst, String(port)], { mutates: false }));
}

/** True when something in the namespace of `pid` listens on TCP `port` (its /proc/PID/net/tcp is that namespace's). */
export async function tcpListening(pid: number, port: number): Promise<boolean> {
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

/** Starts a TCP listener marked as `owner`'s and waits (at most ~1 s) until it listens; resolves
 * with its PID (when the port already has a listener, nc fails to bind and exits: the old one answers).
 * Equivalent to: `busybox nc -l -p PORT &`. */
export async function tcpListenerStart(runner: Runner, ns: Netns, port: number, owner: string): Promise<number> {
  const pid = await processStart(runner, ns, ['busybox', 'nc', '-l', '-p', String(port)], owner);
  // A listener that exits at once (the port already has one) ends the wait: no second polled away.
  for (let i = 0; i < 100 && !(await tcpListening(pid, port)) && (await processRunning(pid)); i++) await sleep(10);
  return pid;
}
