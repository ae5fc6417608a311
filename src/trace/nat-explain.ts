// The NAT on a trace's path, explained: at the hop where a packet is first seen with other addresses,
// what rewrote them (DNAT, SNAT, or conntrack undoing them for a reply) on which node, and the chain
// walk the rule tracer saw there (kube-proxy's KUBE-SVC → KUBE-SEP, its nftables service and endpoint
// chains, flannel's masquerade); and the connection tracking entries of the flow on each node, with
// their original and reply tuples. Pure.
import { describeNat, formatEndpoint, type ConntrackEntry, type ConntrackTuple } from '../model/conntrack.js';
import type { ConntrackSeen, RuleHit, TraceHop, TracedPacket, TracePath } from '../model/trace.js';
import { chainWalks, walkText } from './rule-trace.js';

/** The IP id in a packet's key (`… ipid 4660`). */
export const ipIdOf = (p: TracedPacket): number | undefined => {
  const m = /\bipid (\d+)\b/.exec(p.key);
  return m ? Number(m[1]) : undefined;
};

const NODE_ROLES = new Set(['host-veth', 'bridge', 'vxlan', 'node-uplink']);

/** The node whose kernel rewrote the packet between hop `a` and hop `b`: the node of `b`, else of `a`. */
function natNode(path: TracePath, a: TraceHop, b: TraceHop): string | undefined {
  const at = (h: TraceHop) => path.points.find((p) => p.position === h.position);
  const pb = at(b);
  const pa = at(a);
  return pb && NODE_ROLES.has(pb.role) ? pb.owner : pa && NODE_ROLES.has(pa.role) ? pa.owner : pb?.owner;
}

/** `DNAT 10.43.0.11:80 → 10.42.1.2:8080` (and/or SNAT) between two `src > dst` texts; replies: the undoing. */
function rewrite(before: string, after: string, reply: boolean): string {
  const [s0, d0] = before.split(' > ');
  const [s1, d1] = after.split(' > ');
  const parts: string[] = [];
  if (reply) {
    if (s0 !== s1) parts.push(`source ${s0} → ${s1} (the DNAT undone)`);
    if (d0 !== d1) parts.push(`destination ${d0} → ${d1} (the SNAT undone)`);
    return `conntrack rewrites the reply: ${parts.join(', ')}`;
  }
  if (d0 !== d1) parts.push(`DNAT ${d0} → ${d1}`);
  if (s0 !== s1) parts.push(`SNAT ${s0} → ${s1}`);
  return parts.join(', ');
}

/** The chain walks of `hits` on `node` for one packet (by IP id) that rewrote or marked it, as text. */
export function walksAt(hits: readonly RuleHit[], node: string | undefined, ipId: number | undefined): string[] {
  const mine = hits.filter((h) => h.node === node && ipId !== undefined && h.ipId === ipId);
  return chainWalks(mine).filter((w) => w.actions.length > 0).map(walkText);
}

/** The walks that made this hop's rewrite: a DNAT for a new destination, a SNAT or MASQUERADE for a
 * new source (a hairpinned packet is DNATed at one hop and masqueraded at the next); all when none fits. */
function fitting(walks: string[], before: string, after: string): string[] {
  const [s0, d0] = before.split(' > ');
  const [s1, d1] = after.split(' > ');
  const fit = walks.filter((w) => (d0 !== d1 && /DNAT/.test(w)) || (s0 !== s1 && /SNAT|MASQUERADE/.test(w)));
  return fit.length ? fit : walks;
}

/** Adds to every hop where a packet shows new addresses what rewrote them, on which node, and the rule
 * walk there (`by nat PREROUTING → KUBE-SERVICES → …: DNAT to …`). Returns copies; an explanation
 * already set is kept after this one. */
export function explainNat(path: TracePath, packets: readonly TracedPacket[], hits: readonly RuleHit[]): TracedPacket[] {
  return packets.map((p) => {
    if (!p.hops.some((h) => h.addrs)) return p;
    const hops = p.hops.map((h) => ({ ...h }));
    // Each hop is compared with the last one on the way (a reflection, seen again at a point already passed, is not).
    let a = hops[0];
    for (const b of hops.slice(1)) {
      if (b.reflected) continue;
      const before = a;
      a = b;
      if (!before.addrs || !b.addrs || before.addrs === b.addrs) continue;
      const node = natNode(path, before, b);
      const walks = fitting(walksAt(hits, node, ipIdOf(p)), before.addrs, b.addrs);
      const how = walks.length ? ` (${walks.join('; ')})` : p.direction === 'request' ? '\'s conntrack (the connection\'s NAT: no rule walked)' : '';
      const text = `${rewrite(before.addrs, b.addrs, p.direction === 'reply')} by ${node ?? 'the node'}${how}; now ${b.addrs}`;
      b.explanation = b.explanation ? `${text}; ${b.explanation}` : text;
    }
    return { ...p, hops };
  });
}

const tupleText = (t: ConntrackTuple, icmp: boolean) =>
  `${formatEndpoint(t.src, t.sport)} → ${formatEndpoint(t.dst, t.dport)}${icmp && t.id !== undefined ? ` id ${t.id}` : ''}`;

/** The entries of the trace's flow among each node's entries: those whose original source is one the
 * trace's request packets carried (address and port, as seen on any hop). */
export function flowEntries(packets: readonly TracedPacket[], perNode: readonly { node: string; entries: ConntrackEntry[] }[]): ConntrackSeen[] {
  const sources = new Set<string>();
  for (const p of packets.filter((x) => x.direction === 'request' && x.kind !== 'arp')) {
    if (p.src) sources.add(p.src);
    for (const h of p.hops) if (h.addrs) sources.add(h.addrs.split(' > ')[0]);
  }
  const out: ConntrackSeen[] = [];
  for (const { node, entries } of perNode) {
    for (const e of entries) {
      const icmp = e.proto === 'icmp';
      if (!sources.has(icmp ? e.original.src : formatEndpoint(e.original.src, e.original.sport))) continue;
      const nat = describeNat(e);
      out.push({ node, proto: e.proto, ...(e.state ? { state: e.state } : {}), original: tupleText(e.original, icmp), reply: tupleText(e.reply, icmp), flags: [...e.flags], ...(nat ? { nat } : {}) });
    }
  }
  return out;
}

/** `conntrack on server: tcp 10.42.0.2:39738 → 10.43.0.11:80, reply 10.42.1.2:8080 → 10.42.0.2:39738 (DNAT …) TIME_WAIT`. */
export function conntrackText(c: ConntrackSeen): string {
  return `conntrack on ${c.node}: ${c.proto} ${c.original}, reply ${c.reply}${c.nat ? ` (${c.nat})` : ''}${c.state ? ` ${c.state}` : ''}`;
}
