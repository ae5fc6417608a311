// Faults of flannel's overlay: one of a peer's entries on flannel.1 deleted (FDB entry, neighbour or
// route), flannel.1 made again with another VNI, VXLAN checksums corrupted on the underlay, a lease
// left behind by a node that is gone.
import { fdbDel, neighDel, routeDel } from '../../host/ip-lines.js';
import { ethtoolFeatures, ethtoolSet } from '../../host/ethtool.js';
import { nftApply } from '../../host/nft.js';
import { UserError } from '../../model/errors.js';
import { addIp, addressOf, networkOf, parseCidr } from '../../model/ip.js';
import { macFromBytes } from '../../model/mac.js';
import { controlPlaneIP, freeSubnet, openLabStore } from '../cluster.js';
import { labNetns } from '../names.js';
import type { FaultContext, FaultDef } from './types.js';
import { applyUndo, type UndoStep } from './undo.js';

const DEV = 'flannel.1';
/** The VNI the wrong-vni fault gives flannel.1 (flannel: 1). */
export const WRONG_VNI = 2;
/** The checksum the underlay writes into VXLAN packets from the node. */
const BAD_CSUM = '0xdead';

/** The peer's VTEP IP and MAC, and its node IP. */
function peerOf(ctx: FaultContext): { vtepIP: string; mac: string; ip: string; subnet: string } {
  const p = ctx.peer!;
  return { vtepIP: networkOf(parseCidr(p.podCIDR)), mac: p.vtepMac.toLowerCase(), ip: addressOf(p.ip), subnet: p.podCIDR };
}

