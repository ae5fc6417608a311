// `podnet cni serve` as a process: serves until SIGINT/SIGTERM or, with an idle exit (the daemon a
// plugin client started), until no request came for that long. Its PID is in SOCKET.pid while it
// runs. Stopping: first the socket's path goes (new clients then start a new daemon or run one-shot,
// and can never reach one that is leaving), then the connections already accepted are served, then
// the requests still running (an abandoned ADD's undo) finish — bounded — and the process ends.
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { Runner } from '../host/runner.js';
import { serveCni, type CniServer } from './serve.js';

/** How long a leaving daemon still accepts connections a client made just before the path went (ms). */
const GRACE_MS = 1000;
/** The longest a leaving daemon waits for requests still running (ms). */
const DRAIN_MS = 30_000;

/** Options of a daemon's life. */
export interface DaemonOptions {
  /** Exit after this many seconds without a request (0: never). */
  idleExitS: number;
  /** Where it says what happens (one line each). */
  say: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The PID file of the daemon on `socket`. */
export const pidFileOf = (socket: string): string => `${socket}.pid`;

/** Runs the daemon on `socket` until it is told to stop or has been idle; resolves once it has let go
 * of everything. */
export async function runDaemon(runner: Runner, socket: string, o: DaemonOptions): Promise<void> {
  let stop!: (why: string) => void;
  const stopped = new Promise<string>((resolve) => { stop = resolve; });
  const pidFile = pidFileOf(socket);
  // The PID file is written before the socket's path is put in place: a client served by this daemon
  // always finds its PID there (written after, a fast client could be answered before it existed).
  const server: CniServer = await serveCni(runner, socket, {
    idleMs: o.idleExitS * 1000,
    onIdle: () => stop(`idle for ${o.idleExitS} s`),
    beforePublish: () => writeFile(pidFile, `${process.pid}\n`, { mode: 0o644 }),
  });
  const onSignal = (sig: string) => () => stop(sig);
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  o.say(`podnet cni serve: listening on ${socket} (pid ${process.pid}${o.idleExitS > 0 ? `, exits after ${o.idleExitS} s without requests` : ''})`);

  const why = await stopped;
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  await server.unlinkSocket();
  if (why.startsWith('idle')) await sleep(GRACE_MS);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const t0 = Date.now();
  while (server.busy() > 0 && Date.now() - t0 < DRAIN_MS) await sleep(50);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => { timer = setTimeout(r, Math.max(0, DRAIN_MS - (Date.now() - t0))); })]);
  clearTimeout(timer);
  if ((await readFile(pidFile, 'utf8').catch(() => '')).trim() === String(process.pid)) await rm(pidFile, { force: true });
  o.say(`podnet cni serve: stopped (${why})`);
}
