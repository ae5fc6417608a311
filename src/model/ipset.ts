// ipset's save format as data (ipset 7.17: `ipset save` and `ipset list -o save` print the same) and
// the restore scripts podnet feeds `ipset restore -exist`: a set's new members are loaded into a
// temporary set of the same options and swapped in, so a set is never seen half-filled (kube-router's
// way, pkg/utils/ipset.go). Pure: text in, values out; values in, text out.
import { lexical } from './order.js';

/** One member of a set: an address or a network, with its options (`timeout 0`, `nomatch`). */
export interface IpsetEntry {
  value: string;
  /** True for `nomatch`: a hash:net exception (the address is not in the set although a wider net is). */
  nomatch: boolean;
  /** The words after the value, as printed (`timeout 0 nomatch`). */
  options: string[];
}

/** A set as `ipset save` prints it. */
export interface IpsetSet {
  name: string;
  /** `hash:ip`, `hash:net`, … */
  type: string;
  /** The create options after the type, `initval` left out (it changes every time a set is made). */
  options: string[];
  entries: IpsetEntry[];
}

/** A set as a planner wants it: type, create options and members, each member as its words. */
export interface IpsetSpec {
  name: string;
  type: string;
  /** Create options after the type (`timeout 0`). */
  options: string[];
  /** Each member as the words after `add NAME` (`10.42.0.5 timeout 0`, `10.0.0.0/8 timeout 0 nomatch`). */
  entries: string[][];
}

/** Parses `ipset save` output; lines it does not know are ignored. */
export function parseIpsetSave(text: string): IpsetSet[] {
  const sets = new Map<string, IpsetSet>();
  for (const raw of text.split('\n')) {
    const w = raw.trim().split(/\s+/);
    if (w[0] === 'create' && w.length >= 3) {
      const options: string[] = [];
      for (let i = 3; i < w.length; i++) {
        if (w[i] === 'initval') i++;
        else options.push(w[i]);
      }
      sets.set(w[1], { name: w[1], type: w[2], options, entries: [] });
    } else if (w[0] === 'add' && w.length >= 3) {
      sets.get(w[1])?.entries.push({ value: w[2], nomatch: w.slice(3).includes('nomatch'), options: w.slice(3) });
    }
  }
  return [...sets.values()];
}

/** The restore script that makes each set hold exactly its entries (made when missing): per distinct
 * options a temporary set `tmpName(options)` is filled, swapped with the set and flushed; the
 * temporary sets are destroyed at the end. Feed it to `ipset restore -exist`. */
export function ipsetSwapScript(sets: readonly IpsetSpec[], tmpName: (options: string) => string): string {
  const lines: string[] = [];
  const tmps = new Map<string, string>();
  for (const s of [...sets].sort((a, b) => lexical(a.name, b.name))) {
    const options = [s.type, ...s.options].join(' ');
    let tmp = tmps.get(options);
    if (tmp === undefined) {
      tmp = tmpName(options);
      tmps.set(options, tmp);
      lines.push(`create ${tmp} ${options}`, `flush ${tmp}`);
    }
    for (const e of s.entries) lines.push(`add ${tmp} ${e.join(' ')}`);
    lines.push(`create ${s.name} ${options}`, `swap ${tmp} ${s.name}`, `flush ${tmp}`);
  }
  for (const tmp of [...tmps.values()].sort()) lines.push(`destroy ${tmp}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The restore script that destroys `names` (each must be unreferenced by then). */
export function ipsetDestroyScript(names: readonly string[]): string {
  return names.map((n) => `destroy ${n}\n`).join('');
}

/** True when `name` is a set name ipset accepts (at most 31 characters, no blanks). */
export const isIpsetName = (name: string): boolean => name.length > 0 && name.length <= 31 && !/\s/.test(name);
