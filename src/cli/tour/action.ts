// The work of `podnet tour` (loaded only when the verb runs): the chapter list with where the learner
// is, one chapter in the terminal, or `--check` — every step run without a learner and its invariant
// verified on the kernel, exit 1 naming the first step that does not hold.
import { labDeps } from '../context.js';
import { UserError } from '../../model/errors.js';
import { chapterOf, nextChapter, restart, statusOf, withChapter } from '../../model/tour/progress.js';
import type { Chapter } from '../../model/tour/chapter.js';
import { out, requireRoot, say, terminalWidth, type GlobalOptions } from '../flags.js';
import { loadChapters, pickChapter } from '../../tour/chapters.js';
import { ensureLab } from '../../tour/lab.js';
import { progressPath, readProgress, writeProgress } from '../../tour/progress-file.js';
import { runStep, scanLab, stepProblems } from '../../tour/step.js';
import { Lines, takeChapter } from './terminal.js';

/** The flags of `tour`. */
export interface TourFlags {
  name: string;
  check?: boolean;
  restart?: boolean;
  dir?: string;
}

/** `podnet tour [N]`. */
export async function tourVerb(g: GlobalOptions, chapter: string | undefined, o: TourFlags): Promise<void> {
  const chapters = await loadChapters(o.dir);
  if (o.check) return checkAll(g, chapter ? [pickChapter(chapters, chapter)] : chapters, o.name);
  if (chapter === undefined) return list(chapters, o.name);
  const c = pickChapter(chapters, chapter);
  requireRoot('tour', 'creates network namespaces');
  if (o.restart) {
    const p = await readProgress();
    await writeProgress(withChapter(p, c.file, restart(chapterOf(p, c.file))));
  }
  const { deps } = labDeps(g);
  await ensureLab(deps, o.name, c, say);
  const lines = new Lines();
  try {
    await takeChapter(deps.host, deps.stateRoot, o.name, c, { lines, write: out, width: Math.min(terminalWidth() ?? 100, 100) });
  } finally {
    lines.close();
  }
}

/** The chapters, where the learner is in each, and what to take next. */
async function list(chapters: readonly Chapter[], lab: string): Promise<void> {
  const p = await readProgress();
  const rows = chapters.map((c) => ({ c, status: statusOf(p.chapters[c.file], c.steps.length) }));
  const w = Math.max(...chapters.map((c) => c.title.length));
  out(`podnet tour: the blog "Linux internals of Kubernetes networking", run on your own lab ("${lab}")\n\n`);
  for (const { c, status } of rows) out(`  ${String(c.number).padStart(2)}. ${c.title.padEnd(w)}  ${c.lab.nodes > 1 ? `${c.lab.nodes} nodes` : '1 node '}  ${status}\n`);
  const next = nextChapter(p, chapters.map((c) => ({ file: c.file, steps: c.steps.length })));
  out(next === undefined ? '\nevery chapter is done: podnet tour N --restart takes one again\n'
    : `\nnext: sudo podnet tour ${next + 1}${statusOf(p.chapters[chapters[next].file], chapters[next].steps.length).startsWith('at') ? '   (resumes where you left off)' : ''}\n`);
  out(`progress: ${progressPath()}\n`);
}

/** `podnet tour --check`: every step of every chapter, verified. */
async function checkAll(g: GlobalOptions, chapters: readonly Chapter[], lab: string): Promise<void> {
  requireRoot('tour --check', 'creates network namespaces');
  const { deps } = labDeps(g);
  let steps = 0;
  for (const c of chapters) {
    await ensureLab(deps, lab, c, say);
    for (let i = 0; i < c.steps.length; i++) {
      const facts = (await scanLab(deps.host, deps.stateRoot, lab)).facts;
      const r = await runStep(deps.host, deps.stateRoot, lab, c, i, { facts });
      const problems = stepProblems(r, (await scanLab(deps.host, deps.stateRoot, lab)).facts);
      const where = `chapter ${c.number} step ${i + 1} (${c.file}: "${r.step.title}")`;
      out(`${problems.length ? 'FAIL' : 'ok  '}  ${c.number}.${i + 1}  ${r.step.title}  ${Math.round(r.ms)} ms${r.answer ? `  [answer: ${r.answer.answer}]` : ''}\n`);
      if (problems.length) {
        for (const p of problems) out(`        ${p}\n`);
        throw new UserError('state', `tour --check: ${where}: ${problems[0]}`);
      }
      steps++;
    }
  }
  out(`tour --check: ${steps} steps of ${chapters.length} chapter(s) hold on lab "${lab}"\n`);
}
