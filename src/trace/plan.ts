// What one trace will do, decided before anything is captured: its two ends (resolve.ts), the nodes
// to scan, the candidate paths (one, or one per endpoint behind a Service: nat-path.ts), the capture
// points and their filters, the probe's target and where a listener goes, and the nodes whose
// netfilter and conntrack the evidence reads.
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { labEndpoints } from '../lab/sync.js';
import { outsideConflict, outsideIP } from '../lab/outside.js';
import { labNetns, outsideNetnsName } from '../lab/names.js';
import type { LabState } from '../lab/state.js';
import type { Target } from '../lab/target.js';
import { UserError } from '../model/errors.js';
import { addressOf } from '../model/ip.js';
import type { Snapshot } from '../model/snapshot.js';
import type { CapturePoint, TraceAsk, TraceProtocol } from '../model/trace.js';
import { captureFilter, filterByRole, natFilter, vxlanFilter } from './capture.js';
import type { EvidenceNode } from './evidence.js';
import { capturePoints, nodePortFromOutside, podToOutside, serviceFromPod, serviceWithoutEndpoints, type Candidate, type OutsideHost } from './nat-path.js';
import { tracePath } from './path.js';
import { resolveEnds, type ResolveWorld, type TraceEnds } from './resolve.js';
import { snapshotsOfNodes, traceSnapshots } from './scope.js';

/** A trace, planned. */
export interface TracePlan {
  ends: TraceEnds;
  protocol: TraceProtocol;
  port?: number;
  /** One candidate path, or one per endpoint (the packet's is chosen after the probe). */
  candidates: Candidate[];
  /** Where tcpdump runs: each interface once. */
  points: CapturePoint[];
  filter: (p: CapturePoint) => string;
  /** The namespace the probe is sent from, and the address and port it is sent to. */
  srcNetns: string;
  probeIp: string;
  /** Namespaces a TCP listener of podnet's goes in (when nothing listens on the port there). */
  listeners: { netns: string; port: number }[];
  /** The nodes on the paths (rule tracing, conntrack), the addresses their packets may carry. */
  nodes: EvidenceNode[];
  hosts: string[];
  /** The addresses the rule tracer marks packets from and to: the source's, and the NAT node's when it masquerades. */
  traceHosts: string[];
  mode: 'iptables' | 'nftables';
  state?: LabState;
}

/** What resolve needs of a lab's state. */
async function worldOf(state: LabState): Promise<ResolveWorld> {
  const outside = addressOf(outsideIP(state.plan));
  return {
    nodes: state.plan.nodes.map((n) => ({ name: n.name, ip: n.ip })), pods: state.pods.map((p) => p.name), endpoints: await labEndpoints(state),
    ...(outsideConflict(state.plan) ? {} : { outside }),
  };
}

/** The lab's outside host, read from the kernel (its MAC). */
async function outsideHost(h: Host, state: LabState): Promise<OutsideHost> {
  const netns = labNetns(outsideNetnsName(state.lab)).path;
  const link = await h.net(netnsAt(netns)).linkByName('eth0').catch(() => undefined);
  if (!link) throw new UserError('state', `lab "${state.lab}" has no outside host (its namespace ${outsideNetnsName(state.lab)} is missing)`);
  return { netns, ip: addressOf(outsideIP(state.plan)), mac: link.mac };
}

/** The node namespaces among the candidates' points, and every IPv4 address those nodes hold. */
function nodesOf(cands: readonly Candidate[], snaps: readonly Snapshot[], natNode?: string): { nodes: EvidenceNode[]; addrs: string[]; natAddrs: string[] } {
  const roles = new Set(['host-veth', 'bridge', 'vxlan', 'node-uplink']);
  const nodes = new Map<string, EvidenceNode>();
  for (const p of cands.flatMap((c) => c.path.points)) if (roles.has(p.role)) nodes.set(p.owner, { name: p.owner, netns: p.netns });
  const hostsOf = (s: Snapshot) => s.namespaces.filter((n) => n.id === s.host);
  const v4 = (s: Snapshot) => hostsOf(s).flatMap((n) => n.addrs.filter((a) => a.family === 'inet' && !a.local.startsWith('127.')).map((a) => a.local));
  const addrs = snaps.flatMap(v4);
  const natAddrs = snaps.filter((s) => hostsOf(s).some((n) => n.identity.name === natNode)).flatMap(v4);
  return { nodes: [...nodes.values()], addrs: [...new Set(addrs)], natAddrs: [...new Set(natAddrs)] };
}

