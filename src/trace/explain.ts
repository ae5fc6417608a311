// The kernel's side of each hop: the route the source pod's kernel picked (`ip route get`), its
// neighbour entry for the next hop, and the bridges' FDB before and after (what they knew, what they learned).
import type { Runner } from '../host/runner.js';
import { inNetns, netnsAt } from '../host/netns.js';
import { fdbFromJson } from '../model/kernel.js';
import type { FdbSeen, TracePath } from '../model/trace.js';

type Json = Record<string, unknown>;

async function json(runner: Runner, argv: string[]): Promise<Json[]> {
  const r = await runner.run({ argv, mutates: false });
  try {
    return r.exitCode === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as Json[]) : [];
  } catch {
    return [];
  }
}

/** The learned (non-permanent) FDB entries of the path's pod bridges (cni0 on each node; not the
 * underlay switch). Equivalent to, per bridge: `bridge -n NODE -json fdb show br BRIDGE`. */
export async function learnedFdb(runner: Runner, path: TracePath): Promise<FdbSeen[]> {
  const bridges = path.points.filter((p) => p.role === 'bridge');
  const lists = await Promise.all(bridges.map(async (bridge) => {
    const list = (await json(runner, inNetns(netnsAt(bridge.netns), 'bridge', ['-json', 'fdb', 'show', 'br', bridge.iface]))).map(fdbFromJson);
    return list.filter((e) => e.state !== 'permanent' && !e.flags.includes('self') && e.dev !== bridge.iface).map((e) => ({ mac: e.mac, port: e.dev, bridge: bridge.id }));
  }));
  return lists.flat();
}

/** What the source pod's kernel decides before the probe: the route to the destination and the
 * neighbour entry of the next hop, as one line. Equivalent to: `ip -n SRC route get DST` and `ip -n SRC neigh show NEXTHOP`. */
export async function sourceDecision(runner: Runner, path: TracePath): Promise<string> {
  const src = netnsAt(path.points[0].netns);
  const [route] = await json(runner, inNetns(src, 'ip', ['-json', 'route', 'get', path.dst.ip]));
  if (!route) return `no route to ${path.dst.ip}`;
  const gw = typeof route.gateway === 'string' ? route.gateway : undefined;
  const next = gw ?? path.dst.ip;
  const [neigh] = await json(runner, inNetns(src, 'ip', ['-json', 'neigh', 'show', next]));
  const via = gw ? `via ${gw} ` : '';
  const n = neigh && typeof neigh.lladdr === 'string'
    ? `neighbour ${next} is ${neigh.lladdr} (${(neigh.state as string[] | undefined)?.join(',') ?? '?'})`
    : `no neighbour entry for ${next}: ARP first`;
  return `route get ${path.dst.ip}: ${via}dev ${route.dev} src ${route.prefsrc ?? '?'}; ${n}`;
}

/** Forgets what the path has learned, for a cold trace: neighbours of both pods, the bridges' learned
 * entries and, when the path crosses nodes (the nodes route), the nodes' neighbours on their bridges
 * (flannel's permanent entries on flannel.1 stay). Equivalent to: `ip -n POD neigh flush all`,
 * `bridge -n NODE fdb flush dev BRIDGE dynamic` and `ip -n NODE neigh flush dev BRIDGE`. */
export async function forget(runner: Runner, path: TracePath): Promise<void> {
  const pods = path.points.filter((p) => p.role === 'pod-eth0');
  const bridges = path.points.filter((p) => p.role === 'bridge');
  await Promise.all([
    ...pods.map((p) => runner.run({ argv: inNetns(netnsAt(p.netns), 'ip', ['neigh', 'flush', 'all']), mutates: true })),
    ...bridges.map((b) => runner.run({ argv: inNetns(netnsAt(b.netns), 'bridge', ['fdb', 'flush', 'dev', b.iface, 'dynamic']), mutates: true })),
    ...(path.overlay ? bridges.map((b) => runner.run({ argv: inNetns(netnsAt(b.netns), 'ip', ['neigh', 'flush', 'dev', b.iface]), mutates: true })) : []),
  ]);
}
