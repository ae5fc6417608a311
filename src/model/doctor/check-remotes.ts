// What flannel puts on its VXLAN device for every other node: a permanent neighbour (VTEP IP → VTEP
// MAC), an FDB entry (VTEP MAC → node IP) and the route to the node's subnet via its VTEP IP, onlink.
// Checked against the leases (missing or stale entries, and entries no lease calls for); without
// leases (a real node whose leases cannot be read), each route on the device is checked to have its
// neighbour and its FDB entry. One finding per node and peer. Pure.
import type { Neigh, Route } from '../kernel.js';
import { inNs } from './commands.js';
import { listed, on, vtepOf, type Check } from './node.js';
import type { Finding, NodeObservation, NsRef, RemoteNode } from './types.js';

type Part = 'neigh' | 'fdb' | 'route';

/** The commands flannel runs for a remote, in flannel's order (neighbour, FDB, route). */
export function remoteLines(ns: NsRef, dev: string, r: RemoteNode, parts: readonly Part[]): string[] {
  const all: Record<Part, string> = {
    neigh: inNs(ns, ['ip', 'neigh', 'replace', r.vtepIP, 'lladdr', r.vtepMac, 'dev', dev, 'nud', 'permanent']),
    fdb: inNs(ns, ['bridge', 'fdb', 'replace', r.vtepMac, 'dev', dev, 'dst', r.publicIP, 'self', 'permanent']),
    route: inNs(ns, ['ip', 'route', 'replace', r.subnet, 'via', r.vtepIP, 'dev', dev, 'onlink']),
  };
  return (['neigh', 'fdb', 'route'] as const).filter((p) => parts.includes(p)).map((p) => all[p]);
}

const neighOk = (n: Neigh, r: RemoteNode) => n.lladdr?.toLowerCase() === r.vtepMac.toLowerCase() && n.state.includes('PERMANENT');
const routeOk = (x: Route, r: RemoteNode) => x.gateway === r.vtepIP && x.flags.includes('onlink');

/** What is wrong with one remote's entries: per part, missing or what is there instead. */
function problems(obs: NodeObservation, dev: string, r: RemoteNode): { part: Part; text: string }[] {
  const neigh = obs.neighs.find((n) => n.dev === dev && n.dst === r.vtepIP);
  const fdb = obs.fdb.filter((e) => e.dev === dev && e.dst !== undefined && e.mac.toLowerCase() === r.vtepMac.toLowerCase());
  const route = obs.routes.find((x) => x.dst === r.subnet);
  const out: { part: Part; text: string }[] = [];
  if (!neigh) out.push({ part: 'neigh', text: `no neighbour for ${r.vtepIP}` });
  else if (!neighOk(neigh, r)) out.push({ part: 'neigh', text: `neighbour ${r.vtepIP} is ${neigh.lladdr ?? 'unresolved'} ${neigh.state.join(',')} (lease: ${r.vtepMac} PERMANENT)` });
  if (fdb.length === 0) out.push({ part: 'fdb', text: `no FDB entry for ${r.vtepMac}` });
  else if (!fdb.some((e) => e.dst === r.publicIP)) out.push({ part: 'fdb', text: `FDB sends ${r.vtepMac} to ${fdb.map((e) => e.dst).join(', ')} (lease: ${r.publicIP})` });
  if (!route) out.push({ part: 'route', text: `no route to ${r.subnet}` });
  else if (route.dev !== dev || !routeOk(route, r)) out.push({ part: 'route', text: `${r.subnet} goes ${route.gateway ? `via ${route.gateway} ` : ''}dev ${route.dev ?? '?'} (flannel: via ${r.vtepIP} dev ${dev} onlink)` });
  return out;
}

const BREAKS: Record<Part, string> = {
  neigh: 'the kernel has no MAC to put in the inner frame and the overlay never answers ARP',
  fdb: 'the kernel does not know which node IP to send the VXLAN packet to',
  route: 'traffic for those pods takes the default route instead of the overlay',
};

/** One finding for one remote with problems. */
function remoteFinding(obs: NodeObservation, dev: string, r: RemoteNode, ps: { part: Part; text: string }[]): Finding {
  const parts = [...new Set(ps.map((p) => p.part))];
  const single = parts.length === 1 ? parts[0] : undefined;
  return on(obs, {
    id: single ? `remote-${single}` : 'remote-entries', severity: 'error', reach: 'peer', subject: r.name,
    what: `Toward ${r.name} (${r.subnet}): ${ps.map((p) => p.text).join('; ')}`,
    breaks: `Pods here reach no pod on ${r.name}, and ${r.name}'s pods get no reply from here: ${listed(parts.map((p) => BREAKS[p]))}.`,
    evidence: [
      ...(parts.includes('neigh') ? [{ command: inNs(obs.ns, ['ip', 'neigh', 'show', 'dev', dev]), value: obs.neighs.filter((n) => n.dev === dev).map((n) => `${n.dst} ${n.lladdr ?? ''} ${n.state.join(',')}`).join('; ') || '(none)' }] : []),
      ...(parts.includes('fdb') ? [{ command: inNs(obs.ns, ['bridge', 'fdb', 'show', 'dev', dev]), value: obs.fdb.filter((e) => e.dev === dev && e.dst).map((e) => `${e.mac} dst ${e.dst}`).join('; ') || '(none)' }] : []),
      ...(parts.includes('route') ? [{ command: inNs(obs.ns, ['ip', 'route', 'show', r.subnet]), value: obs.routes.filter((x) => x.dst === r.subnet).map((x) => `${x.dst} via ${x.gateway ?? '-'} dev ${x.dev ?? '-'}`).join('; ') || '(none)' }] : []),
    ],
    fix: remoteLines(obs.ns, dev, r, parts),
  });
}

