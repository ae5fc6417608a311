// kubectl-style tables: upper-case headers, left-aligned columns separated by three spaces.

/** A column: its header and how to read the cell from a row. */
export interface Column<T> {
  header: string;
  cell: (row: T) => string | number;
}

/** Renders rows as a table; no rows gives kubectl's "No resources found." line. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty = 'No resources found.'): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => String(c.cell(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((v, i) => (i === row.length - 1 ? v : v.padEnd(widths[i]))).join('   ').trimEnd()).join('\n') + '\n';
}
