// How an injected fault is undone, step by step, precisely: each step remembers the value or entry the
// fault changed (a sysctl's old value, an MTU, a deleted neighbour, FDB entry or route, a device's
// parameters and entries) and puts it back with the kernel's own tools, through src/host. Steps are
// data (kept in faults.json, checked by schema: every namespace must be the lab's own) and run in
// reverse order; a namespace that is gone (a node deleted since) has nothing left to undo.
import { z } from 'zod';
import {
  addrAdd, addrDel, fdbReplace, linkAddVxlan, linkDel, linkSetHairpin, linkSetMtu, linkSetUp, neighDel, neighReplace, routeFlushCache, routeReplace, type IpLine,
} from '../../host/ip-lines.js';
import { ethtoolSet } from '../../host/ethtool.js';
import { iptablesRestore } from '../../host/iptables.js';
import { nftDeleteTable } from '../../host/nft.js';
import type { Service } from '../../model/k8s.js';
import type { LabDeps } from '../deps.js';
import { openLabStore } from '../cluster.js';
import { labNetns, labPrefix } from '../names.js';
import { labNamespaces, type LabDir, type LabState } from '../state.js';
import { syncServices } from '../sync.js';
import { DNS_NAMESPACE, DNS_POD } from '../dns.js';
import { startDnsPod } from '../dns-pod.js';
import { removeFrom } from '../pods.js';

const route = z.object({ dst: z.string(), via: z.string().optional(), dev: z.string().optional(), onlink: z.boolean().optional() });

/** The schema of one undo step of lab `lab` (its namespaces only). */
export function undoSchema(lab: string) {
  const netns = z.string().refine((n) => n.startsWith(labPrefix(lab)), { message: `must be a namespace of lab "${lab}" (${labPrefix(lab)}…)` });
  return z.discriminatedUnion('op', [
    z.object({ op: z.literal('sysctl'), netns, key: z.string().regex(/^net\/[A-Za-z0-9_./-]+$/), value: z.string() }),
    z.object({ op: z.literal('mtu'), netns, dev: z.string(), mtu: z.number().int().min(68).max(65535) }),
    z.object({ op: z.literal('hairpin'), netns, dev: z.string(), on: z.boolean() }),
    z.object({ op: z.literal('neigh'), netns, dev: z.string(), dst: z.string(), lladdr: z.string() }),
    z.object({ op: z.literal('neigh-forget'), netns, dev: z.string(), dst: z.array(z.string()) }),
    z.object({ op: z.literal('fdb'), netns, dev: z.string(), mac: z.string(), dst: z.string() }),
    z.object({ op: z.literal('route'), netns, route }),
    z.object({ op: z.literal('iptables-delete'), netns, table: z.enum(['filter', 'nat', 'mangle', 'raw']), chain: z.string(), spec: z.string() }),
    z.object({ op: z.literal('nft-delete-table'), netns, family: z.enum(['ip', 'inet', 'bridge', 'netdev']), table: z.string().regex(/^[A-Za-z0-9_.-]+$/) }),
    z.object({ op: z.literal('ethtool'), netns, dev: z.string(), feature: z.string().regex(/^[a-z0-9-]+$/), on: z.boolean() }),
    z.object({ op: z.literal('lease-delete'), subnet: z.string() }),
    z.object({ op: z.literal('pmtu-forget') }),
    z.object({ op: z.literal('dns-pod-replace') }),
    z.object({ op: z.literal('netpol-delete'), namespace: z.string(), name: z.string() }),
    z.object({ op: z.literal('service'), namespace: z.string(), name: z.string(), selector: z.record(z.string(), z.string()), ports: z.array(z.object({}).passthrough()) }),
    z.object({ op: z.literal('addr'), netns, dev: z.string(), del: z.string(), add: z.string(), routes: z.array(route) }),
    z.object({
      op: z.literal('vxlan'), netns, dev: z.string(), mac: z.string(), mtu: z.number().int(), vni: z.number().int(), local: z.string(), uplink: z.string(), port: z.number().int(),
      addrs: z.array(z.string()), neighs: z.array(z.object({ dst: z.string(), lladdr: z.string() })), fdb: z.array(z.object({ mac: z.string(), dst: z.string() })), routes: z.array(route),
    }),
  ]);
}

/** One step of undoing a fault. */
export type UndoStep = z.infer<ReturnType<typeof undoSchema>>;
export type RouteSpec = z.infer<typeof route>;

const routeLine = (r: RouteSpec): IpLine => routeReplace(r.dst, { ...(r.via ? { via: r.via } : {}), ...(r.dev ? { dev: r.dev } : {}), ...(r.onlink ? { onlink: true } : {}) });

