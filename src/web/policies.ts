// A pod's details in the UI gain the NetworkPolicies that select it, as `podnet inspect policies`
// reads them (its isolation per direction, the policies, kube-router's chain and its counters).
import { inspectPolicies } from '../inspect/policies.js';
import { LabDir } from '../lab/state.js';
import type { LabDeps } from '../lab/deps.js';
import type { Target } from '../lab/target.js';
import type { PodPolicyRow } from '../views/netpol.js';
import type { DetailSection, ElementDetails } from './api.js';
import type { ElementRef } from './topology.js';

const COLUMNS: readonly [string, (r: PodPolicyRow) => string | number][] = [
  ['POLICIES', (r) => r.policies], ['INGRESS', (r) => r.ingress], ['EGRESS', (r) => r.egress],
  ['CHAIN', (r) => r.chain], ['ACCEPTED', (r) => r.accepted], ['REJECTED', (r) => r.rejected],
];

/** `d` with a Policies section when `ref` is a lab's pod (or its interface). */
export async function withPolicies(d: ElementDetails, ref: ElementRef, deps: LabDeps, target: Target): Promise<ElementDetails> {
  if (target.kind !== 'lab' || (ref.kind !== 'pod' && ref.kind !== 'pod-iface')) return d;
  const state = (await new LabDir(deps.stateRoot, target.lab).read()) ?? target.state;
  const pod = state.pods.find((p) => p.name === ref.owner);
  if (!pod) return d;
  const rows = (await inspectPolicies(deps.host, state, pod.node)).filter((r) => r.pod === pod.name && r.namespace === (pod.namespace ?? 'default'));
  const section: DetailSection = {
    title: 'Policies', command: `podnet inspect policies ${pod.node} --name ${target.lab}`, kind: 'PodPolicyList',
    columns: COLUMNS.map(([h]) => h), rows: rows.map((r) => COLUMNS.map(([, cell]) => String(cell(r)))), items: rows,
  };
  return { ...d, sections: [...d.sections, section] };
}
