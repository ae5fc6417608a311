// Connection tracking inside one namespace through conntrack-tools' `conntrack`: list, count, stats,
// flush, delete, and an event watcher (`conntrack -E` as a marked background process writing to a
// file). A namespace has entries only once something registered conntrack hooks in it (an nft rule
// using `ct`, a nat chain). nf_conntrack_max is global: inside a namespace it can be read, not written.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { HostError, classifyStderr } from './errors.js';
import { processRunning, processStart, processStopAll } from './process.js';
import { netfilterSubscribed } from './nfmonitor.js';
import type { ConntrackEntry, ConntrackEventType, ConntrackStats } from '../model/conntrack.js';
import { conntrackSummaryCount, conntrackWarnings, parseConntrack, parseConntrackStats } from '../model/conntrack.js';

/** Which entries a list or delete is about; every field narrows (conntrack's own filter options). */
export interface ConntrackFilter {
  family?: 'ipv4' | 'ipv6';
  /** `tcp`, `udp`, `icmp`, `sctp`, … — needed by the port and state filters. */
  proto?: string;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  replySrc?: string;
  replyDst?: string;
  replySport?: number;
  replyDport?: number;
  /** TCP state, e.g. ESTABLISHED. */
  state?: string;
  mark?: number;
  zone?: number;
  /** Status flag, e.g. ASSURED, SEEN_REPLY. */
  status?: string;
}

const OPTIONS: [keyof ConntrackFilter, string][] = [
  ['family', '-f'], ['proto', '-p'], ['src', '--orig-src'], ['dst', '--orig-dst'], ['sport', '--orig-port-src'], ['dport', '--orig-port-dst'],
  ['replySrc', '--reply-src'], ['replyDst', '--reply-dst'], ['replySport', '--reply-port-src'], ['replyDport', '--reply-port-dst'],
  ['state', '--state'], ['mark', '--mark'], ['zone', '--zone'], ['status', '--status'],
];

/** The conntrack options for a filter (`-p tcp --orig-port-dst 8080 …`); throws on a port or state filter without a protocol. */
export function conntrackFilterArgs(f: ConntrackFilter = {}): string[] {
  const needsProto = (['sport', 'dport', 'replySport', 'replyDport', 'state'] as const).filter((k) => f[k] !== undefined);
  if (needsProto.length && !f.proto) {
    throw new HostError({ kind: 'invalid', argv: ['conntrack'], exitCode: null, stderr: '', message: `conntrack filter: ${needsProto.join(', ')} needs proto (e.g. proto: 'tcp')` });
  }
  return OPTIONS.flatMap(([key, opt]) => (f[key] === undefined ? [] : [opt, String(f[key])]));
}

/** The connection tracking table of `ns`. Equivalent to: `nsenter --net=NS conntrack -L -o extended,id [FILTER]`. */
export async function conntrackList(runner: Runner, ns: Netns, filter?: ConntrackFilter): Promise<ConntrackEntry[]> {
  const r = await runOk(runner, { argv: inNetns(ns, 'conntrack', ['-L', '-o', 'extended,id', ...conntrackFilterArgs(filter)]), mutates: false });
  return parseConntrack(r.stdout);
}

/** Per-CPU conntrack counters of `ns` (found, invalid, insert_failed, drop, early_drop, …) and their
 * sums. Equivalent to: `nsenter --net=NS conntrack -S`. */
export async function conntrackStats(runner: Runner, ns: Netns): Promise<ConntrackStats> {
  const r = await runOk(runner, { argv: inNetns(ns, 'conntrack', ['-S']), mutates: false });
  return parseConntrackStats(r.stdout);
}

/** How many entries `ns` holds and the (machine-wide) limit, in one process. Equivalent to:
 * `nsenter --net=NS sh -c 'conntrack -C && cat /proc/sys/net/netfilter/nf_conntrack_max'`. */
export async function conntrackCount(runner: Runner, ns: Netns): Promise<{ count: number; max: number }> {
  const script = 'conntrack -C && exec cat /proc/sys/net/netfilter/nf_conntrack_max';
  const r = await runOk(runner, { argv: inNetns(ns, 'sh', ['-c', script]), mutates: false });
  const [count, max] = r.stdout.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(count) || !Number.isInteger(max)) {
    throw new HostError({ kind: 'failed', argv: ['sh', '-c', script], exitCode: r.exitCode, stderr: r.stderr, message: `conntrack -C: unexpected output ${JSON.stringify(r.stdout)}` });
  }
  return { count, max };
}

/** Empties the connection tracking table of `ns` (each entry gets a DESTROY event). Equivalent to: `nsenter --net=NS conntrack -F`. */
export async function conntrackFlush(runner: Runner, ns: Netns): Promise<void> {
  await runOk(runner, { argv: inNetns(ns, 'conntrack', ['-F']), mutates: true });
}

