// The drawn topology: ELK's boxes and wires as SVG in a scrollable canvas, zoomable, every element
// clickable; during a journey the current element is marked and a packet moves along the wires.
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { Box, Drawing } from '../../src/web/api';
import { PacketDot, type Motion } from './PacketDot';

interface Props {
  drawing: Drawing;
  selected?: string;
  /** The element of the journey's current event. */
  current?: string;
  motion?: Motion;
  onSelect: (id: string) => void;
}

const LINE = 15;
const ZOOMS = [0.35, 0.5, 0.65, 0.8, 1, 1.25, 1.5];

/** One box; memoised, so a journey step or a click redraws only the boxes whose marking changed. */
const BoxView = memo(function BoxView({ b, selected, current, onSelect }: { b: Box; selected: boolean; current: boolean; onSelect: (id: string) => void }) {
  const cls = `box ${b.kind}${selected ? ' selected' : ''}${current ? ' current' : ''}`;
  const group = b.kind === 'group';
  const pod = b.kind === 'pod';
  // A pod's name sits right of its eth0 port; a group's label at its top right (its uplink port may sit at the left).
  const right = pod || group;
  const tx = right ? b.x + b.w - 8 : b.x + 8;
  const anchor = right ? 'end' : 'start';
  return (
    <g className={cls} data-id={b.id} onClick={(e) => { e.stopPropagation(); onSelect(b.id); }}>
      <title>{b.lines.filter(Boolean).join('\n')}</title>
      <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={group ? 10 : 4} />
      {b.lines.filter(Boolean).map((l, i) => (
        <text key={i} x={tx} y={b.y + (group ? 20 : 5 + LINE * (i + 1) - 3) + (pod ? (b.h - LINE * b.lines.filter(Boolean).length - 10) / 2 : 0)}
          textAnchor={anchor} className={i === 0 ? 'name' : 'sub'}>{l}</text>
      ))}
    </g>
  );
});

/** The topology canvas. */
export function Topology({ drawing, selected, current, motion, onSelect }: Props) {
  const canvas = useRef<HTMLDivElement>(null);
  const [zoom, setZoom] = useState<number>();
  // The first drawing is fitted to the canvas' width (never below half size, so text stays readable).
  useEffect(() => {
    if (zoom !== undefined || !canvas.current) return;
    const fit = (canvas.current.clientWidth - 24) / Math.max(1, drawing.width);
    setZoom(Math.min(1, Math.max(0.5, fit)));
  }, [drawing, zoom]);
  const scale = zoom ?? 1;
  const step = (dir: 1 | -1) => setZoom(ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, ZOOMS.findIndex((z) => z >= scale - 1e-3) + dir))]);
  const fit = () => canvas.current && setZoom(Math.max(0.2, Math.min(1.5, (canvas.current.clientWidth - 24) / drawing.width, (canvas.current.clientHeight - 24) / drawing.height)));
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
        <span>{Math.round(scale * 100)}%</span>
        <button type="button" onClick={() => step(1)} title="zoom in">+</button>
        <button type="button" onClick={fit} title="fit the whole topology">fit</button>
      </div>
      <div className="canvas" ref={canvas} onClick={() => onSelect('')}>
        <svg width={drawing.width * scale} height={drawing.height * scale} viewBox={`0 0 ${drawing.width} ${drawing.height}`} data-testid="topology"
          data-boxes={drawing.boxes.length}>
          {groups.map((b) => <BoxView key={b.id} b={b} selected={b.id === selected} current={false} onSelect={onSelect} />)}
          <g className="wires">{wires}</g>
          {others.map((b) => <BoxView key={b.id} b={b} selected={b.id === selected} current={b.id === current} onSelect={onSelect} />)}
          {motion && <PacketDot drawing={drawing} motion={motion} />}
        </svg>
      </div>
    </div>
  );
}
