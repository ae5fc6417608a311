// The Kubernetes objects a lab holds beyond its network: a pod's metadata (Kubernetes namespace,
// labels, container ports, its main command) and Services (ClusterIP, NodePort, headless), with the
// endpoints each Service selects. Endpoints are derived from pods and Services, never stored. Pure.
import { contains, intToIp, ipToInt, networkOf, parseCidr, broadcastOf, type CidrText } from './ip.js';
import { UserError } from './errors.js';

/** A protocol of a Service port or a container port. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A container port a pod declares (named ports are what a Service's targetPort may name). */
export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: Protocol;
  /** A hostPort: the node forwards this port of its own addresses to the pod (portmap). */
  hostPort?: number;
  hostIP?: string;
}

/** What a lab records of a pod as Kubernetes sees it. */
export interface PodMeta {
  name: string;
  /** The Kubernetes namespace (`default`, `kube-system`, …). */
  namespace: string;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** The pod's processes (one per container with a command), run in its network namespace; absent: a
   * pause process holds the pod. */
  commands?: string[][];
}

/** A port of a Service. */
export interface ServicePort {
  name?: string;
  protocol: Protocol;
  port: number;
  /** A number, or the name of a container port of the selected pods. */
  targetPort: number | string;
  /** For NodePort Services: the port on every node. */
  nodePort?: number;
}

/** A Service as the lab keeps it (allocated: its ClusterIP and NodePorts are set). */
export interface Service {
  name: string;
  namespace: string;
  type: 'ClusterIP' | 'NodePort';
  /** The virtual IP, or `None` for a headless Service (DNS names the endpoints directly). */
  clusterIP: string;
  ports: ServicePort[];
  /** Pods whose labels hold all of these are the endpoints; empty: no endpoints are managed. */
  selector: Record<string, string>;
  externalTrafficPolicy: 'Cluster' | 'Local';
  sessionAffinity: 'None' | 'ClientIP';
  /** ClientIP affinity's timeout, seconds (Kubernetes: 10800). */
  sessionAffinityTimeout?: number;
  /** Endpoints given by hand (the `kubernetes` Service: the API server's address), when no selector. */
  manualEndpoints?: { ip: string; node: string; ports: { name?: string; port: number; protocol: Protocol }[] }[];
  createdAt: string;
}

/** One endpoint of one Service port: a pod's IP and the port it listens on. */
export interface Endpoint {
  ip: string;
  port: number;
  /** The pod (or `apiserver` for the `kubernetes` Service). */
  pod: string;
  node: string;
  ready: boolean;
}

/** A Service port with its endpoints (kube-proxy's unit: one chain each). */
export interface ServicePortEndpoints {
  service: Service;
  port: ServicePort;
  /** `ns/name:port-name` (`ns/name` when the port has no name): kube-proxy's service port name. */
  portName: string;
  endpoints: Endpoint[];
}

/** A pod as endpoints are computed from: its metadata, address, node and whether it runs. */
export interface PodEndpointSource {
  meta: PodMeta;
  ip?: string;
  node: string;
  ready: boolean;
}

/** K3s's defaults: the Service network and the two Services every cluster has. */
export const SERVICE_DEFAULTS = {
  nodePortRange: [30000, 32767] as const,
  /** The `kubernetes` Service: the first address of the Service CIDR, 443 → the server node's 6443. */
  apiserverPort: 6443,
  /** Cluster DNS: the tenth address (K3s: 10.43.0.10). */
  dnsIndex: 10,
  affinityTimeout: 10800,
} as const;

/** kube-proxy's name of a Service port: `ns/name:port`, or `ns/name` for an unnamed port. */
export const servicePortName = (s: Pick<Service, 'namespace' | 'name'>, p: Pick<ServicePort, 'name'>): string =>
  `${s.namespace}/${s.name}${p.name ? `:${p.name}` : ''}`;

/** True when `labels` hold every key/value of `selector` (an empty selector selects nothing: a Service
 * without a selector has endpoints given by hand). */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** The port a target resolves to on one pod: a number as is; a name through the pod's container ports
 * (of the same protocol); undefined when the pod has no such named port (it is then no endpoint). */
export function resolveTargetPort(target: number | string, protocol: Protocol, pod: PodMeta): number | undefined {
  if (typeof target === 'number') return target;
  return pod.ports.find((p) => p.name === target && p.protocol === protocol)?.containerPort;
}

/** Every port of every Service with its endpoints: the selected pods (same Kubernetes namespace) that
 * have an address, each at the port its targetPort resolves to; ready when the pod runs. */
