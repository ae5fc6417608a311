// Label selectors as the Kubernetes API evaluates them (metav1.LabelSelector): matchLabels pairs and
// matchExpressions (In, NotIn, Exists, DoesNotExist) must all hold; an empty selector selects
// everything; NotIn holds for an object without the key. Namespace labels: every namespace carries
// `kubernetes.io/metadata.name=<name>`, as the API server sets it. Pure.
import { NAMESPACE_NAME_LABEL, type LabelSelector, type LabelSelectorRequirement, type NamespaceState } from './types.js';
import { lexical } from '../order.js';

/** True when `labels` satisfy one requirement. */
function requirementHolds(r: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In': return has && (r.values ?? []).includes(labels[r.key]);
    case 'NotIn': return !has || !(r.values ?? []).includes(labels[r.key]);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
  }
}

/** True when `selector` selects an object with `labels`. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const pairs = Object.entries(selector.matchLabels ?? {});
  return pairs.every(([k, v]) => labels[k] === v) && (selector.matchExpressions ?? []).every((r) => requirementHolds(r, labels));
}

/** True for `{}`: a selector that selects everything. */
export const selectsAll = (s: LabelSelector): boolean => Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;

/** A selector as kubectl prints one: `app=web,tier in (a,b),!legacy`; `<all>` for `{}`. */
export function formatSelector(s: LabelSelector): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of s.matchExpressions ?? []) {
    if (r.operator === 'In') parts.push(`${r.key} in (${(r.values ?? []).join(',')})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${(r.values ?? []).join(',')})`);
    else parts.push(r.operator === 'Exists' ? r.key : `!${r.key}`);
  }
  return parts.join(',') || '<all>';
}

/** The labels of namespace `name`: those a `kind: Namespace` gave it, and always its name label. */
export function namespaceLabels(name: string, made?: Pick<NamespaceState, 'labels'>): Record<string, string> {
  return { ...(made?.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

/** Every namespace the lab uses (`default`, `kube-system`, those of pods, Services and policies, and
 * those made by `kind: Namespace`) with its labels. */
export function labNamespaces(used: Iterable<string>, made: readonly NamespaceState[] = []): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const n of ['default', 'kube-system', ...used]) out.set(n, namespaceLabels(n));
  for (const n of made) out.set(n.name, namespaceLabels(n.name, n));
  return new Map([...out.entries()].sort(([a], [b]) => lexical(a, b)));
}
