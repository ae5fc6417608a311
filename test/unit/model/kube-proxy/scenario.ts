// The Services the kube-proxy generator tests share: one of each kind kube-proxy treats apart —
// ClusterIP with endpoints on two nodes, NodePort with externalTrafficPolicy Cluster and Local,
// ClientIP affinity, no endpoints, headless — on node `server` of a two-node cluster, and the
// golden files their rules are compared with (UPDATE_GOLDEN=1 writes them).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { serviceEndpoints, type PodEndpointSource, type Service, type ServicePort } from '../../../../src/model/k8s.js';
import type { ProxyNode } from '../../../../src/model/kube-proxy/ports.js';

/** Node `server` as kube-proxy sees it. */
export const SERVER: ProxyNode = { name: 'server', ip: '198.51.100.2', clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16' };

const http: ServicePort = { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' };

/** A Service of the scenario. */
export function svc(name: string, clusterIP: string, extra: Partial<Service> = {}): Service {
  return {
    name, namespace: 'default', type: 'ClusterIP', clusterIP, ports: [http], selector: { app: name },
    externalTrafficPolicy: 'Cluster', sessionAffinity: 'None', createdAt: '2026-01-01T00:00:00.000Z', ...extra,
  };
}

/** A pod of the scenario, serving `http` on 8080. */
export function pod(name: string, ip: string, node: string, app: string, ready = true): PodEndpointSource {
  return { meta: { name, namespace: 'default', labels: { app }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }, ip, node, ready };
}

/** The scenario's Services. */
export const SERVICES: Service[] = [
  svc('web', '10.43.0.11'),
  svc('np', '10.43.0.12', { type: 'NodePort', ports: [{ ...http, nodePort: 30080 }] }),
  svc('local', '10.43.0.13', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ ...http, nodePort: 30081 }] }),
  svc('remote', '10.43.0.14', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ ...http, nodePort: 30082 }] }),
  svc('sticky', '10.43.0.15', { sessionAffinity: 'ClientIP', sessionAffinityTimeout: 10800 }),
  svc('empty', '10.43.0.16'),
  svc('headless', 'None'),
];

/** The scenario's pods: web has three endpoints (two on server, one on agent1; one pod not ready). */
export const PODS: PodEndpointSource[] = [
  pod('web-a', '10.42.0.2', 'server', 'web'), pod('web-b', '10.42.0.3', 'server', 'web'), pod('web-c', '10.42.1.2', 'agent1', 'web'),
  pod('web-dead', '10.42.1.9', 'agent1', 'web', false),
  pod('np-a', '10.42.1.3', 'agent1', 'np'),
  pod('local-a', '10.42.0.4', 'server', 'local'), pod('local-b', '10.42.1.4', 'agent1', 'local'),
  pod('remote-a', '10.42.1.5', 'agent1', 'remote'),
  pod('sticky-a', '10.42.0.5', 'server', 'sticky'), pod('sticky-b', '10.42.1.6', 'agent1', 'sticky'),
  pod('headless-a', '10.42.0.6', 'server', 'headless'),
];

/** The scenario's service ports with their endpoints. */
export const scenario = (services: readonly Service[] = SERVICES, pods: readonly PodEndpointSource[] = PODS) => serviceEndpoints(services, pods);

/** Compares `text` with golden file `name` (UPDATE_GOLDEN=1: writes it). */
export async function assertGolden(name: string, text: string): Promise<void> {
  const file = fileURLToPath(new URL(`../../../../../test/unit/model/kube-proxy/golden/${name}`, import.meta.url));
  if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
  assert.equal(text, await readFile(file, 'utf8'), `differs from golden ${name} (UPDATE_GOLDEN=1 rewrites it)`);
}
