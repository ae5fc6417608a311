// A small world of pods, namespaces and policies the NetworkPolicy unit tests share: web pods in
// default (named port http → 8080), a client and a dns pod, a pod in namespace team-a (labelled
// team=a). Policies are written as the API takes them, through the manifest parser.
import { parseNetpolManifest } from '../../../src/model/netpol/manifest.js';
import { labNamespaces } from '../../../src/model/netpol/selector.js';
import type { NetworkPolicy, PolicyPod, PolicyWorld } from '../../../src/model/netpol/types.js';

export const PODS: PolicyPod[] = [
  { name: 'web1', namespace: 'default', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], ip: '10.42.0.2', node: 'server' },
  { name: 'web2', namespace: 'default', labels: { app: 'web', tier: 'canary' }, ports: [{ name: 'http', containerPort: 9090, protocol: 'TCP' }], ip: '10.42.1.2', node: 'agent1' },
  { name: 'client', namespace: 'default', labels: { role: 'client' }, ports: [], ip: '10.42.0.3', node: 'server' },
  { name: 'dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }], ip: '10.42.0.4', node: 'server' },
  { name: 'a1', namespace: 'team-a', labels: { role: 'client' }, ports: [], ip: '10.42.1.3', node: 'agent1' },
];

/** A policy from its manifest fields (metadata.name, spec), created now. */
export function policy(name: string, spec: Record<string, unknown>, namespace = 'default'): NetworkPolicy {
  const m = parseNetpolManifest({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec }, 'test.yaml');
  if (m.kind !== 'NetworkPolicy') throw new Error('not a policy');
  return { ...m.policy, createdAt: '2026-01-01T00:00:00.000Z' };
}

/** The world with `policies` (namespace team-a labelled team=a). */
export function world(policies: NetworkPolicy[], pods: PolicyPod[] = PODS): PolicyWorld {
  return { policies, pods, namespaces: labNamespaces(pods.map((p) => p.namespace), [{ name: 'team-a', labels: { team: 'a' }, createdAt: '2026-01-01T00:00:00.000Z' }]) };
}

export const DENY_ALL_INGRESS = policy('deny-all', { podSelector: {}, policyTypes: ['Ingress'] });
