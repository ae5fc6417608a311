// The packet of a journey: a dot that moves from the element of the packet's previous hop to the
// element of this hop, along the drawn wires between them (a port and its box count as joined).
import { useEffect, useMemo, useRef } from 'react';
import type { Box, Drawing } from '../../src/web/api';

/** One move: the event it shows, where the packet was and where it is now. */
export interface Motion {
  step: number;
  from?: string;
  to: string;
  direction: 'request' | 'reply';
  /** A failed journey's drop point (its drawn element) and the kernel's reason, marked on the topology. */
  drop?: { element: string; text: string };
}

type Pt = { x: number; y: number };
const center = (b: Box): Pt => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });

/** The points from `from` to `to`: the shortest chain of wires (breadth first), each followed in its drawn shape. */
function route(d: Drawing, from: string | undefined, to: string): Pt[] {
  const box = new Map(d.boxes.map((b) => [b.id, b]));
  const target = box.get(to);
  if (!target) return [];
  const start = from !== undefined ? box.get(from) : undefined;
  if (!start || from === to) return [center(target)];
  const next = new Map<string, { id: string; pts: Pt[] }[]>();
  const link = (a: string, b: string, pts: Pt[]) => {
    next.set(a, [...(next.get(a) ?? []), { id: b, pts }]);
    next.set(b, [...(next.get(b) ?? []), { id: a, pts: [...pts].reverse() }]);
  };
  for (const w of d.wires) link(w.source, w.target, w.points);
  for (const b of d.boxes) if (b.owner) link(b.id, b.owner, []);
  const came = new Map<string, { prev: string; pts: Pt[] }>([[start.id, { prev: '', pts: [] }]]);
  const queue = [start.id];
  while (queue.length && !came.has(to)) {
    const at = queue.shift()!;
    for (const n of next.get(at) ?? []) {
      if (came.has(n.id)) continue;
      came.set(n.id, { prev: at, pts: n.pts });
      queue.push(n.id);
    }
  }
  if (!came.has(to)) return [center(start), center(target)];
  const legs: Pt[][] = [];
  for (let at = to; at !== start.id;) {
    const c = came.get(at)!;
    legs.unshift([...c.pts, center(box.get(at)!)]);
    at = c.prev;
  }
  return [center(start), ...legs.flat()];
}

/** Where along a polyline a fraction `f` (0..1) of its length is. */
function along(pts: Pt[], f: number): Pt {
  const seg = pts.slice(1).map((p, i) => Math.hypot(p.x - pts[i].x, p.y - pts[i].y));
  let left = f * seg.reduce((a, b) => a + b, 0);
  for (let i = 0; i < seg.length; i++) {
    if (left <= seg[i] || i === seg.length - 1) {
      const t = seg[i] ? Math.min(1, left / seg[i]) : 1;
      return { x: pts[i].x + (pts[i + 1].x - pts[i].x) * t, y: pts[i].y + (pts[i + 1].y - pts[i].y) * t };
    }
    left -= seg[i];
  }
  return pts[pts.length - 1];
}

/** The moving dot; `data-step` names the event it shows (for tests and the benchmark). */
export function PacketDot({ drawing, motion }: { drawing: Drawing; motion: Motion }) {
  const dot = useRef<SVGCircleElement>(null);
  const pts = useMemo(() => route(drawing, motion.from, motion.to), [drawing, motion]);
  useEffect(() => {
    const el = dot.current;
    if (!el || pts.length === 0) return;
    const length = pts.slice(1).reduce((s, p, i) => s + Math.hypot(p.x - pts[i].x, p.y - pts[i].y), 0);
    const ms = Math.min(700, 200 + length * 0.5);
    const t0 = performance.now();
    let frame = 0;
    const draw = (now: number) => {
      const p = along(pts, pts.length > 1 ? Math.min(1, (now - t0) / ms) : 1);
      el.setAttribute('cx', String(p.x));
      el.setAttribute('cy', String(p.y));
      if (now - t0 < ms) frame = requestAnimationFrame(draw);
    };
    frame = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(frame);
  }, [pts]);
  if (pts.length === 0) return null;
  return <circle ref={dot} className={`packet ${motion.direction}`} r={7} cx={pts[0].x} cy={pts[0].y} data-testid="packet" data-step={motion.step} />;
}
