// The machine as podnet sees it: a Runner plus per-namespace handles shared by every caller, so
// concurrent work in one namespace is batched into one process.
import { existsSync } from 'node:fs';
import type { Runner } from './runner.js';
import type { Netns } from './netns.js';
import { NetHandle } from './iproute.js';

/** Shared handles for one Runner. */
export class Host {
  private readonly nets = new Map<string, NetHandle>();

  /** `dryRun`: nothing is really made, so files a plan would have made are assumed to exist. */
  constructor(readonly runner: Runner, readonly dryRun = false) {}

  /** True when `path` exists (a namespace file, say); in a dry run, always true. Equivalent to: `test -e PATH`.
   * One stat, done synchronously: cheaper than a thread-pool round trip on a plugin's path. */
  exists(path: string): Promise<boolean> {
    return Promise.resolve(this.dryRun || existsSync(path));
  }

  /** iproute2 in `ns`. */
  net(ns: Netns): NetHandle {
    const key = ns.current ? '' : ns.path;
    let h = this.nets.get(key);
    if (!h) this.nets.set(key, (h = new NetHandle(this.runner, ns, this.dryRun)));
    return h;
  }
}