/** Lines that make a VXLAN device again as the step recorded it, with its addresses and entries. */
function vxlanLines(s: Extract<UndoStep, { op: 'vxlan' }>): { ip: IpLine[]; routes: IpLine[] } {
  return {
    ip: [
      linkDel(s.dev),
      linkAddVxlan(s.dev, { mac: s.mac, mtu: s.mtu, vni: s.vni, local: s.local, dev: s.uplink, dstport: s.port, learning: false }),
      ...s.addrs.map((a) => addrAdd(a, s.dev)), linkSetUp(s.dev),
      ...s.neighs.map((n) => neighReplace(n.dst, n.lladdr, s.dev)),
    ],
    routes: s.routes.map(routeLine),
  };
}

/** Undoing twice is fine: what is already gone, or already back, is not an error. */
const again = (f: { kind: string }): boolean => f.kind === 'not-found' || f.kind === 'exists';

/** Runs one step; running it again after it ran (a heal retried) changes nothing and does not fail. */
export async function applyUndo(deps: LabDeps, dir: LabDir, state: LabState, s: UndoStep): Promise<void> {
  if (s.op === 'pmtu-forget') {
    // What an MTU fault taught every namespace of the lab (path-MTU exceptions from ICMP "fragmentation needed").
    await Promise.all(labNamespaces(state).map((n) => deps.host.net(labNetns(n)).batch([routeFlushCache()]).catch(() => undefined)));
    return;
  }
  if (s.op === 'lease-delete') {
    const store = await openLabStore(deps, dir, state.overlay);
    try { await store.remove(s.subnet); } finally { await store.close(); }
    return;
  }
  if (s.op === 'dns-pod-replace') {
    // A new DNS pod in place of the stopped one (a new address maybe; the kube-dns ClusterIP stays), then the sync points kube-dns at it.
    if (state.pods.some((p) => p.name === DNS_POD && p.namespace === DNS_NAMESPACE)) await removeFrom(deps, dir, state, DNS_POD);
    await startDnsPod(deps, dir, state);
    await syncServices(deps, dir, state);
    return;
  }
  if (s.op === 'netpol-delete') {
    const before = state.policies?.length ?? 0;
    state.policies = (state.policies ?? []).filter((p) => !(p.namespace === s.namespace && p.name === s.name));
    if (state.policies.length === before) return;
    if (!deps.host.dryRun) await dir.write(state);
    await syncServices(deps, dir, state);
    return;
  }
  if (s.op === 'service') {
    // The Service's selector and ports as they were, then kube-proxy and the DNS synced (a Service deleted since: nothing to put back).
    const svc = state.services?.find((x) => x.namespace === s.namespace && x.name === s.name);
    if (!svc) return;
    Object.assign(svc, { selector: s.selector, ports: s.ports as unknown as Service['ports'] });
    if (!deps.host.dryRun) await dir.write(state);
    await syncServices(deps, dir, state);
    return;
  }
  const ns = labNetns(s.netns);
  if (!(await deps.host.exists(ns.path))) return;
  const net = deps.host.net(ns);
  switch (s.op) {
    case 'sysctl': (await net.configure([[s.key, s.value]], [])).ok(); return;
    case 'mtu': (await net.batch([linkSetMtu(s.dev, s.mtu)])).ok(); return;
    case 'hairpin': (await net.batch([linkSetHairpin(s.dev, s.on)])).ok(); return;
    case 'neigh': (await net.batch([neighReplace(s.dst, s.lladdr, s.dev)])).ok(); return;
    case 'neigh-forget': await net.batch(s.dst.map((d) => neighDel(d, s.dev))).catch(() => undefined); return;
    case 'fdb': await net.bridgeBatch([fdbReplace(s.mac, s.dev, { dst: s.dst, self: true, permanent: true })]); return;
    case 'route': (await net.batch([routeLine(s.route)])).ok(); return;
    case 'iptables-delete':
      await iptablesRestore(deps.host.runner, ns, `*${s.table}\n-D ${s.chain} ${s.spec}\nCOMMIT\n`, { noflush: true }).catch((e: Error) => { if (!/matching rule|No chain|does not exist/i.test(e.message)) throw e; });
      return;
    case 'nft-delete-table': await nftDeleteTable(deps.host.runner, ns, s.family, s.table); return;
    case 'ethtool': await ethtoolSet(deps.host.runner, ns, s.dev, s.feature, s.on); return;
    case 'addr': (await net.batch([addrDel(s.del, s.dev), addrAdd(s.add, s.dev), ...s.routes.map(routeLine)])).ok(again); return;
    case 'vxlan': {
      const lines = vxlanLines(s);
      (await net.batch(lines.ip, [[`net/ipv6/conf/${s.dev}/accept_ra`, '0']])).ok((f) => f.kind === 'not-found' && f.text.startsWith('link del'));
      await net.bridgeBatch(s.fdb.map((e) => fdbReplace(e.mac, s.dev, { dst: e.dst, self: true, permanent: true })));
      (await net.batch(lines.routes)).ok();
    }
  }
}

