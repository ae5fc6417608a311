// The Tour panel's API: `podnet tour`'s chapters run on the lab the page shows, through the same
// runtime as the terminal (src/tour: the chapter's lab, a step's command run as printed, the lab
// scanned, the question checked against the kernel, the progress file). What the web adds: the drawn
// elements a step is about (outlined on the topology), and answers given by clicking an element — the
// element is read as the words its box shows (`veth82ebd960@if2` → `veth82ebd960`, an address
// without its prefix length) and each is checked like a typed answer.
import type { Hono } from 'hono';
import { LabDir } from '../lab/state.js';
import { answerMatches } from '../model/tour/answer.js';
import { chapterOf, stepDone, withChapter, chapterFinished, statusOf } from '../model/tour/progress.js';
import { fill } from '../model/tour/template.js';
import type { Chapter } from '../model/tour/chapter.js';
import { loadChapters } from '../tour/chapters.js';
import { evaluateCheck } from '../tour/checks.js';
import { ensureLab } from '../tour/lab.js';
import { readProgress, writeProgress } from '../tour/progress-file.js';
import { runStep, scanLab } from '../tour/step.js';
import type { Box, TourAnswerDoc, TourDoc, TourStepDoc } from './api.js';
import type { UiContext } from './context.js';
import { HttpError, parseTourAnswer, parseTourStep } from './requests.js';

/** The words a box shows, as answers: each line's first word, without `@ifN`, an address without `/len`. */
export function elementWords(box: Pick<Box, 'lines'>): string[] {
  const words = box.lines.flatMap((l) => l.split(/\s+/)).filter(Boolean).flatMap((w) => {
    const bare = w.replace(/@if\d+$/, '').replace(/\/\d+$/, '');
    return bare === w ? [w] : [bare, w];
  });
  return [...new Set(words.filter((w) => !['node', 'vni', 'remote', 'Service'].includes(w)))];
}

/** The drawn elements a step's text names: pods, veths, bridges, VXLAN devices and node groups whose
 * name appears as a word (a pod's eth0 and a node's uplink are too common to mean one element). */
export function stepElements(text: string, boxes: readonly Pick<Box, 'id' | 'kind' | 'lines'>[]): string[] {
  const words = new Set(text.split(/[^A-Za-z0-9_.-]+/).filter(Boolean));
  return boxes.filter((b) => {
    if (!['pod', 'veth', 'bridge', 'vxlan', 'group'].includes(b.kind)) return false;
    const name = b.kind === 'group' ? b.lines[0].replace(/^node /, '') : b.lines[0].replace(/@if\d+$/, '');
    return words.has(name);
  }).map((b) => b.id);
}

/** A `podnet trace SRC DST [--cold] [--tcp P | --udp P] …` step as the Journey tab's request (other
 * flags, such as --name, belong to the command line only); undefined for any other command. */
export function journeyOf(command: string | undefined): TourStepDoc['journey'] {
  const w = (command ?? '').split(/\s+/);
  if (w[0] !== 'podnet' || w[1] !== 'trace' || !w[2] || !w[3] || w[2].startsWith('-') || w[3].startsWith('-')) return undefined;
  const at = (flag: string) => { const i = w.indexOf(flag); return i < 0 ? undefined : Number(w[i + 1]) || undefined; };
  const tcp = w.includes('--tcp') ? at('--tcp') ?? 80 : undefined;
  const udp = w.includes('--udp') ? at('--udp') ?? 53 : undefined;
  return { src: w[2], dst: w[3], protocol: tcp ? 'tcp' : udp ? 'udp' : 'icmp', ...(tcp ?? udp ? { port: tcp ?? udp } : {}), ...(w.includes('--cold') ? { cold: true } : {}) };
}

