// Reading kernel parameters of one namespace (/proc/sys/net is per namespace: whoever opens the
// file decides which namespace it reads). Writes go with the namespace's iproute2 batch
// (NetHandle.configure / NetHandle.batch), so they cost no process of their own.
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';

/** Reads sysctl keys (slash or dot form) in `ns`. Equivalent to: `nsenter --net=NS sysctl -n KEY…`. */
export async function sysctlGet(runner: Runner, ns: Netns, keys: readonly string[]): Promise<string[]> {
  const r = await runOk(runner, { argv: inNetns(ns, 'sysctl', ['-n', ...keys]), mutates: false });
  return r.stdout.split('\n').slice(0, keys.length).map((s) => s.trim());
}
