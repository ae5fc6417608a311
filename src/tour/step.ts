// One step of a chapter against the live lab: its command run as printed, the parts of the output
// that matter located, the lab scanned again and the question's answer asked of the kernel. The
// terminal, `--check` and the UI all run steps through here, so they cannot disagree.
import type { Host } from '../host/host.js';
import type { Chapter, Step } from '../model/tour/chapter.js';
import { answerMatches } from '../model/tour/answer.js';
import { factPattern, fill, type Facts } from '../model/tour/template.js';
import { evaluateCheck, type KernelAnswer } from './checks.js';
import { runCommand, type CommandRun } from './command.js';
import { liveLab, type LiveLab } from './kernel.js';
import { LabDir } from '../lab/state.js';

/** A span of the output to highlight. */
export interface Span {
  start: number;
  end: number;
}

/** A step as it ran. */
export interface StepRun {
  index: number;
  step: Step;
  /** The command as the learner would type it (placeholders filled). */
  command?: string;
  run?: CommandRun;
  highlights: Span[];
  /** The explanation and question with the lab's facts filled in. */
  explain: string;
  ask?: string;
  hint?: string;
  answer?: KernelAnswer;
  /** Why the kernel could not answer (the step's invariant does not hold). */
  answerError?: string;
  ms: number;
}

/** Where every highlight pattern matches in the output. */
export function highlightSpans(output: string, patterns: readonly string[], facts: Facts): Span[] {
  const spans: Span[] = [];
  for (const p of patterns) {
    for (const m of output.matchAll(factPattern(p, facts, 'gm'))) if (m[0]) spans.push({ start: m.index, end: m.index + m[0].length });
  }
  return spans.sort((a, b) => a.start - b.start).filter((s, i, all) => i === 0 || s.start >= all[i - 1].end);
}

/** The lab scanned now (after a command may have changed it). */
export async function scanLab(host: Host, stateRoot: string, lab: string): Promise<LiveLab> {
  const state = await new LabDir(stateRoot, lab).read();
  if (!state) throw new Error(`lab "${lab}" is not up`);
  return liveLab(host, state, stateRoot);
}

/** Runs step `index` of `chapter`: the command (unless `skipCommand`), then the kernel's answer. */
export async function runStep(host: Host, stateRoot: string, lab: string, chapter: Chapter, index: number, o: { facts?: Facts; skipCommand?: boolean } = {}): Promise<StepRun> {
  const t = performance.now();
  const step = chapter.steps[index];
  let facts = o.facts ?? (await scanLab(host, stateRoot, lab)).facts;
  const command = step.command ? fill(step.command, facts) : undefined;
  const run = command && !o.skipCommand ? await runCommand(host, command, lab) : undefined;
  const live = await scanLab(host, stateRoot, lab);
  facts = live.facts;
  const r: StepRun = {
    index, step, command, run, explain: fill(step.explain, facts),
    highlights: run ? highlightSpans(run.output, step.highlight, facts) : [],
    ms: 0,
    ...(step.question ? { ask: fill(step.question.ask, facts), hint: fill(step.question.hint, facts) } : {}),
  };
  if (step.question) {
    try {
      r.answer = await evaluateCheck(host, live, step.question.check);
    } catch (e) {
      r.answerError = (e as Error).message;
    }
  }
  r.ms = performance.now() - t;
  return r;
}

/** What does not hold of a step as it ran: the lines `--check` reports (empty when it is right). */
export function stepProblems(r: StepRun, facts: Facts): string[] {
  const problems: string[] = [];
  const { step } = r;
  const out = r.run?.output ?? '';
  if (r.run && r.run.status !== step.status) problems.push(`\`${r.command}\` exited ${r.run.status}, not ${step.status}: ${out.trim().split('\n').slice(-1)[0] ?? ''}`);
  for (const p of step.expect) if (!factPattern(p, facts).test(out)) problems.push(`the output of \`${r.command}\` does not match expect /${fill(p, facts)}/`);
  for (const p of step.highlight) if (!factPattern(p, facts).test(out)) problems.push(`the output of \`${r.command}\` has nothing to highlight for /${fill(p, facts)}/`);
  const q = step.question;
  if (q) {
    if (r.answerError) problems.push(`question "${r.ask}": ${r.answerError}`);
    else if (r.answer) {
      if (q.expect && !new RegExp(fill(q.expect, facts)).test(r.answer.answer)) problems.push(`question "${r.ask}": the kernel answers ${r.answer.answer}, which does not match /${fill(q.expect, facts)}/`);
      if (q.inOutput && r.run && !r.answer.accept.some((a) => out.includes(a))) problems.push(`question "${r.ask}": the kernel's answer ${r.answer.answer} is not in the output of \`${r.command}\``);
      if (!answerMatches(r.answer.answer, r.answer.accept, r.answer.choices)) problems.push(`question "${r.ask}": the kernel's own answer is not accepted`);
    }
  }
  return problems;
}
