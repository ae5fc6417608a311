// The topology as a standalone SVG, laid out here without a browser: the host interfaces (and
// VXLAN devices, each followed by the remote nodes it sends to) on top, then each bridge with a bus that its host veths hang from, each veth
// above the pod namespace (name, interface, IPs) it is paired with. Columns wrap into bands so a
// few hundred pods stay readable; long names are cut on screen and kept whole in <title>.
import type { GraphModel, GraphPod, GraphPodIface, GraphVeth } from '../../views/graph.js';

/** Text escaped for XML character data and attribute values. */
export const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const M = 20; // margin
const CH = 7.2; // width of one monospace character at 12px
const LINE = 16; // line height
const PAD = 8; // box padding
const GAP = 16; // between columns
const MAX_CHARS = 40; // longer text is cut on screen (whole in <title>)
const MAX_WIDTH = 1600; // bands wrap before this width
const TRUNK = M + 12; // x of the uplink's line down to the bridges
const BRIDGE_X = M + 28; // left of the bridge boxes
const BUS = BRIDGE_X + 14; // x of a bridge's line down to its bands
const COL0 = BRIDGE_X + 34; // left of the first column

const STYLE = [
  '.interface{fill:#d4edff;stroke:#0066cc}', '.bridge{fill:#ffecd4;stroke:#cc6600}', '.namespace{fill:#e8f5e9;stroke:#2e7d32}',
  '.veth{fill:#f3e5f5;stroke:#6a1b9a}', '.overlay{fill:#fff8c4;stroke:#8a6d00}', '.remote{fill:#ffffff;stroke:#8a6d00;stroke-dasharray:5 4}', '.unresolved{fill:#ffffff;stroke:#888888;stroke-dasharray:4 3}',
  'rect{stroke-width:2}', 'text{fill:#000000}', '.name{font-weight:bold}', '.dim{fill:#555555}', '.title{font-size:14px;font-weight:bold}',
  '.wire{stroke:#555555;stroke-width:1.5;fill:none}', '.pair{stroke:#6a1b9a;stroke-width:3}', '.tunnel{stroke:#8a6d00;stroke-width:1.5;stroke-dasharray:5 4;fill:none}',
].join('');

const cut = (s: string) => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s);
const r1 = (n: number) => Math.round(n * 10) / 10;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A box's size for its lines of text. */
const size = (lines: string[]) => ({ w: Math.ceil(Math.max(...lines.map((l) => cut(l).length)) * CH + 2 * PAD), h: lines.length * LINE + 2 * PAD - 4 });

/** What has been drawn so far: boxes and texts, wires, and how far right anything reaches. */
class Canvas {
  readonly shapes: string[] = [];
  readonly wires: string[] = [];
  right = 0;

  /** A box with its lines of text (whole in its tooltip). */
  box(b: Box, cls: string, lines: string[], opts: { bold?: number[]; dim?: number[] } = {}): void {
    this.right = Math.max(this.right, b.x + b.w);
    const text = lines.map((l, i) => {
      const c = opts.bold?.includes(i) ? ' class="name"' : opts.dim?.includes(i) ? ' class="dim"' : '';
      return `<text x="${r1(b.x + PAD)}" y="${r1(b.y + PAD + 10 + i * LINE)}"${c}>${xmlEscape(cut(l))}</text>`;
    }).join('');
    this.shapes.push(`<g><title>${xmlEscape(lines.join('\n'))}</title><rect class="${cls}" x="${r1(b.x)}" y="${r1(b.y)}" width="${b.w}" height="${b.h}" rx="6"/>${text}</g>`);
  }

  /** A line through two points, or a polyline through more. */
  line(cls: string, ...pts: [number, number][]): void {
    this.wires.push(pts.length === 2
      ? `<line class="${cls}" x1="${r1(pts[0][0])}" y1="${r1(pts[0][1])}" x2="${r1(pts[1][0])}" y2="${r1(pts[1][1])}"/>`
      : `<polyline class="${cls}" points="${pts.map(([x, y]) => `${r1(x)},${r1(y)}`).join(' ')}"/>`);
  }
}

/** One box of the top row. */
interface TopBox { id: string; cls: string; lines: string[]; under?: string; lift?: number }

/** The top row: host interfaces (the uplink first), each followed by the VXLAN devices it carries, each
 * of those by its remote nodes. */
