// Kernel parameters of one namespace (/proc/sys/net is per namespace: whoever opens the file decides
// which namespace it reads). Keys use the slash form (net/ipv4/conf/eth0/arp_notify) so interface
// names with dots stay unambiguous.
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { GroupCommit } from './group-commit.js';
import { HostError, classifyStderr } from './errors.js';

/** A sysctl key (slash form) and the value to write. */
export type SysctlEntry = readonly [key: string, value: string];

/** sysctl writes and reads in one namespace; concurrent writers share one process. */
export class SysctlHandle {
  private readonly writes: GroupCommit<SysctlEntry[], void>;

  constructor(private readonly runner: Runner, readonly ns: Netns) {
    this.writes = new GroupCommit((groups) => this.runWrites(groups));
  }

  /** Writes each entry. Equivalent to: `nsenter --net=NS sysctl -qw KEY=VALUE …`.
   * Rejects with a HostError naming the first key that could not be written. */
  set(entries: readonly SysctlEntry[]): Promise<void> {
    return entries.length === 0 ? Promise.resolve() : this.writes.submit([...entries]);
  }

  private async runWrites(groups: SysctlEntry[][]): Promise<(void | Error)[]> {
    const argv = inNetns(this.ns, 'sysctl', ['-qw', ...groups.flat().map(([k, v]) => `${k}=${v}`)]);
    const r = await this.runner.run({ argv, mutates: true });
    if (r.exitCode === 0) return groups.map(() => undefined);
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    return groups.map((entries) => {
      for (const [key] of entries) {
        const dotted = key.replace(/\//g, '.');
        const line = lines.find((l) => l.includes(`/proc/sys/${key}`) || l.includes(`'${dotted}'`) || l.includes(`"${dotted}"`));
        if (line) return new HostError({ kind: classifyStderr(line), argv, exitCode: r.exitCode, stderr: line, message: `sysctl ${key}: ${line.replace(/^sysctl: /, '')}` });
      }
      return undefined;
    });
  }

  /** Reads keys. Equivalent to: `nsenter --net=NS sysctl -n KEY …`. */
  async get(keys: readonly string[]): Promise<string[]> {
    const r = await runOk(this.runner, { argv: inNetns(this.ns, 'sysctl', ['-n', ...keys]), mutates: false });
    return r.stdout.split('\n').slice(0, keys.length).map((s) => s.trim());
  }
}
