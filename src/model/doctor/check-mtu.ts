// MTUs along a pod's path: the pod's eth0 and its host veth, cni0, flannel.1 = the uplink's − 50 (the
// outer Ethernet, IP, UDP and VXLAN headers). A wrong flannel.1 is one finding, never one per pod. Pure.
import { VXLAN_OVERHEAD } from '../k3s.js';
import { inNs } from './commands.js';
import { linkNamed, listed, on, plural, uplinkOf, vtepOf, type Check } from './node.js';
import type { Finding } from './types.js';

/** flannel.1's MTU is the uplink's minus the VXLAN overhead; the pods' MTU fits inside it. */
export const checkVtepMtu: Check = (exp, obs) => {
  const vx = vtepOf(exp, obs);
  const up = uplinkOf(exp, obs);
  if (!vx || vx.kind !== 'vxlan' || !up) return [];
  const want = up.mtu - VXLAN_OVERHEAD;
  const show = { command: inNs(obs.ns, ['ip', '-d', 'link', 'show']), value: `${up.name} mtu ${up.mtu}, ${vx.name} mtu ${vx.mtu}` };
  if (vx.mtu !== want) {
    return [on(obs, {
      id: 'vtep-mtu', severity: 'error', reach: 'node',
      what: `${vx.name} has MTU ${vx.mtu}; over ${up.name} (MTU ${up.mtu}) it must be ${want}`,
      breaks: vx.mtu < want
        ? `Packets of ${vx.mtu + 1}–${want} bytes between this node's pods and other nodes are refused (DF set) or fragmented, so large transfers stall.`
        : `Packets of ${want + 1}–${vx.mtu} bytes leave as VXLAN frames bigger than ${up.name} can carry and are dropped.`,
      evidence: [show],
      fix: [inNs(obs.ns, ['ip', 'link', 'set', vx.name, 'mtu', String(want)])],
    })];
  }
  if (exp.podMtu !== undefined && exp.podMtu > want) {
    return [on(obs, {
      id: 'pod-mtu-overlay', severity: 'error', reach: 'node',
      what: `The pods' MTU (FLANNEL_MTU ${exp.podMtu}) is larger than ${vx.name}'s ${want}`,
      breaks: `Every pod sends packets of ${want + 1}–${exp.podMtu} bytes that cannot cross the overlay: large transfers to other nodes stall.`,
      evidence: [show],
      fix: [`# write FLANNEL_MTU=${want} in subnet.env (flannel derives it from the uplink), then recreate the pods`],
    })];
  }
  return [];
};

/** cni0 carries the pods' MTU (once it has ports: an empty bridge keeps 1500). */
export const checkBridgeMtu: Check = (exp, obs) => {
  const br = linkNamed(obs, exp.bridge);
  const want = exp.podMtu;
  if (!br || want === undefined || br.mtu === want || !obs.links.some((l) => l.master === exp.bridge)) return [];
  return [on(obs, {
    id: 'bridge-mtu', severity: 'error', reach: 'node',
    what: `${exp.bridge} has MTU ${br.mtu}; the pods' MTU is ${want}`,
    breaks: br.mtu < want
      ? `Packets of ${br.mtu + 1}–${want} bytes routed to this node's pods (from other nodes, from the node itself) are refused or fragmented.`
      : `${exp.bridge} passes frames the pods cannot take.`,
    evidence: [{ command: inNs(obs.ns, ['ip', 'link', 'show', 'dev', exp.bridge]), value: `${exp.bridge} mtu ${br.mtu}` }],
    fix: [inNs(obs.ns, ['ip', 'link', 'set', exp.bridge, 'mtu', String(want)])],
  })];
};

/** Each pod's eth0 and its host veth carry the pods' MTU (both ends of a veth alike). One finding per
 * node, listing the pods. */
export const checkPodMtu: Check = (exp, obs) => {
  const br = linkNamed(obs, exp.bridge);
  const wrong = obs.pods.flatMap((p) => {
    const want = exp.podMtu ?? br?.mtu ?? p.hostVeth?.mtu;
    if (!p.iface || want === undefined) return [];
    const ends = [p.iface.mtu, p.hostVeth?.mtu ?? want];
    return ends.every((m) => m === want) ? [] : [{ p, want }];
  });
  if (wrong.length === 0) return [];
  const desc = ({ p }: (typeof wrong)[number]) => `${p.name} ${p.iface!.name} ${p.iface!.mtu}${p.hostVeth ? ` / ${p.hostVeth.name} ${p.hostVeth.mtu}` : ''}`;
  const fix = wrong.flatMap(({ p, want }) => [
    ...(p.iface!.mtu !== want ? [inNs(p.ns, ['ip', 'link', 'set', p.iface!.name, 'mtu', String(want)])] : []),
    ...(p.hostVeth && p.hostVeth.mtu !== want ? [inNs(obs.ns, ['ip', 'link', 'set', p.hostVeth.name, 'mtu', String(want)])] : []),
  ]);
  const f: Finding = on(obs, {
    id: 'pod-mtu', severity: 'error', reach: 'pod', subject: wrong.map(({ p }) => p.name).join(','),
    what: `${plural(wrong.length, 'pod')} ${wrong.length === 1 ? 'has' : 'have'} an MTU other than ${wrong[0].want} on ${wrong.length === 1 ? 'its' : 'their'} veth (${listed(wrong.map(desc))})`,
    breaks: `Packets bigger than the smaller end's MTU between ${listed(wrong.map(({ p }) => p.name))} and the rest of the cluster are dropped without an error.`,
    evidence: wrong.slice(0, 4).map(({ p }) => ({ command: inNs(p.ns, ['ip', 'link', 'show', 'dev', p.iface!.name]), value: `${p.iface!.name} mtu ${p.iface!.mtu}` })),
    fix,
  });
  return [f];
};

export const mtuChecks: Check[] = [checkVtepMtu, checkBridgeMtu, checkPodMtu];
