// iptables-save's text as data (iptables 1.8.9, nf_tables backend): tables, chains with their
// policies, rules split into match options, comment, target and the target's options; and
// iptables-restore's error messages as a line number and a message. Pure: text in, values out.

/** Packet and byte counters, as the kernel counted them. */
export interface NetfilterCounters {
  packets: number;
  bytes: number;
}

/** One option of a rule as printed: `! -s 10.42.0.0/16` → {option '-s', value '10.42.0.0/16', negated}. */
export interface IptablesOption {
  option: string;
  /** The option's arguments joined by one space (`--match-set KUBE-SRC-X src`); '' for a flag (`--random-fully`). */
  value: string;
  negated: boolean;
  /** The match module (`-m NAME`) the option belongs to; undefined for the core options (-s, -d, -p, -i, -o). */
  module?: string;
}

/** A chain of a table: built-in chains have a policy, user chains print `-`. */
export interface IptablesChain {
  name: string;
  /** `ACCEPT`, `DROP`, … for a built-in chain; `-` for a user chain. */
  policy: string;
  builtin: boolean;
  /** As printed on the chain line (iptables-save prints them there with or without -c). */
  counters?: NetfilterCounters;
}

/** One rule (`-A CHAIN …`) of a table. */
export interface IptablesRule {
  table: string;
  chain: string;
  /** The rule as printed, from `-A` on (without the `[p:b]` counters of -c). */
  text: string;
  /** Everything before the target, in order; module loads appear as {option '-m', value NAME}. */
  matches: IptablesOption[];
  /** The text of `-m comment --comment …`, unquoted. */
  comment?: string;
  /** The target (`-j X`) or the chain gone to (`-g X`). */
  target?: string;
  targetKind?: 'jump' | 'goto';
  /** The target's options (`--to-destination 10.42.0.5:8080`, `--set-xmark 0x4000/0x4000`, `--random-fully`). */
  targetArgs: IptablesOption[];
  /** The rule's counters, when saved with -c. */
  counters?: NetfilterCounters;
}

/** One table (`*nat` … `COMMIT`). */
export interface IptablesTable {
  name: string;
  chains: IptablesChain[];
  rules: IptablesRule[];
}

/** What iptables-save printed: its tables in order, and lines it could not read. */
export interface IptablesDump {
  tables: IptablesTable[];
  /** Lines that were not a table, chain, rule, COMMIT or comment (`line N: text`). */
  warnings: string[];
}

/** A word of a rule line; quoted words are never options, even when they start with `-`. */
export interface IptablesWord {
  value: string;
  quoted: boolean;
}

/** Splits a rule line into words as iptables-restore does: double or single quotes, backslash escapes. */
export function splitIptablesWords(line: string): IptablesWord[] {
  const words: IptablesWord[] = [];
  let cur = '';
  let quote = '';
  let started = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      started = true;
    } else if (quote) {
      if (c === quote) quote = '';
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
      quoted = true;
    } else if (c === ' ' || c === '\t') {
      if (started) words.push({ value: cur, quoted });
      cur = '';
      started = false;
      quoted = false;
    } else {
      cur += c;
      started = true;
    }
  }
  if (started) words.push({ value: cur, quoted });
  return words;
}

