// `nft -j list …` output (nftables 1.0.6, libnftables-json(5)) as data: tables, chains (base chains
// with type, hook, priority and policy), rules with their counter, comment and final verdict (the
// expression list kept as it came), sets and maps with their elements — kube-proxy's verdict maps
// (`ip . proto . port : goto chain`) included. Pure: JSON in, values out.
import type { NetfilterCounters } from './netfilter-iptables.js';

/** An nftables address family. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

/** A verdict: accept, drop, continue, return, queue, or a jump/goto to `target`. */
export interface NftVerdict {
  kind: string;
  target?: string;
}

/** A table. (nft 1.0.6 leaves a table's comment out of its JSON.) */
export interface NftTable {
  family: string;
  name: string;
  handle: number;
  flags?: string[];
  comment?: string;
}

/** A chain; base chains carry type, hook, priority and policy. */
export interface NftChain {
  family: string;
  table: string;
  name: string;
  handle: number;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
  /** The device of a netdev (ingress/egress) chain. */
  dev?: string;
  comment?: string;
}

/** One element of a set or map: its key in parts (a concatenation has several), its value or verdict. */
export interface NftElement {
  /** `['10.43.0.20', 'tcp', '80']` for `10.43.0.20 . tcp . 80`; a prefix is `10.42.0.0/16`, a range `1-5`. */
  key: string[];
  /** A data map's value, as text. */
  value?: string;
  /** A verdict map's verdict. */
  verdict?: NftVerdict;
  counter?: NetfilterCounters;
  comment?: string;
}

/** A rule, with what is read most often pulled out of its expressions. */
export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  comment?: string;
  /** The first anonymous counter of the rule. */
  counter?: NetfilterCounters;
  /** The verdict the rule ends in, if it ends in one (`jump services`, `accept`, `drop`). */
  verdict?: NftVerdict;
  /** A verdict-map lookup in the rule: the named map (`service-ips`) or the inline elements (numgen's `{ 0 : goto … }`). */
  vmap?: { map?: string; elements: NftElement[] };
  /** The expression list as nft printed it. */
  expr: unknown[];
}

/** A named set or map. */
export interface NftSet {
  kind: 'set' | 'map';
  family: string;
  table: string;
  name: string;
  handle: number;
  /** The key's types: one, or several for a concatenation (`ipv4_addr . inet_proto . inet_service`). */
  keyType: string[];
  /** A map's value type (`verdict`, `ipv4_addr`, …). */
  valueType?: string;
  flags: string[];
  comment?: string;
  elements: NftElement[];
}

