// The connection-tracking entries kube-proxy deletes after a sync (pkg/proxy/conntrack, for UDP): a
// UDP "connection" has no end, so an entry that DNATs a Service's flow to an endpoint that is gone
// would keep sending the client's packets there, and an entry made while the Service had no
// endpoints (not DNATed at all) would keep them from reaching the new ones. Pure.
import type { PortView } from './ports.js';
import type { RecordedPort } from './record.js';

/** Entries to delete: `conntrack -D -p udp [--orig-dst IP] --orig-port-dst PORT [--reply-src IP]`. */
export interface StaleFlow {
  proto: 'udp';
  dst?: string;
  dport: number;
  replySrc?: string;
}

/** What a UDP port records of its endpoints, for the next sync to compare. */
export const recordedEndpoints = (v: PortView): { eps?: string[] } => (v.proto === 'udp' ? { eps: v.endpoints.map((e) => e.ip) } : {});

/** The stale flows of one UDP port whose endpoints changed since `before` (nothing for other protocols). */
export function staleFlows(v: PortView, before: RecordedPort | undefined): StaleFlow[] {
  if (v.proto !== 'udp' || !before?.eps) return [];
  const now = new Set(v.endpoints.map((e) => e.ip));
  if (before.eps.length === 0 && now.size > 0) {
    const flows: StaleFlow[] = [{ proto: 'udp', dst: v.clusterIP, dport: v.port }];
    if (v.nodePort !== undefined) flows.push({ proto: 'udp', dport: v.nodePort });
    return flows;
  }
  return before.eps.filter((ip) => !now.has(ip)).flatMap((ip) => [
    { proto: 'udp' as const, dst: v.clusterIP, dport: v.port, replySrc: ip },
    ...(v.nodePort !== undefined ? [{ proto: 'udp' as const, dport: v.nodePort, replySrc: ip }] : []),
  ]);
}