/** Deletes the entries matching `filter` (at least one field) and resolves with them; none matching
 * is fine (`[]`). Equivalent to: `nsenter --net=NS conntrack -D FILTER`. */
export async function conntrackDelete(runner: Runner, ns: Netns, filter: ConntrackFilter): Promise<ConntrackEntry[]> {
  const args = conntrackFilterArgs(filter);
  if (args.length === 0) throw new HostError({ kind: 'invalid', argv: ['conntrack', '-D'], exitCode: null, stderr: '', message: 'conntrack delete needs a filter (use conntrackFlush to empty the table)' });
  const argv = inNetns(ns, 'conntrack', ['-D', ...args]);
  const r = await runner.run({ argv, mutates: true });
  if (r.exitCode === 0) return parseConntrack(r.stdout);
  if (conntrackSummaryCount(r.stderr) === 0) return [];
  throw new HostError({ kind: classifyStderr(r.stderr), argv, exitCode: r.exitCode, stderr: r.stderr });
}

/** How to watch conntrack events. */
export interface ConntrackWatchOptions {
  /** The PODNET_LAB mark the process carries: only processes with it are ever stopped. */
  owner: string;
  /** Only this protocol (`-p tcp`). */
  proto?: string;
  /** Only these event types (`-e NEW,DESTROY`). */
  events?: readonly ConntrackEventType[];
  /** Where conntrack writes; default a temp dir removed on stop. */
  file?: string;
  /** How long to wait for conntrack to subscribe (default 3000 ms). */
  readyTimeoutMs?: number;
}

/** What a watcher has seen: events, plus anything else conntrack said (ENOBUFS warnings mean lost events). */
export interface ConntrackWatchResult {
  events: ConntrackEntry[];
  warnings: string[];
}

/** `conntrack -E` running in a namespace, writing events to a file, until stop(). */
export class ConntrackWatch {
  private stopped = false;

  private constructor(private readonly runner: Runner, readonly pid: number, readonly file: string, readonly owner: string, private readonly tempDir?: string) {}

  /** Starts the watcher and waits until it has subscribed to events. Equivalent to: `PODNET_LAB=OWNER
   * nsenter --net=NS sh -c 'exec conntrack -E -o timestamp,extended,id [-p PROTO] [-e EVENTS] >FILE 2>&1' &`. */
  static async start(runner: Runner, ns: Netns, opts: ConntrackWatchOptions): Promise<ConntrackWatch> {
    const tempDir = opts.file === undefined ? await mkdtemp(join(tmpdir(), 'podnet-conntrack-')) : undefined;
    const file = opts.file ?? join(tempDir ?? '', 'events.txt');
    const args = ['-E', '-o', 'timestamp,extended,id', ...(opts.proto ? ['-p', opts.proto] : []), ...(opts.events?.length ? ['-e', opts.events.join(',')] : [])];
    let pid = 0;
    try {
      pid = await processStart(runner, ns, ['sh', '-c', 'f=$1; shift; exec "$@" >"$f" 2>&1', 'sh', file, 'conntrack', ...args], opts.owner);
      const watch = new ConntrackWatch(runner, pid, file, opts.owner, tempDir);
      if (pid > 0) await watch.waitReady(opts.readyTimeoutMs ?? 3000);
      return watch;
    } catch (e) {
      if (pid > 0) await processStopAll(runner, [pid], opts.owner, 500);
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Waits (bounded) until the process holds a NETLINK_NETFILTER socket subscribed to groups; throws if it ends first. */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000; i++) {
      if (!(await processRunning(this.pid))) {
        const said = (await readFile(this.file, 'utf8').catch(() => '')).trim();
        throw new HostError({ kind: classifyStderr(said), argv: ['conntrack', '-E'], exitCode: null, stderr: said, message: `conntrack -E ended at once: ${said.split('\n')[0] || 'no output'}` });
      }
      if (await netfilterSubscribed(this.pid)) return;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new HostError({ kind: 'failed', argv: ['conntrack', '-E'], exitCode: null, stderr: '', message: `conntrack -E (pid ${this.pid}) did not subscribe to events within ${timeoutMs} ms` });
  }

  /** The events written so far (a line still being written is left for the next read). Equivalent to: `cat FILE`. */
  async read(): Promise<ConntrackWatchResult> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const complete = this.stopped ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    return { events: parseConntrack(complete), warnings: conntrackWarnings(complete) };
  }

  /** Stops conntrack by its PID (TERM, then KILL) and resolves with everything it wrote; the temp
   * file is removed. Calling it again resolves with nothing. Equivalent to: `kill PID; cat FILE`. */
  async stop(): Promise<ConntrackWatchResult> {
    if (this.stopped) return { events: [], warnings: [] };
    await processStopAll(this.runner, [this.pid], this.owner, 1000);
    this.stopped = true;
    const result = await this.read();
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
    return result;
  }
}

