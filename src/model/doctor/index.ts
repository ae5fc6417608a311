// `podnet doctor`'s logic: every check over every node (and, for a lab, over the cluster), reduced to
// one finding per root cause, what breaks most first. Pure: observations and expectations come in
// from src/inspect/doctor, the report goes out to src/render/doctor.
import type { PodEndpointSource, Service } from '../k8s.js';
import { bridgeChecks } from './check-bridge.js';
import { checkLeases, checkUnderlay } from './check-cluster.js';
import { checkConntrack, checkUdpChecksums, checkVtepOffload } from './check-counters.js';
import { checkFlannelRules } from './check-flannel.js';
import { checkForward } from './check-forward.js';
import { mtuChecks } from './check-mtu.js';
import { checkIpam, checkPodAddresses, checkPodIfaces } from './check-pods.js';
import { checkPolicyDns, type PolicyFacts } from './check-policy.js';
import { checkProxy, checkServices, type ProxyExpectation } from './check-proxy.js';
import { checkRemotes } from './check-remotes.js';
import { sysctlChecks } from './check-sysctl.js';
import { checkVtep } from './check-vtep.js';
import { rootCauses } from './group.js';
import type { Check } from './node.js';
import type { ClusterFacts, Finding, NodeExpectation, NodeObservation } from './types.js';

export type { ProxyExpectation } from './check-proxy.js';

/** Every per-node check, in no particular order (the report is ordered afterwards). */
export const NODE_CHECKS: readonly Check[] = [
  ...sysctlChecks, ...bridgeChecks, ...mtuChecks, checkVtep, checkRemotes, checkForward, checkFlannelRules,
  checkConntrack, checkVtepOffload, checkUdpChecksums, checkPodIfaces, checkIpam,
];

/** One node as diagnose takes it. */
export interface NodeInput {
  exp: NodeExpectation;
  obs: NodeObservation;
  proxy?: ProxyExpectation;
}

/** What diagnose looks at: the nodes, and for a lab the cluster around them and its Services. */
export interface DoctorInput {
  nodes: readonly NodeInput[];
  cluster?: ClusterFacts & { store: string };
  services?: { services: readonly Service[]; pods: readonly PodEndpointSource[]; skip?: ReadonlySet<string> };
  /** A lab's NetworkPolicies, checked against its DNS. */
  policy?: PolicyFacts;
}

/** A node whose namespace could not be read: one finding, nothing else about it. */
function unreadable(obs: NodeObservation): Finding {
  return { id: 'node-unreadable', severity: 'error', reach: 'node', node: obs.node, what: `The node's namespace could not be read: ${obs.error}`,
    breaks: 'Everything on this node, as far as can be told.', evidence: [{ command: 'ip -json addr show', value: obs.error ?? '' }], fix: ['# check that the node (its namespace) exists'] };
}

/** Every finding, one per root cause, ordered by what breaks most. */
export function diagnose(input: DoctorInput): Finding[] {
  const readable = input.nodes.filter((n) => !n.obs.error);
  const findings: Finding[] = [
    ...input.nodes.filter((n) => n.obs.error).map((n) => unreadable(n.obs)),
    ...readable.flatMap(({ exp, obs }) => NODE_CHECKS.flatMap((check) => check(exp, obs))),
    ...checkPodAddresses(readable),
    ...readable.flatMap(({ obs, proxy }) => (proxy ? checkProxy(proxy, obs) : [])),
    ...(input.cluster ? [...checkLeases(input.cluster, input.cluster.store), ...checkUnderlay(input.cluster, readable)] : []),
    ...(input.services ? checkServices(input.services.services, input.services.pods, input.services.skip) : []),
    ...(input.policy ? checkPolicyDns(input.policy) : []),
  ];
  return rootCauses(findings);
}
