// Services as kubectl shows them: `get svc` (NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR) and
// `get endpoints` (NAME ENDPOINTS AGE). Pure.
import type { Service, ServicePortEndpoints } from '../model/k8s.js';
import { age } from './lab.js';
import { lexical } from '../model/order.js';

/** A `get svc` row. */
export interface ServiceRow {
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  externalIP: string;
  /** kubectl's PORT(S): `80/TCP`, `80:30080/TCP`, comma-separated. */
  ports: string;
  age: string;
  /** `app=web,tier=front`, `<none>`. */
  selector: string;
}

/** A `get endpoints` row. */
export interface EndpointsRow {
  namespace: string;
  name: string;
  /** `10.42.0.5:8080,10.42.1.3:8080`, `<none>` (only ready endpoints, as kubectl shows them). */
  endpoints: string;
  /** Every endpoint of every port, ready or not. */
  items: { port: string; ip: string; targetPort: number; pod: string; node: string; ready: boolean }[];
  age: string;
}

const selectorText = (s: Record<string, string>) => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';

/** `get svc` rows, by namespace then name. */
export function serviceRows(services: readonly Service[], now: Date): ServiceRow[] {
  return [...services].sort((a, b) => lexical(a.namespace, b.namespace) || lexical(a.name, b.name)).map((s) => ({
    namespace: s.namespace, name: s.name, type: s.type, clusterIP: s.clusterIP, externalIP: '<none>',
    ports: s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(','),
    age: age(s.createdAt, now), selector: selectorText(s.selector),
  }));
}

/** `get endpoints` rows: one per Service, its ports' ready endpoints joined as kubectl does. */
export function endpointsRows(services: readonly Service[], ports: readonly ServicePortEndpoints[], now: Date): EndpointsRow[] {
  return serviceRows(services, now).map((row) => {
    const mine = ports.filter((p) => p.service.namespace === row.namespace && p.service.name === row.name);
    const items = mine.flatMap((p) => p.endpoints.map((e) => ({ port: p.port.name ?? String(p.port.port), ip: e.ip, targetPort: e.port, pod: e.pod, node: e.node, ready: e.ready })));
    const ready = [...new Set(items.filter((e) => e.ready).map((e) => `${e.ip}:${e.targetPort}`))];
    return { namespace: row.namespace, name: row.name, endpoints: ready.length ? ready.join(',') : '<none>', items, age: row.age };
  });
}
