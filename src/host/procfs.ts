// Files of /proc read from inside a network namespace — sysctls (/proc/sys/net/…), /proc/net/snmp,
// /proc/net/stat/nf_conntrack — many in one process: /proc/sys/net and /proc/net show the namespace
// of the process that reads them, so the reader runs in the namespace (nsenter), never podnet itself.
import type { Runner } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { HostError } from './errors.js';

const MARK = '@@podnet-file ';
const MISSING = '@@podnet-missing';
/** Prints each file after a marker line naming it, or a "missing" line when it cannot be read. */
const SCRIPT = `for f; do printf '${MARK}%s\\n' "$f"; cat "$f" 2>/dev/null || echo '${MISSING}'; done`;

/** The text of each file (absent when the kernel has no such file or it cannot be read), read in `ns`
 * in one process. Equivalent to: `nsenter --net=NS cat FILE…`. */
export async function procRead(runner: Runner, ns: Netns, files: readonly string[]): Promise<Record<string, string>> {
  if (files.length === 0) return {};
  const argv = inNetns(ns, 'sh', ['-c', SCRIPT, 'sh', ...files]);
  const r = await runner.run({ argv, mutates: false });
  if (r.exitCode !== 0 && !r.stdout.includes(MARK)) {
    throw new HostError({ kind: 'not-found', argv, exitCode: r.exitCode, stderr: r.stderr, message: r.stderr.trim().split('\n')[0] || `cannot read ${files[0]} in ${ns.name ?? ns.path}` });
  }
  const out: Record<string, string> = {};
  for (const part of r.stdout.split(MARK).slice(1)) {
    const nl = part.indexOf('\n');
    const file = part.slice(0, nl);
    const text = part.slice(nl + 1);
    if (!text.startsWith(MISSING)) out[file] = text;
  }
  return out;
}

/** Sysctls (keys in /proc/sys form, `net/ipv4/ip_forward`) → their values, trimmed; keys the kernel
 * lacks are absent. Equivalent to: `nsenter --net=NS sysctl KEY…`. */
export async function sysctlRead(runner: Runner, ns: Netns, keys: readonly string[]): Promise<Record<string, string>> {
  const texts = await procRead(runner, ns, keys.map((k) => `/proc/sys/${k}`));
  return Object.fromEntries(Object.entries(texts).map(([f, v]) => [f.slice('/proc/sys/'.length), v.trim()]));
}
