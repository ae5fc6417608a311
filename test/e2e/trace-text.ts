// Reading `podnet trace` output in e2e tests: the packets of a text timeline, the path of a JSON one.

/** The packets of a text timeline (run without COLUMNS: one line per hop), each as its label and its
 * hops' points with their arrows: a line with a label starts a packet, ″ continues it. The timeline
 * merges packets that overlap in time (a TCP ACK and the FIN,ACK right behind it), naming a packet
 * again when its hops resume: given the path's length, a labelled line continues the latest packet
 * with that label and arrow that has not yet crossed the whole path. */
export function textPackets(stdout: string, pathLength?: number): { label: string; hops: string[] }[] {
  const out: { label: string; arrow: string; hops: string[] }[] = [];
  let cur: (typeof out)[number] | undefined;
  for (const line of stdout.split('\n').filter((l) => /^ *\+\d/.test(l))) {
    const [, point, arrow, shown] = line.trim().split(/ {2,}/);
    // A packet's hops on the underlay say "… in VXLAN" after its label: the same packet.
    const label = shown.replace(/ in VXLAN$/, '');
    if (!label.startsWith('″') || !cur) {
      const open = pathLength === undefined ? undefined
        : [...out].reverse().find((p) => p.label === label && p.arrow === arrow && p.hops.length < pathLength);
      cur = open ?? { label, arrow, hops: [] };
      if (!open) out.push(cur);
    }
    cur.hops.push(`${point} ${arrow}`);
  }
  return out.map(({ label, hops }) => ({ label, hops }));
}

/** The points of a packet's path from a JSON trace, forwards and backwards. */
export function pathOf(stdout: string): { forward: string[]; backward: string[] } {
  const forward = (JSON.parse(stdout) as { points: { id: string }[] }).points.map((p) => p.id);
  return { forward, backward: [...forward].reverse() };
}
