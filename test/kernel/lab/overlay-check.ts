// What flannel's datapath must look like on every node of a lab, read from the kernel (never from
// podnet's readers): flannel.1 with flannel's parameters and, per other node, exactly one permanent
// neighbour, one FDB entry and one onlink route. Returns the problems (empty when all is right), so
// tests can wait for convergence with it.
import type { LabState } from '../../../src/lab/state.js';
import { bridgeJson, ipJson, runStatus } from '../helpers.js';

type Node = LabState['plan']['nodes'][number];

/** The problems of `node`'s flannel.1 given the other nodes `remotes` (as the lab state has them). */
export function vtepProblems(node: Node, remotes: readonly Node[]): string[] {
  const problems: string[] = [];
  const [dev] = runStatus(['ip', '-n', node.netns, 'link', 'show', 'flannel.1']).status === 0 ? ipJson(node.netns, ['-d', 'link', 'show', 'flannel.1']) : [];
  if (!dev) return [`${node.name}: no flannel.1`];
  const info = dev.linkinfo as { info_kind: string; info_data: Record<string, unknown> };
  const want = { kind: 'vxlan', id: 1, port: 8472, learning: false, local: node.ip.split('/')[0], mtu: 1450, address: node.vtepMac };
  const got = { kind: info.info_kind, id: info.info_data.id, port: info.info_data.port, learning: info.info_data.learning, local: info.info_data.local, mtu: dev.mtu, address: dev.address };
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${node.name}: flannel.1 is ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  const neighs = ipJson(node.netns, ['neigh', 'show', 'dev', 'flannel.1']);
  const fdb = bridgeJson(node.netns, ['fdb', 'show', 'dev', 'flannel.1']).filter((e) => e.dst);
  const routes = ipJson(node.netns, ['route', 'show', 'dev', 'flannel.1']);
  for (const r of remotes) {
    const vtep = r.podCIDR.replace(/\.0\/\d+$/, '.0');
    if (!neighs.some((x) => x.dst === vtep && x.lladdr === r.vtepMac && (x.state as string[]).includes('PERMANENT'))) problems.push(`${node.name}: no permanent neighbour ${vtep} → ${r.vtepMac}`);
    if (!fdb.some((x) => x.mac === r.vtepMac && x.dst === r.ip.split('/')[0])) problems.push(`${node.name}: no FDB ${r.vtepMac} → ${r.ip}`);
    if (!routes.some((x) => x.dst === r.podCIDR && x.gateway === vtep && (x.flags as string[]).includes('onlink'))) problems.push(`${node.name}: no route ${r.podCIDR} via ${vtep} onlink`);
  }
  for (const [what, list] of [['neighbours', neighs], ['FDB entries', fdb], ['routes', routes]] as const) {
    if (list.length !== remotes.length) problems.push(`${node.name}: ${list.length} ${what} on flannel.1, want ${remotes.length}`);
  }
  return problems;
}

/** Every node's problems. */
export function overlayProblems(state: LabState): string[] {
  return state.plan.nodes.flatMap((n) => vtepProblems(n, state.plan.nodes.filter((x) => x.name !== n.name)));
}
