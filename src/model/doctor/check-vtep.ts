// flannel.1 itself: present where the node has other nodes to reach, a VXLAN device with flannel's
// parameters (VNI, port, nolearning, local = the node's IP), the lease's MAC, its /32 address, up.
// A device that must be recreated is one finding whose fix puts back every entry on it too. Pure.
import { inNs } from './commands.js';
import { on, uplinkOf, v4Of, vtepOf, type Check } from './node.js';
import { remoteLines } from './check-remotes.js';
import { VXLAN_OVERHEAD } from '../k3s.js';
import { networkOf, parseCidr } from '../ip.js';
import type { Finding, NodeExpectation, NodeObservation } from './types.js';

/** The lines that make flannel.1 again, as flannel does, with every remote's entries. */
function recreate(exp: NodeExpectation, obs: NodeObservation, mac: string | undefined): string[] {
  const v = exp.vtep!;
  const up = uplinkOf(exp, obs);
  const ns = obs.ns;
  const addr = exp.podCIDR ? `${networkOf(parseCidr(exp.podCIDR))}/32` : undefined;
  return [
    inNs(ns, ['ip', 'link', 'del', v.device]),
    inNs(ns, ['ip', 'link', 'add', v.device, ...(mac ? ['address', mac] : []), ...(up ? ['mtu', String(up.mtu - VXLAN_OVERHEAD)] : []), 'type', 'vxlan', 'id', String(v.vni),
      ...(exp.publicIP ? ['local', exp.publicIP] : []), ...(up ? ['dev', up.name] : []), 'dstport', String(v.port), 'nolearning']),
    ...(addr ? [inNs(ns, ['ip', 'addr', 'add', addr, 'dev', v.device])] : []),
    inNs(ns, ['ip', 'link', 'set', v.device, 'up']),
    ...(exp.remotes ?? []).filter((r) => !r.stale).flatMap((r) => remoteLines(ns, v.device, r, ['neigh', 'fdb', 'route'])),
  ];
}

/** What of the device differs from flannel's parameters. */
function differences(exp: NodeExpectation, link: NonNullable<ReturnType<typeof vtepOf>>): string[] {
  const v = exp.vtep!;
  if (link.kind !== 'vxlan') return [`it is a ${link.kind === 'generic' ? link.infoKind : link.kind} device, not vxlan`];
  return [
    link.vni !== v.vni ? `VNI ${link.vni} (flannel: ${v.vni})` : '',
    link.dstport !== v.port ? `UDP port ${link.dstport} (flannel: ${v.port})` : '',
    link.learning ? 'learning on (flannel: nolearning)' : '',
    exp.publicIP && link.local !== exp.publicIP ? `local ${link.local ?? 'unset'} (this node: ${exp.publicIP})` : '',
  ].filter(Boolean);
}

/** The VXLAN device exists with flannel's parameters, the lease's MAC, its address, up. */
export const checkVtep: Check = (exp, obs) => {
  const v = exp.vtep;
  if (!v) return [];
  const link = vtepOf(exp, obs);
  const show = inNs(obs.ns, ['ip', '-d', 'link', 'show', 'dev', v.device]);
  const base = { reach: 'node' as const, severity: 'error' as const };
  const breaks = 'Pods on this node reach no pod on another node, and none reaches them.';
  if (!link) {
    if (!(exp.remotes ?? []).some((r) => !r.stale)) return [];
    return [on(obs, { ...base, id: 'vtep-missing', what: `${v.device} does not exist`, breaks,
      evidence: [{ command: show, value: `Device "${v.device}" does not exist.` }], fix: recreate(exp, obs, v.mac) })];
  }
  const diff = differences(exp, link);
  if (diff.length) {
    return [on(obs, { ...base, id: diff.length === 1 && diff[0].startsWith('VNI') ? 'vtep-vni' : 'vtep-config', what: `${v.device} is not flannel's: ${diff.join(', ')}`, breaks,
      evidence: [{ command: show, value: link.kind === 'vxlan' ? `vxlan id ${link.vni} local ${link.local} dstport ${link.dstport} ${link.learning ? 'learning' : 'nolearning'}` : link.kind }],
      fix: recreate(exp, obs, v.mac ?? link.mac) })];
  }
  const out: Finding[] = [];
  if (v.mac && link.mac.toLowerCase() !== v.mac.toLowerCase()) {
    out.push(on(obs, { ...base, id: 'vtep-mac', what: `${v.device} has MAC ${link.mac}, but this node's lease announces ${v.mac}`,
      breaks: 'Every other node sends this node\'s pod traffic to the announced MAC, which this device no longer answers to.',
      evidence: [{ command: show, value: `link/ether ${link.mac}` }], fix: [inNs(obs.ns, ['ip', 'link', 'set', v.device, 'address', v.mac])] }));
  }
  const want = exp.podCIDR ? `${networkOf(parseCidr(exp.podCIDR))}/32` : undefined;
  const have = v4Of(obs, v.device);
  if (want && !have.includes(want)) {
    out.push(on(obs, { ...base, id: 'vtep-address', what: `${v.device} holds ${have.join(', ') || 'no IPv4 address'}, not ${want}`,
      breaks: 'Without its address the kernel drops every route and neighbour on the device: traffic to other nodes stops.',
      evidence: [{ command: inNs(obs.ns, ['ip', 'addr', 'show', 'dev', v.device]), value: have.join(', ') || '(no inet)' }],
      fix: [inNs(obs.ns, ['ip', 'addr', 'add', want, 'dev', v.device]), ...(exp.remotes ?? []).filter((r) => !r.stale).flatMap((r) => remoteLines(obs.ns, v.device, r, ['neigh', 'route']))] }));
  }
  if (!link.up) {
    out.push(on(obs, { ...base, id: 'vtep-down', what: `${v.device} is down`, breaks,
      evidence: [{ command: show, value: `state ${link.operstate}` }], fix: [inNs(obs.ns, ['ip', 'link', 'set', v.device, 'up'])] }));
  }
  return out;
};
