// The NetworkPolicy API's meaning, as a pure function of the lab's policies, pods and namespaces:
// which policies select a pod for a direction (a pod selected by any is isolated in it), which peers
// and ports a rule admits, and the verdict on one new connection — allowed when neither end's
// isolation forbids it (the union of every selecting policy's rules). Replies of an allowed
// connection are always allowed (conntrack), so a verdict is about the first packet. Where kube-router
// differs from the API, `allowed` says what the kernel does: ICMP echo/unreachable/time-exceeded pass
// (KUBE-NWPLCY-COMMON) and a pod's own node may always reach it. Pure.
import { contains, parseCidr } from '../ip.js';
import type { Protocol } from '../k8s.js';
import { selectorMatches } from './selector.js';
import { policyKey, type EgressRule, type IngressRule, type NetworkPolicy, type NetworkPolicyPeer, type NetworkPolicyPort, type PolicyPod, type PolicyType, type PolicyWorld } from './types.js';
import { lexical } from '../order.js';

/** One end of a flow: a pod (by name, optionally namespace), an address, or a node's own address. */
export interface FlowEndpoint {
  pod?: string;
  namespace?: string;
  ip?: string;
  /** The end is this node itself (its host network). */
  node?: string;
}

/** A new connection (or the first packet of one). */
export interface PolicyFlow {
  src: FlowEndpoint;
  dst: FlowEndpoint;
  protocol: Protocol | 'ICMP';
  /** The destination port (TCP/UDP/SCTP). */
  port?: number;
}

/** What one direction's policies say. */
export interface DirectionVerdict {
  /** The pod the direction is about (the source for egress, the destination for ingress); absent when that end is no pod. */
  pod?: string;
  /** The policies that select the pod for this direction (`ns/name`); none: not isolated. */
  policies: string[];
  allowed: boolean;
  /** The policy and rule that allow it (`spec.ingress[0]`), when isolated and allowed. */
  allowedBy?: { policy: string; rule: string };
}

/** The verdict on a flow. */
export interface PolicyVerdict {
  /** What kube-router's rules do with the first packet. */
  allowed: boolean;
  /** What the NetworkPolicy API says (differs from `allowed` only for ICMP and the pod's own node). */
  apiAllowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
  /** One sentence: why. */
  sentence: string;
}

interface End {
  ip?: string;
  pod?: PolicyPod;
  node?: string;
}

/** The pod an endpoint names (by name, or by address), or a UserError-free undefined. */
function resolveEnd(world: PolicyWorld, e: FlowEndpoint): End {
  const pod = e.pod !== undefined ? world.pods.find((p) => p.name === e.pod && (e.namespace === undefined || p.namespace === e.namespace))
    : e.ip !== undefined ? world.pods.find((p) => p.ip === e.ip) : undefined;
  return { ip: e.ip ?? pod?.ip, ...(pod ? { pod } : {}), ...(e.node ? { node: e.node } : {}) };
}

/** The policies of the pod's namespace that select it for `type`, by namespace/name. */
export function selectingPolicies(world: Pick<PolicyWorld, 'policies'>, pod: Pick<PolicyPod, 'namespace' | 'labels'>, type: PolicyType): NetworkPolicy[] {
  return world.policies.filter((p) => p.namespace === pod.namespace && p.spec.policyTypes.includes(type) && selectorMatches(p.spec.podSelector, pod.labels))
    .sort((a, b) => lexical(policyKey(a), policyKey(b)));
}

/** True when the pods of `policy` that `podSelector` picks include `pod` (the policy's namespace). */
export function podsOfPolicy(world: PolicyWorld, policy: NetworkPolicy): PolicyPod[] {
  return world.pods.filter((p) => p.namespace === policy.namespace && selectorMatches(policy.spec.podSelector, p.labels));
}

/** True when `peer` (of a rule of `policy`) admits the end. */
export function peerMatches(world: PolicyWorld, policy: NetworkPolicy, peer: NetworkPolicyPeer, end: End): boolean {
  if (peer.ipBlock) {
    if (end.ip === undefined) return false;
    const ip = end.ip;
    return contains(parseCidr(peer.ipBlock.cidr), ip) && !(peer.ipBlock.except ?? []).some((e) => contains(parseCidr(e), ip));
  }
  const pod = end.pod;
  if (!pod) return false;
  if (peer.namespaceSelector) {
    const labels = world.namespaces.get(pod.namespace) ?? {};
    if (!selectorMatches(peer.namespaceSelector, labels)) return false;
  } else if (pod.namespace !== policy.namespace) return false;
  return peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels);
}

/** True when `p` admits `protocol`/`port` to `dstPod` (a named port resolves through the destination
 * pod's container ports of that protocol; it matches nothing that is not a pod). */
export function portMatches(p: NetworkPolicyPort, protocol: PolicyFlow['protocol'], port: number | undefined, dstPod: PolicyPod | undefined): boolean {
  if (protocol === 'ICMP' || p.protocol !== protocol) return false;
  if (p.port === undefined) return true;
  if (port === undefined) return false;
  if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
  return dstPod?.ports.some((c) => c.name === p.port && c.protocol === protocol && c.containerPort === port) ?? false;
}

