// Faults of a node's switches and firewall: forwarding off, bridged traffic skipping iptables, strict
// reverse-path filtering, a REJECT in FORWARD ahead of everything, a tiny conntrack table.
import { sysctlRead } from '../../host/procfs.js';
import { iptablesRestore } from '../../host/iptables.js';
import { BRIDGE_NF, IP_FORWARD, rpFilterKey } from '../../model/doctor/check-sysctl.js';
import { labNetns } from '../names.js';
import type { FaultContext, FaultDef } from './types.js';

/** Sets sysctls on the node, remembering each old value. */
async function setSysctls(ctx: FaultContext, pairs: readonly (readonly [string, string])[]): Promise<void> {
  const ns = labNetns(ctx.node.netns);
  const old = await sysctlRead(ctx.deps.host.runner, ns, pairs.map(([k]) => k));
  for (const [key, value] of pairs) {
    if (old[key] === undefined) throw new Error(`${key}: this kernel has no such sysctl in ${ctx.node.netns}`);
    (await ctx.deps.host.net(ns).configure([[key, value]], [])).ok();
    ctx.undo.push({ op: 'sysctl', netns: ctx.node.netns, key, value: old[key] });
  }
}

/** The comment podnet's REJECT carries, so it is podnet's own to remove. */
export const REJECT_SPEC = '-m comment --comment "podnet-fault forward-reject" -j REJECT --reject-with icmp-port-unreachable';

export const nodeFaults: FaultDef[] = [
  {
    name: 'ip-forward-off', scope: 'node', summary: 'turn IP forwarding off on the node (sysctl net.ipv4.ip_forward=0)',
    inject: (ctx) => setSysctls(ctx, [[IP_FORWARD, '0']]),
  },
  {
    name: 'bridge-nf-off', scope: 'node', summary: 'let bridged pod traffic skip iptables (sysctl net.bridge.bridge-nf-call-iptables=0)',
    inject: (ctx) => setSysctls(ctx, [[BRIDGE_NF, '0']]),
  },
  {
    name: 'rp-filter-strict', scope: 'node', summary: 'strict reverse-path filtering on the uplink (rp_filter=1 on all and eth0)',
    inject: (ctx) => setSysctls(ctx, [[rpFilterKey('all'), '1'], [rpFilterKey('eth0'), '1']]),
  },
  {
    name: 'forward-reject', scope: 'node', summary: 'insert an iptables REJECT at the top of FORWARD, ahead of flannel\'s and kube-proxy\'s rules',
    async inject(ctx) {
      await iptablesRestore(ctx.deps.host.runner, labNetns(ctx.node.netns), `*filter\n-I FORWARD 1 ${REJECT_SPEC}\nCOMMIT\n`, { noflush: true });
      ctx.undo.push({ op: 'iptables-delete', netns: ctx.node.netns, table: 'filter', chain: 'FORWARD', spec: REJECT_SPEC });
    },
  },
  {
    name: 'conntrack-max', scope: 'node', summary: 'shrink the connection tracking table to a few entries (nf_conntrack_max)',
    unavailable: 'nf_conntrack_max is machine-wide: read-only inside a network namespace on this kernel (and on older kernels writing it there changes the whole machine), and a lab never changes the machine',
    inject: async () => undefined,
  },
];
