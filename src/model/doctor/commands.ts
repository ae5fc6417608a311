// The commands a finding shows — as evidence (the read that shows the value) and as its fix — written
// the way a user pastes them: `ip -n NS …` for iproute2 in a pinned namespace, `nsenter --net=PATH …`
// for everything else, plain commands on this host. Pure.
import type { NsRef } from './types.js';

/** One word as a POSIX shell reads it: as is when it is plain, else single-quoted. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** argv as one pasteable line. */
export const shellLine = (argv: readonly string[]): string => argv.map(shellWord).join(' ');

/** The path that opens a namespace. */
const pathOf = (ns: NsRef): string => ns.path ?? (ns.name ? `/run/netns/${ns.name}` : '/proc/self/ns/net');

/** `argv` run in `ns`: `ip -n NAME …` for ip and bridge in a pinned namespace, else `nsenter --net=PATH …`. */
export function inNs(ns: NsRef, argv: readonly string[]): string {
  if (ns.current) return shellLine(argv);
  if (ns.name && (argv[0] === 'ip' || argv[0] === 'bridge')) return shellLine([argv[0], '-n', ns.name, ...argv.slice(1)]);
  return shellLine(['nsenter', `--net=${pathOf(ns)}`, ...argv]);
}

/** A sysctl key in /proc/sys form (`net/ipv4/conf/flannel.1/rp_filter`) as `sysctl` names it
 * (`net.ipv4.conf.flannel/1.rp_filter`: dots in a component become slashes). */
export function sysctlName(key: string): string {
  return key.split('/').map((part) => part.replace(/\./g, '/')).join('.');
}

/** `sysctl -w KEY=VALUE …` in `ns`. */
export const sysctlSet = (ns: NsRef, pairs: readonly (readonly [string, string])[]): string =>
  inNs(ns, ['sysctl', '-w', ...pairs.map(([k, v]) => `${sysctlName(k)}=${v}`)]);

/** `cat /proc/sys/KEY…` in `ns`: the read that shows sysctls. */
export const sysctlShow = (ns: NsRef, keys: readonly string[]): string => inNs(ns, ['sysctl', ...keys.map(sysctlName)]);
