// What a learner has done, per chapter: the step to resume at, the questions answered right first
// time, whether the chapter is finished. Stored per user as JSON (src/tour/progress-file.ts);
// this module is the pure part: its schema and how it changes.
import { z } from 'zod';

const chapterProgress = z.object({
  /** The step to resume at (0-based). */
  step: z.number().int().min(0).default(0),
  /** Finished at least once (ISO time of the last finish). */
  finishedAt: z.string().optional(),
  /** Questions answered right at the first try, by step index, in the current pass. */
  firstTry: z.array(z.number().int()).default([]),
  /** Questions answered in the current pass. */
  answered: z.array(z.number().int()).default([]),
});

const progressSchema = z.object({
  version: z.literal(1).default(1),
  /** Keyed by chapter file name (stable when chapters are added before it). */
  chapters: z.record(z.string(), chapterProgress).default({}),
});

export type Progress = z.infer<typeof progressSchema>;
export type ChapterProgress = z.infer<typeof chapterProgress>;

/** No progress yet. */
export const emptyProgress = (): Progress => ({ version: 1, chapters: {} });

/** Parses a progress file; a file that is not ours (or damaged) counts as no progress, never an error. */
export function parseProgress(raw: string): Progress {
  try {
    const r = progressSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : emptyProgress();
  } catch {
    return emptyProgress();
  }
}

/** One chapter's progress (fresh when none). */
export function chapterOf(p: Progress, file: string): ChapterProgress {
  return p.chapters[file] ?? { step: 0, firstTry: [], answered: [] };
}

/** `p` with one chapter's progress replaced. */
export function withChapter(p: Progress, file: string, c: ChapterProgress): Progress {
  return { ...p, chapters: { ...p.chapters, [file]: c } };
}

/** A step is done: resume after it; a question answered records whether it was first time. */
export function stepDone(c: ChapterProgress, step: number, answer?: { firstTry: boolean }): ChapterProgress {
  const add = (xs: number[], x: number) => (xs.includes(x) ? xs : [...xs, x].sort((a, b) => a - b));
  return {
    ...c,
    step: Math.max(c.step, step + 1),
    ...(answer ? { answered: add(c.answered, step), firstTry: answer.firstTry ? add(c.firstTry, step) : c.firstTry.filter((s) => s !== step) } : {}),
  };
}

/** The chapter is finished: the next visit starts it again from the first step. */
export function chapterFinished(c: ChapterProgress, at: string): ChapterProgress {
  return { ...c, step: 0, finishedAt: at };
}

/** Start a chapter again (keeps when it was last finished). */
export function restart(c: ChapterProgress): ChapterProgress {
  return { step: 0, firstTry: [], answered: [], ...(c.finishedAt ? { finishedAt: c.finishedAt } : {}) };
}

/** How a chapter shows in the list: `done`, `at step 3/7`, or `new`. */
export function statusOf(c: ChapterProgress | undefined, steps: number): string {
  if (c && c.step > 0 && c.step < steps) return `at step ${c.step + 1}/${steps}`;
  if (c?.finishedAt) return 'done';
  return 'new';
}

/** Where `podnet tour` suggests going next: the first chapter in progress, else the first not done. */
export function nextChapter(p: Progress, files: readonly { file: string; steps: number }[]): number | undefined {
  const inProgress = files.findIndex((f) => { const c = p.chapters[f.file]; return !!c && c.step > 0 && c.step < f.steps; });
  if (inProgress >= 0) return inProgress;
  const fresh = files.findIndex((f) => !p.chapters[f.file]?.finishedAt);
  return fresh >= 0 ? fresh : undefined;
}
