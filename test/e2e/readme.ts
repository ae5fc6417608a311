// The README's samples, read as data so the suite can hold them to what the CLI prints: its fenced
// blocks, each `$ command` with the output lines under it, and a "shape" of a line that keeps what a
// reader relies on (words, columns, arrows, units) and drops what changes from run to run (numbers,
// MACs, veth and namespace names, column padding). Pure.

/** One `$ command` of a README block and the output lines printed under it. */
export interface Sample {
  command: string;
  output: string[];
}

/** A fenced block of the README and the heading it sits under. */
export interface Block {
  heading: string;
  lines: string[];
}

/** The README's unlabelled fenced blocks (```sh blocks are instructions, not samples). */
export function blocks(readme: string): Block[] {
  const out: Block[] = [];
  let heading = '';
  let cur: Block | undefined;
  let fenced = false;
  for (const line of readme.split('\n')) {
    if (line.startsWith('```')) {
      if (fenced && cur) out.push(cur);
      cur = !fenced && line === '```' ? { heading, lines: [] } : undefined;
      fenced = !fenced;
    } else if (cur) cur.lines.push(line);
    else if (!fenced && /^#{2,3} /.test(line)) heading = line.replace(/^#+ /, '');
  }
  return out;
}

/** The block under a heading. */
export function blockUnder(readme: string, heading: string, index = 0): Block {
  const found = blocks(readme).filter((b) => b.heading === heading)[index];
  if (!found) throw new Error(`README has no block #${index} under "${heading}"`);
  return found;
}

/** The `$ …` lines of a block with their output (up to the next `$` line or blank line). */
export function samples(block: Block): Sample[] {
  const out: Sample[] = [];
  let cur: Sample | undefined;
  for (const line of block.lines) {
    if (line.startsWith('$ ')) {
      cur = { command: line.slice(2), output: [] };
      out.push(cur);
    } else if (line.trim() === '') cur = undefined;
    else cur?.output.push(line);
  }
  return out;
}

/** A command without its prompt decorations: `sudo` and the trailing `# comment`. */
export function bare(command: string): string {
  return command.replace(/^sudo /, '').replace(/\s+#\s.*$/, '').trim();
}

/** What stays of a line across runs. */
export function shape(line: string): string {
  return line
    .replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g, '<mac>')
    .replace(/\bveth[0-9a-f]{8}\b/g, 'veth<id>')
    .replace(/\bpodnet-[a-z0-9]+-cni-[0-9a-f-]+/g, 'podnet-<lab>-cni-<id>')
    .replace(/\bpodnet-[a-z0-9]+-(server|agent\d+|underlay|outside)\b/g, 'podnet-<lab>-$1')
    .replace(/token=\S+/g, 'token=<token>')
    .replace(/\d+/g, 'N')
    .replace(/N(\.N)+/g, 'N')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A README line as a test of an actual line's shape: `…` stands for anything (an elided column or
 * the rest of a cut line). */
function pattern(line: string): RegExp {
  const parts = shape(line).split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** Lines with the continuation lines of a wrapped column (indented 11 spaces or more, as trace
 * wraps each hop's reason under it on a narrow terminal) joined to the line they continue: where a
 * line wraps depends on the lengths of the values in it, not on its shape. */
export function unwrap(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (/^ {11,}\S/.test(line) && out.length > 0 && out[out.length - 1].trim() !== '…') out[out.length - 1] += ` ${line.trim()}`;
    else out.push(line);
  }
  return out;
}

/** The first README line that no actual line matches in order (each README line must match a later
 * actual line than the one before it); undefined when all do. Lines that are only `…` are skipped. */
export function firstUnmatched(expected: readonly string[], actual: readonly string[]): string | undefined {
  const shapes = unwrap(actual).map(shape);
  let at = 0;
  for (const line of unwrap(expected)) {
    if (line.trim() === '…' || line.trim() === '') continue;
    const p = pattern(line);
    const i = shapes.findIndex((s, k) => k >= at && p.test(s));
    if (i < 0) return line;
    at = i + 1;
  }
  return undefined;
}
