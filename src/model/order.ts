// Orders for names, as ICU's collation gives them, computed without ICU when the text allows it. A
// process pays ~8 ms for its first collator (ICU loads its data): a visible part of a short CLI run,
// for orders that names of pods, nodes, namespaces and IPs never need. On text made only of lowercase
// ASCII letters, digits, '-', '.' and '/', ICU's order is the code points' order ('-' < '.' < '/' <
// digits < letters) — with `numeric`, digit runs compare as numbers — so that text is compared here, and any
// other text (capitals, accents, leading zeros, which ICU orders by its own rules) goes to ICU.
const SIMPLE = /^[a-z0-9./-]*$/;
const LEADING_ZERO = /(?:^|\D)0\d/;
let numericCollator: Intl.Collator | undefined;

const isDigit = (c: number) => c >= 48 && c <= 57;
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Code-point order with digit runs as numbers (no leading zeros: the caller checks). */
function naturalSimple(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i;
      let ej = j;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      if (ei - i !== ej - j) return sign((ei - i) - (ej - j));
      for (; i < ei; i++, j++) if (a.charCodeAt(i) !== b.charCodeAt(j)) return sign(a.charCodeAt(i) - b.charCodeAt(j));
      continue;
    }
    if (ca !== cb) return sign(ca - cb);
    i++;
    j++;
  }
  return sign((a.length - i) - (b.length - j));
}

/** Natural order (`pod-2` before `pod-10`), the same on every machine: `Intl.Collator('en', { numeric: true })`. */
export function natural(a: string, b: string): number {
  if (SIMPLE.test(a) && SIMPLE.test(b) && !LEADING_ZERO.test(a) && !LEADING_ZERO.test(b)) return naturalSimple(a, b);
  numericCollator ??= new Intl.Collator('en', { numeric: true });
  return numericCollator.compare(a, b);
}

/** Dictionary order without numbers: `a.localeCompare(b)`. */
export function lexical(a: string, b: string): number {
  if (SIMPLE.test(a) && SIMPLE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return a.localeCompare(b);
}
