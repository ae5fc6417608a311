// The Services beside ELK's drawing: one box per Service with endpoints in a column right of the
// nodes (the pods are the drawing's right-most layer), each as near as it can be to the height of its
// endpoints, and an orthogonal wire from it to each endpoint's pod (ending on the pod's right border,
// level with the endpoint's interface). A Service without endpoints (`kubernetes`, `kube-dns` before
// its pod runs, a selector that matches nothing) has no wire to run, so it waits in a row under the
// nodes instead: a column for it alone would make every drawing wider and its pods smaller once
// fitted. Placed here rather than by ELK: a Service's edges cross nodes and pods (hierarchy), which
// ELK would make the whole layout pay for. Pure.
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
  const wired = services.filter((s) => s.edges.some((e) => byId.has(e.iface)));
  const alone = services.filter((s) => !wired.includes(s));
  const left = d.width + GAP + wired.length * GUTTER;
  const boxes: Box[] = [];
  const wires: Wire[] = [];
  let floor = 16;
  wired.forEach((s, i) => {
    const { lines, w, h } = sized(s);
    const ends = s.edges.map((e) => byId.get(e.iface)).filter((b): b is Box => b !== undefined);
    const want = ends.reduce((sum, b) => sum + b.y + b.h / 2, 0) / ends.length - h / 2;
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
  const width = boxes.length ? left + Math.max(...boxes.map((b) => b.w)) + 16 : d.width;
  const height = row(alone, boxes, Math.max(d.height, floor) + 12, width);
  return { width: Math.max(width, ...boxes.map((b) => b.x + b.w + 16)), height, boxes: [...d.boxes, ...boxes], wires: [...d.wires, ...wires] };
}

/** A Service's label lines and the box they need. */
function sized(s: NonNullable<TopologyDoc['services']>[number]): { lines: string[]; w: number; h: number } {
  const lines = serviceLabel(s);
  return { lines, w: Math.ceil(Math.max(...lines.map((l) => l.length)) * CHAR + 2 * PAD.x), h: lines.length * LINE + 2 * PAD.y };
}

/** Lays `services` out left to right from (16, top), wrapping within `width`; returns the drawing's new height. */
function row(services: NonNullable<TopologyDoc['services']>, boxes: Box[], top: number, width: number): number {
  if (!services.length) return top - 12;
  let x = 16;
  let y = top;
  let tallest = 0;
  for (const s of services) {
    const { lines, w, h } = sized(s);
    if (x > 16 && x + w > width - 16) { x = 16; y += tallest + 12; tallest = 0; }
    boxes.push({ id: s.id, kind: 'service', lines, x, y, w, h });
    x += w + 12;
    tallest = Math.max(tallest, h);
  }
  return y + tallest + 16;
}
