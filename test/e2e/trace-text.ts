// Reading `podnet trace` output in e2e tests: the packets of a text timeline, the path of a JSON one.

/** The packets of a text timeline (run without COLUMNS: one line per hop), each as its label and its
 * hops' points with their arrows: a line with a label starts a packet, ″ continues it. */
export function textPackets(stdout: string): { label: string; hops: string[] }[] {
  const out: { label: string; hops: string[] }[] = [];
  for (const line of stdout.split('\n').filter((l) => /^ *\+\d/.test(l))) {
    const [, point, arrow, label] = line.trim().split(/ {2,}/);
    if (!label.startsWith('″')) out.push({ label, hops: [] });
    out.at(-1)!.hops.push(`${point} ${arrow}`);
  }
  return out;
}

/** The points of a packet's path from a JSON trace, forwards and backwards. */
export function pathOf(stdout: string): { forward: string[]; backward: string[] } {
  const forward = (JSON.parse(stdout) as { points: { id: string }[] }).points.map((p) => p.id);
  return { forward, backward: [...forward].reverse() };
}
