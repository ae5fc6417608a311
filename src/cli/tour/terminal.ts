// `podnet tour N` in a terminal: each step's explanation, command and output, its question asked and
// checked against the kernel's answer (a hint after a wrong one, the evidence after any), progress
// saved after every step, and a summary at the end. Answers are read line by line from stdin, so the
// same session works typed, piped, or driven by tmux.
import { createInterface } from 'node:readline';
import type { Host } from '../../host/host.js';
import type { Chapter } from '../../model/tour/chapter.js';
import { answerMatches } from '../../model/tour/answer.js';
import { chapterFinished, chapterOf, stepDone, withChapter, type ChapterProgress } from '../../model/tour/progress.js';
import { evidence, stepHead, stepOutput, styleFor, wrap } from './render.js';
import { readProgress, writeProgress } from '../../tour/progress-file.js';
import { runStep, scanLab, type StepRun } from '../../tour/step.js';
import { fill, type Facts } from '../../model/tour/template.js';

/** Lines from stdin, one at a time (undefined at the end of input). */
export class Lines {
  private readonly it: AsyncIterator<string>;
  private readonly rl: ReturnType<typeof createInterface>;
  constructor(input: NodeJS.ReadableStream = process.stdin) {
    this.rl = createInterface({ input, terminal: false });
    this.it = this.rl[Symbol.asyncIterator]();
  }
  /** Stops reading (stdin no longer keeps the process alive). */
  close(): void {
    this.rl.close();
    if (process.stdin.isTTY || process.stdin.readable) process.stdin.pause();
  }
  async next(prompt: string, write: (s: string) => void): Promise<string | undefined> {
    write(prompt);
    const r = await this.it.next();
    return r.done ? undefined : r.value;
  }
}

const TRIES = 3;

/** Asks a step's question until it is answered right, given up (empty line), or three tries; true
 * when right at the first try; undefined when the learner quit. */
async function ask(r: StepRun, lines: Lines, write: (s: string) => void, st: ReturnType<typeof styleFor>): Promise<boolean | undefined> {
  const a = r.answer;
  write(`\n  ${st.bold('?')} ${r.ask}\n`);
  if (a?.choices.length) write(`${a.choices.map((c, i) => `     ${i + 1}) ${c}`).join('\n')}\n`);
  for (let t = 1; t <= TRIES; t++) {
    const given = await lines.next(`  answer (Enter: show me, q: quit) > `, write);
    if (given === undefined || given.trim() === 'q') return undefined;
    if (!given.trim()) {
      write(`  the kernel's answer: ${a?.answer ?? '?'}\n${evidence(r, st)}`);
      return false;
    }
    if (a && answerMatches(given, a.accept, a.choices)) {
      write(`  ${st.bold('✓ right')}: ${a.answer}\n${evidence(r, st)}`);
      return t === 1;
    }
    write(`  ✗ not ${given.trim()}. hint: ${r.hint}\n`);
    if (t === TRIES) write(`  the kernel's answer: ${a?.answer ?? '?'}\n${evidence(r, st)}`);
  }
  return false;
}

/** Takes chapter `c` from the saved step (the lab is up); resolves when it is finished or quit. */
export async function takeChapter(host: Host, stateRoot: string, lab: string, c: Chapter, o: { lines: Lines; write: (s: string) => void; width: number }): Promise<void> {
  const st = styleFor(!!process.stdout.isTTY);
  let progress = await readProgress();
  let mine: ChapterProgress = chapterOf(progress, c.file);
  const save = async (p: ChapterProgress) => { mine = p; progress = withChapter(progress, c.file, p); await writeProgress(progress); };
  const facts = (await scanLab(host, stateRoot, lab)).facts;
  if (mine.step === 0) o.write(`\n${st.bold(`Chapter ${c.number}: ${c.title}`)}${c.follows ? st.dim(`  (${c.follows})`) : ''}\n${wrap(fill(c.intro, facts), o.width)}\n`);
  else o.write(`\n${st.bold(`Chapter ${c.number}: ${c.title}`)} — resuming at step ${mine.step + 1}/${c.steps.length} (podnet tour ${c.number} --restart starts again)\n`);
  for (let i = mine.step; i < c.steps.length; i++) {
    const r = await runStep(host, stateRoot, lab, c, i, i === mine.step ? { facts } : {});
    o.write(stepHead(c, r, st, o.width));
    const q = r.step.question;
    if (q?.predict) o.write(`  ${st.dim('predict first; then see what the kernel says')}\n`);
    let first: boolean | undefined;
    if (q?.predict) {
      first = await ask(r, o.lines, o.write, st);
      if (first === undefined) return quit(o.write, c);
      o.write(stepOutput(r, st));
    } else {
      o.write(stepOutput(r, st));
      if (q) {
        first = await ask(r, o.lines, o.write, st);
        if (first === undefined) return quit(o.write, c);
      }
    }
    await save(stepDone(mine, i, q ? { firstTry: !!first } : undefined));
    if (i + 1 < c.steps.length && (await o.lines.next(st.dim('  [Enter] next step, q quit > '), o.write))?.trim() === 'q') return quit(o.write, c);
  }
  o.write(summary(c, mine, st, lab, o.width, facts));
  await save(chapterFinished(mine, new Date().toISOString()));
}

function quit(write: (s: string) => void, c: Chapter): void {
  write(`\n  progress saved: podnet tour ${c.number} resumes here\n`);
}

/** What the chapter taught, the learner's score, and where the lab is. */
function summary(c: Chapter, p: ChapterProgress, st: ReturnType<typeof styleFor>, lab: string, width: number, facts: Facts): string {
  const asked = c.steps.filter((s) => s.question).length;
  return `\n${st.bold(`── Chapter ${c.number} done: ${c.title}`)}\n${c.summary.map((s) => wrap(`• ${fill(s, facts)}`, width, '  ')).join('\n')}\n`
    + (asked ? `  questions right at the first try: ${p.firstTry.length}/${asked}\n` : '')
    + `  lab "${lab}" is still up to explore (podnet inspect --name ${lab}); podnet lab down --name ${lab} removes it\n`;
}
