// `podnet inspect policies`: per node of a lab, what kube-router's rules should hold there (the lab's
// policies and pods) joined to what the node's kernel holds — the filter table with counters
// (`iptables-save -c -t filter`) and the ipsets with their members (`ipset save`) — one row per pod.
import type { Host } from '../host/host.js';
import { iptablesSave } from '../host/iptables.js';
import { ipsetSave } from '../host/ipset.js';
import { UserError } from '../model/errors.js';
import { labNetns } from '../lab/names.js';
import { labNodeRuleset } from '../lab/policy.js';
import { policyWorldOf } from '../lab/policy-world.js';
import type { LabState } from '../lab/state.js';
import { podPolicyRows, type PodPolicyRow } from '../views/netpol.js';

/** The `inspect policies` rows of `node` (every node when undefined), read from each node's kernel. */
export async function inspectPolicies(host: Host, state: LabState, node?: string): Promise<PodPolicyRow[]> {
  const nodes = node === undefined ? state.plan.nodes : state.plan.nodes.filter((n) => n.name === node);
  if (nodes.length === 0) throw new UserError('not-found', `unknown node "${node}" in lab "${state.lab}" (nodes: ${state.plan.nodes.map((n) => n.name).join(', ')})`);
  const world = policyWorldOf(state);
  const perNode = await Promise.all(nodes.map(async (n) => {
    const ns = labNetns(n.netns);
    const [dump, sets] = await Promise.all([iptablesSave(host.runner, ns, { table: 'filter', counters: true }), ipsetSave(host.runner, ns)]);
    return podPolicyRows(n.name, labNodeRuleset(state, n.name, world), world, dump, sets);
  }));
  return perNode.flat();
}
