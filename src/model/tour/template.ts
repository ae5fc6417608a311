// The facts a chapter's text and commands name — `{pod1.veth}`, `{server.netns}`, `{lab}` — filled
// from the learner's live lab. A chapter is checked against the facts its lab will have before it
// runs, so a misspelt placeholder is refused with its file and field, never printed raw.

/** What a pod fact can name (filled from the kernel's view of the pod). */
export const POD_FACTS = ['ip', 'mac', 'netns', 'pid', 'veth', 'vethIndex', 'ifindex', 'node', 'vethMac'] as const;
/** What a node fact can name. */
export const NODE_FACTS = ['netns', 'ip', 'podCIDR', 'bridgeIP', 'gateway', 'vtepMac', 'vtepIP'] as const;

/** The facts of one live lab: `{lab}`, `{pod1.ip}`, `{server.netns}` … → their values. */
export type Facts = Readonly<Record<string, string>>;

const PLACEHOLDER = /\{([a-z][a-z0-9-]*(?:\.[a-zA-Z]+)?)\}/g;

/** The placeholders a text names, in order (`{pod1.ip}` → `pod1.ip`). */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** The placeholder names a lab of these nodes and pods can fill. */
export function knownFacts(nodes: readonly string[], pods: readonly string[]): Set<string> {
  return new Set(['lab', 'node', ...nodes.flatMap((n) => NODE_FACTS.map((f) => `${n}.${f}`)), ...pods.flatMap((p) => POD_FACTS.map((f) => `${p}.${f}`))]);
}

/** `text` with each placeholder replaced by its fact (through `escape`, for regular expressions);
 * a placeholder without a fact stays as typed, so a missing value is visible, not silently empty. */
export function fill(text: string, facts: Facts, escape: (s: string) => string = (s) => s): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (facts[name] !== undefined ? escape(facts[name]) : whole));
}

/** A regular expression's special characters escaped (a MAC or an IP inside a pattern). */
export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A pattern of a chapter (`expect`, `highlight`) with its facts filled in, as a RegExp. */
export function factPattern(pattern: string, facts: Facts, flags = 'm'): RegExp {
  return new RegExp(fill(pattern, facts, escapeRegExp), flags);
}

/** Splits a command line as a shell would for plain words and '…'/"…" quoting (no expansion): a
 * chapter's command is run as argv, exactly as printed. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || word) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote`);
  if (started || word) words.push(word);
  return words;
}