/** What nft listed. */
export interface NftRuleset {
  /** nft's version (metainfo). */
  version?: string;
  tables: NftTable[];
  chains: NftChain[];
  rules: NftRule[];
  sets: NftSet[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
const num = (x: unknown) => (typeof x === 'number' ? x : undefined);
const defined = <T extends Obj>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const VERDICTS = new Set(['accept', 'drop', 'continue', 'return', 'queue', 'jump', 'goto']);

/** The verdict an expression (or a map's value) stands for, or undefined. */
export function nftVerdictOf(x: unknown): NftVerdict | undefined {
  if (!isObj(x)) return undefined;
  const keys = Object.keys(x);
  if (keys.length !== 1 || !VERDICTS.has(keys[0])) return undefined;
  const target = isObj(x[keys[0]]) ? str((x[keys[0]] as Obj).target) : undefined;
  return target !== undefined ? { kind: keys[0], target } : { kind: keys[0] };
}

/** A value as nft writes it in a ruleset: `10.42.0.0/16`, `1-5`, `10.43.0.20 . tcp . 80`. */
export function nftValueText(x: unknown): string {
  return nftValueParts(x).join(' . ');
}

function nftValueParts(x: unknown): string[] {
  if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return [String(x)];
  if (Array.isArray(x)) return [x.map(nftValueText).join(', ')];
  if (!isObj(x)) return [String(x)];
  if (Array.isArray(x.concat)) return x.concat.flatMap(nftValueParts);
  if (isObj(x.prefix)) return [`${nftValueText(x.prefix.addr)}/${String(x.prefix.len)}`];
  if (Array.isArray(x.range)) return [x.range.map(nftValueText).join('-')];
  if (isObj(x.elem)) return nftValueParts(x.elem.val);
  const verdict = nftVerdictOf(x);
  if (verdict) return [verdict.target !== undefined ? `${verdict.kind} ${verdict.target}` : verdict.kind];
  return [JSON.stringify(x)];
}

function countersOf(x: unknown): NetfilterCounters | undefined {
  if (!isObj(x)) return undefined;
  const packets = num(x.packets);
  const bytes = num(x.bytes);
  return packets !== undefined && bytes !== undefined ? { packets, bytes } : undefined;
}

/** One element of a set (`key`) or map (`[key, value]`), with the counter and comment of an `elem` wrapper. */
export function nftElementOf(x: unknown, isMap: boolean): NftElement {
  const [key, value] = isMap && Array.isArray(x) && x.length === 2 ? x : [x, undefined];
  const wrapper = isObj(key) && isObj(key.elem) ? key.elem : undefined;
  const verdict = nftVerdictOf(value);
  const counter = countersOf(wrapper?.counter);
  return defined({
    key: nftValueParts(key),
    value: value !== undefined && !verdict ? nftValueText(value) : undefined,
    verdict,
    counter,
    comment: str(wrapper?.comment),
  });
}

function setOf(kind: 'set' | 'map', o: Obj): NftSet {
  const type = Array.isArray(o.type) ? o.type.map(String) : o.type !== undefined ? [String(o.type)] : [];
  const valueType = isObj(o.map) ? JSON.stringify(o.map) : str(o.map);
  return defined({
    kind, family: String(o.family), table: String(o.table), name: String(o.name), handle: num(o.handle) ?? 0,
    keyType: type, valueType, flags: Array.isArray(o.flags) ? o.flags.map(String) : [],
    comment: str(o.comment), elements: Array.isArray(o.elem) ? o.elem.map((e) => nftElementOf(e, kind === 'map')) : [],
  });
}

function vmapOf(expr: unknown[]): NftRule['vmap'] {
  const v = expr.map((e) => (isObj(e) && isObj(e.vmap) ? e.vmap : undefined)).find((e) => e !== undefined);
  if (!v) return undefined;
  if (typeof v.data === 'string') return { map: v.data.replace(/^@/, ''), elements: [] };
  const inline = isObj(v.data) && Array.isArray(v.data.set) ? v.data.set : [];
  return { elements: inline.map((e) => nftElementOf(e, true)) };
}

function ruleOf(o: Obj): NftRule {
  const expr = Array.isArray(o.expr) ? o.expr : [];
  const counter = expr.map((e) => (isObj(e) ? countersOf(e.counter) : undefined)).find((c) => c !== undefined);
  return defined({
    family: String(o.family), table: String(o.table), chain: String(o.chain), handle: num(o.handle) ?? 0,
    comment: str(o.comment), counter, verdict: nftVerdictOf(expr[expr.length - 1]), vmap: vmapOf(expr), expr,
  });
}

function chainOf(o: Obj): NftChain {
  return defined({
    family: String(o.family), table: String(o.table), name: String(o.name), handle: num(o.handle) ?? 0,
    type: str(o.type), hook: str(o.hook), prio: num(o.prio), policy: str(o.policy), dev: str(o.dev), comment: str(o.comment),
  });
}

/** Parses `nft -j list ruleset|table|tables` output (text or already parsed); `[]` or '' is an empty ruleset. */
export function parseNftJson(json: unknown): NftRuleset {
  const data: unknown = typeof json === 'string' ? (json.trim() ? JSON.parse(json) : []) : json;
  const out: NftRuleset = { tables: [], chains: [], rules: [], sets: [] };
  if (Array.isArray(data) && data.length === 0) return out;
  if (!isObj(data) || !Array.isArray(data.nftables)) throw new Error('nft -j: expected an object with an "nftables" array');
  for (const item of data.nftables) {
    if (!isObj(item)) continue;
    if (isObj(item.metainfo)) out.version = str(item.metainfo.version);
    else if (isObj(item.table)) {
      const t = item.table;
      out.tables.push(defined({ family: String(t.family), name: String(t.name), handle: num(t.handle) ?? 0, flags: Array.isArray(t.flags) ? t.flags.map(String) : undefined, comment: str(t.comment) }));
    } else if (isObj(item.chain)) out.chains.push(chainOf(item.chain));
    else if (isObj(item.rule)) out.rules.push(ruleOf(item.rule));
    else if (isObj(item.set)) out.sets.push(setOf('set', item.set));
    else if (isObj(item.map)) out.sets.push(setOf('map', item.map));
  }
  return out;
}

/** The rules of one chain, in order. */
export function nftChainRules(rs: NftRuleset, table: string, chain: string, family?: string): NftRule[] {
  return rs.rules.filter((r) => r.table === table && r.chain === chain && (family === undefined || r.family === family));
}
