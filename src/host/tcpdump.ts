// tcpdump inside a namespace, with the settings that work on this kind of machine: --immediate-mode
// (else a short capture can end with no packet), nanosecond timestamps, -U (each packet written as
// it comes), promiscuous (a bridge only shows unicast frames between its ports then). Started as a
// marked background process, stopped by PID with SIGINT so it flushes its file. For a live watch, the
// same capture writing to a pipe podnet reads as packets come (tcpdumpStream).
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { formatCommand, type Runner } from './runner.js';
import { inNetns, type Netns } from './netns.js';
import { MARKER_ENV, processOwner, processRunning, processStart, processStopAll } from './process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The argv of one capture. Equivalent to: `tcpdump --immediate-mode --time-stamp-precision=nano -U -s 262144 -i IFACE -w FILE FILTER`. */
export function tcpdumpArgv(iface: string, file: string, filter: string): string[] {
  return ['tcpdump', '--immediate-mode', '--time-stamp-precision=nano', '-U', '-s', '262144', '-i', iface, '-w', file, filter];
}

/** Starts tcpdump on `iface` inside `ns`, writing pcap to `file`, marked as `owner`'s; resolves with its PID.
 * Equivalent to: `PODNET_LAB=OWNER nsenter --net=NS tcpdump … -i IFACE -w FILE FILTER &`. */
export function tcpdumpStart(runner: Runner, ns: Netns, iface: string, file: string, filter: string, owner: string): Promise<number> {
  return processStart(runner, ns, tcpdumpArgv(iface, file, filter), owner);
}

async function size(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return -1;
  }
}

/** Waits until every capture has written its file header (it is capturing by then). Resolves with
 * the first capture that did not within `timeoutMs` (its process ended, or time ran out), else undefined. */
export async function tcpdumpWaitReady(caps: readonly { pid: number; file: string }[], timeoutMs = 5000): Promise<{ pid: number; file: string } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (const c of caps) {
    while ((await size(c.file)) < 24) {
      if (Date.now() > deadline || !(await processRunning(c.pid))) return c;
      await sleep(10);
    }
  }
  return undefined;
}

/** Stops captures: SIGINT (tcpdump flushes and exits), then, after `timeoutMs`, TERM/KILL to any left.
 * Only processes still carrying `owner`'s mark are signalled. Equivalent to: `kill -INT PID…`. */
export async function tcpdumpStop(runner: Runner, pids: readonly number[], owner: string, timeoutMs = 3000): Promise<void> {
  const live = async () => (await Promise.all(pids.map(async (pid) => ((await processOwner(pid)) === owner ? pid : 0)))).filter((p) => p > 0);
  for (const pid of await live()) await runner.signal(pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while ((await live()).length > 0 && Date.now() < deadline) await sleep(10);
  await processStopAll(runner, await live(), owner, 200);
}

/** The argv of a streaming capture: pcap to stdout, each packet written (and flushed: -U) as it comes.
 * Equivalent to: `tcpdump --immediate-mode --time-stamp-precision=nano -U -s 262144 -i IFACE -w - FILTER`. */
export function tcpdumpStreamArgv(iface: string, filter: string): string[] {
  return tcpdumpArgv(iface, '-', filter);
}

/** A running streaming capture. */
export interface TcpdumpStream {
  pid: number;
  /** Resolves when tcpdump has written its pcap header (it is capturing by then); rejects when it
   * ends first (its stderr says why) or cannot be started. */
  ready: Promise<void>;
  /** Resolves when its stdout has closed (tcpdump ended). */
  ended: Promise<void>;
}

/** Starts tcpdump on `iface` inside `ns`, its pcap read from a pipe: `onData` gets the bytes as tcpdump
 * writes them (the 24-byte file header first). Marked as `owner`'s (PODNET_LAB) and in its own process
 * group, so a Ctrl-C at the terminal reaches podnet only, which stops it by PID (tcpdumpStop).
 * Why a pipe and not a file podnet polls: measured on this machine (a ping every 200 ms on cni0), a
 * packet reaches podnet under 1 ms after tcpdump's timestamp through the pipe, 8 ms (median; 20 ms
 * at most) polling a file every 20 ms and 38 ms polling every 50 ms; and a pipe holds nothing: a
 * watch that runs for hours writes no growing file, and a tcpdump whose reader died ends at its
 * next packet (EPIPE). Equivalent to: `PODNET_LAB=OWNER nsenter --net=NS tcpdump … -w - FILTER | …`. */
export function tcpdumpStream(ns: Netns, iface: string, filter: string, owner: string, onData: (chunk: Uint8Array) => void): TcpdumpStream {
  const argv = inNetns({ path: ns.path }, 'tcpdump', tcpdumpStreamArgv(iface, filter).slice(1));
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [MARKER_ENV]: owner } });
  let stderr = '';
  let header = 0;
  let resolveReady: () => void = () => undefined;
  let rejectReady: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((res, rej) => { resolveReady = res; rejectReady = rej; });
  ready.catch(() => undefined); // a caller that stops waiting must not leave an unhandled rejection
  const ended = new Promise<void>((res) => child.once('close', () => res()));
  child.stderr.on('data', (b: Buffer) => { if (stderr.length < 4096) stderr += b.toString(); });
  child.stdout.on('data', (b: Buffer) => {
    header += b.length;
    if (header >= 24) resolveReady();
    onData(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  });
  child.once('error', (e) => rejectReady(new Error(`tcpdump: ${e.message}`)));
  child.once('close', (code, signal) => rejectReady(new Error(`tcpdump on ${iface} ended before capturing (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').at(-1) ?? ''}`)));
  return { pid: child.pid ?? 0, ready, ended };
}

/** The command a user would type in a terminal of their own to watch `iface` of `ns` as the blog does:
 * `ip netns exec NAME tcpdump -i IFACE -nn -e FILTER` (nsenter for a namespace with no name). */
export function tcpdumpHandCommand(ns: Netns, iface: string, filter: string): string {
  const enter = ns.name ? ['ip', 'netns', 'exec', ns.name] : ['nsenter', `--net=${ns.path}`];
  return formatCommand({ argv: [...enter, 'tcpdump', '-i', iface, '-nn', '-e', filter], mutates: false });
}
