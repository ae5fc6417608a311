// `podnet trace --watch` / `--count N`: the blog's three terminals, live. tcpdump keeps capturing on
// every point of the path, each writing pcap to a pipe podnet reads as packets come (src/host/tcpdump.ts
// says why a pipe); the frames are decoded as they arrive and cut into journeys (journeys.ts: one
// exchange each), each correlated, put in causal order and explained like a one-shot trace, while the
// user pings or curls from another terminal. It stops after `count` journeys or when `signal` aborts;
// every tcpdump it started is stopped by PID before it returns, also on failure.
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { tcpdumpHandCommand, tcpdumpStop, tcpdumpStream, type TcpdumpStream } from '../host/tcpdump.js';
import type { Target } from '../lab/target.js';
import type { CapturePoint, FdbSeen, TracePath, TraceProtocol } from '../model/trace.js';
import { TRACE_OWNER, filterByRole, vxlanWatchFilter, watchFilter } from './capture.js';
import { decodeFrame } from './decode.js';
import { forget, learnedFdb } from './explain.js';
import { EXCHANGE_BOUNDS, Exchanges, journeyOf, type ExchangeBounds, type Journey } from './journeys.js';
import { tracePath } from './path.js';
import { PcapStream } from './pcap-stream.js';
import { traceSnapshots } from './scope.js';

export type { Journey } from './journeys.js';

/** What to watch, and where (as for a one-shot trace), and when to stop. */
export interface WatchRequest {
  target: Target;
  stateRoot: string;
  src: string;
  dst: string;
  /** Only this protocol (and port) between the two; every protocol when absent. */
  protocol?: TraceProtocol;
  port?: number;
  /** Flush neighbours and the learned FDB first. */
  cold?: boolean;
  /** Stop after this many journeys. */
  count?: number;
  /** Stop when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** When an exchange is complete (tests shorten the quiet time). */
  bounds?: ExchangeBounds;
  /** How long tcpdump may take to start on every point, ms. */
  readyMs?: number;
}

/** What a watch reports as it goes. */
export interface WatchHooks {
  /** Every point is capturing: the path, each point's filter, and the tcpdump a user would type for it. */
  started?(path: TracePath, commands: string[]): void;
  journey(j: Journey): void;
  warning?(line: string): void;
}

/** How a watch ended: after `count` journeys, by its signal, or because a capture ended by itself. */
export interface WatchEnd {
  journeys: number;
  reason: 'count' | 'signal' | 'capture-ended';
}

const TICK_MS = 25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for `p`, at most `ms` (the timer does not outlive it). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}

/** One streaming capture per point, feeding `exchanges` as frames complete. */
function startStreams(path: TracePath, filter: (p: CapturePoint) => string, exchanges: Exchanges, warn: (line: string) => void): TcpdumpStream[] {
  return path.points.map((point) => {
    const reader = new PcapStream();
    let index = 0;
    return tcpdumpStream(netnsAt(point.netns), point.iface, filter(point), TRACE_OWNER, (chunk) => {
      const now = performance.now();
      for (const f of reader.push(chunk)) exchanges.add({ point: point.id, tsNs: f.tsNs, frame: decodeFrame(f), index: index++ }, now);
      if (reader.error !== undefined) warn(`${point.id}: ${reader.error}`);
    });
  });
}

/** Resolves when every stream is capturing; rejects with the first that failed, or after `ms`. */
async function allReady(streams: readonly TcpdumpStream[], path: TracePath, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tcpdump did not start on every point within ${ms} ms (${path.points.map((p) => p.id).join(', ')}; is tcpdump installed? run \`npm run setup\` as root)`)), ms);
  });
  try {
    await Promise.race([Promise.all(streams.map((s) => s.ready)), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Watches the path until `count` journeys were seen or `signal` aborts; each journey goes to `hooks.journey` as it completes. */
export async function watchTrace(h: Host, req: WatchRequest, hooks: WatchHooks): Promise<WatchEnd> {
  const path = tracePath(await traceSnapshots(h, req.target, req.stateRoot, req.src, req.dst), req.src, req.dst);
  if (req.cold) await forget(h, path);
  let fdb: FdbSeen[] = await learnedFdb(h, path);
  const flow = watchFilter(req.protocol, path.src.ip, path.dst.ip, req.port);
  const filter = filterByRole(flow, vxlanWatchFilter(req.protocol, path.src.ip, path.dst.ip, path.overlay?.request?.from.port ?? 8472));
  const exchanges = new Exchanges(req.bounds ?? EXCHANGE_BOUNDS);
  const warned = new Set<string>();
  const warn = (line: string) => { if (!warned.has(line)) { warned.add(line); hooks.warning?.(line); } };
  let journeys = 0;
  const emit = (all: boolean): boolean => {
    for (const events of exchanges.due(performance.now(), all)) {
      if (req.count !== undefined && journeys >= req.count) return true;
      const j = journeyOf(++journeys, path, events, fdb, req);
      fdb = j.fdbAfter;
      hooks.journey(j);
    }
    return req.count !== undefined && journeys >= req.count;
  };
  const streams = startStreams(path, filter, exchanges, warn);
  let reason: WatchEnd['reason'] = 'signal';
  try {
    await allReady(streams, path, req.readyMs ?? 5000);
    hooks.started?.(path, path.points.map((p) => tcpdumpHandCommand(netnsAt(p.netns), p.iface, filter(p))));
    let ended = false;
    void Promise.race(streams.map((s) => s.ended)).then(() => { ended = true; });
    for (;;) {
      if (req.signal?.aborted) break;
      if (emit(false)) {
        reason = 'count';
        break;
      }
      if (ended) {
        reason = 'capture-ended';
        break;
      }
      await sleep(TICK_MS);
    }
  } finally {
    await tcpdumpStop(h.runner, streams.map((s) => s.pid), TRACE_OWNER);
    // Their last bytes are read once their pipes close (bounded: tcpdumpStop has ended them).
    await within(Promise.all(streams.map((s) => s.ended)), 1000);
  }
  // What tcpdump flushed as it stopped, and the exchanges still open, are journeys too (up to `count`).
  if (reason !== 'count') emit(true);
  return { journeys, reason };
}
