// Faults of links and pods: hairpin off on a pod's bridge port, an MTU mismatch (on a pod, cni0 or
// flannel.1), a pod holding another pod's address.
import { addrAdd, addrDel, linkSetHairpin, linkSetMtu, routeReplace } from '../../host/ip-lines.js';
import { UserError } from '../../model/errors.js';
import { labNetns } from '../names.js';
import type { FaultContext, FaultDef } from './types.js';
import type { RouteSpec } from './undo.js';

/** How far below the right MTU a mismatch goes: big packets no longer fit, small ones still do. */
const MTU_DROP = 50;

/** Sets a link's MTU, remembering the old one. */
async function setMtu(ctx: FaultContext, netns: string, dev: string, mtu: number): Promise<void> {
  const net = ctx.deps.host.net(labNetns(netns));
  const link = await net.linkByName(dev);
  if (!link) throw new UserError('not-found', `${dev} does not exist in ${netns}: nothing was changed`);
  ctx.undo.push({ op: 'pmtu-forget' });
  (await net.batch([linkSetMtu(dev, mtu)])).ok();
  ctx.undo.push({ op: 'mtu', netns, dev, mtu: link.mtu });
}

/** The pod's own address (CIDR) and routes on eth0, read in its namespace. */
async function podAddressing(ctx: FaultContext, netns: string): Promise<{ cidr: string; routes: RouteSpec[] }> {
  const net = ctx.deps.host.net(labNetns(netns));
  const [{ addrs }, routes] = await Promise.all([net.addrShow('eth0'), net.routeList()]);
  const own = addrs.find((a) => a.family === 'inet');
  if (!own) throw new UserError('state', `pod in ${netns} has no IPv4 address on eth0: nothing was changed`);
  return {
    cidr: `${own.local}/${own.prefix}`,
    routes: routes.filter((r) => r.protocol !== 'kernel' && r.dev === 'eth0').map((r) => ({ dst: r.dst, ...(r.gateway ? { via: r.gateway } : {}), dev: 'eth0', ...(r.flags.includes('onlink') ? { onlink: true } : {}) })),
  };
}

export const linkFaults: FaultDef[] = [
  {
    name: 'hairpin-off', scope: 'node', options: ['pod'], summary: 'turn hairpin mode off on a pod\'s bridge port (--pod; default: the node\'s first pod)',
    async inject(ctx) {
      const dev = ctx.pod!.hostVeth;
      if (!dev) throw new UserError('state', `pod "${ctx.pod!.name}" has no host veth on record: nothing was changed`);
      (await ctx.deps.host.net(labNetns(ctx.node.netns)).batch([linkSetHairpin(dev, false)])).ok();
      ctx.undo.push({ op: 'hairpin', netns: ctx.node.netns, dev, on: true });
    },
  },
  {
    name: 'mtu-mismatch', scope: 'node', options: ['on', 'pod'], summary: `set an MTU ${MTU_DROP} below the right one on a pod's eth0, cni0 or flannel.1 (--on pod|cni0|flannel.1; default flannel.1)`,
    async inject(ctx) {
      const mtu = ctx.state.plan.mtu - MTU_DROP;
      if (ctx.on === 'pod') return setMtu(ctx, ctx.pod!.netns, 'eth0', mtu);
      if (ctx.on === 'cni0') return setMtu(ctx, ctx.node.netns, 'cni0', mtu);
      return setMtu(ctx, ctx.node.netns, 'flannel.1', mtu);
    },
  },
  {
    name: 'duplicate-ip', scope: 'node', options: ['pod'], summary: 'give a pod (--pod; default the node\'s second pod) the address of another pod on its node',
    async inject(ctx) {
      const pod = ctx.pod!;
      const other = ctx.state.pods.find((p) => p.node === ctx.node.name && p.name !== pod.name && p.ip);
      if (!other) throw new UserError('usage', `--pod ${pod.name}: node ${ctx.node.name} has no other pod to copy an address from (run one: podnet run NAME --node ${ctx.node.name})`);
      const { cidr, routes } = await podAddressing(ctx, pod.netns);
      const dup = `${other.ip}/${cidr.split('/')[1]}`;
      const net = ctx.deps.host.net(labNetns(pod.netns));
      (await net.batch([addrDel(cidr, 'eth0'), addrAdd(dup, 'eth0'), ...routes.map((r) => routeReplace(r.dst, r))])).ok();
      ctx.undo.push({ op: 'neigh-forget', netns: ctx.node.netns, dev: 'cni0', dst: [other.ip!, cidr.split('/')[0]] });
      ctx.undo.push({ op: 'addr', netns: pod.netns, dev: 'eth0', del: dup, add: cidr, routes });
    },
  },
];