/** Quotes one argument for an iptables-restore line (double quotes when it holds anything but plain characters). */
export function quoteIptablesWord(s: string): string {
  return /^[A-Za-z0-9_.:/@%+=,-]+$/.test(s) ? s : `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const CORE = new Set(['-s', '--source', '-d', '--destination', '-p', '--protocol', '-i', '--in-interface', '-o', '--out-interface', '-f', '--fragment']);
const isOption = (w: IptablesWord) => !w.quoted && /^--?[A-Za-z]/.test(w.value);
const isBang = (w: IptablesWord) => !w.quoted && w.value === '!';

/** The parts of a rule's words after `-A CHAIN`: matches, target and its options. */
export function parseIptablesRuleWords(words: readonly IptablesWord[]): Pick<IptablesRule, 'matches' | 'comment' | 'target' | 'targetKind' | 'targetArgs'> {
  const matches: IptablesOption[] = [];
  const targetArgs: IptablesOption[] = [];
  let module: string | undefined;
  let target: string | undefined;
  let targetKind: 'jump' | 'goto' | undefined;
  let negated = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (isBang(w)) {
      negated = true;
      continue;
    }
    const values: string[] = [];
    while (i + 1 < words.length && !isOption(words[i + 1]) && !isBang(words[i + 1])) values.push(words[++i].value);
    const opt: IptablesOption = { option: w.value, value: values.join(' '), negated };
    negated = false;
    if (w.value === '-j' || w.value === '--jump' || w.value === '-g' || w.value === '--goto') {
      target = opt.value;
      targetKind = w.value === '-g' || w.value === '--goto' ? 'goto' : 'jump';
    } else if (target !== undefined) {
      targetArgs.push(opt);
    } else {
      if (w.value === '-m' || w.value === '--match') module = opt.value;
      else if (module !== undefined && !CORE.has(w.value)) opt.module = module;
      matches.push(opt);
    }
  }
  const comment = matches.find((m) => m.option === '--comment')?.value;
  return { matches, ...(comment !== undefined ? { comment } : {}), ...(target !== undefined ? { target, targetKind } : {}), targetArgs };
}

const counters = (p: string, b: string): NetfilterCounters => ({ packets: Number(p), bytes: Number(b) });

/** Parses `iptables-save [-c]` output; an empty text (a namespace without tables) is an empty dump. */
export function parseIptablesSave(text: string): IptablesDump {
  const tables: IptablesTable[] = [];
  const warnings: string[] = [];
  let table: IptablesTable | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const chain = /^:(\S+) (\S+)(?: \[(\d+):(\d+)\])?$/.exec(line);
    const rule = /^(?:\[(\d+):(\d+)\] )?(-A (\S+)(?: (.*))?)$/.exec(line);
    if (line.startsWith('*')) {
      table = { name: line.slice(1), chains: [], rules: [] };
      tables.push(table);
    } else if (line === 'COMMIT' && table) {
      table = undefined;
    } else if (chain && table) {
      table.chains.push({ name: chain[1], policy: chain[2], builtin: chain[2] !== '-', ...(chain[3] !== undefined ? { counters: counters(chain[3], chain[4]) } : {}) });
    } else if (rule && table) {
      const parsed = parseIptablesRuleWords(splitIptablesWords(rule[5] ?? ''));
      table.rules.push({ table: table.name, chain: rule[4], text: rule[3], ...parsed, ...(rule[1] !== undefined ? { counters: counters(rule[1], rule[2]) } : {}) });
    } else {
      warnings.push(`line ${index + 1}: ${line}`);
    }
  });
  return { tables, warnings };
}

/** The sections of an iptables-save text by table (`*name` … `COMMIT`, each ending in a newline). */
export function iptablesSaveSections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      name = line.slice(1);
      lines = [line];
    } else if (name !== undefined && line && !line.startsWith('#')) {
      lines.push(line);
      if (line === 'COMMIT') {
        out.set(name, `${lines.join('\n')}\n`);
        name = undefined;
      }
    }
  }
  return out;
}

/** The tables an iptables-restore input names, with the line of each one's COMMIT (undefined when missing). */
export function iptablesRestoreTables(text: string): { table: string; commitLine?: number }[] {
  const out: { table: string; commitLine?: number }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('*')) out.push({ table: line.slice(1) });
    else if (line === 'COMMIT' && out.length && out[out.length - 1].commitLine === undefined) out[out.length - 1].commitLine = i + 1;
  });
  return out;
}

/** iptables-restore's complaint as a line number (when it named one) and a one-line message. */
export function parseIptablesRestoreError(stderr: string): { line?: number; message: string } {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const failed = /line (\d+) failed: (.*)$/m.exec(stderr);
  if (failed) return { line: Number(failed[1]), message: failed[2].trim() };
  const commit = /(COMMIT expected) at line (\d+)/.exec(stderr);
  if (commit) return { line: Number(commit[2]), message: commit[1] };
  const at = /Error occurred at line: (\d+)/.exec(stderr);
  const first = (lines.find((l) => !/^(Error occurred at line|Try `)/.test(l)) ?? lines[0] ?? 'failed')
    .replace(/^\S*-restore(?: v[\d.]+ \([^)]*\))?: /, '').replace(/^\S*-restore: /, '');
  return { ...(at ? { line: Number(at[1]) } : {}), message: first };
}