/** Entries on the device that no lease calls for (a node that left, whose entries stayed). */
function extras(obs: NodeObservation, dev: string, remotes: readonly RemoteNode[]): Finding[] {
  const subnets = new Set(remotes.map((r) => r.subnet));
  const ips = new Set(remotes.map((r) => r.vtepIP));
  const macs = new Set(remotes.map((r) => r.vtepMac.toLowerCase()));
  const routes = obs.routes.filter((x) => x.dev === dev && !subnets.has(x.dst));
  const neighs = obs.neighs.filter((n) => n.dev === dev && n.state.includes('PERMANENT') && !ips.has(n.dst));
  const fdb = obs.fdb.filter((e) => e.dev === dev && e.dst !== undefined && !macs.has(e.mac.toLowerCase()) && e.mac !== '00:00:00:00:00:00');
  if (routes.length + neighs.length + fdb.length === 0) return [];
  const items = [...routes.map((x) => `route ${x.dst}`), ...neighs.map((n) => `neighbour ${n.dst}`), ...fdb.map((e) => `FDB ${e.mac} → ${e.dst}`)];
  return [on(obs, {
    id: 'remote-extra', severity: 'warning', reach: 'peer',
    what: `${dev} holds entries no lease calls for: ${listed(items)}`,
    breaks: 'Traffic to those subnets is sent to a node that is gone, and a new node given one of them is unreachable from here.',
    evidence: [{ command: inNs(obs.ns, ['ip', 'route', 'show', 'dev', dev]), value: obs.routes.filter((x) => x.dev === dev).map((x) => x.dst).join(', ') }],
    fix: [
      ...routes.map((x) => inNs(obs.ns, ['ip', 'route', 'del', x.dst, 'dev', dev])),
      ...fdb.map((e) => inNs(obs.ns, ['bridge', 'fdb', 'del', e.mac, 'dev', dev, 'dst', e.dst!, 'self'])),
      ...neighs.map((n) => inNs(obs.ns, ['ip', 'neigh', 'del', n.dst, 'dev', dev])),
    ],
  })];
}

/** Without leases: every route on the device has its neighbour, and the neighbour's MAC its FDB entry. */
function consistency(obs: NodeObservation, dev: string): Finding[] {
  return obs.routes.filter((x) => x.dev === dev && x.gateway).flatMap((x) => {
    const n = obs.neighs.find((m) => m.dev === dev && m.dst === x.gateway && m.lladdr);
    const fdb = n ? obs.fdb.find((e) => e.dev === dev && e.dst !== undefined && e.mac.toLowerCase() === n.lladdr!.toLowerCase()) : undefined;
    const r: RemoteNode = { name: x.dst, subnet: x.dst, vtepIP: x.gateway!, vtepMac: n?.lladdr ?? '?', publicIP: fdb?.dst ?? '?' };
    const ps: { part: Part; text: string }[] = [
      ...(!n ? [{ part: 'neigh' as const, text: `no neighbour for ${x.gateway}` }] : []),
      ...(n && !fdb ? [{ part: 'fdb' as const, text: `no FDB entry for ${n.lladdr}` }] : []),
    ];
    if (ps.length === 0) return [];
    const f = remoteFinding(obs, dev, r, ps);
    const unknown = '# the MAC and node IP are in the remote node\'s lease (flannel.alpha.coreos.com/backend-data, public-ip annotations)';
    return [{ ...f, fix: n ? [`${unknown}:`, inNs(obs.ns, ['bridge', 'fdb', 'replace', n.lladdr!, 'dev', dev, 'dst', 'NODE_IP', 'self', 'permanent'])] : [unknown] }];
  });
}

/** Every remote's entries on the VXLAN device, and nothing else. */
export const checkRemotes: Check = (exp, obs) => {
  const link = vtepOf(exp, obs);
  if (!link || link.kind !== 'vxlan') return [];
  if (!exp.remotes) return consistency(obs, link.name);
  const live = exp.remotes.filter((r) => !r.stale);
  const out = live.flatMap((r) => {
    const ps = problems(obs, link.name, r);
    return ps.length ? [remoteFinding(obs, link.name, r, ps)] : [];
  });
  return [...out, ...extras(obs, link.name, exp.remotes)];
};
