// What a trace's two ends name, read against a lab's state: a pod, an IPv4 address, the lab's outside
// host (`outside`), a Service (`web`, `web.default`, `web.default.svc.cluster.local`, `CLUSTERIP:PORT`)
// or a NodePort on a node (`NODEIP:PORT`, `NODE:PORT`); and the protocol and port the probe uses.
// Bad input is one line naming what was given and what would work. Pure.
import { UserError } from '../model/errors.js';
import { addressOf } from '../model/ip.js';
import type { Endpoint, ServicePortEndpoints } from '../model/k8s.js';
import type { AddressedService, TraceProtocol } from '../model/trace.js';

/** The name of the lab's outside host as a trace end. */
export const OUTSIDE_END = 'outside';

/** What resolve needs of a lab. */
export interface ResolveWorld {
  nodes: { name: string; ip: string }[];
  pods: string[];
  endpoints: ServicePortEndpoints[];
  /** The outside host's address, when the lab has one. */
  outside?: string;
}

/** A Service port the trace goes through, its endpoints, and how it was addressed. */
export interface ServiceEnd {
  spe: ServicePortEndpoints;
  addressed: AddressedService;
  /** The endpoints the probe may reach (ready ones). */
  endpoints: Endpoint[];
}

/** The two ends of a trace, resolved. */
export interface TraceEnds {
  src: { kind: 'pod'; ref: string } | { kind: 'outside'; ip: string };
  dst: { kind: 'pod' | 'ip'; ref: string } | { kind: 'outside'; ip: string } | { kind: 'service'; service: ServiceEnd };
  protocol: TraceProtocol;
  port?: number;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const lower = (p: string) => p.toLowerCase() as TraceProtocol;

/** `web`, `web.default`, `web.default.svc`, `web.default.svc.cluster.local` → name and namespace (default: `default`). */
function serviceName(ref: string): { name: string; namespace: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.svc(?:\.cluster\.local)?)?)?\.?$/.exec(ref);
  return m ? { name: m[1], namespace: m[3] ?? 'default' } : undefined;
}

const endpointText = (e: Endpoint) => `${e.ip}:${e.port} (${e.pod} on ${e.node})`;

/** The Service port `candidates` offers for the probe: the one of `port` (and protocol), else the only one of the protocol. */
function pickPort(what: string, candidates: ServicePortEndpoints[], protocol: TraceProtocol | undefined, port: number | undefined, byNodePort: boolean): ServicePortEndpoints {
  const portOf = (s: ServicePortEndpoints) => (byNodePort ? s.port.nodePort : s.port.port);
  const fits = candidates.filter((s) => (protocol === undefined || protocol === 'icmp' || lower(s.port.protocol) === protocol) && (port === undefined || portOf(s) === port));
  const list = candidates.map((s) => `${portOf(s)}/${s.port.protocol}`).join(', ');
  if (protocol === 'icmp') throw new UserError('usage', `${what} forwards TCP and UDP ports only (kube-proxy does not NAT ICMP): add --tcp or --udp (ports: ${list})`);
  if (fits.length === 1) return fits[0];
  if (fits.length === 0) throw new UserError('not-found', `${what} has no port ${port ?? ''}${protocol ? `/${protocol.toUpperCase()}` : ''} (ports: ${list || 'none'})`.replace(' port /', ' port for /'));
  throw new UserError('usage', `${what} has several ports: name one with --tcp PORT or --udp PORT (ports: ${list})`);
}

function serviceEnd(spe: ServicePortEndpoints, ip: string, port: number, via: AddressedService['via'], node?: string): ServiceEnd {
  const ready = spe.endpoints.filter((e) => e.ready);
  const addressed: AddressedService = {
    service: `${spe.service.namespace}/${spe.service.name}`, ip, port, via, ...(node ? { node } : {}), endpoints: spe.endpoints.map(endpointText),
  };
  if (ready.length === 0) addressed.endpoints = [];
  return { spe, addressed, endpoints: ready };
}

