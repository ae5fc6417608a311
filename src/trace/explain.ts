// The kernel's side of each hop: the route the source pod's kernel picked (`ip route get`), its
// neighbour entry for the next hop, and the bridges' FDB before and after (what they knew, what they learned).
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { fdbFlushDynamic, neighFlush } from '../host/ip-lines.js';
import type { FdbSeen, TracePath } from '../model/trace.js';

/** The learned (non-permanent) FDB entries of the path's pod bridges (cni0 on each node; not the
 * underlay switch). Equivalent to, per bridge: `bridge -n NODE -json fdb show br BRIDGE`. */
export async function learnedFdb(h: Host, path: TracePath): Promise<FdbSeen[]> {
  const bridges = path.points.filter((p) => p.role === 'bridge');
  const lists = await Promise.all(bridges.map(async (bridge) => {
    const list = await h.net(netnsAt(bridge.netns)).fdbList({ br: bridge.iface }).catch(() => []);
    return list.filter((e) => e.state !== 'permanent' && !e.flags.includes('self') && e.dev !== bridge.iface).map((e) => ({ mac: e.mac, port: e.dev, bridge: bridge.id }));
  }));
  return lists.flat();
}

/** What the source pod's kernel decides before the probe: the route to the destination and the
 * neighbour entry of the next hop, as one line. Equivalent to: `ip -n SRC route get DST` and `ip -n SRC neigh show NEXTHOP`. */
export async function sourceDecision(h: Host, path: TracePath): Promise<string> {
  const src = h.net(netnsAt(path.points[0].netns));
  const route = await src.routeGet(path.dst.ip).catch(() => undefined);
  if (!route) return `no route to ${path.dst.ip}`;
  const next = route.gateway ?? path.dst.ip;
  const [neigh] = await src.neighList({ addr: next }).catch(() => []);
  const via = route.gateway ? `via ${route.gateway} ` : '';
  const n = neigh?.lladdr
    ? `neighbour ${next} is ${neigh.lladdr} (${neigh.state.join(',') || '?'})`
    : `no neighbour entry for ${next}: ARP first`;
  return `route get ${path.dst.ip}: ${via}dev ${route.dev} src ${route.prefsrc ?? '?'}; ${n}`;
}

/** Forgets what the path has learned, for a cold trace: neighbours of both pods, the bridges' learned
 * entries and, when the path crosses nodes (the nodes route), the nodes' neighbours on their bridges
 * (flannel's permanent entries on flannel.1 stay). Equivalent to: `ip -n POD neigh flush all`,
 * `bridge -n NODE fdb flush dev BRIDGE dynamic` and `ip -n NODE neigh flush dev BRIDGE`. */
export async function forget(h: Host, path: TracePath): Promise<void> {
  const pods = path.points.filter((p) => p.role === 'pod-eth0');
  const bridges = path.points.filter((p) => p.role === 'bridge');
  await Promise.all([
    ...pods.map((p) => h.net(netnsAt(p.netns)).batch([neighFlush()])),
    ...bridges.map((b) => h.net(netnsAt(b.netns)).bridgeBatch([fdbFlushDynamic(b.iface)], () => true)),
    ...(path.overlay ? bridges.map((b) => h.net(netnsAt(b.netns)).batch([neighFlush(b.iface)])) : []),
  ]);
}
