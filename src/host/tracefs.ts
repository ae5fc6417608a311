// Kernel drop reasons through tracefs: the skb:kfree_skb tracepoint enabled in a private trace
// instance (`<tracefs>/instances/podnet-<pid>-<hex>`), so the machine's own tracing settings are never
// touched; the instance is removed on stop, on a failed start, when the process exits without
// stopping it, and, for a crashed run, by dropWatchLeftovers. tracefs is found in /proc/self/mountinfo
// or mounted at /run/podnet/tracefs (left mounted until dropWatchLeftovers finds no podnet instance).
import { randomBytes } from 'node:crypto';
import { rmdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import { HostError, classifyStderr } from './errors.js';
import { processRunning } from './process.js';
import { ensureDir } from './dirs.js';
import type { DropTrace } from '../model/drops.js';
import { excludeReasonsFilter, formatHasReason, parseDropReasonCodes, parseDropTrace } from '../model/drops.js';

/** Where podnet mounts tracefs when the machine has no tracefs mount; a mount here is podnet's. */
export const TRACEFS_PODNET_MOUNT = '/run/podnet/tracefs';
/** The name prefix of podnet's trace instances. */
export const DROP_INSTANCE_PREFIX = 'podnet-';
const KFREE_SKB = 'events/skb/kfree_skb';

/** A tracefs mount and whether it is podnet's own (at TRACEFS_PODNET_MOUNT). */
export interface Tracefs {
  path: string;
  mountedByPodnet: boolean;
}

/** The mount points of tracefs in a /proc/PID/mountinfo text (octal escapes such as `\040` decoded). */
export function tracefsMountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] !== 'tracefs') continue;
    const mountPoint = left.split(' ')[4];
    if (mountPoint) out.push(mountPoint.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** The tracefs mount to use, if the machine has one (podnet's own mount first, else /sys/kernel/tracing, else any). */
export async function tracefsFind(): Promise<Tracefs | undefined> {
  const points = tracefsMountPoints(await readFile('/proc/self/mountinfo', 'utf8'));
  const path = [TRACEFS_PODNET_MOUNT, '/sys/kernel/tracing', '/sys/kernel/debug/tracing'].find((p) => points.includes(p)) ?? points[0];
  return path === undefined ? undefined : { path, mountedByPodnet: path === TRACEFS_PODNET_MOUNT };
}

/** A tracefs mount: an existing one, else podnet's own. Equivalent to: `mkdir -p /run/podnet/tracefs && mount -t tracefs nodev /run/podnet/tracefs`. */
export async function tracefsEnsure(runner: Runner): Promise<Tracefs> {
  const found = await tracefsFind();
  if (found) return found;
  await ensureDir(TRACEFS_PODNET_MOUNT);
  await runOk(runner, { argv: ['mount', '-t', 'tracefs', 'nodev', TRACEFS_PODNET_MOUNT], mutates: true });
  return { path: TRACEFS_PODNET_MOUNT, mountedByPodnet: true };
}

/** Whether drop reasons can be watched here: tracefs mountable and skb:kfree_skb carrying a `reason`
 * field. With them, this kernel's reason numbers by name; without, one line saying why not. */
export async function dropReasonsAvailable(runner: Runner): Promise<{ ok: true; tracefs: Tracefs; codes: Map<string, number> } | { ok: false; why: string }> {
  let tracefs: Tracefs;
  try {
    tracefs = await tracefsEnsure(runner);
  } catch (e) {
    return { ok: false, why: `tracefs is not mounted and cannot be mounted: ${(e as Error).message}` };
  }
  let format: string;
  try {
    format = await readFile(join(tracefs.path, KFREE_SKB, 'format'), 'utf8');
  } catch {
    return { ok: false, why: 'this kernel has no skb:kfree_skb tracepoint (CONFIG_TRACEPOINTS / CONFIG_NET off?)' };
  }
  if (!formatHasReason(format)) return { ok: false, why: 'skb:kfree_skb has no reason field on this kernel (drop reasons came in Linux 5.17)' };
  return { ok: true, tracefs, codes: parseDropReasonCodes(format) };
}

/** Writes `value` to a tracefs file, as `echo VALUE > FILE` would; failures become a HostError. */
async function traceWrite(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, `${value}\n`);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new HostError({ kind: classifyStderr(err.message), argv: ['sh', '-c', `echo '${value}' > ${file}`], exitCode: null, stderr: err.message, cause: e });
  }
}