/** Plans a trace through NAT (a Service, a NodePort, the outside host) on a lab. */
async function natPlan(h: Host, req: TraceAsk & { target: Target; stateRoot: string }, state: LabState, ends: TraceEnds): Promise<Omit<TracePlan, 'ends' | 'protocol' | 'port' | 'mode' | 'state'>> {
  const podNode = (name: string) => state.pods.find((p) => p.name === name)?.node;
  const d = ends.dst;
  const svc = d.kind === 'service' ? d.service : undefined;
  const srcNode = ends.src.kind === 'pod' ? podNode(ends.src.ref) : svc?.addressed.node;
  if (ends.src.kind === 'pod' && !srcNode) throw new UserError('not-found', `unknown pod "${ends.src.ref}" in lab "${state.lab}" (pods: ${state.pods.map((p) => p.name).join(', ')})`);
  if (svc && svc.endpoints.length === 0 && ends.src.kind !== 'pod') throw new UserError('state', `Service ${svc.addressed.service} has no ready endpoints: nothing answers behind ${svc.addressed.ip}:${svc.addressed.port} (see podnet get endpoints)`);
  const nodes = [...new Set([srcNode, ...(svc?.endpoints.map((e) => e.node) ?? [])].filter((n): n is string => n !== undefined))];
  const snaps = await snapshotsOfNodes(h, req.target, req.stateRoot, nodes);
  let cands: Candidate[];
  if (svc && ends.src.kind === 'pod') {
    if (svc.addressed.via === 'node-port') throw new UserError('usage', `trace a NodePort from the outside host (podnet trace outside ${svc.addressed.node}:${svc.addressed.port}), or the Service from a pod by its ClusterIP (${svc.spe.service.clusterIP}:${svc.spe.port.port})`);
    cands = svc.endpoints.length ? serviceFromPod(snaps, ends.src.ref, svc.addressed, svc.endpoints) : serviceWithoutEndpoints(snaps, ends.src.ref, svc.addressed);
    if (cands.length === 0) throw new UserError('usage', `the only endpoint of ${svc.addressed.service} is ${ends.src.ref} itself (a pod reaching itself through its Service): trace it from another pod`);
  } else if (svc) {
    if (svc.addressed.via !== 'node-port') throw new UserError('usage', `the outside host has no route to the Service network: trace a NodePort (podnet trace outside NODE:NODEPORT)`);
    cands = nodePortFromOutside(snaps, await outsideHost(h, state), svc.addressed, svc.endpoints);
  } else if (d.kind === 'outside' && ends.src.kind === 'pod') {
    cands = podToOutside(snaps, ends.src.ref, await outsideHost(h, state));
  } else {
    throw new UserError('usage', `the outside host reaches the nodes' addresses only: trace a NodePort (podnet trace outside NODE:NODEPORT), or trace from a pod`);
  }
  const points = capturePoints(cands);
  const outsideEnd = ends.src.kind === 'outside' || d.kind === 'outside';
  const { nodes: evNodes, addrs, natAddrs } = nodesOf(cands, snaps, outsideEnd ? srcNode : undefined);
  const first = cands[0].path;
  const hosts = [...new Set([first.src.ip, ...(svc ? [svc.addressed.ip, ...svc.endpoints.map((e) => e.ip)] : [first.dst.ip]), ...(outsideEnd ? addrs : [])])];
  const ports = [...new Set([ends.port, ...(svc?.endpoints.map((e) => e.port) ?? [])].filter((p): p is number => p !== undefined))];
  const filter = natFilter(ends.protocol, hosts, ports, first.overlay?.request?.from.port ?? 8472);
  const listeners = ends.protocol === 'tcp' ? (svc ? svc.endpoints.map((e) => ({ netns: cands.find((c) => c.endpoint === e)!.path.points.at(-1)!.netns, port: e.port })) : [{ netns: first.points.at(-1)!.netns, port: ends.port ?? 80 }]) : [];
  const srcNetns = first.points[0].netns;
  const traceHosts = [first.src.ip, ...natAddrs];
  return { candidates: cands, points, filter: () => filter, srcNetns, probeIp: svc ? svc.addressed.ip : first.dst.ip, listeners, nodes: evNodes, hosts, traceHosts };
}

/** Plans a trace: resolves its ends on a lab (or a host), scans the nodes, finds the paths. */
export async function planTrace(h: Host, req: TraceAsk & { target: Target; stateRoot: string }): Promise<TracePlan> {
  const state = req.target.kind === 'lab' ? req.target.state : undefined;
  const ends = resolveEnds(state ? await worldOf(state) : undefined, req.src, req.dst, req.protocol, req.port);
  const mode = state?.proxyMode === 'iptables' || (state && !state.proxyMode) ? 'iptables' : 'nftables';
  const base = { ends, protocol: ends.protocol, ...(ends.port !== undefined ? { port: ends.port } : {}), mode, ...(state ? { state } : {}) } as const;
  if (state && (ends.dst.kind === 'service' || ends.dst.kind === 'outside' || ends.src.kind === 'outside')) return { ...base, ...(await natPlan(h, req, state, ends)) };
  if (ends.src.kind !== 'pod' || (ends.dst.kind !== 'pod' && ends.dst.kind !== 'ip')) throw new UserError('usage', 'trace from a pod to a pod or an address');
  const path = tracePath(await traceSnapshots(h, req.target, req.stateRoot, ends.src.ref, ends.dst.ref), ends.src.ref, ends.dst.ref);
  const flow = captureFilter(ends.protocol, path.src.ip, path.dst.ip, ends.port);
  const filter = path.misroute ? () => flow : filterByRole(flow, vxlanFilter(ends.protocol, path.src.ip, path.dst.ip, path.overlay?.request?.from.port ?? 8472));
  const dstPoint = path.points.find((p) => p.position === path.points.length - 1 && p.role === 'pod-eth0');
  const cands = [{ path }];
  return {
    ...base, candidates: cands, points: path.points, filter, srcNetns: path.points[0].netns, probeIp: path.dst.ip,
    listeners: ends.protocol === 'tcp' && dstPoint ? [{ netns: dstPoint.netns, port: ends.port ?? 8080 }] : [],
    nodes: nodesOf(cands, []).nodes, hosts: [path.src.ip, path.dst.ip], traceHosts: [path.src.ip],
  };
}
