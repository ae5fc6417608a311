// Is the learner's answer the kernel's? Answers are compared as people type them: case and spaces do
// not matter, a veth may be typed with or without its `@ifN`, a number with or without leading zeros.

/** The canonical form of an answer: lower case, trimmed, `@ifN` and a trailing `/len` not required. */
export function normalizeAnswer(s: string): string {
  const t = s.trim().toLowerCase().replace(/\s+/g, ' ');
  if (/^\d+$/.test(t)) return String(Number(t));
  return t.replace(/@if\d+$/, '');
}

/** True when `given` is one of the accepted answers (each normalized the same way). A chosen number
 * (`2`) among listed choices is the choice it numbers. */
export function answerMatches(given: string, accepted: readonly string[], choices: readonly string[] = []): boolean {
  let g = normalizeAnswer(given);
  if (!g) return false;
  const n = Number(g);
  if (choices.length && Number.isInteger(n) && n >= 1 && n <= choices.length && !accepted.some((a) => normalizeAnswer(a) === g)) g = normalizeAnswer(choices[n - 1]);
  return accepted.some((a) => normalizeAnswer(a) === g || normalizeAnswer(a.replace(/\/\d+$/, '')) === g);
}
