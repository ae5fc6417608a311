// tcpdump inside a namespace, with the settings that work on this kind of machine: --immediate-mode
// (else a short capture can end with no packet), nanosecond timestamps, -U (each packet written as
// it comes), promiscuous (a bridge only shows unicast frames between its ports then). Started as a
// marked background process, stopped by PID with SIGINT so it flushes its file.
import { stat } from 'node:fs/promises';
import type { Runner } from './runner.js';
import type { Netns } from './netns.js';
import { processOwner, processRunning, processStart, processStopAll } from './process.js';

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
