// Declared, then observed: reads what the kernel holds for a lab (every node and pod namespace) so
// views are drawn from a live snapshot, never from the plan.
import type { Host } from '../host/host.js';
import { netnsNamed } from '../host/netns.js';
import type { ObservedLab, ObservedNetns } from '../model/views.js';
import type { LabState } from './state.js';
import { podRunning } from './lab.js';

async function read(host: Host, netns: string): Promise<ObservedNetns> {
  try {
    const { links, addrs } = await host.net(netnsNamed(netns)).linksAndAddrs();
    return { netns, links, addrs };
  } catch {
    return { netns, links: [], addrs: [] };
  }
}

/** Reads every namespace of a lab: one `ip -json -details addr show` per namespace, all at once. */
export async function observeLab(host: Host, state: LabState): Promise<ObservedLab> {
  const [nodes, pods] = await Promise.all([
    Promise.all(state.plan.nodes.map(async (n, i) => ({
      ...(await read(host, n.netns)),
      fdb: await host.net(netnsNamed(n.netns)).fdbList().catch(() => []),
      name: n.name, createdAt: state.createdAt, roles: i === 0 ? 'control-plane,master' : '<none>',
    }))),
    Promise.all(state.pods.map(async (p) => ({
      ...(await read(host, p.netns)), name: p.name, node: p.node, createdAt: p.createdAt, running: await podRunning(state.lab, p),
    }))),
  ]);
  return { lab: state.lab, nodes, pods };
}
