// NetworkPolicies as kubectl shows them (`get netpol`: NAME POD-SELECTOR AGE; wide adds the policy
// types and the pods selected now), the objects `-o yaml|json` prints, and `inspect policies`: per pod
// of a node, whether it is isolated for ingress/egress, the policies that select it, the chains and
// ipsets that enforce them, with the kernel's counters and members. Pure.
import type { IpsetSet } from '../model/ipset.js';
import type { IptablesDump, NetfilterCounters } from '../model/netfilter-iptables.js';
import type { NodeRuleset } from '../model/netpol/kube-router-node.js';
import { formatSelector } from '../model/netpol/selector.js';
import { podsOfPolicy } from '../model/netpol/semantics.js';
import { policyKey, type NetworkPolicy, type PolicyWorld } from '../model/netpol/types.js';
import { age } from './lab.js';
import { lexical, natural } from '../model/order.js';

/** A `get netpol` row. */
export interface NetpolRow {
  namespace: string;
  name: string;
  podSelector: string;
  policyTypes: string;
  /** The pods it selects now, `<none>` when none. */
  pods: string;
  age: string;
}

const byKey = (a: NetworkPolicy, b: NetworkPolicy) => lexical(policyKey(a), policyKey(b));

/** `get netpol` rows, by namespace then name. */
export function netpolRows(world: PolicyWorld, now: Date): NetpolRow[] {
  return [...world.policies].sort(byKey).map((p) => ({
    namespace: p.namespace, name: p.name, podSelector: formatSelector(p.spec.podSelector), policyTypes: p.spec.policyTypes.join(','),
    pods: podsOfPolicy(world, p).map((x) => x.name).join(',') || '<none>', age: age(p.createdAt, now),
  }));
}

/** A policy as `kubectl get netpol -o yaml` prints it. */
export function netpolObject(p: NetworkPolicy): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
    metadata: { name: p.name, namespace: p.namespace, ...(p.labels ? { labels: p.labels } : {}), creationTimestamp: p.createdAt },
    spec: p.spec,
  };
}

/** A chain's rules' counters summed, or undefined when the kernel has no such chain. */
export interface ChainCounters extends NetfilterCounters {
  rules: number;
}

/** One policy that selects a pod, with the chain and sets that enforce it on the pod's node. */
export interface PolicyEnforcement {
  policy: string;
  types: string[];
  chain: string;
  /** Packets the policy let through on this node (its RETURN rules' counters); undefined: the chain is missing. */
  allowed?: ChainCounters;
  sets: { name: string; type: string; members: string[]; present: boolean }[];
}

/** An `inspect policies` row: one pod of the node. */
export interface PodPolicyRow {
  node: string;
  namespace: string;
  pod: string;
  ip: string;
  ingress: 'isolated' | 'open';
  egress: 'isolated' | 'open';
  /** `ns/name` of each policy that selects it, `<none>`. */
  policies: string;
  /** Its KUBE-POD-FW- chain (`-` when the lab has no policy: kube-router's rules are not laid down). */
  chain: string;
  /** True when the kernel holds the chain. */
  present: boolean;
  /** Packets its chain REJECTed (both directions). */
  rejected: number;
  /** Packets its chain passed (marked 0x20000). */
  accepted: number;
  enforcement: PolicyEnforcement[];
}

/** The counters of the rules of `chain` whose text `pick` accepts, or undefined when the chain is missing. */
export function chainCounters(dump: IptablesDump, chain: string, pick: (text: string) => boolean = () => true): ChainCounters | undefined {
  const table = dump.tables.find((t) => t.name === 'filter');
  if (!table?.chains.some((c) => c.name === chain)) return undefined;
  const rules = table.rules.filter((r) => r.chain === chain && pick(r.text));
  return { rules: rules.length, packets: rules.reduce((n, r) => n + (r.counters?.packets ?? 0), 0), bytes: rules.reduce((n, r) => n + (r.counters?.bytes ?? 0), 0) };
}

/** `inspect policies` rows of one node: its pods (by address), joined to the ruleset kube-router keeps
 * there and to what the kernel holds (iptables-save -c of the filter table, ipset save). */
export function podPolicyRows(node: string, ruleset: NodeRuleset, world: PolicyWorld, dump: IptablesDump, sets: readonly IpsetSet[]): PodPolicyRow[] {
  const kernelSets = new Map(sets.map((s) => [s.name, s]));
  const enforcement = new Map(ruleset.policies.map((p) => {
    const names = p.sets;
    const e: PolicyEnforcement = {
      policy: policyKey(p.policy), types: p.policy.spec.policyTypes, chain: p.chain,
      ...(chainCounters(dump, p.chain, (t) => t.includes('-j RETURN')) ? { allowed: chainCounters(dump, p.chain, (t) => t.includes('-j RETURN')) } : {}),
      sets: names.map((n) => ({ name: n, type: kernelSets.get(n)?.type ?? ruleset.sets.find((s) => s.name === n)!.type, members: (kernelSets.get(n)?.entries ?? []).map((m) => `${m.value}${m.nomatch ? ' nomatch' : ''}`), present: kernelSets.has(n) })),
    };
    return [e.policy, e];
  }));
  const fw = new Map(ruleset.pods.map((f) => [`${f.pod.namespace}/${f.pod.name}`, f]));
  return world.pods.filter((p) => p.node === node).sort((a, b) => natural(a.ip ?? '', b.ip ?? '')).map((pod) => {
    const f = fw.get(`${pod.namespace}/${pod.name}`);
    const keys = f ? [...new Set([...f.ingress, ...f.egress])].sort() : [];
    const counters = f ? chainCounters(dump, f.chain) : undefined;
    return {
      node, namespace: pod.namespace, pod: pod.name, ip: pod.ip ?? '<none>',
      ingress: f?.ingress.length ? 'isolated' : 'open', egress: f?.egress.length ? 'isolated' : 'open',
      policies: keys.join(',') || '<none>', chain: f?.chain ?? '-', present: counters !== undefined,
      rejected: f ? chainCounters(dump, f.chain, (t) => t.includes('-j REJECT'))?.packets ?? 0 : 0,
      accepted: f ? chainCounters(dump, f.chain, (t) => t.includes('0x20000/0x20000'))?.packets ?? 0 : 0,
      enforcement: keys.map((k) => enforcement.get(k)!).filter(Boolean),
    };
  });
}
