// How a step looks in a terminal: a heading, the explanation wrapped, the command as typed after
// `$`, its output with the parts that matter in reverse video (and named again below it, so a
// terminal without colour, a pipe or a screen reader gets them too), the question, the evidence.
import type { Chapter } from '../../model/tour/chapter.js';
import type { Span, StepRun } from '../../tour/step.js';

/** ANSI styles, or nothing when colour is off (NO_COLOR, not a terminal). */
export interface Style {
  mark(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

/** The style for a stream. */
export function styleFor(tty: boolean, env: NodeJS.ProcessEnv = process.env): Style {
  const on = tty && !env.NO_COLOR && env.TERM !== 'dumb';
  const wrap = (a: string, b: string) => (s: string) => (on ? `\x1b[${a}m${s}\x1b[${b}m` : s);
  return { mark: wrap('7;1', '0'), bold: wrap('1', '22'), dim: wrap('2', '22') };
}

/** Text wrapped at `width`, each line indented. */
export function wrap(text: string, width: number, indent = '  '): string {
  const out: string[] = [];
  for (const para of text.trim().split(/\n\s*\n/)) {
    let line = '';
    for (const word of para.split(/\s+/)) {
      if (line && indent.length + line.length + 1 + word.length > width) {
        out.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(indent + line, '');
  }
  return out.join('\n').replace(/\n$/, '');
}

/** The output with its spans marked. */
export function markOutput(output: string, spans: readonly Span[], st: Style): string {
  let s = '';
  let at = 0;
  for (const sp of spans) {
    s += output.slice(at, sp.start) + st.mark(output.slice(sp.start, sp.end));
    at = sp.end;
  }
  return s + output.slice(at);
}

/** A step's heading and explanation. */
export function stepHead(c: Chapter, r: StepRun, st: Style, width: number): string {
  return `\n${st.bold(`── ${c.number}.${r.index + 1}/${c.steps.length}  ${r.step.title}`)}\n${wrap(r.explain, width)}\n`;
}

/** A step's command and output (with what matters, named). */
export function stepOutput(r: StepRun, st: Style): string {
  if (!r.command || !r.run) return '';
  const body = markOutput(r.run.output, r.highlights, st).replace(/\n?$/, '\n');
  const seen = [...new Set(r.highlights.map((h) => r.run!.output.slice(h.start, h.end)))];
  return `\n  ${st.bold(`$ ${r.command}`)}\n${body}${seen.length ? st.dim(`  ▲ what matters: ${seen.join(', ')}\n`) : ''}`;
}

/** The evidence after an answer. */
export function evidence(r: StepRun, st: Style): string {
  if (!r.answer) return `  (the kernel could not answer: ${r.answerError})\n`;
  return `  ${st.bold('evidence:')} ${r.answer.evidence.split('\n').join('\n            ')}\n`;
}
