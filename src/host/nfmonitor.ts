// A netfilter monitor (`nft monitor trace`, `xtables-monitor --trace`) running inside a namespace as
// a marked background process that writes to a file: started through `sh -c 'exec … >FILE 2>&1'`,
// ready once it holds a NETLINK_NETFILTER socket bound to event groups, read while it runs (whole
// lines only), stopped by its PID. Both monitors flush each line as they print it.
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import type { Netns } from './netns.js';
import { HostError, classifyStderr } from './errors.js';
import { processRunning, processStart, processStopAll } from './process.js';
import type { TraceGroup, TraceParse } from '../model/netfilter-trace.js';

/** What one traced run saw: fn's value, the parsed trace, and its events grouped by packet. */
export interface TraceRun<T> {
  value: T;
  trace: TraceParse;
  groups: TraceGroup[];
}

/** How to run a monitor. */
export interface MonitorOptions {
  /** The PODNET_LAB mark the process carries: only processes with it are ever stopped. */
  owner: string;
  /** Where the monitor writes; default a temp dir (`/tmp/podnet-nfmonitor-*`) removed on stop. */
  file?: string;
  /** How long to wait for the monitor to subscribe (default 3000 ms). */
  readyTimeoutMs?: number;
}

/** A monitor process writing its output to a file, until stop(). */
export class NetfilterMonitor {
  private stopped = false;

  private constructor(private readonly runner: Runner, readonly pid: number, readonly file: string, readonly owner: string,
    private readonly argv: readonly string[], private readonly tempDir?: string) {}

  /** Starts `argv` in `ns` and waits until it has subscribed. Equivalent to:
   * `PODNET_LAB=OWNER nsenter --net=NS sh -c 'exec ARGV… >FILE 2>&1' &`. */
  static async start(runner: Runner, ns: Netns, argv: readonly string[], opts: MonitorOptions): Promise<NetfilterMonitor> {
    const tempDir = opts.file === undefined ? await mkdtemp(join(tmpdir(), 'podnet-nfmonitor-')) : undefined;
    const file = opts.file ?? join(tempDir ?? '', 'monitor.txt');
    let pid = 0;
    try {
      pid = await processStart(runner, ns, ['sh', '-c', 'f=$1; shift; exec "$@" >"$f" 2>&1', 'sh', file, ...argv], opts.owner);
      const monitor = new NetfilterMonitor(runner, pid, file, opts.owner, argv, tempDir);
      if (pid > 0) await monitor.waitReady(opts.readyTimeoutMs ?? 3000);
      return monitor;
    } catch (e) {
      if (pid > 0) await processStopAll(runner, [pid], opts.owner, 500);
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Waits (bounded) until the process is subscribed; throws if it ends first or time runs out. */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000; i++) {
      if (!(await processRunning(this.pid))) {
        const said = (await readFile(this.file, 'utf8').catch(() => '')).trim();
        throw new HostError({ kind: classifyStderr(said), argv: this.argv, exitCode: null, stderr: said, message: `${this.argv.join(' ')} ended at once: ${said.split('\n')[0] || 'no output'}` });
      }
      if (await netfilterSubscribed(this.pid)) return;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new HostError({ kind: 'failed', argv: this.argv, exitCode: null, stderr: '', message: `${this.argv.join(' ')} (pid ${this.pid}) did not subscribe within ${timeoutMs} ms` });
  }

  /** What the monitor wrote so far (while it runs, a line still being written is left out). Equivalent to: `cat FILE`. */
  async text(): Promise<string> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    return this.stopped ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  }

  /** True while the monitor process runs (xtables-monitor ends by itself on a rule it cannot translate). */
  running(): Promise<boolean> {
    return processRunning(this.pid);
  }

  /** Stops the monitor by its PID (TERM, then KILL) and resolves with all it wrote; a temp file is
   * removed. Calling it again resolves with ''. Equivalent to: `kill PID; cat FILE`. */
  async stop(): Promise<string> {
    if (this.stopped) return '';
    await processStopAll(this.runner, [this.pid], this.owner, 1000);
    this.stopped = true;
    const text = await this.text();
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
    return text;
  }
}

/** True when process `pid` holds a netlink socket of the netfilter family (12) bound to event groups:
 * its sockets from /proc/PID/fd, matched against its namespace's /proc/PID/net/netlink. */
export async function netfilterSubscribed(pid: number): Promise<boolean> {
  try {
    const fds = await readdir(`/proc/${pid}/fd`);
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
    const inodes = new Set(links.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter((x): x is string => x !== undefined));
    if (inodes.size === 0) return false;
    const table = await readFile(`/proc/${pid}/net/netlink`, 'utf8');
    return table.split('\n').slice(1).some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === '12' && /^[0-9a-f]+$/i.test(f[3] ?? '') && parseInt(f[3], 16) !== 0 && inodes.has(f[9]);
    });
  } catch {
    return false;
  }
}