/** True when a rule admits the flow: a peer matches (none given: any) and a port matches (none: any). */
function ruleAdmits(world: PolicyWorld, policy: NetworkPolicy, peers: NetworkPolicyPeer[] | undefined, ports: NetworkPolicyPort[] | undefined, peer: End, flow: PolicyFlow, dstPod: PolicyPod | undefined): boolean {
  const peerOk = !peers?.length || peers.some((x) => peerMatches(world, policy, x, peer));
  const portOk = !ports?.length || ports.some((x) => portMatches(x, flow.protocol, flow.port, dstPod));
  return peerOk && portOk;
}

/** One direction's verdict for the pod at that end (`peer` is the other end). */
function direction(world: PolicyWorld, type: PolicyType, pod: PolicyPod | undefined, peer: End, flow: PolicyFlow, dstPod: PolicyPod | undefined): DirectionVerdict {
  if (!pod) return { policies: [], allowed: true };
  const policies = selectingPolicies(world, pod, type);
  const base = { pod: pod.name, policies: policies.map(policyKey) };
  if (policies.length === 0) return { ...base, allowed: true };
  for (const policy of policies) {
    const rules: (IngressRule | EgressRule)[] = (type === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
    const i = rules.findIndex((r) => ruleAdmits(world, policy, 'from' in r ? r.from : (r as EgressRule).to, r.ports, peer, flow, dstPod));
    if (i >= 0) return { ...base, allowed: true, allowedBy: { policy: policyKey(policy), rule: `spec.${type === 'Ingress' ? 'ingress' : 'egress'}[${i}]` } };
  }
  return { ...base, allowed: false };
}

/** The verdict on `flow` under the world's policies, with one sentence saying why. */
export function evaluatePolicyFlow(world: PolicyWorld, flow: PolicyFlow): PolicyVerdict {
  const src = resolveEnd(world, flow.src);
  const dst = resolveEnd(world, flow.dst);
  const egress = direction(world, 'Egress', src.pod, dst, flow, dst.pod);
  const ingress = direction(world, 'Ingress', dst.pod, src, flow, dst.pod);
  const apiAllowed = egress.allowed && ingress.allowed;
  const icmp = flow.protocol === 'ICMP';
  const ownNode = src.node !== undefined && dst.pod?.node === src.node;
  const allowed = apiAllowed || icmp || (ownNode && egress.allowed);
  return { allowed, apiAllowed, egress, ingress, sentence: sentenceOf(flow, src, dst, egress, ingress, { allowed, icmp, ownNode }) };
}

/** The one sentence of evaluatePolicyFlow. */
export function explainPolicyFlow(world: PolicyWorld, flow: PolicyFlow): string {
  return evaluatePolicyFlow(world, flow).sentence;
}

const endText = (e: End) => (e.pod ? `${e.ip ?? '?'} (${e.pod.name})` : e.node ? `${e.ip ?? e.node} (node ${e.node})` : e.ip ?? '?');
const whatText = (flow: PolicyFlow, dst: End) => (flow.protocol === 'ICMP' ? `${dst.ip ?? '?'}:ICMP` : `${dst.ip ?? '?'}:${flow.protocol}${flow.port !== undefined ? `/${flow.port}` : ''}`);
const selects = (d: DirectionVerdict, dir: string) => `${d.policies.length > 1 ? 'policies' : 'policy'} ${d.policies.join(', ')} ${d.policies.length > 1 ? 'select' : 'selects'} ${d.pod} for ${dir}`;

function sentenceOf(flow: PolicyFlow, src: End, dst: End, egress: DirectionVerdict, ingress: DirectionVerdict, k: { allowed: boolean; icmp: boolean; ownNode: boolean }): string {
  const what = `${endText(src)} to ${whatText(flow, dst)}`;
  const denied = !egress.allowed ? { d: egress, dir: 'egress' } : !ingress.allowed ? { d: ingress, dir: 'ingress' } : undefined;
  if (denied && k.icmp) return `allowed: ${selects(denied.d, denied.dir)} and no rule allows ICMP, but kube-router accepts ICMP echo requests, unreachables and time-exceeded for every pod (KUBE-NWPLCY-COMMON)`;
  if (denied && k.ownNode && denied.dir === 'ingress') return `allowed: ${selects(denied.d, 'ingress')}, but kube-router accepts what the pod's own node sends it`;
  if (denied) return `${selects(denied.d, denied.dir)} and no rule allows ${what}${denied.dir === 'egress' && !ingress.allowed ? ` (nor does ${ingress.pod}'s ingress)` : ''}`;
  const part = (d: DirectionVerdict, dir: string, verb: string) => (d.pod === undefined ? undefined
    : d.allowedBy ? `${d.allowedBy.policy} ${d.allowedBy.rule} allows it ${verb} ${d.pod}` : `no policy selects ${d.pod} for ${dir}`);
  const parts = [part(egress, 'egress', 'out of'), part(ingress, 'ingress', 'into')].filter((x): x is string => x !== undefined);
  return `allowed: ${parts.length ? parts.join(' and ') : 'neither end is a pod of the lab'} (${what})`;
}
