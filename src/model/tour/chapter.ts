// A chapter of `podnet tour` as data: one YAML file per chapter under tour/ (docs/tour.md says how to
// write one). The schema checks its shape; `checkChapter` checks what zod cannot — every step kind
// and check kind is one podnet can run, every placeholder names a fact the chapter's lab will have.
// Every problem is one line naming the file and the field.
import { k3sNodeNames } from '../topology.js';
import { z } from 'zod';
import YAML from 'yaml';
import { UserError } from '../errors.js';
import { CHECK_KINDS, isCheckKind, type CheckParam } from './checks.js';
import { knownFacts, placeholders } from './template.js';

const text = z.string().trim().min(1);
const line = z.string().trim().min(1).refine((s) => !s.includes('\n'), { message: 'must be one line' });

/** A question checked against the live kernel. */
const questionSchema = z.strictObject({
  ask: line,
  /** How the answer is found: a kind of CHECK_KINDS and its parameters. */
  check: z.looseObject({ kind: z.string() }),
  /** Shown after a wrong answer. */
  hint: line,
  /** Ask before the command runs (predict, then see the kernel's answer). */
  predict: z.boolean().default(false),
  /** The answer must appear in the command's output (default): `--check` verifies it. */
  inOutput: z.boolean().default(true),
  /** A pattern every correct answer matches: `--check` verifies the kernel's answer against it. */
  expect: z.string().optional(),
});

const stepSchema = z.strictObject({
  kind: z.string(),
  title: line,
  explain: text,
  /** The command, as the learner would type it (podnet … or a raw tool), with {placeholders}. */
  command: line.optional(),
  /** Patterns of the output to highlight. */
  highlight: z.array(z.string()).default([]),
  /** Patterns the output must match (what `--check` verifies). */
  expect: z.array(z.string()).default([]),
  /** The exit status the command must have. */
  status: z.number().int().min(0).max(255).default(0),
  question: questionSchema.optional(),
});

/** The lab a chapter runs on: its nodes (server, agent1…) and pods (pod1…), DNS, extra pods its setup makes. */
const labSchema = z.strictObject({
  nodes: z.number().int().min(1).max(4).default(1),
  pods: z.number().int().min(0).max(8).default(2),
  /** Commands that prepare the lab (podnet run, apply …), run before the first step. */
  setup: z.array(line).default([]),
  /** Pods the setup makes, so placeholders may name them. */
  extraPods: z.array(z.string()).default([]),
  /** Services the setup makes (a lab up without them is set up again). */
  services: z.array(z.string()).default([]),
  /** Run the cluster DNS (the kube-dns pod). */
  dns: z.boolean().default(false),
});

export const chapterSchema = z.strictObject({
  title: line,
  /** What the chapter follows (the blog's section, or "beyond the blog"). */
  follows: line.optional(),
  intro: text,
  lab: labSchema.default({ nodes: 1, pods: 2, setup: [], extraPods: [], services: [], dns: false }),
  steps: z.array(stepSchema).min(1),
  summary: z.array(line).min(1),
});

/** A chapter as loaded: its number (from the file's order) and file name beside the data. */
export type Chapter = z.infer<typeof chapterSchema> & { file: string; number: number };
export type Step = Chapter['steps'][number];
export type Question = NonNullable<Step['question']>;

/** The kinds of step: `run` runs a command; `read` only explains (and may ask). */
export const STEP_KINDS = ['run', 'read'] as const;

const pathOf = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