/** Instances this process has made and not yet removed: removed at exit if the caller never stopped them. */
const live = new Set<string>();
let exitHook = false;
function track(dir: string): void {
  live.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const d of live) {
      try {
        rmdirSync(d);
      } catch {
        // best effort at exit; dropWatchLeftovers removes what is left
      }
    }
  });
}

/** How to watch drops. */
export interface DropWatchOptions {
  runner: Runner;
  /** Reason names to leave out, e.g. ['NOT_SPECIFIED'] (IPv6 multicast noise); turned into this kernel's numbers. */
  exclude?: readonly string[];
  /** A raw tracefs filter instead (`reason != 2`); combined with `exclude` by `&&`. */
  filter?: string;
  /** Ring buffer size per CPU in KiB (kernel default when unset: about 1.4 MiB per CPU). */
  bufferKb?: number;
}

/** The kfree_skb tracepoint enabled in a private trace instance, until stop(). */
export class DropWatch {
  private stopped = false;

  private constructor(readonly tracefs: Tracefs, readonly instance: string, readonly monoOffsetNs: bigint) {}

  /** The instance's directory. */
  get dir(): string {
    return join(this.tracefs.path, 'instances', this.instance);
  }

  /** Starts watching. Equivalent to: `mkdir <tracefs>/instances/podnet-PID-HEX; cd $_; echo mono > trace_clock;
   * echo FILTER > events/skb/kfree_skb/filter; echo 1 > events/skb/kfree_skb/enable`. A failure removes the instance. */
  static async start(opts: DropWatchOptions): Promise<DropWatch> {
    const avail = await dropReasonsAvailable(opts.runner);
    if (!avail.ok) throw new HostError({ kind: 'not-found', argv: ['cat', `<tracefs>/${KFREE_SKB}/format`], exitCode: null, stderr: avail.why, message: `drop reasons unavailable: ${avail.why}` });
    let excluded: string | undefined;
    try {
      excluded = excludeReasonsFilter(avail.codes, opts.exclude ?? []);
    } catch (e) {
      throw new HostError({ kind: 'invalid', argv: ['cat', `${avail.tracefs.path}/${KFREE_SKB}/format`], exitCode: null, stderr: '', message: (e as Error).message });
    }
    const filter = [excluded, opts.filter].filter((f) => f).map((f) => `(${f})`).join(' && ');
    const watch = new DropWatch(avail.tracefs, `${DROP_INSTANCE_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`, measureMonoOffsetNs());
    await mkdir(watch.dir);
    track(watch.dir);
    try {
      if (opts.bufferKb !== undefined) await traceWrite(join(watch.dir, 'buffer_size_kb'), String(opts.bufferKb));
      await traceWrite(join(watch.dir, 'trace_clock'), 'mono');
      if (filter) await writeFilter(join(watch.dir, KFREE_SKB, 'filter'), filter);
      await traceWrite(join(watch.dir, KFREE_SKB, 'enable'), '1');
    } catch (e) {
      await watch.stop();
      throw e;
    }
    return watch;
  }

  /** The drops recorded so far (the buffer is left as it is). Equivalent to: `cat <instance>/trace`. */
  async read(): Promise<DropTrace> {
    return parseDropTrace(await readFile(join(this.dir, 'trace'), 'utf8'));
  }

