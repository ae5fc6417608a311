// `podnet inspect services`: kube-proxy's rules of a lab's nodes (every node, or one) or of a real
// node (--host, --netns), read back from the kernel — `iptables-save -c` (nat and filter) and
// `nft -j list table ip kube-proxy` — and joined by ../views/service-rules.ts. A lab's pods name the
// endpoints' IPs; on a real node only kube-proxy's own comments and chain names do.
import type { Host } from '../host/host.js';
import { iptablesSave } from '../host/iptables.js';
import type { Netns } from '../host/netns.js';
import { nftListTable, nftTableExists } from '../host/nft.js';
import { UserError } from '../model/errors.js';
import { labNetns } from '../lab/names.js';
import type { LabState } from '../lab/state.js';
import { targetNetns, type Target } from '../lab/target.js';
import { iptablesServiceRows, nftServiceRows, sortServiceRows, type PodOfIp, type ServiceRuleRow } from '../views/service-rules.js';

/** The rows of one namespace: both modes' rules, whichever it holds (a node switched between modes may hold both). */
async function nodeRows(host: Host, node: string, ns: Netns, podOf: PodOfIp): Promise<ServiceRuleRow[]> {
  const [dump, nft] = await Promise.all([
    Promise.all([iptablesSave(host.runner, ns, { table: 'nat', counters: true }), iptablesSave(host.runner, ns, { table: 'filter', counters: true })]),
    nftTableExists(host.runner, ns, 'ip', 'kube-proxy').then((has) => (has ? nftListTable(host.runner, ns, 'ip', 'kube-proxy') : undefined)),
  ]);
  const rows = iptablesServiceRows(node, { tables: dump.flatMap((d) => d.tables), warnings: [] }, podOf);
  return nft ? [...rows, ...nftServiceRows(node, nft, podOf)] : rows;
}

/** The lab's pods by IP, as `namespace/name`. */
function labPods(state: LabState): PodOfIp {
  const byIp = new Map(state.pods.filter((p) => p.ip).map((p) => [p.ip!.split('/')[0], `${p.namespace ?? 'default'}/${p.name}`]));
  return (ip) => byIp.get(ip);
}

/** The `inspect services` rows of a target: a lab's node (every node without one), this host or a namespace. */
export async function inspectServices(host: Host, t: Target): Promise<ServiceRuleRow[]> {
  if (t.kind !== 'lab') return sortServiceRows(await nodeRows(host, t.kind === 'host' ? 'host' : t.label, targetNetns(t), () => undefined));
  const { state } = t;
  const nodes = t.node === undefined ? state.plan.nodes : state.plan.nodes.filter((n) => n.name === t.node);
  if (nodes.length === 0) throw new UserError('not-found', `unknown node "${t.node}" in lab "${state.lab}" (nodes: ${state.plan.nodes.map((n) => n.name).join(', ')})`);
  const podOf = labPods(state);
  return sortServiceRows((await Promise.all(nodes.map((n) => nodeRows(host, n.name, labNetns(n.netns), podOf)))).flat());
}
