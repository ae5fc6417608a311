// What one pod may open connections to (egress) or be reached by (ingress) under the lab's
// NetworkPolicies: every other pod with the verdict per port, in the words `podnet trace` and
// `podnet inspect policies --from/--to` use. The ports asked about are the ones that can differ: the
// far pod's declared container ports, every numeric port a rule of a policy selecting either end
// names, and "any other port" (a port no rule names). Verdicts come from the one evaluator
// (model/netpol/semantics.ts); this only chooses the questions. Pure.
import { evaluatePolicyFlow } from '../model/netpol/semantics.js';
import type { NetworkPolicyPort, PolicyPod, PolicyWorld } from '../model/netpol/types.js';
import type { Protocol } from '../model/k8s.js';
import { lexical } from '../model/order.js';

/** One port of one pair: its verdict and the sentence that explains it. */
export interface ReachPort {
  /** `8080/TCP`, `http (8080/TCP)`, or `other TCP ports`. */
  label: string;
  protocol: Protocol;
  port?: number;
  allowed: boolean;
  sentence: string;
}

/** The far end of the pod's connections in one direction. */
export interface ReachTarget {
  pod: string;
  namespace: string;
  node: string;
  /** Some port allowed. */
  allowed: boolean;
  ports: ReachPort[];
}

/** A pod's reach in one direction. */
export interface Reach {
  pod: string;
  namespace: string;
  direction: 'egress' | 'ingress';
  /** The policies selecting the pod for that direction (none: it is not isolated in it). */
  policies: string[];
  targets: ReachTarget[];
}

const ruleNumbers = (ports: readonly NetworkPolicyPort[] | undefined): { protocol: Protocol; port: number }[] =>
  (ports ?? []).filter((p) => typeof p.port === 'number').map((p) => ({ protocol: p.protocol, port: p.port as number }));

/** The numeric ports the rules of the policies selecting `pod` (for `type`) name. */
function namedByRules(world: PolicyWorld, pod: PolicyPod, type: 'Ingress' | 'Egress', selecting: readonly string[]): { protocol: Protocol; port: number }[] {
  return world.policies.filter((p) => selecting.includes(`${p.namespace}/${p.name}`) && p.namespace === pod.namespace && p.spec.policyTypes.includes(type))
    .flatMap((p) => (type === 'Ingress' ? p.spec.ingress ?? [] : p.spec.egress ?? []).flatMap((r) => ruleNumbers(r.ports)));
}

/** The questions for a connection from `src` to `dst`, and their verdicts. */
function portsOf(world: PolicyWorld, src: PolicyPod, dst: PolicyPod): ReachPort[] {
  const ask = (protocol: Protocol, port?: number) => evaluatePolicyFlow(world, { src: { pod: src.name, namespace: src.namespace }, dst: { pod: dst.name, namespace: dst.namespace }, protocol, ...(port !== undefined ? { port } : {}) });
  const probe = ask('TCP');
  const wanted = new Map<string, { protocol: Protocol; port: number; name?: string }>();
  for (const c of dst.ports) wanted.set(`${c.containerPort}/${c.protocol}`, { protocol: c.protocol, port: c.containerPort, ...(c.name ? { name: c.name } : {}) });
  for (const x of [...namedByRules(world, src, 'Egress', probe.egress.policies), ...namedByRules(world, dst, 'Ingress', probe.ingress.policies)]) {
    if (!wanted.has(`${x.port}/${x.protocol}`)) wanted.set(`${x.port}/${x.protocol}`, x);
  }
  const out: ReachPort[] = [...wanted.values()].sort((a, b) => a.port - b.port || lexical(a.protocol, b.protocol)).map((w) => {
    const v = ask(w.protocol, w.port);
    return { label: w.name ? `${w.name} (${w.port}/${w.protocol})` : `${w.port}/${w.protocol}`, protocol: w.protocol, port: w.port, allowed: v.allowed, sentence: v.sentence };
  });
  return [...out, { label: 'other TCP ports', protocol: 'TCP', allowed: probe.allowed, sentence: probe.sentence }];
}

/** Where `pod` (of `namespace`) may open connections to (`egress`), or who may open them to it (`ingress`). */
export function reachOf(world: PolicyWorld, pod: string, namespace: string, direction: 'egress' | 'ingress'): Reach {
  const self = world.pods.find((p) => p.name === pod && p.namespace === namespace);
  if (!self) throw new Error(`no pod ${namespace}/${pod} in the lab`);
  const others = world.pods.filter((p) => p !== self && p.ip !== undefined);
  const targets = others.map((o): ReachTarget => {
    const ports = direction === 'egress' ? portsOf(world, self, o) : portsOf(world, o, self);
    return { pod: o.name, namespace: o.namespace, node: o.node, allowed: ports.some((p) => p.allowed), ports };
  });
  const any = others[0];
  const policies = any ? (direction === 'egress'
    ? evaluatePolicyFlow(world, { src: { pod, namespace }, dst: { pod: any.name, namespace: any.namespace }, protocol: 'TCP' }).egress.policies
    : evaluatePolicyFlow(world, { src: { pod: any.name, namespace: any.namespace }, dst: { pod, namespace }, protocol: 'TCP' }).ingress.policies) : [];
  return { pod, namespace, direction, policies, targets };
}
