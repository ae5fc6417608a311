// flannel's nftables table `ip flannel` against the ruleset flannel writes for the node's lease
// (FLANNEL-POSTRTG: masquerade out of the cluster network; FLANNEL-FWD: accept it): missing, stale
// (another subnet's rules) and extra rules, chain by chain. One finding per node. Pure.
import { inNs } from './commands.js';
import { listed, on, type Check } from './node.js';
import { ruleText } from './nft-text.js';
import type { ChainRules } from './types.js';

export const FLANNEL_TABLE = 'flannel';

/** The fix: flannel's whole ruleset, replaced in one transaction. */
const apply = (ns: Parameters<typeof inNs>[0], ruleset: string | undefined): string[] =>
  ruleset ? [`${inNs(ns, ['nft', '-f', '-'])} <<'EOF'\n${ruleset.trimEnd()}\nEOF`] : [];

/** flannel's table holds exactly the rules flannel writes for this node. */
export const checkFlannelRules: Check = (exp, obs) => {
  const want = exp.flannelRules;
  if (!want || !obs.nft) return [];
  const rs = obs.nft;
  const show = inNs(obs.ns, ['nft', 'list', 'table', 'ip', FLANNEL_TABLE]);
  if (!rs.tables.some((t) => t.family === 'ip' && t.name === FLANNEL_TABLE)) {
    return [on(obs, { id: 'flannel-rules-missing', severity: 'error', reach: 'node', what: `flannel's nftables table ip ${FLANNEL_TABLE} is missing`,
      breaks: 'Pod traffic leaving the cluster network is not masqueraded (replies never come back), and a FORWARD policy of DROP would stop all pod traffic here.',
      evidence: [{ command: show, value: `Error: No such file or directory (no table ip ${FLANNEL_TABLE})` }], fix: apply(obs.ns, exp.flannelRuleset) })];
  }
  const have: ChainRules[] = rs.chains.filter((c) => c.family === 'ip' && c.table === FLANNEL_TABLE)
    .map((c) => ({ chain: c.name, rules: rs.rules.filter((r) => r.family === 'ip' && r.table === FLANNEL_TABLE && r.chain === c.name).map((r) => ruleText(r.expr)) }));
  const problems: string[] = [];
  for (const w of want) {
    const h = have.find((c) => c.chain === w.chain);
    if (!h) { problems.push(`chain ${w.chain} is missing`); continue; }
    const missing = w.rules.filter((r) => !h.rules.includes(r));
    const extra = h.rules.filter((r) => !w.rules.includes(r));
    if (missing.length) problems.push(`${w.chain} lacks ${listed(missing.map((r) => `"${r}"`), 3)}`);
    if (extra.length) problems.push(`${w.chain} has ${listed(extra.map((r) => `"${r}"`), 3)}${exp.podCIDR && extra.some((r) => /\d+\.\d+\.\d+\.\d+\/\d+/.test(r) && !r.includes(exp.podCIDR!)) ? ' (stale: not this node\'s subnet)' : ''}`);
    if (!missing.length && !extra.length && h.rules.join('\n') !== w.rules.join('\n')) problems.push(`${w.chain}'s rules are in another order`);
  }
  for (const h of have) if (!want.some((w) => w.chain === h.chain)) problems.push(`chain ${h.chain} is not flannel's`);
  if (problems.length === 0) return [];
  return [on(obs, { id: 'flannel-rules', severity: 'error', reach: 'node', what: `flannel's table ip ${FLANNEL_TABLE} differs from what flannel writes for ${exp.podCIDR ?? 'this node'}: ${problems.join('; ')}`,
    breaks: 'Pod traffic is masqueraded (or not) against the wrong subnet: traffic out of the cluster or into this node\'s pods gets the wrong source address and its replies are lost.',
    evidence: [{ command: show, value: have.map((c) => `${c.chain}: ${c.rules.join(' | ') || '(empty)'}`).join('; ') }], fix: apply(obs.ns, exp.flannelRuleset) })];
};
