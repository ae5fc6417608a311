// What kube-proxy on one node makes of one Service port (pkg/proxy CategorizeEndpoints and the
// proxiers' first lines per service): the ready endpoints in kube-proxy's order (sorted by the
// `ip:port` string), which of them are on this node, whether it is reached from outside (a
// NodePort), and the probabilities of its load-balancing rules. Pure.
import type { Endpoint, ServicePortEndpoints } from '../k8s.js';
import type { Proto } from './names.js';

/** kube-proxy's view of the node it runs on. */
export interface ProxyNode {
  name: string;
  /** The node's primary address, bare (NodePorts listen there in nftables mode). */
  ip: string;
  /** `--cluster-cidr`: traffic from outside it is masqueraded. */
  clusterCIDR: string;
  /** The Service network (nftables mode drops traffic to its unallocated addresses). */
  serviceCIDR: string;
}

/** One Service port as kube-proxy on one node handles it. */
export interface PortView {
  /** `ns/name:port` (kube-proxy's service port name). */
  name: string;
  namespace: string;
  service: string;
  /** The port's own name (may be empty). */
  portName: string;
  proto: Proto;
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** Ready endpoints, sorted as kube-proxy sorts them (by the `ip:port` string). */
  endpoints: Endpoint[];
  /** The ready endpoints on this node. */
  local: Endpoint[];
  externalLocal: boolean;
  affinity?: { timeout: number };
  /** Everything the port's rules are made from, as one string: equal fingerprints, equal rules. */
  fingerprint: string;
}

/** `ip:port`, the way kube-proxy writes an endpoint. */
export const endpointString = (e: Pick<Endpoint, 'ip' | 'port'>): string => `${e.ip}:${e.port}`;

/** The Service ports kube-proxy programs on `node`: every port of a Service with a ClusterIP
 * (headless Services get no rules), in a stable order (by name and protocol). */
export function portViews(ports: readonly ServicePortEndpoints[], node: Pick<ProxyNode, 'name'>): PortView[] {
  const views = ports.filter((p) => p.service.clusterIP && p.service.clusterIP !== 'None').map((p): PortView => {
    const endpoints = p.endpoints.filter((e) => e.ready).sort((a, b) => cmp(endpointString(a), endpointString(b)));
    const s = p.service;
    const nodePort = s.type === 'NodePort' && p.port.nodePort ? p.port.nodePort : undefined;
    const externalLocal = s.externalTrafficPolicy === 'Local' && s.type === 'NodePort';
    const affinity = s.sessionAffinity === 'ClientIP' ? s.sessionAffinityTimeout ?? 10800 : undefined;
    const eps = endpoints.map((e) => `${endpointString(e)}${e.node === node.name ? '*' : ''}`).join(',');
    return {
      name: p.portName, namespace: s.namespace, service: s.name, portName: p.port.name ?? '',
      proto: p.port.protocol.toLowerCase() as Proto, clusterIP: s.clusterIP, port: p.port.port,
      ...(nodePort !== undefined ? { nodePort } : {}),
      endpoints, local: endpoints.filter((e) => e.node === node.name), externalLocal,
      ...(affinity !== undefined ? { affinity: { timeout: affinity } } : {}),
      fingerprint: `${s.clusterIP} ${p.port.port} ${nodePort ?? '-'} ${externalLocal ? 'L' : 'C'} ${affinity ?? '-'} ${eps}`,
    };
  });
  return views.sort((a, b) => cmp(a.name, b.name) || cmp(a.proto, b.proto));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** kube-proxy's `--probability` for the rule that picks 1 of `n` remaining endpoints: 1/n with ten
 * decimals, rounded like Go's `%0.10f` (to nearest, ties to even). */
export function probability(n: number): string {
  const x = 1 / n;
  const exact = x.toFixed(20);
  const dot = exact.indexOf('.');
  const kept = exact.slice(0, dot + 11);
  const rest = exact.slice(dot + 11);
  // toFixed rounds a tie up; Go rounds it to even. A tie: the digits past the tenth are exactly 5000….
  if (/^50*$/.test(rest)) {
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) return kept;
  }
  return x.toFixed(10);
}
