// The causal order of one packet's hops. Capture times are per interface, and tcpdump does not stamp
// a frame when it crosses a point but when that point's tap hands it over: the bridge's copy of a
// forwarded frame is delivered to cni0's tap after the egress port has sent it, so cni0's time comes
// after the egress veth's; a flooded frame is stamped with its ingress port's time to the nanosecond.
// Sorting by time puts "leaves cni0 through veth…" before "cni0 forwarded to port veth…". The path
// knows better: a packet goes from its origin hop by hop along the path (requests forwards, replies
// backwards), and a hairpin reflection goes back from the bridge that reflected it. Each hop's cause
// is the hop before it on that walk; the hops are listed so that every hop comes after its cause,
// and among the hops whose cause is listed, the one captured first (ties: nearer the origin, not a
// reflection, capture order). Where times agree with the path, the order is the time order. The
// times themselves are kept: a hop may show a time earlier than the hop before it. Pure.
import { cmpBig, type Direction, type TraceHop } from '../model/trace.js';

/** The index of the hop each hop came from (undefined for the origin, `hops[0]`). A hop on the way out
 * from the origin came from the hop next to it towards the origin; a reflection came from the hop
 * next to it further out (the reflection before it, or the bridge where it turned). */
export function causes(hops: readonly TraceHop[], direction: Direction): (number | undefined)[] {
  if (hops.length === 0) return [];
  const origin = hops[0].position;
  const straight = new Map<number, number>();
  const reflected = new Map<number, number>();
  hops.forEach((h, i) => {
    const at = h.reflected ? reflected : straight;
    if (!at.has(h.position)) at.set(h.position, i);
  });
  const positions = hops.map((h) => h.position);
  const lo = Math.min(...positions);
  const hi = Math.max(...positions);
  const d = direction === 'request' ? 1 : -1;
  return hops.map((h, i) => {
    if (i === 0) return undefined;
    const away = Math.sign(h.position - origin) || d;
    if (!h.reflected) {
      for (let p = h.position - away; p * away >= origin * away; p -= away) {
        const j = straight.get(p);
        if (j !== undefined && j !== i) return j;
      }
      return 0;
    }
    for (let p = h.position + away; p >= lo && p <= hi; p += away) {
      const j = reflected.get(p) ?? straight.get(p);
      if (j !== undefined && j !== i) return j;
    }
    return 0;
  });
}

/** The hops of one packet in causal order (see the file's comment), each hop unchanged. `hops` is in
 * capture order with the origin first. */
export function causalOrder(hops: readonly TraceHop[], direction: Direction): TraceHop[] {
  const cause = causes(hops, direction);
  // How many hops lie between a hop and the origin on its walk (bounded: causes form a tree).
  const depth = cause.map((_, i) => {
    let n = 0;
    for (let c = cause[i]; c !== undefined && n < hops.length; c = cause[c]) n++;
    return n;
  });
  const before = (a: number, b: number) => cmpBig(hops[a].tsNs, hops[b].tsNs) || depth[a] - depth[b]
    || Number(!!hops[a].reflected) - Number(!!hops[b].reflected) || a - b;
  const done = hops.map(() => false);
  const out: TraceHop[] = [];
  for (let n = 0; n < hops.length; n++) {
    let best = -1;
    for (let i = 0; i < hops.length; i++) {
      const c = cause[i];
      if (done[i] || (c !== undefined && !done[c])) continue;
      if (best < 0 || before(i, best) < 0) best = i;
    }
    if (best < 0) best = done.indexOf(false); // unreachable (causes form a tree); keeps every hop
    done[best] = true;
    out.push(hops[best]);
  }
  return out;
}
