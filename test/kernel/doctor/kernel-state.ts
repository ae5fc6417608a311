// What `podnet doctor` must leave exactly as it found it, read independently of podnet's readers:
// per namespace `ip -json -details link|addr|route|neigh`, `bridge -json fdb|link`, `nft -j list
// ruleset` and `iptables-save` (without counters or timestamps, which traffic changes), plus the
// sysctls doctor reads. Compared as text before and after a doctor run.
import { run, runStatus, waitFor } from '../helpers.js';

/** Argv inside a namespace given by path. */
const at = (path: string, argv: readonly string[]) => ['nsenter', `--net=${path}`, ...argv];

/** Neighbour entries without their ageing (`used` timers and probes move on their own). */
function neighs(path: string): string {
  const list = JSON.parse(run(at(path, ['ip', '-json', 'neigh', 'show'])) || '[]') as Record<string, unknown>[];
  return JSON.stringify(list.filter((n) => (n.state as string[] | undefined)?.includes('PERMANENT')));
}

/** The state of one namespace as text. */
export function namespaceState(path: string): string {
  const parts = [
    run(at(path, ['ip', '-json', '-details', 'link', 'show'])).replace(/"[a-z_]*timer":[\d.]+,?/g, ''),
    run(at(path, ['ip', '-json', '-details', 'addr', 'show'])).replace(/"(valid|preferred)_life_time":\d+,?/g, ''),
    run(at(path, ['ip', '-json', 'route', 'show', 'table', 'all'])),
    neighs(path),
    runStatus(at(path, ['bridge', '-json', 'fdb', 'show'])).stdout.replace(/"(used|updated)":\d+,?/g, ''),
    runStatus(at(path, ['bridge', '-json', '-details', 'link', 'show'])).stdout.replace(/"[a-z_]*timer":[\d.]+,?/g, ''),
    runStatus(at(path, ['nft', '-j', 'list', 'ruleset'])).stdout.replace(/"packets":\s*\d+,\s*"bytes":\s*\d+/g, ''),
    runStatus(at(path, ['iptables-save'])).stdout.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n'),
    runStatus(at(path, ['sh', '-c', 'for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/netfilter/nf_conntrack_max; do echo "$f=$(cat $f 2>/dev/null)"; done'])).stdout,
  ];
  // Timers (bridge gc, port forward-delay) count down on their own.
  return parts.join('\n--\n').replace(/"[a-z_]*timer":[\d.]+,?/g, '');
}

/** Waits (bounded) until no namespace has an IPv6 address still in duplicate address detection: the
 * kernel finishes it on its own a second or two after a link comes up, adding local routes. */
export async function settled(paths: readonly string[], timeoutMs = 8000): Promise<boolean> {
  const tentative = () => paths.some((p) => runStatus(at(p, ['ip', '-6', 'addr', 'show', 'tentative'])).stdout.trim() !== '');
  return waitFor(() => !tentative(), timeoutMs, 200);
}

/** The state of every namespace given (by path), in order. */
export const kernelState = (paths: readonly string[]): string[] => paths.map(namespaceState);

/** Where two states first differ, with a little context either side (undefined when equal). */
export function firstDifference(a: string, b: string): string | undefined {
  if (a === b) return undefined;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: before …${a.slice(Math.max(0, i - 80), i + 80)}… after …${b.slice(Math.max(0, i - 80), i + 80)}…`;
}
