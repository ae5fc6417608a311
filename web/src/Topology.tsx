// The drawn topology: ELK's boxes and wires as SVG in a scrollable canvas, zoomable, every element
// clickable. It starts fitted to the canvas — the whole drawing, as large as the canvas allows — and
// stays fitted as the window, the canvas or the drawing changes, until the user zooms or scrolls;
// "fit" fits it again. The user's selection and the journey's current element are marked together.
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Box, Drawing } from '../../src/web/api';
import { PacketDot, type Motion } from './PacketDot';

interface Props {
  drawing: Drawing;
  selected?: string;
  /** The element of the journey's current event. */
  current?: string;
  motion?: Motion;
  /** Elements a doctor finding concerns, outlined in red. */
  flagged?: string[];
  /** A pod's reach under the NetworkPolicies: the pod, what it may reach (green), what it may not (grey, struck). */
  reach?: Reach;
  /** Elements a tour step is about, outlined. */
  about?: string[];
  onSelect: (id: string) => void;
}

/** What the Reach control highlights. */
export interface Reach {
  from: string;
  allowed: string[];
  denied: string[];
}

const reachMark = (r: Reach | undefined, id: string): string => (!r ? '' : id === r.from ? ' reach-from' : r.allowed.includes(id) ? ' reach-ok' : r.denied.includes(id) ? ' reach-no' : '');

const LINE = 15;
/** The steps of − and +. */
const ZOOMS = [0.2, 0.25, 0.35, 0.5, 0.65, 0.8, 1, 1.25, 1.5, 2, 2.5];
/** Fitting never blows a small drawing (one node, one pod) up beyond this… */
const MAX_FIT = 1.5;
/** …nor shrinks a huge one (hundreds of pods) below this: it scrolls instead. */
const MIN_FIT = 0.2;
/** The free margin around a fitted drawing, px on each side. */
const MARGIN = 12;

/** The largest zoom at which the whole drawing shows in the canvas, between MIN_FIT and MAX_FIT. */
function fitZoom(canvas: HTMLElement, d: Drawing): number {
  const w = (canvas.clientWidth - 2 * MARGIN) / Math.max(1, d.width);
  const h = (canvas.clientHeight - 2 * MARGIN) / Math.max(1, d.height);
  return Math.max(MIN_FIT, Math.min(MAX_FIT, w, h));
}

/** One box; memoised, so a journey step or a click redraws only the boxes whose marking changed. */
const BoxView = memo(function BoxView({ b, selected, current, dropped = false, mark = '', onSelect }: { b: Box; selected: boolean; current: boolean; dropped?: boolean; mark?: string; onSelect: (id: string) => void }) {
  const cls = `box ${b.kind}${selected ? ' selected' : ''}${current ? ' current' : ''}${dropped ? ' dropped' : ''}${mark}`;
  const group = b.kind === 'group';
  const pod = b.kind === 'pod';
  // A pod's name sits right of its eth0 port; a group's label at its top right (its uplink port sits on its left border).
  const right = pod || group;
  const tx = right ? b.x + b.w - 8 : b.x + 8;
  const anchor = right ? 'end' : 'start';
  return (
    <g className={cls} data-id={b.id} onClick={(e) => { e.stopPropagation(); onSelect(b.id); }}>
      <title>{b.lines.filter(Boolean).join('\n')}</title>
      <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={group ? 10 : 4} />
      {/* The selected element keeps its mark while a journey passes through it: a ring outside the box. */}
      {selected && current && <rect className="ring" x={b.x - 4} y={b.y - 4} width={b.w + 8} height={b.h + 8} rx={group ? 13 : 7} />}
      {b.lines.filter(Boolean).map((l, i) => (
        <text key={i} x={tx} y={b.y + (group ? 20 : 5 + LINE * (i + 1) - 3) + (pod ? (b.h - LINE * b.lines.filter(Boolean).length - 10) / 2 : 0)}
          textAnchor={anchor} className={i === 0 ? 'name' : 'sub'}>{l}</text>
      ))}
    </g>
  );
});

/** A failed journey's drop point: a red ✕ and the kernel's reason under the element it died at. */
function DropMark({ drawing, drop }: { drawing: Drawing; drop: { element: string; text: string } }) {
  const b = drawing.boxes.find((x) => x.id === drop.element);
  if (!b) return null;
  return <text className="drop-mark" data-testid="drop-mark" x={b.x} y={b.y + b.h + 13}>✕ {drop.text}</text>;
}