/** `HOST:PORT`: a ClusterIP and port, a node (by IP or name) and a NodePort, or an address and a port. */
function hostPort(w: ResolveWorld, ref: string, protocol: TraceProtocol | undefined, flagPort: number | undefined): TraceEnds['dst'] & { port: number } {
  const [host, p] = [ref.slice(0, ref.lastIndexOf(':')), Number(ref.slice(ref.lastIndexOf(':') + 1))];
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new UserError('usage', `destination "${ref}": ${ref.slice(ref.lastIndexOf(':') + 1)} is not a port (1-65535)`);
  if (flagPort !== undefined && flagPort !== p) throw new UserError('conflict', `destination "${ref}" names port ${p} and the flag port ${flagPort}: give the port once`);
  const node = w.nodes.find((n) => n.name === host || addressOf(n.ip) === host);
  if (node) {
    const spe = w.endpoints.filter((s) => s.port.nodePort === p);
    if (spe.length === 0) {
      const all = w.endpoints.filter((s) => s.port.nodePort).map((s) => `${s.port.nodePort} (${s.service.name})`);
      throw new UserError('not-found', `no Service has NodePort ${p} on node ${node.name} (NodePorts: ${all.join(', ') || 'none'})`);
    }
    return { kind: 'service', service: serviceEnd(pickPort(`NodePort ${p}`, spe, protocol, p, true), addressOf(node.ip), p, 'node-port', node.name), port: p };
  }
  if (!IPV4.test(host)) throw new UserError('not-found', `destination "${ref}": ${host} is no node (nodes: ${w.nodes.map((n) => n.name).join(', ')}) and no IPv4 address`);
  const spe = w.endpoints.filter((s) => s.service.clusterIP === host);
  if (spe.length) return { kind: 'service', service: serviceEnd(pickPort(`Service ${spe[0].service.name} (${host})`, spe, protocol, p, false), host, p, 'cluster-ip'), port: p };
  return { kind: host === w.outside ? 'outside' : 'ip', ...(host === w.outside ? { ip: host } : { ref: host }), port: p } as TraceEnds['dst'] & { port: number };
}

/** Resolves a trace's ends on a lab (`w`), or elsewhere (`w` undefined: pods and addresses only). */
export function resolveEnds(w: ResolveWorld | undefined, src: string, dst: string, protocol: TraceProtocol | undefined, port: number | undefined): TraceEnds {
  const proto = protocol ?? 'icmp';
  const outsideIp = () => {
    if (!w?.outside) throw new UserError('not-found', `"${OUTSIDE_END}" is the lab's outside host, and ${w ? 'this lab has none' : 'only a lab has one (trace on a lab: --name LAB)'}`);
    return w.outside;
  };
  const s: TraceEnds['src'] = src === OUTSIDE_END && !w?.pods.includes(src) ? { kind: 'outside', ip: outsideIp() } : { kind: 'pod', ref: src };
  if (!w || w.pods.includes(dst)) return { src: s, dst: { kind: IPV4.test(dst) ? 'ip' : 'pod', ref: dst }, protocol: proto, ...(port ? { port } : {}) };
  if (dst === OUTSIDE_END) return { src: s, dst: { kind: 'outside', ip: outsideIp() }, protocol: proto, ...(port ? { port } : {}) };
  if (/:\d*$/.test(dst)) {
    const d = hostPort(w, dst, protocol, port);
    const p = d.kind === 'service' ? lower(d.service.spe.port.protocol) : proto === 'icmp' ? 'tcp' : proto;
    return { src: s, dst: d, protocol: protocol === undefined || protocol === 'icmp' ? p : protocol, port: d.kind === 'service' ? d.service.addressed.port : d.port };
  }
  if (IPV4.test(dst)) return { src: s, dst: { kind: 'ip', ref: dst }, protocol: proto, ...(port ? { port } : {}) };
  const n = serviceName(dst);
  const spe = n ? w.endpoints.filter((e) => e.service.name === n.name && e.service.namespace === n.namespace) : [];
  if (!n || spe.length === 0) {
    const svcs = [...new Set(w.endpoints.map((e) => `${e.service.name}.${e.service.namespace}`))];
    throw new UserError('not-found', `unknown destination "${dst}": no pod and no Service of that name (pods: ${w.pods.join(', ') || 'none'}; Services: ${svcs.join(', ') || 'none'}; or give an IPv4 address, HOST:PORT or outside)`);
  }
  if (spe[0].service.clusterIP === 'None') throw new UserError('usage', `Service ${dst} is headless (clusterIP: None): trace to one of its pods instead`);
  const chosen = pickPort(`Service ${spe[0].service.namespace}/${n.name}`, spe, protocol, port, false);
  const svc = serviceEnd(chosen, chosen.service.clusterIP, chosen.port.port, 'cluster-ip');
  return { src: s, dst: { kind: 'service', service: svc }, protocol: lower(chosen.port.protocol), port: chosen.port.port };
}