  /** Empties the buffer. Equivalent to: `: > <instance>/trace`. */
  async clear(): Promise<void> {
    await writeFile(join(this.dir, 'trace'), '');
  }

  /** Disables the event and removes the instance; calling it again does nothing. Equivalent to:
   * `echo 0 > <instance>/events/skb/kfree_skb/enable; rmdir <instance>`. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await writeFile(join(this.dir, KFREE_SKB, 'enable'), '0\n');
    } catch {
      // the instance may be half made or gone: rmdir below says what matters
    }
    await removeInstance(this.dir);
    live.delete(this.dir);
  }
}

/** Runs `fn` with a DropWatch that is stopped afterwards, also when `fn` throws. */
export async function withDropWatch<T>(opts: DropWatchOptions, fn: (watch: DropWatch) => Promise<T>): Promise<T> {
  const watch = await DropWatch.start(opts);
  try {
    return await fn(watch);
  } finally {
    await watch.stop();
  }
}

/** Writes an event filter; on a rejected one, the error names the filter and the kernel's complaint. */
async function writeFilter(file: string, filter: string): Promise<void> {
  try {
    await traceWrite(file, filter);
  } catch (e) {
    const said = (await readFile(file, 'utf8').catch(() => '')).split('\n').find((l) => /error/i.test(l))?.trim();
    throw new HostError({ kind: 'invalid', argv: (e as HostError).argv, exitCode: null, stderr: (e as HostError).stderr, cause: e,
      message: `the kernel rejected drop filter '${filter}'${said ? `: ${said}` : ''}` });
  }
}

/** Removes a trace instance; one already gone is fine. Equivalent to: `rmdir DIR`. */
async function removeInstance(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return;
    throw new HostError({ kind: err.code === 'EBUSY' ? 'busy' : 'failed', argv: ['rmdir', dir], exitCode: null, stderr: err.message, cause: e });
  }
}

/** realtime − CLOCK_MONOTONIC in ns, taken at the moment Date.now() ticks to the next millisecond
 * (so it is good to a few µs, not to a millisecond). process.hrtime reads CLOCK_MONOTONIC, the trace's `mono`. */
export function measureMonoOffsetNs(): bigint {
  const first = Date.now();
  const limit = process.hrtime.bigint() + 3_000_000n;
  let hr = process.hrtime.bigint();
  let now = Date.now();
  for (let i = 0; now === first && hr < limit && i < 1_000_000; i++) {
    hr = process.hrtime.bigint();
    now = Date.now();
  }
  return BigInt(now) * 1_000_000n - hr;
}

/** Removes podnet trace instances whose process is gone (or, with `all`, every podnet instance), and
 * unmounts podnet's own tracefs mount once no podnet instance is left. Resolves with the removed
 * instance names. Equivalent to: `rmdir <tracefs>/instances/podnet-*; umount /run/podnet/tracefs; rmdir /run/podnet/tracefs`. */
export async function dropWatchLeftovers(runner: Runner, opts: { all?: boolean } = {}): Promise<string[]> {
  const tracefs = await tracefsFind();
  if (!tracefs) return [];
  const dir = join(tracefs.path, 'instances');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(DROP_INSTANCE_PREFIX));
  const removed: string[] = [];
  for (const name of names) {
    const pid = /^podnet-(\d+)-[0-9a-f]+$/.exec(name)?.[1];
    if (!opts.all && pid !== undefined && Number(pid) !== process.pid && (await processRunning(Number(pid)))) continue;
    if (!opts.all && pid !== undefined && live.has(join(dir, name))) continue;
    await removeInstance(join(dir, name));
    removed.push(name);
  }
  const left = (await readdir(dir).catch(() => [] as string[])).some((n) => n.startsWith(DROP_INSTANCE_PREFIX));
  if (tracefs.mountedByPodnet && !left) {
    await runOk(runner, { argv: ['umount', tracefs.path], mutates: true });
    await rmdir(tracefs.path).catch(() => undefined);
  }
  return removed;
}
