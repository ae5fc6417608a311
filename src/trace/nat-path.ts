// The paths of a trace through NAT, over snapshots of the nodes. Behind a Service the endpoint is
// chosen by the kernel when the first packet arrives, so there is one candidate path per endpoint:
// the probe is captured on all of them at once and the one the packet took is kept (`choosePath`).
// A pod's packet to a ClusterIP is DNATed by its node; when the endpoint hangs on the same bridge the
// node routes it back out through that bridge (the bridge is crossed twice: two stations, one
// capture). A NodePort from the outside host arrives on a node's uplink, is DNATed (and masqueraded)
// there and goes on to the endpoint, across the overlay when it lives on another node. A pod's packet
// to the outside host leaves through its node's uplink, masqueraded by flannel's rule. Pure.
import { lookupRoute } from '../model/kernel.js';
import { UserError } from '../model/errors.js';
import type { Endpoint } from '../model/k8s.js';
import type { Snapshot } from '../model/snapshot.js';
import type { AddressedService, CapturePoint, OverlayLeg, TracePath } from '../model/trace.js';
import { attachment, crossing, farBridge, findNs, holding, ipv4Of, nodeView, Stations, type Attachment, type NodeView } from './path-parts.js';

/** The lab's outside host as a trace end: its namespace, address and MAC. */
export interface OutsideHost {
  netns: string;
  ip: string;
  mac: string;
}

/** One way the probe may go: its path, and the endpoint it ends at (behind a Service). */
export interface Candidate {
  path: TracePath;
  endpoint?: Endpoint;
}

const views = (snapshots: readonly Snapshot[]): NodeView[] => snapshots.map(nodeView).filter((v): v is NodeView => v !== undefined);

function podOf(vs: readonly NodeView[], ref: string, role: string): Attachment {
  const ns = findNs(vs, ref);
  const a = ns && attachment(vs, ns);
  if (!a) throw new UserError('not-found', `${role} "${ref}" is no pod with a veth into ${vs.map((v) => v.name).join(', ')}`);
  if (!a.bridge) throw new UserError('state', `${a.hostVeth.name}, the host end of ${ref}'s ${a.iface.name}, is on no bridge: podnet traces bridged pods`);
  return a;
}

/** From node `n`'s IP stack to pod `to` (at `ip`): out through its bridge when the pod is on it, else
 * across the overlay. Returns the reply's overlay leg back to `replyTo`, when it crosses. */
function nodeToPod(vs: readonly NodeView[], st: Stations, n: NodeView, to: Attachment, replyTo: string): OverlayLeg[] {
  if (to.node === n) {
    st.add(n.name, n.host.path, to.bridge!, 'bridge', Stations.bridgeMac(n, to.bridge!));
    st.podTail(to);
    return [];
  }
  const out = crossing(vs, n, to.ip);
  if (!out) throw new UserError('state', `${n.name} does not route ${to.ip} (${to.owner}) through a VXLAN device (${lookupRoute(n.host.routes, to.ip)?.dev ?? 'no route'}): see podnet inspect overlay ${n.name}`);
  const last = st.overlay(n, out, to.ip);
  if (last.remote && last.node === to.node && last.bridge === to.bridge) st.podTail(to);
  const back = out.remote ? crossing(vs, out.remote.node, replyTo)?.leg : undefined;
  return back ? [out.leg, back] : [out.leg];
}

const overlayOf = (legs: OverlayLeg[]) => (legs.length ? { overlay: { request: legs[0], ...(legs[1] ? { reply: legs[1] } : {}) } } : {});

/** One candidate per endpoint of a Service addressed from pod `src` by its ClusterIP. */
export function serviceFromPod(snapshots: readonly Snapshot[], src: string, addressed: AddressedService, endpoints: readonly Endpoint[]): Candidate[] {
  const vs = views(snapshots);
  const from = podOf(vs, src, 'source pod');
  const out: Candidate[] = [];
  for (const e of endpoints) {
    const to = podOf(vs, e.pod, 'endpoint');
    const st = new Stations();
    st.podHead(from);
    if (e.ip === from.ip) {
      // The pod reaching itself through its Service: DNATed (and masqueraded) by its node, then back
      // out through the port it came in on — which the bridge does only with hairpin mode on that port.
      st.podTail(from);
      const hairpin = { node: from.node.name, bridge: from.bridge!, port: from.hostVeth.name, on: from.hostVeth.port?.hairpin ?? false };
      out.push({ endpoint: e, path: { src: { owner: from.owner, ip: from.ip, mac: from.iface.mac }, dst: { owner: from.owner, ip: from.ip, mac: from.iface.mac }, points: st.points, addressed: { ...addressed }, hairpin } });
      continue;
    }
    const legs = nodeToPod(vs, st, from.node, to, from.ip);
    out.push({ endpoint: e, path: { src: { owner: from.owner, ip: from.ip, mac: from.iface.mac }, dst: { owner: to.owner, ip: to.ip, mac: to.iface.mac }, points: st.points, addressed: { ...addressed }, ...overlayOf(legs) } });
  }
  return out;
}