/** The topology canvas. */
export function Topology({ drawing, selected, current, motion, flagged, reach, about, onSelect }: Props) {
  const canvas = useRef<HTMLDivElement>(null);
  // Fitted: the zoom follows the canvas and the drawing. Otherwise the user's own zoom.
  const [fitted, setFitted] = useState(true);
  const [zoom, setZoom] = useState(1);
  /** Where the user looked (drawing coordinates of the canvas' centre) before zooming by hand. */
  const keep = useRef<{ x: number; y: number } | undefined>(undefined);

  const refit = useCallback(() => {
    const el = canvas.current;
    if (!el) return;
    const z = fitZoom(el, drawing);
    setZoom((old) => (Math.abs(old - z) < 1e-3 ? old : z));
    el.scrollTo(0, 0);
  }, [drawing]);
  // Before the first paint, and again whenever the drawing changes or the canvas is resized.
  useLayoutEffect(() => {
    if (fitted) refit();
  }, [fitted, refit]);
  useEffect(() => {
    const el = canvas.current;
    if (!el || !fitted) return;
    const watch = new ResizeObserver(() => refit());
    watch.observe(el);
    return () => watch.disconnect();
  }, [fitted, refit]);
  // After a zoom by hand, the point the user looked at stays in the middle.
  useLayoutEffect(() => {
    const el = canvas.current;
    const at = keep.current;
    if (!el || !at) return;
    keep.current = undefined;
    el.scrollTo(at.x * zoom - el.clientWidth / 2, at.y * zoom - el.clientHeight / 2);
  }, [zoom]);

  const zoomTo = (z: number) => {
    const el = canvas.current;
    if (el) keep.current = { x: (el.scrollLeft + el.clientWidth / 2) / zoom, y: (el.scrollTop + el.clientHeight / 2) / zoom };
    setFitted(false);
    setZoom(z);
  };
  const step = (dir: 1 | -1) => {
    const next = dir > 0 ? ZOOMS.find((z) => z > zoom + 1e-3) : [...ZOOMS].reverse().find((z) => z < zoom - 1e-3);
    zoomTo(next ?? zoom);
  };
  // A scroll by the user (the drawing only scrolls when it is larger than the canvas) ends the fit;
  // the browser's own scrolls (a smaller drawing pulls the position back to 0) do not.
  const scrolled = () => {
    const el = canvas.current;
    if (!el || !fitted) return;
    const overflows = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
    if (overflows && (el.scrollLeft > 0 || el.scrollTop > 0)) setFitted(false);
  };

  // Groups under the wires, everything else over them.
  const groups = useMemo(() => drawing.boxes.filter((b) => b.kind === 'group'), [drawing]);
  const others = useMemo(() => drawing.boxes.filter((b) => b.kind !== 'group'), [drawing]);
  const wires = useMemo(() => drawing.wires.map((w) => (
    <path key={w.id} className={`wire ${w.kind}`} data-id={w.id} d={w.points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ')} />
  )), [drawing]);
  return (
    <div className="topology">
      <div className="zoom">
        <button type="button" onClick={() => step(-1)} title="zoom out">−</button>
        <span data-testid="zoom">{Math.round(zoom * 100)}%</span>
        <button type="button" onClick={() => step(1)} title="zoom in">+</button>
        <button type="button" className={fitted ? 'on' : ''} aria-pressed={fitted} onClick={() => setFitted(true)}
          title="fit the whole topology to this panel (it stays fitted when the window changes, until you zoom or scroll)">fit</button>
      </div>
      <div className="canvas" ref={canvas} onClick={() => onSelect('')} onScroll={scrolled} data-fitted={fitted}>
        <svg width={drawing.width * zoom} height={drawing.height * zoom} viewBox={`0 0 ${drawing.width} ${drawing.height}`} data-testid="topology"
          data-boxes={drawing.boxes.length} className={reach ? 'reaching' : undefined}>
          {groups.map((b) => <BoxView key={b.id} b={b} selected={b.id === selected} current={false} dropped={flagged?.includes(b.id)} mark={about?.includes(b.id) ? ' about' : ''} onSelect={onSelect} />)}
          <g className="wires">{wires}</g>
          {others.map((b) => <BoxView key={b.id} b={b} selected={b.id === selected} current={b.id === current} dropped={b.id === motion?.drop?.element || flagged?.includes(b.id)} mark={reachMark(reach, b.id) + (about?.includes(b.id) ? ' about' : '')} onSelect={onSelect} />)}
          {motion && <PacketDot drawing={drawing} motion={motion} />}
          {motion?.drop && <DropMark drawing={drawing} drop={motion.drop} />}
        </svg>
      </div>
    </div>
  );
}
