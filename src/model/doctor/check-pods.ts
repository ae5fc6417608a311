// Pods: each has its interface up with the address the cluster knows it by, no address is held by
// two pods, and host-local's store holds no reservation that no pod uses (a DEL that never ran). Pure.
import { addressOf } from '../ip.js';
import { inNs } from './commands.js';
import { listed, on, plural, type Check } from './node.js';
import type { Finding, NodeExpectation, NodeObservation, PodObservation } from './types.js';

/** A check over every node at once. */
export type ClusterCheck = (nodes: readonly { exp: NodeExpectation; obs: NodeObservation }[]) => Finding[];

const ipsOf = (p: PodObservation): string[] => (p.iface?.addrs ?? []).map(addressOf);

/** Every pod's interface is there and up. */
export const checkPodIfaces: Check = (_exp, obs) => {
  const gone = obs.pods.filter((p) => !p.error && !p.iface);
  const down = obs.pods.filter((p) => p.iface && !p.iface.up);
  const out: Finding[] = [];
  if (gone.length) {
    out.push(on(obs, { id: 'pod-iface-missing', severity: 'error', reach: 'pod', subject: gone.map((p) => p.name).join(','),
      what: `${plural(gone.length, 'pod')} ${gone.length === 1 ? 'has' : 'have'} no interface toward the node (${listed(gone.map((p) => p.name))})`,
      breaks: `${listed(gone.map((p) => p.name))} can reach nothing and nothing can reach ${gone.length === 1 ? 'it' : 'them'}.`,
      evidence: gone.slice(0, 4).map((p) => ({ command: inNs(p.ns, ['ip', 'link', 'show']), value: 'no veth' })),
      fix: ['# delete the pods and let the runtime make them again (CNI DEL, then ADD)'] }));
  }
  if (down.length) {
    out.push(on(obs, { id: 'pod-iface-down', severity: 'error', reach: 'pod', subject: down.map((p) => p.name).join(','),
      what: `${plural(down.length, 'pod')}' interface is down (${listed(down.map((p) => `${p.name} ${p.iface!.name}`))})`,
      breaks: `${listed(down.map((p) => p.name))} can reach nothing.`,
      evidence: down.slice(0, 4).map((p) => ({ command: inNs(p.ns, ['ip', 'link', 'show', 'dev', p.iface!.name]), value: 'state DOWN' })),
      fix: down.map((p) => inNs(p.ns, ['ip', 'link', 'set', p.iface!.name, 'up'])) }));
  }
  return out;
};

/** One address per pod: two pods holding one address is one finding; a pod that lost the address the
 * cluster knows it by, another. */
export const checkPodAddresses: ClusterCheck = (nodes) => {
  const holders = new Map<string, { node: NodeObservation; pod: PodObservation }[]>();
  for (const { obs } of nodes) for (const pod of obs.pods) for (const ip of ipsOf(pod)) holders.set(ip, [...(holders.get(ip) ?? []), { node: obs, pod }]);
  const out: Finding[] = [];
  const dupPods = new Set<string>();
  for (const [ip, hs] of holders) {
    if (hs.length < 2) continue;
    hs.forEach((h) => dupPods.add(h.pod.name));
    const recorded = new Map(nodes.flatMap(({ exp }) => exp.pods ?? []).map((p) => [p.name, p.ip]));
    const intruders = hs.filter((h) => recorded.get(h.pod.name) !== undefined && recorded.get(h.pod.name) !== ip);
    const lost = intruders.map((h) => `${h.pod.name} holds it instead of its own ${recorded.get(h.pod.name)}`);
    out.push({ id: 'duplicate-pod-ip', severity: 'error', reach: 'pod', node: [...new Set(hs.map((h) => h.node.node))].join(', '), subject: ip,
      what: `${ip} is held by ${plural(hs.length, 'pod')}: ${listed(hs.map((h) => h.pod.name))}${lost.length ? ` (${lost.join('; ')})` : ''}`,
      breaks: `Traffic for ${ip} reaches whichever pod answered ARP last${lost.length ? `, and ${listed(intruders.map((h) => h.pod.name))} ${intruders.length === 1 ? 'is' : 'are'} unreachable at ${intruders.length === 1 ? 'its' : 'their'} own address` : ''}.`,
      evidence: hs.map((h) => ({ command: inNs(h.pod.ns, ['ip', '-4', 'addr', 'show', 'dev', h.pod.iface!.name]), value: `${h.pod.name}: ${h.pod.iface!.addrs.join(', ')}` })),
      fix: intruders.length
        ? intruders.flatMap((h) => { const own = recorded.get(h.pod.name)!; const cidr = h.pod.iface!.addrs.find((a) => addressOf(a) === ip)!; return [inNs(h.pod.ns, ['ip', 'addr', 'del', cidr, 'dev', h.pod.iface!.name]), inNs(h.pod.ns, ['ip', 'addr', 'add', `${own}/${cidr.split('/')[1]}`, 'dev', h.pod.iface!.name]), `# then put back ${h.pod.name}'s routes: ${inNs(h.pod.ns, ['ip', 'route', 'replace', 'default', 'via', 'GATEWAY'])}`]; })
        : ['# delete all but one of these pods (CNI DEL, then ADD): their IPAM store handed the address out twice'] });
  }
  for (const { exp, obs } of nodes) {
    const missing = (exp.pods ?? []).filter((r) => r.ip && !dupPods.has(r.name)).flatMap((r) => {
      const p = obs.pods.find((x) => x.name === r.name);
      return p?.iface && !ipsOf(p).includes(r.ip!) ? [{ p, ip: r.ip! }] : [];
    });
    if (missing.length) {
      out.push(on(obs, { id: 'pod-ip-missing', severity: 'error', reach: 'pod', subject: missing.map((m) => m.p.name).join(','),
        what: `${listed(missing.map((m) => `${m.p.name} does not hold ${m.ip}`))}`,
        breaks: `Nothing reaches ${listed(missing.map((m) => m.p.name))} at the address Services and the cluster know.`,
        evidence: missing.slice(0, 4).map((m) => ({ command: inNs(m.p.ns, ['ip', '-4', 'addr', 'show']), value: m.p.iface!.addrs.join(', ') || '(none)' })),
        fix: ['# delete the pods and let the runtime make them again (CNI DEL, then ADD)'] }));
    }
  }
  return out;
};

/** host-local's reservations: each belongs to an interface that holds it, or to a live pod. */
export const checkIpam: Check = (exp, obs) => {
  if (!obs.ipam) return [];
  const held = new Set(obs.pods.flatMap(ipsOf));
  const live = new Set([...obs.pods.map((p) => p.containerId), ...(exp.pods ?? []).map((p) => p.containerId)].filter(Boolean));
  const leaked = obs.ipam.entries.filter((e) => !held.has(e.ip) && !live.has(e.containerId));
  if (leaked.length === 0) return [];
  return [on(obs, { id: 'ipam-leak', severity: 'warning', reach: 'pod', subject: leaked.map((e) => e.ip).join(','),
    what: `host-local holds ${plural(leaked.length, 'reservation')} no pod uses (${listed(leaked.map((e) => `${e.ip} for ${e.containerId.slice(0, 12)}`))})`,
    breaks: `Those addresses are never handed out again; once the range is used up, new pods on this node fail with "no IP addresses available".`,
    evidence: [{ command: `ls ${obs.ipam.dir}`, value: leaked.map((e) => e.ip).join(' ') }],
    fix: leaked.map((e) => `rm ${e.file}`) })];
};
