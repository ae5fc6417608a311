// `podnet doctor`'s report for people: a table of the findings (what breaks most first) that fits the
// terminal, then each finding with what it breaks, the evidence (the command and the value it
// showed) and the commands that fix it. JSON and YAML go through ./output.ts whole. Pure.
import type { DoctorReport, Finding } from '../model/doctor/types.js';
import { renderTable, type Column } from './table.js';

const columns: Column<Finding & { n: number }>[] = [
  { header: '#', cell: (f) => f.n },
  { header: 'SEVERITY', cell: (f) => f.severity },
  { header: 'NODE', cell: (f) => f.node, elastic: true },
  { header: 'CHECK', cell: (f) => f.id },
  { header: 'PROBLEM', cell: (f) => f.what, elastic: true },
];
const wide: Column<Finding & { n: number }>[] = [...columns, { header: 'BREAKS', cell: (f) => f.breaks }];

/** Indents every line of `text` by `by` spaces. */
const indent = (text: string, by: number): string => text.split('\n').map((l) => `${' '.repeat(by)}${l}`).join('\n');

/** One finding in full. */
function details(f: Finding, n: number): string {
  return [
    `${n}. [${f.severity}] ${f.node}: ${f.what}`,
    `   breaks: ${f.breaks}`,
    '   evidence:',
    ...f.evidence.map((e) => `     $ ${e.command}\n${indent(e.value, 7)}`),
    '   fix:',
    ...f.fix.map((l) => indent(l, 5)),
  ].join('\n');
}

/** The report as a table and the findings in full; `width` cuts the table to the terminal. */
export function renderDoctor(r: DoctorReport, o: { wide?: boolean; width?: number } = {}): string {
  const scope = `${r.target}${r.nodes.length > 1 ? ` (${r.nodes.length} nodes)` : ''}`;
  if (r.findings.length === 0) return `No problems found on ${scope}.\n`;
  const rows = r.findings.map((f, i) => ({ ...f, n: i + 1 }));
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const head = `${r.findings.length} problem${r.findings.length === 1 ? '' : 's'} on ${scope}: ${errors} error${errors === 1 ? '' : 's'}, ${r.findings.length - errors} warning${r.findings.length - errors === 1 ? '' : 's'}\n\n`;
  const table = renderTable(rows, o.wide ? wide : columns, '', o.wide ? undefined : o.width);
  return `${head}${table}\n${rows.map((f) => details(f, f.n)).join('\n\n')}\n`;
}