/** A chapter file's problem: `tour/03-bridge.yaml: steps[2].check.kind: …`. */
export class ChapterError extends UserError {
  constructor(file: string, field: string, problem: string) {
    super('usage', `${file}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

/** The lab objects a chapter's lab has, by name. */
export function labNames(lab: Chapter['lab']): { nodes: string[]; pods: string[] } {
  return {
    nodes: k3sNodeNames(lab.nodes),
    pods: [...Array.from({ length: lab.pods }, (_, i) => `pod${i + 1}`), ...lab.extraPods],
  };
}

/** Parses a chapter file's text (YAML) into a Chapter, or throws a ChapterError naming the field. */
export function parseChapter(file: string, source: string, number: number): Chapter {
  let raw: unknown;
  try {
    raw = YAML.parse(source);
  } catch (e) {
    throw new ChapterError(file, '', `not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const r = chapterSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ChapterError(file, pathOf(issue.path), issue.message);
  }
  const chapter = { ...r.data, file, number };
  checkChapter(chapter);
  return chapter;
}

/** What zod cannot see: step and check kinds, check parameters, placeholders. */
function checkChapter(c: Chapter): void {
  const { nodes, pods } = labNames(c.lab);
  const facts = knownFacts(nodes, pods);
  const refs = (field: string, s: string) => {
    const bad = placeholders(s).find((p) => !facts.has(p));
    if (bad) throw new ChapterError(c.file, field, `{${bad}} is not a fact of this chapter's lab (nodes ${nodes.join(', ')}; pods ${pods.join(', ') || 'none'}; see docs/tour.md)`);
  };
  c.lab.setup.forEach((s, i) => refs(`lab.setup[${i}]`, s));
  refs('intro', c.intro);
  c.summary.forEach((s, i) => refs(`summary[${i}]`, s));
  c.steps.forEach((s, i) => {
    const at = `steps[${i}]`;
    if (!(STEP_KINDS as readonly string[]).includes(s.kind)) throw new ChapterError(c.file, `${at}.kind`, `unknown step kind "${s.kind}" (use ${STEP_KINDS.join(' or ')})`);
    if (s.kind === 'run' && !s.command) throw new ChapterError(c.file, `${at}.command`, 'a run step needs the command it runs');
    if (s.kind === 'read' && s.command) throw new ChapterError(c.file, `${at}.kind`, 'a read step runs no command (make it kind: run)');
    for (const [k, v] of [['explain', s.explain], ['command', s.command ?? ''], ...s.highlight.map((h, j) => [`highlight[${j}]`, h]), ...s.expect.map((h, j) => [`expect[${j}]`, h])] as [string, string][]) {
      refs(`${at}.${k}`, v);
      if (k.startsWith('highlight') || k.startsWith('expect')) checkPattern(c.file, `${at}.${k}`, v);
    }
    if (s.question) checkQuestion(c, `${at}.question`, s.question, { nodes, pods }, refs);
  });
}

/** A pattern must compile (with placeholders standing for plain words). */
function checkPattern(file: string, field: string, pattern: string): void {
  try {
    new RegExp(pattern.replace(/\{[a-z][a-z0-9-]*(?:\.[a-zA-Z]+)?\}/g, 'x'));
  } catch (e) {
    throw new ChapterError(file, field, `not a regular expression (${(e as Error).message})`);
  }
}

/** A question's check must be a known kind with every parameter it needs, naming objects the lab has. */
function checkQuestion(c: Chapter, at: string, q: Question, lab: { nodes: string[]; pods: string[] }, refs: (f: string, s: string) => void): void {
  refs(`${at}.ask`, q.ask);
  refs(`${at}.hint`, q.hint);
  const kind = q.check.kind;
  if (!isCheckKind(kind)) throw new ChapterError(c.file, `${at}.check.kind`, `unknown check "${kind}" (one of ${Object.keys(CHECK_KINDS).join(', ')})`);
  const spec: { required: readonly CheckParam[]; optional?: readonly CheckParam[] } = CHECK_KINDS[kind];
  const allowed = new Set<string>(['kind', ...spec.required, ...(spec.optional ?? [])]);
  const extra = Object.keys(q.check).find((k) => !allowed.has(k));
  if (extra) throw new ChapterError(c.file, `${at}.check.${extra}`, `check "${kind}" takes no "${extra}" (it takes ${[...allowed].slice(1).join(', ')})`);
  for (const p of spec.required) {
    const v = q.check[p];
    if (typeof v !== 'string' || !v) throw new ChapterError(c.file, `${at}.check.${p}`, `check "${kind}" needs ${p} (a string)`);
    refs(`${at}.check.${p}`, v);
    const names = p === 'pod' ? lab.pods : p === 'node' || p === 'peer' ? lab.nodes : p === 'in' ? [...lab.pods, ...lab.nodes] : undefined;
    if (names && !names.includes(v)) throw new ChapterError(c.file, `${at}.check.${p}`, `"${v}" is not in this chapter's lab (${names.join(', ')}), so the check cannot be evaluated`);
    if (p === 'entry' && !['pod', 'veth', 'bridge'].includes(v)) throw new ChapterError(c.file, `${at}.check.entry`, `"${v}" is not pod, veth or bridge`);
  }
  if (q.expect !== undefined) checkPattern(c.file, `${at}.expect`, q.expect);
}
