// nftables rules as text for comparing and showing: a rule read with `nft -j` written back the way
// `nft list` (and flannel's ruleset) writes it — `ip saddr 10.42.0.0/16 ip daddr != 224.0.0.0/4
// masquerade random,fully-random` — and a ruleset's text split into chains and rules. Only what the
// checks meet is spelled out; anything else is kept as its JSON (it then simply differs). Pure.
import { nftValueText } from '../netfilter-nft.js';
import type { ChainRules } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
/** meta keys nft writes without `meta`. */
const BARE_META = new Set(['iifname', 'oifname', 'iif', 'oif']);

/** The left side of a match: `ip saddr`, `meta mark`, `iifname`, `meta mark & 0x4000`. */
function leftText(x: unknown): { text: string; hex: boolean } {
  if (!isObj(x)) return { text: String(x), hex: false };
  if (isObj(x.payload)) return { text: `${String(x.payload.protocol)} ${String(x.payload.field)}`, hex: false };
  if (isObj(x.meta)) {
    const key = String(x.meta.key);
    return { text: BARE_META.has(key) ? key : `meta ${key}`, hex: key === 'mark' };
  }
  if (isObj(x.ct)) return { text: `ct ${String(x.ct.key)}`, hex: x.ct.key === 'mark' };
  if (Array.isArray(x['&'])) {
    const [l, mask] = x['&'] as unknown[];
    const left = leftText(l);
    return { text: `${left.text} & ${valueText(mask, left.hex)}`, hex: left.hex };
  }
  return { text: JSON.stringify(x), hex: false };
}

/** A right-hand value; marks in hex, as nft prints them. */
function valueText(x: unknown, hex: boolean): string {
  if (typeof x === 'number' && hex) return `0x${x.toString(16)}`;
  if (isObj(x) && Array.isArray(x.set)) return `{ ${x.set.map((e) => valueText(e, hex)).join(', ')} }`;
  return nftValueText(x);
}

/** One statement of a rule as nft writes it; undefined for what nft's text leaves out (counters). */
export function statementText(e: unknown): string | undefined {
  if (!isObj(e)) return String(e);
  const [key] = Object.keys(e);
  const v = e[key];
  switch (key) {
    case 'counter': return undefined;
    case 'match': {
      const m = v as Obj;
      const left = leftText(m.left);
      const op = String(m.op);
      const right = valueText(m.right, left.hex);
      if (Array.isArray((m.left as Obj)?.['&'])) return `${left.text} ${op} ${right}`;
      return op === '==' || op === 'in' ? `${left.text} ${right}` : `${left.text} ${op} ${right}`;
    }
    case 'accept': case 'drop': case 'return': case 'continue': return key;
    case 'jump': case 'goto': return `${key} ${String((v as Obj).target)}`;
    case 'reject': return 'reject';
    case 'masquerade': {
      const flags = isObj(v) ? (Array.isArray(v.flags) ? v.flags.map(String) : v.flags !== undefined ? [String(v.flags)] : []) : [];
      return flags.length ? `masquerade ${flags.join(',')}` : 'masquerade';
    }
    case 'mangle': {
      const m = v as Obj;
      return `${leftText(m.key).text} set ${valueText(m.value, leftText(m.key).hex)}`;
    }
    default: return JSON.stringify(e);
  }
}

/** A rule's statements as one line (`nft list` style, counters left out). */
export function ruleText(expr: readonly unknown[]): string {
  return expr.map(statementText).filter((s): s is string => s !== undefined).join(' ');
}

/** The chains of a ruleset's text (`nft -f` input or `nft list` output) with their rules, the
 * `type … hook …` line and comments left out. */
export function chainsOfText(text: string): ChainRules[] {
  const out: ChainRules[] = [];
  let cur: ChainRules | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const open = /^chain (\S+) \{$/.exec(line);
    if (open) out.push((cur = { chain: open[1], rules: [] }));
    else if (line === '}') cur = undefined;
    else if (cur && line && !line.startsWith('type ') && !line.startsWith('#') && !line.startsWith('policy ')) cur.rules.push(line);
  }
  return out;
}

/** What a rule matches, when it matches only on addresses and interfaces (else undefined: a rule the
 * forward check cannot judge, so it is left alone). */
export interface SimpleMatch {
  field: 'saddr' | 'daddr' | 'iifname' | 'oifname';
  negated: boolean;
  value: string;
}

/** The rule's matches when every one is on `ip saddr|daddr` or `iifname|oifname`; undefined otherwise. */
export function simpleMatches(expr: readonly unknown[]): SimpleMatch[] | undefined {
  const out: SimpleMatch[] = [];
  for (const e of expr) {
    if (!isObj(e) || !isObj(e.match)) continue;
    const m = e.match;
    const l = m.left as Obj;
    const field = isObj(l?.payload) && l.payload.protocol === 'ip' ? String(l.payload.field) : isObj(l?.meta) ? String(l.meta.key) : '';
    if (!['saddr', 'daddr', 'iifname', 'oifname'].includes(field) || (m.op !== '==' && m.op !== '!=')) return undefined;
    out.push({ field: field as SimpleMatch['field'], negated: m.op === '!=', value: nftValueText(m.right) });
  }
  return out;
}
