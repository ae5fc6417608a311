// The Services beside ELK's drawing: one box per Service in a column right of the nodes (the pods are
// the drawing's right-most layer), each as near as it can be to the height of its endpoints, and an
// orthogonal wire from it to each endpoint's pod (ending on the pod's right border, level with the
// endpoint's interface). Placed here rather than by ELK: a Service's edges cross nodes and pods
// (hierarchy), which ELK would make the whole layout pay for. Pure.
import type { Box, Drawing, TopologyDoc, Wire } from './api.js';
import { serviceLabel } from '../views/graph-services.js';

const CHAR = 7.3;
const LINE = 15;
const PAD = { x: 8, y: 5 };
/** Space between the drawing and the column of Services (their wires' gutters run in it). */
const GAP = 36;
const GUTTER = 5;

/** `d` with the Services of `doc` drawn right of it. */
export function placeServices(d: Drawing, doc: Pick<TopologyDoc, 'services'>): Drawing {
  const services = doc.services ?? [];
  if (!services.length) return d;
  const byId = new Map(d.boxes.map((b) => [b.id, b]));
  const left = d.width + GAP + services.length * GUTTER;
  const boxes: Box[] = [];
  const wires: Wire[] = [];
  let floor = 16;
  services.forEach((s, i) => {
    const lines = serviceLabel(s);
    const w = Math.ceil(Math.max(...lines.map((l) => l.length)) * CHAR + 2 * PAD.x);
    const h = lines.length * LINE + 2 * PAD.y;
    const ends = s.edges.map((e) => byId.get(e.iface)).filter((b): b is Box => b !== undefined);
    const want = ends.length ? ends.reduce((sum, b) => sum + b.y + b.h / 2, 0) / ends.length - h / 2 : floor;
    const y = Math.max(floor, want);
    floor = y + h + 12;
    boxes.push({ id: s.id, kind: 'service', lines, x: left, y, w, h });
    const gutter = d.width + GAP / 2 + i * GUTTER;
    for (const e of s.edges) {
      const iface = byId.get(e.iface);
      const pod = iface?.owner !== undefined ? byId.get(iface.owner) : undefined;
      if (!iface || !pod) continue;
      const ty = iface.y + iface.h / 2;
      wires.push({
        id: `${s.id}->${e.iface}`, kind: 'service-endpoint', source: s.id, target: e.iface,
        points: [{ x: left, y: y + h / 2 }, { x: gutter, y: y + h / 2 }, { x: gutter, y: ty }, { x: pod.x + pod.w, y: ty }],
      });
    }
  });
  const width = left + Math.max(...boxes.map((b) => b.w)) + 16;
  return { width, height: Math.max(d.height, floor + 4), boxes: [...d.boxes, ...boxes], wires: [...d.wires, ...wires] };
}
