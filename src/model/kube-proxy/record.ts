// What podnet keeps of the rules it last wrote on a node — per Service port the fingerprint of what
// its rules were made from, the hash in its chains' names and the names of its chains and sets, and
// (nftables) the map and set elements — so the next sync regenerates and rewrites only the ports
// that changed and deletes what is no longer used, as kube-proxy does with the change trackers and
// state it keeps in memory. Pure.
import { createHash } from 'node:crypto';
import type { ProxyMode } from './mode.js';

/** One Service port as last written. */
export interface RecordedPort {
  /** PortView.fingerprint when it was written. */
  fp: string;
  /** The hash its chains' names carry (iptables: 16 characters; nftables: 8). */
  h: string;
  chains: string[];
  sets?: string[];
  /** UDP ports: the endpoints' addresses (conntrack entries to them go when they do). */
  eps?: string[];
}

/** The last rules written on one node. */
export interface ProxyRecord {
  version: 1;
  mode: ProxyMode;
  /** What every port's rules also depend on (the cluster CIDR, …): when it changes, every port is rewritten. */
  context: string;
  /** Per service port, `ns/name:port/proto`. */
  ports: Record<string, RecordedPort>;
  /** iptables: a hash of the lines every sync rewrites (a sync that changes nothing runs nothing). */
  top?: string;
  /** nftables: the elements of kube-proxy's maps and sets, `container key` → element text. */
  elements?: Record<string, string>;
}

/** A short hash of lines. */
export function blockHash(parts: readonly string[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p).update('\n');
  return h.digest('base64url').slice(0, 16);
}

/** The chains (and sets) the record names that `active` no longer has. */
export function staleNames(previous: ProxyRecord, activeChains: ReadonlySet<string>, activeSets: ReadonlySet<string> = new Set()): { chains: string[]; sets: string[] } {
  const chains = new Set<string>();
  const sets = new Set<string>();
  for (const p of Object.values(previous.ports)) {
    for (const c of p.chains) if (!activeChains.has(c)) chains.add(c);
    for (const s of p.sets ?? []) if (!activeSets.has(s)) sets.add(s);
  }
  return { chains: [...chains].sort(), sets: [...sets].sort() };
}

/** The recorded port when its rules are still what it would write now (same context, same fingerprint). */
export function unchangedPort(previous: ProxyRecord | undefined, context: string, key: string, fingerprint: string): RecordedPort | undefined {
  const p = previous && previous.context === context ? previous.ports[key] : undefined;
  return p && p.fp === fingerprint ? p : undefined;
}

/** True when `x` reads as a record of `mode` (a damaged or foreign file means: sync everything). */
export function isRecord(x: unknown, mode: ProxyMode): x is ProxyRecord {
  const r = x as ProxyRecord | null;
  return !!r && typeof r === 'object' && r.version === 1 && r.mode === mode && typeof r.context === 'string' && typeof r.ports === 'object' && r.ports !== null;
}