/** flannel.1 as it is now: parameters, addresses and entries (what a recreate must put back). */
async function vtepNow(ctx: FaultContext): Promise<Extract<UndoStep, { op: 'vxlan' }>> {
  const net = ctx.deps.host.net(labNetns(ctx.node.netns));
  const [{ link, addrs }, neighs, fdb, routes] = await Promise.all([net.addrShow(DEV), net.neighList({ dev: DEV }), net.fdbList({ dev: DEV }), net.routeList()]);
  if (!link || link.kind !== 'vxlan') throw new UserError('state', `node ${ctx.node.name} has no ${DEV}: nothing was changed`);
  return {
    op: 'vxlan', netns: ctx.node.netns, dev: DEV, mac: link.mac, mtu: link.mtu, vni: link.vni ?? 1, local: link.local ?? addressOf(ctx.node.ip), uplink: 'eth0', port: link.dstport ?? 8472,
    addrs: addrs.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefix}`),
    neighs: neighs.filter((n) => n.lladdr && n.state.includes('PERMANENT')).map((n) => ({ dst: n.dst, lladdr: n.lladdr! })),
    fdb: fdb.filter((e) => e.dst).map((e) => ({ mac: e.mac, dst: e.dst! })),
    routes: routes.filter((r) => r.dev === DEV).map((r) => ({ dst: r.dst, ...(r.gateway ? { via: r.gateway } : {}), dev: DEV, ...(r.flags.includes('onlink') ? { onlink: true } : {}) })),
  };
}

/** A free underlay address for a node that never was (below the control plane's). */
function deadNodeIp(ctx: FaultContext): string {
  const used = new Set(ctx.state.plan.nodes.map((n) => addressOf(n.ip)));
  for (let ip = addIp(addressOf(controlPlaneIP(ctx.state.plan)), -1), i = 0; i < 200; i++, ip = addIp(ip, -1)) if (!used.has(ip)) return ip;
  throw new UserError('conflict', `the underlay ${ctx.state.plan.underlay.cidr} has no free address for a dead node`);
}

export const overlayFaults: FaultDef[] = [
  ...(['fdb', 'neigh', 'route'] as const).map((part): FaultDef => ({
    name: `${part}-missing`, scope: 'node', options: ['peer'],
    summary: `delete the ${part === 'fdb' ? 'FDB entry' : part === 'neigh' ? 'neighbour' : 'route'} flannel.1 holds for a peer node (--peer; default: the first other node)`,
    async inject(ctx) {
      const p = peerOf(ctx);
      const net = ctx.deps.host.net(labNetns(ctx.node.netns));
      if (part === 'fdb') {
        await net.bridgeBatch([fdbDel(p.mac, DEV, { dst: p.ip, self: true })]);
        ctx.undo.push({ op: 'fdb', netns: ctx.node.netns, dev: DEV, mac: p.mac, dst: p.ip });
      } else if (part === 'neigh') {
        (await net.batch([neighDel(p.vtepIP, DEV)])).ok();
        ctx.undo.push({ op: 'neigh', netns: ctx.node.netns, dev: DEV, dst: p.vtepIP, lladdr: p.mac });
      } else {
        (await net.batch([routeDel(p.subnet, DEV)])).ok();
        ctx.undo.push({ op: 'route', netns: ctx.node.netns, route: { dst: p.subnet, via: p.vtepIP, dev: DEV, onlink: true } });
      }
    },
  })),
  {
    name: 'wrong-vni', scope: 'node', summary: `make flannel.1 again with VNI ${WRONG_VNI} (flannel: 1), its address and entries put back as they were`,
    async inject(ctx) {
      const was = await vtepNow(ctx);
      ctx.undo.push(was);
      await applyUndo(ctx.deps, ctx.dir, ctx.state, { ...was, vni: WRONG_VNI });
    },
  },
  {
    name: 'vxlan-csum', scope: 'node', summary: 'corrupt the UDP checksum of every VXLAN packet the node sends, on the underlay switch (nftables), with the node checksumming in software',
    async inject(ctx) {
      const ns = labNetns(ctx.node.netns);
      const feature = 'tx-checksum-ip-generic';
      const was = (await ethtoolFeatures(ctx.deps.host.runner, ns, 'eth0'))?.[feature];
      if (was === undefined) throw new UserError('state', `node ${ctx.node.name}'s eth0 has no ${feature} feature: nothing was changed`);
      await ethtoolSet(ctx.deps.host.runner, ns, 'eth0', feature, false);
      ctx.undo.push({ op: 'ethtool', netns: ctx.node.netns, dev: 'eth0', feature, on: was });
      const table = `podnet-fault-csum-${ctx.node.name}`.slice(0, 60);
      const sw = ctx.state.plan.underlay.netns;
      await nftApply(ctx.deps.host.runner, labNetns(sw), `table bridge ${table} {\n  chain corrupt {\n    type filter hook forward priority 0; policy accept;\n    iifname "${ctx.node.name}" udp dport 8472 udp checksum set ${BAD_CSUM}\n  }\n}\n`);
      ctx.undo.push({ op: 'nft-delete-table', netns: sw, family: 'bridge', table });
    },
  },
  {
    name: 'stale-lease', scope: 'cluster', summary: 'leave a lease in the lab\'s store held by a node that is gone (a free subnet, an unused underlay address)',
    async inject(ctx) {
      const store = await openLabStore(ctx.deps, ctx.dir, ctx.state.overlay);
      try {
        const { leases } = await store.list();
        const taken = new Set(leases.map((l) => l.subnet));
        const plan = { ...ctx.state.plan, nodes: [...ctx.state.plan.nodes, ...leases.map((l) => ({ ...ctx.state.plan.nodes[0], podCIDR: l.subnet as `${string}/${number}` }))] };
        const subnet = freeSubnet(plan);
        if (taken.has(subnet)) throw new UserError('conflict', `no free subnet for a stale lease in ${ctx.state.plan.clusterCIDR}`);
        const attrs = { PublicIP: deadNodeIp(ctx), BackendType: 'vxlan' as const, BackendData: { VNI: 1, VtepMAC: macFromBytes(ctx.deps.random(6)) } };
        if (!(await store.create(subnet, attrs, 0))) throw new UserError('conflict', `${subnet} was taken meanwhile: nothing was changed`);
        ctx.undo.push({ op: 'lease-delete', subnet });
      } finally {
        await store.close();
      }
    },
  },
];