function topRow(g: GraphModel, uplink: string): TopBox[] {
  const ifaces = [...g.interfaces].sort((a, b) => Number(b.id === uplink) - Number(a.id === uplink));
  const row0: TopBox[] = [];
  const vxlan = (x: GraphModel['vxlans'][number], under?: string) => {
    row0.push({ id: x.id, cls: 'overlay', lines: vxlanLines(x), ...(under ? { under } : {}) });
    g.remotes.filter((r) => r.vxlan === x.id).forEach((r, k) => row0.push({ id: r.id, cls: 'remote', lines: remoteLines(r), under: x.id, lift: 4 + Math.min(k, 6) * 4 }));
  };
  for (const i of ifaces) {
    row0.push({ id: i.id, cls: 'interface', lines: [`Host Interface ${i.name}`, ...i.ips] });
    for (const x of g.vxlans.filter((v) => v.underlay === i.id)) vxlan(x, i.id);
  }
  for (const x of g.vxlans.filter((v) => !ifaces.some((i) => i.id === v.underlay))) vxlan(x);
  return row0;
}

/** Draws the top row at `top` (remote nodes' tunnels rise higher the further they go, so none
 * overlap); returns where each box went and the y below the row. */
function drawTopRow(c: Canvas, row0: TopBox[], top: number): { placed: Map<string, Box>; y: number } {
  const placed = new Map<string, Box>();
  let x = M;
  const row0h = Math.max(0, ...row0.map((r) => size(r.lines).h));
  for (const r of row0) {
    const b = { x, y: top, ...size(r.lines) };
    c.box(b, r.cls, r.lines, { bold: [0] });
    placed.set(r.id, b);
    x += b.w + 24;
    const u = r.under !== undefined ? placed.get(r.under) : undefined;
    if (u) {
      const rise = u.y - 12 - (r.lift ?? 0);
      c.line('tunnel', [u.x + u.w / 2, u.y], [u.x + u.w / 2, rise], [b.x + b.w / 2, rise], [b.x + b.w / 2, b.y]);
    }
  }
  return { placed, y: row0.length ? top + row0h + 28 : top };
}

type Column = ReturnType<typeof column>;

/** Columns as wide as their boxes, packed into bands no wider than MAX_WIDTH: the indexes of each band. */
function bandsOf(widths: number[]): number[][] {
  const bands: number[][] = [[]];
  let used = COL0;
  widths.forEach((w, i) => {
    const band = bands[bands.length - 1];
    if (band.length && used + w > MAX_WIDTH - M) {
      bands.push([]);
      used = COL0;
    }
    bands[bands.length - 1].push(i);
    used += w + GAP;
  });
  return bands;
}

/** Draws the columns (veth above its pod) of one bridge's section from `y`, band by band, each band
 * on a bus from the bridge; returns the y below the section. */
function drawColumns(c: Canvas, cols: Column[], onBridge: boolean, y: number): number {
  const widths = cols.map((col) => Math.max(col.veth.w, col.pod.w));
  const busTop = y - 16;
  let lastBus = busTop;
  for (const band of bandsOf(widths)) {
    const bus = y;
    const vh = Math.max(...band.map((i) => cols[i].veth.h));
    const ph = Math.max(...band.map((i) => cols[i].pod.h));
    let left = COL0;
    let lastCx = COL0;
    for (const i of band) {
      const col = cols[i];
      const cx = left + widths[i] / 2;
      const vb = { x: cx - col.veth.w / 2, y: bus + 14, w: col.veth.w, h: col.veth.h };
      const pb = { x: cx - col.pod.w / 2, y: bus + 14 + vh + 20, w: col.pod.w, h: col.pod.h };
      if (onBridge) c.line('wire', [cx, bus], [cx, vb.y]);
      c.box(vb, 'veth', col.veth.lines, { dim: [1] });
      c.line(col.paired ? 'pair' : 'wire', [cx, vb.y + vb.h], [cx, pb.y]);
      c.box(pb, col.pod.cls, col.pod.lines, { bold: col.paired ? [0] : [], dim: col.paired ? [] : [0] });
      left += widths[i] + GAP;
      lastCx = cx;
    }
    if (onBridge) c.line('wire', [BUS, bus], [lastCx, bus]);
    lastBus = bus;
    y = bus + 14 + vh + 20 + ph + 28;
  }
  if (onBridge) c.line('wire', [BUS, busTop], [BUS, lastBus]);
  return y;
}

/** Draws one section from `y`: its bridge (or the note for veths on no bridge), then its columns.
 * Returns the y below it and, when the bridge hangs on the uplink, the y of its stub to the trunk. */
