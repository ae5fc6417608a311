// Services in `podnet graph` and the UI: one node per Service (its name, ClusterIP:port, type and
// NodePorts) with an edge from the ClusterIP to each endpoint — the pod interface holding the
// endpoint's IP, on whichever node it runs. Built from the lab's Services and their endpoints (the
// same `ServicePortEndpoints` kube-proxy's rules are written from) and the drawn graphs. Pure.
import type { ServicePortEndpoints } from '../model/k8s.js';
import { addressOf } from '../model/ip.js';
import type { GraphModel } from './graph.js';
import { slug } from './graph.js';
import { lexical } from '../model/order.js';

/** An edge from a Service's ClusterIP to one endpoint. */
export interface GraphServiceEdge {
  /** `10.42.0.5:8080`. */
  endpoint: string;
  pod: string;
  node: string;
  ready: boolean;
  /** Id of the drawn pod interface holding the endpoint's IP, '' when it is not drawn. */
  iface: string;
  /** The Service port this edge serves (`80/TCP`). */
  port: string;
}

/** A Service as drawn. */
export interface GraphService {
  /** Graph id: `svc_<namespace>_<name>`. */
  id: string;
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  /** `10.43.0.20:80/TCP` per port (`None` ClusterIP: `80/TCP`). */
  ports: string[];
  /** NodePorts, empty for ClusterIP. */
  nodePorts: number[];
  edges: GraphServiceEdge[];
}

/** The Services of `ports` (one entry per Service port), joined to the pod interfaces of `graphs`. */
export function graphServices(ports: readonly ServicePortEndpoints[], graphs: readonly GraphModel[]): GraphService[] {
  const ifaceOf = new Map<string, string>();
  for (const g of graphs) for (const p of g.pods) for (const i of p.ifaces) for (const ip of i.ips) ifaceOf.set(addressOf(ip), i.id);
  const byKey = new Map<string, GraphService>();
  for (const pe of ports) {
    const s = pe.service;
    const key = `${s.namespace}/${s.name}`;
    let svc = byKey.get(key);
    if (!svc) {
      svc = { id: `svc_${slug(s.namespace)}_${slug(s.name)}`, namespace: s.namespace, name: s.name, type: s.type, clusterIP: s.clusterIP, ports: [], nodePorts: [], edges: [] };
      byKey.set(key, svc);
    }
    const port = `${pe.port.port}/${pe.port.protocol}`;
    svc.ports.push(s.clusterIP === 'None' ? port : `${s.clusterIP}:${port}`);
    if (pe.port.nodePort) svc.nodePorts.push(pe.port.nodePort);
    for (const e of pe.endpoints) svc.edges.push({ endpoint: `${e.ip}:${e.port}`, pod: e.pod, node: e.node, ready: e.ready, iface: ifaceOf.get(e.ip) ?? '', port });
  }
  return [...byKey.values()].sort((a, b) => lexical(a.namespace, b.namespace) || lexical(a.name, b.name));
}

/** The lines a Service node is labelled with: name, ports, type and NodePorts. */
export function serviceLabel(s: GraphService): string[] {
  return [`Service ${s.namespace}/${s.name}`, ...s.ports, s.nodePorts.length ? `${s.type} ${s.nodePorts.join(',')}` : s.type];
}
