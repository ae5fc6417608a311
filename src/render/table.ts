// kubectl-style tables: upper-case headers, left-aligned columns separated by three spaces. Given a
// width (the terminal's), the table fits it: columns marked elastic (long values such as a namespace
// path) are cut with "…", the widest first, never below their header or 8 characters.

/** A column: its header, how to read the cell from a row, and whether it may be cut to fit. */
export interface Column<T> {
  header: string;
  cell: (row: T) => string | number;
  /** May be shortened with "…" when the table is wider than the terminal. */
  elastic?: boolean;
  /** May be left out when the table is still wider than the terminal (-o wide and json keep it). */
  optional?: boolean;
}

const GAP = 3;
const MIN = 8;

/** `text` cut to `width` characters with "…" at the end. */
export const ellipsis = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`);

/** Column widths that fit `width`: elastic columns shrink, the widest first, down to their minimum. */
function fit(widths: number[], elastic: boolean[], mins: number[], width: number): number[] {
  const out = [...widths];
  const total = () => out.reduce((a, b) => a + b, 0) + GAP * (out.length - 1);
  for (let guard = 0; guard < 10_000 && total() > width; guard++) {
    let i = -1;
    out.forEach((w, j) => { if (elastic[j] && w > mins[j] && (i < 0 || w > out[i])) i = j; });
    if (i < 0) break;
    out[i] -= Math.min(out[i] - mins[i], total() - width);
  }
  return out;
}

/** The columns to show in `width`: optional ones left out, the last first, while the table at its
 * natural width would not fit (elastic columns are cut only after that); then those left out that
 * fit again are put back, the first first (a wide column left out late can make room for a narrow one). */
function fitting<T>(rows: readonly T[], all: readonly Column<T>[], width: number): readonly Column<T>[] {
  let cols = [...all];
  const natural = (c: Column<T>) => Math.max(c.header.length, ...rows.map((r) => String(c.cell(r)).length));
  const total = () => cols.reduce((a, c) => a + natural(c), 0) + GAP * (cols.length - 1);
  for (let i = cols.length - 1; i >= 0 && total() > width; i--) if (cols[i].optional) cols = cols.filter((_, j) => j !== i);
  for (const c of all.filter((x) => !cols.includes(x))) {
    const shown = cols;
    cols = all.filter((x) => shown.includes(x) || x === c);
    if (total() > width) cols = shown;
  }
  return cols;
}

/** Renders rows as a table; no rows gives kubectl's "No resources found." line. With `width`, elastic
 * columns are cut so that no line is longer (when the fixed columns alone fit). */
export function renderTable<T>(rows: readonly T[], all: readonly Column<T>[], empty = 'No resources found.', width?: number): string {
  if (rows.length === 0) return `${empty}\n`;
  const columns = width ? fitting(rows, all, width) : all;
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => String(c.cell(r))))];
  let widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  if (width !== undefined && width > 0) {
    widths = fit(widths, columns.map((c) => !!c.elastic), columns.map((c) => Math.max(c.header.length, MIN)), width);
    // The last column is not padded: it may take what is left of the line.
    const used = widths.slice(0, -1).reduce((a, b) => a + b + GAP, 0);
    if (columns[columns.length - 1].elastic) widths[widths.length - 1] = Math.max(Math.min(widths[widths.length - 1], width - used), MIN);
  }
  return cells.map((row) => row.map((v, i) => {
    const t = ellipsis(v, widths[i]);
    return i === row.length - 1 ? t : t.padEnd(widths[i]);
  }).join(' '.repeat(GAP)).trimEnd()).join('\n') + '\n';
}