export function serviceEndpoints(services: readonly Service[], pods: readonly PodEndpointSource[]): ServicePortEndpoints[] {
  return services.flatMap((service) => service.ports.map((port) => {
    const endpoints: Endpoint[] = service.manualEndpoints
      ? service.manualEndpoints.flatMap((m) => m.ports.filter((p) => p.protocol === port.protocol && (p.name ?? '') === (port.name ?? '')).map((p) => ({ ip: m.ip, port: p.port, pod: 'apiserver', node: m.node, ready: true })))
      : pods.filter((p) => p.meta.namespace === service.namespace && p.ip && selects(service.selector, p.meta.labels)).flatMap((p) => {
        const target = resolveTargetPort(port.targetPort, port.protocol, p.meta);
        return target === undefined ? [] : [{ ip: p.ip!, port: target, pod: p.meta.name, node: p.node, ready: p.ready }];
      });
    endpoints.sort((a, b) => ipToInt(a.ip) - ipToInt(b.ip) || a.port - b.port);
    return { service, port, portName: servicePortName(service, port), endpoints };
  }));
}

/** The `n`-th address of the Service CIDR (1: the `kubernetes` Service, 10: cluster DNS). */
export function serviceIP(serviceCIDR: CidrText, n: number): string {
  return intToIp(ipToInt(networkOf(parseCidr(serviceCIDR))) + n);
}

/** A free ClusterIP: `wanted` when given (checked), else the lowest free address above the DNS one. */
export function allocateClusterIP(serviceCIDR: CidrText, taken: readonly string[], wanted?: string): string {
  const c = parseCidr(serviceCIDR);
  if (wanted !== undefined) {
    if (!contains(c, wanted) || wanted === networkOf(c) || wanted === broadcastOf(c)) throw new UserError('usage', `spec.clusterIP: ${wanted} is not an address of the Service network ${serviceCIDR}`);
    if (taken.includes(wanted)) throw new UserError('conflict', `spec.clusterIP: ${wanted} is taken by another Service`);
    return wanted;
  }
  const first = ipToInt(networkOf(c)) + SERVICE_DEFAULTS.dnsIndex + 1;
  for (let n = first; n < ipToInt(broadcastOf(c)); n++) if (!taken.includes(intToIp(n))) return intToIp(n);
  throw new UserError('conflict', `the Service network ${serviceCIDR} has no free address left`);
}

/** A free NodePort: `wanted` when given (checked), else the lowest free one of K3s's range. */
export function allocateNodePort(taken: readonly number[], wanted?: number): number {
  const [lo, hi] = SERVICE_DEFAULTS.nodePortRange;
  if (wanted !== undefined) {
    if (wanted < lo || wanted > hi) throw new UserError('usage', `nodePort: ${wanted} is outside the NodePort range ${lo}-${hi}`);
    if (taken.includes(wanted)) throw new UserError('conflict', `nodePort: ${wanted} is taken by another Service`);
    return wanted;
  }
  for (let p = lo; p <= hi; p++) if (!taken.includes(p)) return p;
  throw new UserError('conflict', `no free NodePort left in ${lo}-${hi}`);
}

/** The label of the cluster DNS pods, and the kube-dns Service's selector. */
export const DNS_LABELS = { 'k8s-app': 'kube-dns' } as const;

/** The Services every cluster has: `kubernetes` (the Service CIDR's first address, 443 → the API
 * server on the server node, 6443) and `kube-dns` (the tenth: 53/UDP, 53/TCP, 9153/TCP → the DNS pods). */
export function defaultServices(serviceCIDR: CidrText, server: { name: string; ip: string } | undefined, createdAt: string): Service[] {
  const base = { type: 'ClusterIP' as const, externalTrafficPolicy: 'Cluster' as const, sessionAffinity: 'None' as const, createdAt };
  return [
    {
      ...base, name: 'kubernetes', namespace: 'default', clusterIP: serviceIP(serviceCIDR, 1), selector: {},
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: SERVICE_DEFAULTS.apiserverPort }],
      manualEndpoints: server ? [{ ip: server.ip, node: server.name, ports: [{ name: 'https', port: SERVICE_DEFAULTS.apiserverPort, protocol: 'TCP' }] }] : [],
    },
    {
      ...base, name: 'kube-dns', namespace: 'kube-system', clusterIP: serviceIP(serviceCIDR, SERVICE_DEFAULTS.dnsIndex), selector: { ...DNS_LABELS },
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
        { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 },
        { name: 'metrics', protocol: 'TCP', port: 9153, targetPort: 9153 },
      ],
    },
  ];
}