function drawSection(c: Canvas, g: GraphModel, sec: { bridge?: GraphModel['bridges'][number]; veths: GraphVeth[] }, placed: Map<string, Box>, y: number): { y: number; stub?: number } {
  let stub: number | undefined;
  if (sec.bridge) {
    const lines = [`${sec.bridge.name} Bridge`, ...sec.bridge.ips];
    const b = { x: BRIDGE_X, y, ...size(lines) };
    c.box(b, 'bridge', lines, { bold: [0] });
    if (sec.bridge.uplink && placed.has(sec.bridge.uplink)) {
      c.line('wire', [TRUNK, b.y + b.h / 2], [b.x, b.y + b.h / 2]);
      stub = b.y + b.h / 2;
    }
    y += b.h + 16;
  } else {
    c.shapes.push(`<text x="${BRIDGE_X}" y="${y + 12}" class="dim">${xmlEscape('veths on no bridge')}</text>`);
    y += 24;
  }
  const podOf = new Map(g.pods.flatMap((p) => p.ifaces.map((i) => [i.id, { pod: p, iface: i }] as const)));
  const cols = sec.veths.map((v) => column(v, podOf.get(v.iface)));
  return { y: cols.length ? drawColumns(c, cols, !!sec.bridge, y) : y, ...(stub !== undefined ? { stub } : {}) };
}

/** Draws the host's topology as an SVG document. */
export function renderGraphSvg(g: GraphModel): string {
  const c = new Canvas();
  const title = `${g.node}: pod network`;
  c.right = M + title.length * 8.4;
  const uplink = g.bridges.find((b) => b.uplink)?.uplink ?? '';
  const top = drawTopRow(c, topRow(g, uplink), M + 40);
  let y = top.y;
  // One section per bridge, then one for the veths on no bridge.
  const sections = [...g.bridges.map((b) => ({ bridge: b, veths: g.veths.filter((v) => v.bridge === b.id) })),
    { bridge: undefined, veths: g.veths.filter((v) => !g.bridges.some((b) => b.id === v.bridge)) }].filter((s) => s.bridge || s.veths.length);
  let lastStub = -1;
  for (const sec of sections) {
    const drawn = drawSection(c, g, sec, top.placed, y);
    y = drawn.y;
    if (drawn.stub !== undefined) lastStub = drawn.stub;
  }
  if (lastStub >= 0 && uplink) {
    const u = top.placed.get(uplink);
    if (u) c.line('wire', [TRUNK, u.y + u.h], [TRUNK, lastStub]);
  }
  return svgDocument(c, title, Math.ceil(c.right + M), Math.ceil(y + M));
}

/** The SVG document around what was drawn. */
function svgDocument(c: Canvas, title: string, width: number, height: number): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace" font-size="12">`,
    `<title>${xmlEscape(`${title} (podnet graph)`)}</title>`,
    `<style>${STYLE}</style>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${M}" y="${M + 14}" class="title">${xmlEscape(title)}</text>`,
    `<g>${c.wires.join('\n')}</g>`,
    `<g>${c.shapes.join('\n')}</g>`,
    '</svg>',
  ].join('\n') + '\n';
}

function vxlanLines(x: GraphModel['vxlans'][number]): string[] {
  const params = [x.vni ? `vni ${x.vni}` : '', x.dstport ? `udp ${x.dstport}` : ''].filter(Boolean).join(' ');
  return [`${x.name} VXLAN`, ...x.ips, ...(params ? [params] : [])];
}

function remoteLines(r: GraphModel['remotes'][number]): string[] {
  return [`Node ${r.name}`, ...(r.ip && r.ip !== r.name ? [r.ip] : []), ...(r.subnet ? [`pods ${r.subnet}`] : [])];
}

/** One column: a host veth and the pod interface (or the unresolved peer) below it. */
function column(v: GraphVeth, at: { pod: GraphPod; iface: GraphPodIface } | undefined) {
  const vethLines = [v.label, [v.state, v.hairpin ? 'hairpin' : ''].filter(Boolean).join(', ') || ' '];
  const podLines = at ? [at.pod.name, at.iface.label, ...at.iface.ips] : [`peer ${v.peer}`];
  return {
    paired: Boolean(at),
    veth: { lines: vethLines, ...size(vethLines) },
    pod: { lines: podLines, cls: at ? 'namespace' : 'unresolved', ...size(podLines) },
  };
}
