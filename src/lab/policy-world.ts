// A lab's PolicyWorld: its NetworkPolicies, its pods as policies see them (namespace, labels, container
// ports, address, node) and every namespace it uses with its labels — what verdicts
// (src/model/netpol/semantics.ts) and kube-router's rules (src/model/netpol/kube-router-node.ts) are
// computed from.
import { labNamespaces } from '../model/netpol/selector.js';
import type { PolicyWorld } from '../model/netpol/types.js';
import type { LabState } from './state.js';

/** The policies, pods and namespaces of a lab, as verdicts and rules see them. */
export function policyWorldOf(state: Pick<LabState, 'pods' | 'policies' | 'services' | 'namespaces'>): PolicyWorld {
  const pods = state.pods.map((p) => ({ name: p.name, namespace: p.namespace ?? 'default', labels: p.labels ?? {}, ports: p.ports ?? [], ...(p.ip ? { ip: p.ip } : {}), node: p.node }));
  const policies = state.policies ?? [];
  const used = [...pods.map((p) => p.namespace), ...(state.services ?? []).map((s) => s.namespace), ...policies.map((p) => p.namespace)];
  return { policies, pods, namespaces: labNamespaces(used, state.namespaces ?? []) };
}
