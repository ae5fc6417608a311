// NetworkPolicies that cut pods off the cluster DNS: a policy isolating pods for egress whose rules
// allow no UDP 53 to the DNS pods (the classic "allow only my namespace" policy), or one isolating
// the DNS pods for ingress without admitting the pods. Every name lookup of those pods fails (kube-router
// rejects it: "connection refused" at once, where a dropping enforcer would time out), while their
// traffic by address still works — the failure users meet first. One finding per policy
// (the root cause), naming the pods it cuts off. Verdicts from the NetworkPolicy API's meaning
// (src/model/netpol/semantics.ts), as kube-router enforces it. Pure.
import { evaluatePolicyFlow } from '../netpol/semantics.js';
import type { PolicyWorld } from '../netpol/types.js';
import { listed, plural } from './node.js';
import type { Finding } from './types.js';

/** What the DNS check looks at: the policies and pods, which pods run, and the running DNS pods. */
export interface PolicyFacts {
  world: PolicyWorld;
  /** Pods whose processes run (`ns/name`): a stopped pod looks nothing up. */
  running: ReadonlySet<string>;
  /** The running pods behind the kube-dns Service (`ns/name`). */
  dnsPods: readonly string[];
}

const key = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

/** The policies that stop running pods' DNS lookups (UDP 53 to the first DNS pod). */
export function checkPolicyDns(f: PolicyFacts): Finding[] {
  const dnsKey = f.dnsPods[0];
  const dns = dnsKey && f.world.pods.find((p) => key(p) === dnsKey);
  if (!dns) return [];
  const cut = new Map<string, string[]>();
  for (const p of f.world.pods) {
    if (!p.ip || f.dnsPods.includes(key(p)) || !f.running.has(key(p))) continue;
    const v = evaluatePolicyFlow(f.world, { src: { pod: p.name, namespace: p.namespace }, dst: { pod: dns.name, namespace: dns.namespace }, protocol: 'UDP', port: 53 });
    if (v.allowed) continue;
    const blame = (v.egress.allowed ? v.ingress.policies : v.egress.policies).join(', ');
    cut.set(blame, [...(cut.get(blame) ?? []), key(p)]);
  }
  return [...cut].map(([policies, pods]): Finding => {
    const names = policies.split(', ');
    const first = names[0].split('/');
    return {
      id: 'policy-blocks-dns', severity: 'error', reach: 'service', node: 'cluster', subject: policies,
      what: `NetworkPolicy ${listed(names)} allows no DNS (UDP 53 to ${dnsKey}) for ${plural(pods.length, 'pod')} (${listed(pods, 4)})`,
      breaks: 'Every name lookup of those pods fails (kube-router rejects it: "connection refused"; Services by name, anything outside); traffic by address still works.',
      evidence: [{ command: `podnet get netpol ${first[1]} -n ${first[0]} -o yaml`, value: `${dnsKey} UDP 53: denied` }],
      fix: [`# add an egress rule to ${first[0]}/${first[1]}: to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]`],
    };
  });
}
