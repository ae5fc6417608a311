// `GET /api/reach`: a lab pod's reach under its NetworkPolicies (views/reach.ts, the verdicts of the
// one NetworkPolicy evaluator) joined to what the page draws: each far pod's element, and each
// Service allowed when the pod may reach one of its endpoints on the port the Service sends to (or,
// for ingress, the Service's endpoint is the pod itself and the far pod may reach it).
import { LabDir } from '../lab/state.js';
import type { LabDeps } from '../lab/deps.js';
import type { Target } from '../lab/target.js';
import { policyWorldOf } from '../lab/policy-world.js';
import { reachOf, type ReachTarget } from '../views/reach.js';
import type { ReachDoc, TopologyDoc } from './api.js';
import { HttpError } from './requests.js';

/** Whether `t` allows the port of `endpoint` (`10.42.1.2:8080`), else any port at all. */
const allowsEndpoint = (t: ReachTarget, endpoint: string): boolean => {
  const port = Number(endpoint.split(':').pop());
  const exact = t.ports.find((p) => p.port === port);
  return exact ? exact.allowed : t.ports.some((p) => p.port === undefined && p.allowed);
};

/** The reach of `pod` in `direction`, with the drawn elements of `doc`. */
export async function reachDoc(deps: LabDeps, target: Target, doc: Pick<TopologyDoc, 'nodes' | 'services'>, pod: string, direction: 'egress' | 'ingress'): Promise<ReachDoc> {
  if (target.kind !== 'lab') throw new HttpError(404, 'reach is about a lab\'s NetworkPolicies: this page shows a host');
  const state = (await new LabDir(deps.stateRoot, target.lab).read()) ?? target.state;
  const p = state.pods.find((x) => x.name === pod);
  if (!p) throw new HttpError(404, `no pod "${pod}" in lab ${target.lab} (pods: ${state.pods.map((x) => x.name).join(', ') || 'none'})`);
  const reach = reachOf(policyWorldOf(state), pod, p.namespace ?? 'default', direction);
  const elementOf = new Map(doc.nodes.flatMap((n) => n.graph.pods.map((g) => [g.name, g.id] as const)));
  const targets = reach.targets.map((t) => ({ pod: t.pod, namespace: t.namespace, node: t.node, element: elementOf.get(t.pod) ?? '', allowed: t.allowed, ports: t.ports.map(({ label, allowed, sentence }) => ({ label, allowed, sentence })) }));
  const byPod = new Map(reach.targets.map((t) => [t.pod, t]));
  // Only Services with an endpoint on a lab pod: `kubernetes` (the API server's address) has none to judge.
  const services = (doc.services ?? []).filter((s) => s.edges.some((e) => byPod.has(e.pod) || e.pod === pod)).map((s) => {
    const allowed = direction === 'egress'
      ? s.edges.some((e) => { const t = byPod.get(e.pod); return t !== undefined && allowsEndpoint(t, e.endpoint); })
      : s.edges.some((e) => e.pod === pod) && reach.targets.some((t) => t.allowed);
    return { id: s.id, name: `${s.namespace}/${s.name}`, allowed };
  });
  const drawn = [...targets.filter((t) => t.element).map((t) => ({ id: t.element, allowed: t.allowed })), ...services];
  return {
    pod, namespace: reach.namespace, direction, policies: reach.policies, element: elementOf.get(pod) ?? '', targets, services,
    allowed: drawn.filter((d) => d.allowed).map((d) => d.id), denied: drawn.filter((d) => !d.allowed).map((d) => d.id),
  };
}