/** The one path to a Service with no endpoints: from pod `src` to its node, which answers for the
 * ClusterIP itself (kube-proxy's REJECT: an ICMP port unreachable back). */
export function serviceWithoutEndpoints(snapshots: readonly Snapshot[], src: string, addressed: AddressedService): Candidate[] {
  const vs = views(snapshots);
  const from = podOf(vs, src, 'source pod');
  const st = new Stations();
  st.podHead(from);
  st.add(from.node.name, from.node.host.path, from.bridge!, 'bridge', Stations.bridgeMac(from.node, from.bridge!));
  return [{ path: { src: { owner: from.owner, ip: from.ip, mac: from.iface.mac }, dst: { owner: addressed.service, ip: addressed.ip }, points: st.points, addressed: { ...addressed } } }];
}

/** The outside host's stations: its eth0, the underlay switch, the node's uplink that holds `nodeIp`. */
function outsideHead(st: Stations, o: OutsideHost, n: NodeView, nodeIp: string): void {
  const up = holding(n.host, nodeIp);
  if (!up) throw new UserError('state', `node ${n.name} holds no interface with ${nodeIp}`);
  st.add('outside', o.netns, 'eth0', 'host');
  const sw = farBridge(n, up);
  if (sw) st.add(sw.ns.identity.kind === 'switch' ? 'underlay' : sw.ns.identity.name, sw.ns.path, sw.bridge, 'underlay');
  st.add(n.name, n.host.path, up.name, 'node-uplink');
}

/** One candidate per endpoint of a NodePort addressed from the outside host on node `node`. */
export function nodePortFromOutside(snapshots: readonly Snapshot[], o: OutsideHost, addressed: AddressedService, endpoints: readonly Endpoint[]): Candidate[] {
  const vs = views(snapshots);
  const n = vs.find((v) => v.name === addressed.node);
  if (!n) throw new UserError('state', `node ${addressed.node ?? '?'} was not scanned`);
  return endpoints.map((e) => {
    const to = podOf(vs, e.pod, 'endpoint');
    const st = new Stations();
    outsideHead(st, o, n, addressed.ip);
    // Masqueraded by the NodePort's node: replies come back to the address it leaves from.
    const via = crossing(vs, n, to.ip);
    const snat = via ? ipv4Of(n.host, via.vxlan.name) ?? addressed.ip : addressed.ip;
    const legs = nodeToPod(vs, st, n, to, snat);
    return { endpoint: e, path: { src: { owner: 'outside', ip: o.ip, mac: o.mac }, dst: { owner: to.owner, ip: to.ip, mac: to.iface.mac }, points: st.points, addressed: { ...addressed }, ...overlayOf(legs) } };
  });
}

/** The one path from pod `src` to the outside host: out through its node's uplink (masqueraded). */
export function podToOutside(snapshots: readonly Snapshot[], src: string, o: OutsideHost): Candidate[] {
  const vs = views(snapshots);
  const from = podOf(vs, src, 'source pod');
  const n = from.node;
  const dev = lookupRoute(n.host.routes, o.ip)?.dev;
  const up = n.host.links.find((l) => l.name === dev);
  if (!up) throw new UserError('state', `${n.name} has no route to the outside host ${o.ip}`);
  const st = new Stations();
  st.podHead(from);
  st.add(n.name, n.host.path, up.name, 'node-uplink');
  const sw = farBridge(n, up);
  if (sw) st.add(sw.ns.identity.kind === 'switch' ? 'underlay' : sw.ns.identity.name, sw.ns.path, sw.bridge, 'underlay');
  st.add('outside', o.netns, 'eth0', 'host');
  return [{ path: { src: { owner: from.owner, ip: from.ip, mac: from.iface.mac }, dst: { owner: 'outside', ip: o.ip, mac: o.mac }, points: st.points } }];
}

/** Every capture point of the candidates, once each (one capture per interface). */
export function capturePoints(cands: readonly Candidate[]): CapturePoint[] {
  const seen = new Map<string, CapturePoint>();
  for (const c of cands) for (const p of c.path.points) if (!seen.has(p.id)) seen.set(p.id, p);
  return [...seen.values()];
}

/** The candidate the probe took: the one whose endpoint's address a captured request went to (or the
 * conntrack entry names); else, when nothing got past the NAT, the stations all candidates share. */
export function choosePath(cands: readonly Candidate[], dstsSeen: ReadonlySet<string>): TracePath {
  const hit = cands.find((c) => c.endpoint && dstsSeen.has(c.endpoint.ip)) ?? (cands.length === 1 ? cands[0] : undefined);
  if (hit) return { ...hit.path, ...(hit.path.addressed && hit.endpoint ? { addressed: { ...hit.path.addressed, chosen: `${hit.endpoint.ip}:${hit.endpoint.port} (${hit.endpoint.pod} on ${hit.endpoint.node})`, targetPort: hit.endpoint.port } } : {}) };
  const first = cands[0].path;
  let n = 0;
  while (n < first.points.length && cands.every((c) => c.path.points[n]?.id === first.points[n].id)) n++;
  const addressed = first.addressed!;
  return { src: first.src, dst: { owner: addressed.service, ip: addressed.ip }, points: first.points.slice(0, n), addressed };
}