/** GET /api/tour, POST /api/tour/step, POST /api/tour/answer. */
export function tourRoutes(app: Hono, ctx: UiContext): void {
  // Read on the first request, not at start: parsing them is ~60 ms of the main thread, which a
  // Ctrl-C right after start would wait behind, and a page that never opens the tour never needs.
  let read: ReturnType<typeof loadChapters> | undefined;
  const chapters = () => (read ??= loadChapters());
  const chapterNo = async (n: number): Promise<Chapter> => {
    const c = (await chapters()).find((x) => x.number === n);
    if (!c) throw new HttpError(404, `no chapter ${n} (there are ${(await chapters()).length}: GET /api/tour)`);
    return c;
  };
  const labOf = (): string => {
    if (ctx.target.kind !== 'lab') throw new HttpError(403, 'the tour runs on a lab: start `podnet ui --lab NAME --allow-changes` (this page shows a host)');
    return ctx.target.lab;
  };
  /** Answers tried per step, so progress can say "right at the first try". */
  const tries = new Map<string, number>();

  app.get('/api/tour', async (c) => {
    const progress = await readProgress();
    const doc: TourDoc = {
      lab: ctx.target.kind === 'lab' ? ctx.target.lab : '', canRun: ctx.target.kind === 'lab' && ctx.allowChanges,
      chapters: (await chapters()).map((x) => ({ number: x.number, title: x.title, steps: x.steps.length, nodes: x.lab.nodes, status: statusOf(progress.chapters[x.file], x.steps.length) })),
    };
    return c.json(doc);
  });

  app.post('/api/tour/step', async (c) => {
    const { chapter, step } = parseTourStep(await c.req.json().catch(() => null));
    const lab = labOf();
    if (!ctx.allowChanges) throw new HttpError(403, `read-only: a tour step runs its command on lab ${lab} (and a chapter may make the lab again): start \`podnet ui --allow-changes\`, or take it in a terminal: podnet tour ${chapter}`);
    const ch = await chapterNo(chapter);
    if (step >= ch.steps.length) throw new HttpError(404, `chapter ${chapter} has ${ch.steps.length} steps (0 to ${ch.steps.length - 1})`);
    const doc = await ctx.mustFinish(() => stepDoc(ctx, lab, ch, step));
    return c.json(doc);
  });

  app.post('/api/tour/answer', async (c) => {
    const b = parseTourAnswer(await c.req.json().catch(() => null));
    const lab = labOf();
    const ch = await chapterNo(b.chapter);
    const q = ch.steps[b.step]?.question;
    if (!q) throw new HttpError(404, `chapter ${b.chapter} step ${b.step} asks no question`);
    const deps = ctx.deps;
    if (!(await new LabDir(deps.stateRoot, lab).read())) throw new HttpError(409, `lab ${lab} is not up: run the step first (POST /api/tour/step)`);
    // The kernel's answer now, not when the step ran: the learner may have changed the lab meanwhile.
    const live = await scanLab(deps.host, deps.stateRoot, lab);
    const a = await evaluateCheck(deps.host, live, q.check);
    let given = b.answer ?? '';
    let right: boolean;
    if (b.element !== undefined) {
      const box = (await ctx.live.current(250)).doc.drawing.boxes.find((x) => x.id === b.element);
      if (!box) throw new HttpError(404, `no element "${b.element}" in the topology`);
      const words = elementWords(box);
      const hit = words.find((w) => answerMatches(w, a.accept, a.choices));
      given = hit ?? (box.lines.filter(Boolean).join(' ') || b.element);
      right = hit !== undefined;
    } else right = given.trim() !== '' && answerMatches(given, a.accept, a.choices);
    const key = `${b.chapter}:${b.step}`;
    const tried = (tries.get(key) ?? 0) + 1;
    tries.set(key, tried);
    const gaveUp = b.answer !== undefined && given.trim() === '';
    if (right || gaveUp) {
      tries.delete(key);
      await record(ch.file, b.step, ch.steps.length, { firstTry: right && tried === 1 });
    }
    const doc: TourAnswerDoc = right || gaveUp ? { right, answer: a.answer, evidence: a.evidence, given } : { right, hint: fill(q.hint, live.facts), given };
    return c.json(doc);
  });
}

/** Progress as the terminal keeps it: the step done, the chapter finished after its last. */
async function record(file: string, step: number, total: number, answer?: { firstTry: boolean }): Promise<void> {
  const p = await readProgress();
  let mine = stepDone(chapterOf(p, file), step, answer);
  if (step === total - 1) mine = chapterFinished(mine, new Date().toISOString());
  await writeProgress(withChapter(p, file, mine));
}

/** Runs step `step` of `ch` on `lab` (the lab made to fit the chapter first) and describes it for the panel. */
async function stepDoc(ctx: UiContext, lab: string, ch: Chapter, step: number): Promise<TourStepDoc> {
  const deps = ctx.deps;
  let labNote: string | undefined;
  await ensureLab(deps, lab, ch, (line) => { labNote = line; });
  const r = await runStep(deps.host, deps.stateRoot, lab, ch, step);
  ctx.live.poke();
  const drawing = (await ctx.live.current(0)).doc.drawing;
  // The summary's placeholders need the lab's facts: one more scan, only after a chapter's last step.
  const last = step === ch.steps.length - 1;
  const facts = last ? (await scanLab(deps.host, deps.stateRoot, lab)).facts : undefined;
  if (!r.step.question) await record(ch.file, step, ch.steps.length);
  return {
    chapter: ch.number, title: ch.title, index: step, total: ch.steps.length, stepTitle: r.step.title, explain: r.explain,
    highlights: r.highlights, elements: stepElements(`${r.command ?? ''} ${r.explain} ${r.ask ?? ''}`, drawing.boxes),
    ...(r.command ? { command: r.command } : {}), ...(r.run ? { output: r.run.output, status: r.run.status } : {}),
    ...(r.ask ? { question: { ask: r.ask, predict: !!r.step.question?.predict, choices: r.answer?.choices ?? [], byElement: true } } : {}),
    ...(labNote ? { labNote } : {}),
    ...(journeyOf(r.command) ? { journey: journeyOf(r.command) } : {}),
    ...(last && facts ? { summary: ch.summary.map((x) => fill(x, facts)) } : {}),
  };
}
