// "Nothing was made, not even for a moment": `ip -o -n NS monitor link address route` running in each
// namespace of interest while a test calls a plugin. Each monitor is known to be listening once it
// has reported a sentinel bridge the watch makes and removes in that namespace (the namespaces are
// the test's own); on stop, a second sentinel flushes every event that came before it. What is left
// is every change the kernel reported in between.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '../helpers.js';

const SENTINEL = /pnwatch[ab]/;

/** One namespace's monitor. */
class Monitor {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['-o', '-n', ns, 'monitor', 'link', 'address', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    this.child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    this.exited = new Promise((r) => this.child.on('close', () => r()));
  }

  /** Makes and removes a bridge named `name` here and waits (bounded) until the monitor reported it. */
  async sentinel(name: string): Promise<boolean> {
    execFileSync('ip', ['-n', this.ns, 'link', 'add', name, 'type', 'bridge'], { stdio: 'ignore', timeout: 10_000 });
    execFileSync('ip', ['-n', this.ns, 'link', 'del', name], { stdio: 'ignore', timeout: 10_000 });
    return waitFor(() => this.lines.some((l) => l.startsWith('Deleted') && l.includes(name)), 5000, 10);
  }
}

/** Monitors on several namespaces; `stop()` returns every event that was not a sentinel. */
export class KernelWatch {
  private constructor(private readonly monitors: Monitor[]) {}

  static async start(namespaces: readonly string[]): Promise<KernelWatch> {
    const w = new KernelWatch(namespaces.map((ns) => new Monitor(ns)));
    for (const m of w.monitors) {
      if (!(await m.sentinel('pnwatcha'))) {
        await w.kill();
        throw new Error(`ip monitor in ${m.ns} did not report its sentinel`);
      }
    }
    return w;
  }

  private async kill(): Promise<void> {
    for (const m of this.monitors) m.child.kill('SIGTERM');
    await Promise.all(this.monitors.map((m) => m.exited));
  }

  /** Stops watching; returns `ns: event` for every change reported since start. */
  async stop(): Promise<string[]> {
    const flushed = await Promise.all(this.monitors.map((m) => m.sentinel('pnwatchb')));
    await this.kill();
    const events = this.monitors.flatMap((m) => m.lines.filter((l) => !SENTINEL.test(l)).map((l) => `${m.ns}: ${l}`));
    if (!flushed.every(Boolean)) events.push('(a monitor did not report its closing sentinel: events may be missing)');
    return events;
  }
}
