// From symptoms to root causes: a finding that explains others removes them (flannel.1 to be
// recreated explains its missing entries and its MTU; no bridge explains its ports), the same
// finding on several nodes becomes one naming them all, and what breaks most comes first. Pure.
import { REACH_ORDER, type Finding } from './types.js';
import { natural, lexical } from '../order.js';

/** On the same node, a finding of the key's id makes the listed ids redundant (their fix is part of its fix). */
const EXPLAINS: Record<string, readonly string[]> = {
  'vtep-missing': ['remote-neigh', 'remote-fdb', 'remote-route', 'remote-entries', 'remote-extra', 'vtep-mtu', 'vtep-tx-csum-off'],
  'vtep-config': ['remote-neigh', 'remote-fdb', 'remote-route', 'remote-entries', 'remote-extra', 'vtep-mtu', 'vtep-tx-csum-off'],
  'vtep-vni': ['remote-neigh', 'remote-fdb', 'remote-route', 'remote-entries', 'remote-extra', 'vtep-mtu'],
  'vtep-address': ['remote-neigh', 'remote-route', 'remote-entries'],
  'bridge-missing': ['port-state', 'port-learning-off', 'hairpin-off', 'bridge-mtu', 'bridge-down', 'bridge-address'],
  'bridge-down': ['port-state'],
  'underlay-filter': ['udp-csum-errors'],
};

/** Drops the findings another finding on the same node explains. */
export function dropExplained(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => !findings.some((g) => g !== f && g.node === f.node && EXPLAINS[g.id]?.includes(f.id)));
}

/** Joins findings that are the same problem seen on several nodes (same id, subject and description). */
export function mergeAcrossNodes(findings: readonly Finding[]): Finding[] {
  const out: Finding[] = [];
  const byKey = new Map<string, Finding>();
  for (const f of findings) {
    const key = `${f.id}\n${f.subject ?? ''}\n${f.what}`;
    const seen = byKey.get(key);
    if (!seen) {
      const copy = { ...f, evidence: [...f.evidence], fix: [...f.fix] };
      byKey.set(key, copy);
      out.push(copy);
      continue;
    }
    if (seen.evidence.length === f.evidence.length && seen.node.split(', ').length === 1) {
      seen.evidence = seen.evidence.map((e) => ({ ...e, value: `${seen.node}: ${e.value}` }));
    }
    seen.node = `${seen.node}, ${f.node}`;
    seen.evidence.push(...f.evidence.map((e) => ({ ...e, value: `${f.node}: ${e.value}` })));
    seen.fix.push(...f.fix.filter((l) => !seen.fix.includes(l)));
    if (f.severity === 'error') seen.severity = 'error';
  }
  return out;
}

/** What breaks most first: errors before warnings, then by reach (cluster … speed), then by node and id. */
export function ordered(findings: readonly Finding[]): Finding[] {
  const rank = (f: Finding) => REACH_ORDER.indexOf(f.reach);
  return [...findings].sort((a, b) => Number(a.severity !== 'error') - Number(b.severity !== 'error') || rank(a) - rank(b)
    || natural(a.node, b.node) || lexical(a.id, b.id) || lexical(a.subject ?? '', b.subject ?? ''));
}

/** Symptoms to root causes, ordered. */
export function rootCauses(findings: readonly Finding[]): Finding[] {
  return ordered(mergeAcrossNodes(dropExplained(findings)));
}
