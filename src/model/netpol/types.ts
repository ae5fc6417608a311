// NetworkPolicy (networking.k8s.io/v1) as a lab keeps it, and the objects policies are evaluated
// against: pods (namespace, labels, container ports, address, node) and namespaces (with labels).
// The shapes follow the Kubernetes API so `get netpol -o yaml` reads like kubectl's. Pure types.
import type { ContainerPort, Protocol } from '../k8s.js';

/** One requirement of a label selector (`matchExpressions`). */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** For In/NotIn: at least one; for Exists/DoesNotExist: none. */
  values?: string[];
}

/** A label selector: every matchLabels pair and every expression must hold; `{}` selects everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** An address range a rule admits, minus its exceptions. */
export interface IPBlock {
  cidr: string;
  except?: string[];
}

/** A peer of a rule: pods (of the policy's namespace, or of the namespaces a namespaceSelector picks),
 * or an ipBlock — never both. */
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

/** A port of a rule: a protocol (TCP when not given), a number or a container port's name (absent:
 * every port of the protocol), and with a number optionally the end of a range. */
export interface NetworkPolicyPort {
  protocol: Protocol;
  port?: number | string;
  endPort?: number;
}

/** An ingress rule: traffic from any of `from` (absent or empty: from everywhere) to any of `ports`
 * (absent or empty: every port). */
export interface IngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

/** An egress rule: traffic to any of `to` (absent or empty: everywhere) on any of `ports`. */
export interface EgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

/** A policy direction. */
export type PolicyType = 'Ingress' | 'Egress';

/** A NetworkPolicy's spec, its policyTypes already defaulted as the API server defaults them. */
export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: PolicyType[];
  ingress?: IngressRule[];
  egress?: EgressRule[];
}

/** A NetworkPolicy as a lab keeps it. */
export interface NetworkPolicy {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  spec: NetworkPolicySpec;
  createdAt: string;
}

/** A Kubernetes namespace a lab has made by `kind: Namespace` (others exist implicitly, with only
 * their `kubernetes.io/metadata.name` label). */
export interface NamespaceState {
  name: string;
  labels: Record<string, string>;
  createdAt: string;
}

/** A pod as policies see it. */
export interface PolicyPod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** Its address; a pod without one is not enforced on (kube-router skips it). */
  ip?: string;
  node: string;
}

/** Everything a verdict or a node's rules depend on. */
export interface PolicyWorld {
  policies: readonly NetworkPolicy[];
  pods: readonly PolicyPod[];
  /** Namespace name → its labels (every namespace a pod, Service or policy uses is there). */
  namespaces: ReadonlyMap<string, Record<string, string>>;
}

/** The label every namespace carries (Kubernetes sets it since 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** `ns/name` of a policy. */
export const policyKey = (p: Pick<NetworkPolicy, 'namespace' | 'name'>): string => `${p.namespace}/${p.name}`;
