// Cheap reads of netfilter for a node with many Services, where a whole dump costs seconds
// (`nft -j list ruleset` or `iptables-save` of 1,000 Services: ~6 MB of JSON, ~1.8 MB of text):
// every chain without its rules (`nft -j list chains`), one chain with its rules (`nft -j list chain`),
// and an iptables chain with the chains it jumps to (`iptables -S`, which fetches only those chains).
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import type { NftFamily, NftRuleset } from '../model/netfilter-nft.js';
import { parseNftJson } from '../model/netfilter-nft.js';

/** Every chain of every table (iptables-nft's too), hooks and policies, without rules. Equivalent to: `nft -j list chains`. */
export async function nftListChains(runner: Runner, ns: Netns): Promise<NftRuleset> {
  return parseNftJson((await runOk(runner, { argv: inNetns(ns, 'nft', ['-j', 'list', 'chains']), mutates: false })).stdout);
}

/** One chain with its rules. Equivalent to: `nft -j list chain FAMILY TABLE CHAIN`. */
export async function nftListChain(runner: Runner, ns: Netns, family: NftFamily, table: string, chain: string): Promise<NftRuleset> {
  return parseNftJson((await runOk(runner, { argv: inNetns(ns, 'nft', ['-j', 'list', 'chain', family, table, chain]), mutates: false })).stdout);
}

/** `iptables -S CHAIN` and, for every chain its rules jump or go to, `iptables -S` of that chain too
 * (one level), in one process; targets that are not chains are skipped. Equivalent to:
 * `iptables -t TABLE -S CHAIN; iptables -t TABLE -S TARGET …`. */
export async function iptablesChainWithTargets(runner: Runner, ns: Netns, table: string, chain: string): Promise<string> {
  const script = 'rules=$(iptables -w -t "$1" -S "$2") || exit $?; printf "%s\\n" "$rules"; '
    + 'for c in $(printf "%s\\n" "$rules" | sed -n "s/^-A .* -[jg] \\([^ ]*\\).*/\\1/p" | sort -u); do '
    + 'case $c in ACCEPT|DROP|REJECT|RETURN|LOG|MARK|MASQUERADE|DNAT|SNAT|TRACE|CT|NOTRACK|CONNMARK) ;; *) iptables -w -t "$1" -S "$c" 2>/dev/null;; esac; done';
  return (await runOk(runner, { argv: inNetns(ns, 'sh', ['-c', script, 'sh', table, chain]), mutates: false })).stdout;
}

/** The rules of one nft chain as nft prints them, by handle (what xtables-monitor cannot print of a
 * native nft table's rule: a `masquerade` statement, say). Equivalent to: `nft -a list chain FAMILY TABLE CHAIN`. */
export async function nftChainRuleTexts(runner: Runner, ns: Netns, family: NftFamily, table: string, chain: string): Promise<Map<number, string>> {
  const out = (await runOk(runner, { argv: inNetns(ns, 'nft', ['-a', 'list', 'chain', family, table, chain]), mutates: false })).stdout;
  const rules = new Map<number, string>();
  for (const line of out.split('\n')) {
    const m = /^\s*(.*\S)\s+# handle (\d+)$/.exec(line);
    if (m && !/^(chain|table|type)\b/.test(m[1])) rules.set(Number(m[2]), m[1]);
  }
  return rules;
}
