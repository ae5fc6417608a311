// NetworkPolicies and Namespaces of a lab that is up, as the API server keeps them: applied (created,
// or replaced when they exist, like `kubectl apply`), deleted, listed; a pod's labels changed (`podnet
// label`). Every change is followed by the syncers (./sync.ts: kube-router's rules on every node,
// kube-proxy's, the DNS).
import { UserError } from '../model/errors.js';
import type { NamespaceManifest, NetworkPolicyManifest } from '../model/manifest.js';
import { podsOfPolicy } from '../model/netpol/semantics.js';
import { policyKey, type NetworkPolicy } from '../model/netpol/types.js';
import { now, type LabDeps } from './deps.js';
import { withLabLock } from './lock.js';
import { policyWorldOf } from './policy-world.js';
import { podOf } from './pods.js';
import { LabDir, requireUp, type LabState } from './state.js';
import { syncServices } from './sync.js';

/** The policy `ns/name`, or undefined. */
export const policyOf = (state: LabState, namespace: string, name: string): NetworkPolicy | undefined =>
  state.policies?.find((p) => p.namespace === namespace && p.name === name);

/** What applying one object did, and how to take it back. */
export interface AppliedObject {
  line: string;
  undo: (state: LabState) => void;
}

/** Applies a NetworkPolicy or Namespace to `state` (not written): created, or replaced ("configured"). */
export function applyNetpolObject(state: LabState, m: NetworkPolicyManifest | NamespaceManifest): AppliedObject {
  if (m.kind === 'Namespace') {
    const old = state.namespaces?.find((n) => n.name === m.name);
    state.namespaces = [...(state.namespaces ?? []).filter((n) => n.name !== m.name), { name: m.name, labels: m.labels, createdAt: old?.createdAt ?? now() }];
    return { line: `namespace/${m.name} ${old ? 'configured' : 'created'}`, undo: (s) => { s.namespaces = [...(s.namespaces ?? []).filter((n) => n.name !== m.name), ...(old ? [old] : [])]; } };
  }
  const { namespace, name } = m.policy;
  const old = policyOf(state, namespace, name);
  const policy: NetworkPolicy = { ...m.policy, createdAt: old?.createdAt ?? now() };
  const others = (s: LabState) => (s.policies ?? []).filter((p) => !(p.namespace === namespace && p.name === name));
  state.policies = [...others(state), policy];
  const selected = podsOfPolicy(policyWorldOf(state), policy).map((p) => p.name);
  return {
    line: `networkpolicy/${name} ${old ? 'configured' : 'created'}${namespace !== 'default' ? ` in ${namespace}` : ''}: selects ${selected.length ? selected.join(', ') : 'no pod yet'} for ${policy.spec.policyTypes.join(' and ').toLowerCase()}`,
    undo: (s) => { s.policies = [...others(s), ...(old ? [old] : [])]; },
  };
}

/** Removes the object a NetworkPolicy or Namespace manifest names from `state` (not written); one line. */
export function deleteNetpolObject(state: LabState, m: NetworkPolicyManifest | NamespaceManifest): string {
  if (m.kind === 'Namespace') {
    const pods = state.pods.filter((p) => (p.namespace ?? 'default') === m.name).map((p) => p.name);
    if (pods.length) throw new UserError('conflict', `namespace/${m.name} still holds pods ${pods.join(', ')}: delete them first`);
    const before = state.namespaces?.length ?? 0;
    state.namespaces = (state.namespaces ?? []).filter((n) => n.name !== m.name);
    return state.namespaces.length !== before ? `namespace/${m.name} deleted` : `namespace/${m.name} not found`;
  }
  return removePolicy(state, m.policy.namespace, m.policy.name) ? `networkpolicy/${m.policy.name} deleted` : `networkpolicy/${m.policy.name} not found`;
}

/** Removes policy `ns/name` from the state; false when there was none. */
function removePolicy(state: LabState, namespace: string, name: string): boolean {
  const before = state.policies?.length ?? 0;
  state.policies = (state.policies ?? []).filter((p) => !(p.namespace === namespace && p.name === name));
  return state.policies.length !== before;
}

/** Deletes NetworkPolicy `ns/name` (`podnet delete netpol`): its chain and sets go from every node. */
export function policyDelete(deps: LabDeps, lab: string, namespace: string, name: string): Promise<void> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab);
    if (!removePolicy(state, namespace, name)) {
      throw new UserError('not-found', `unknown networkpolicy "${namespace}/${name}" in lab "${lab}" (networkpolicies: ${(state.policies ?? []).map(policyKey).join(', ') || 'none'})`);
    }
    if (!deps.host.dryRun) await dir.write(state);
    await syncServices(deps, dir, state);
  });
}

/** A pod's label changes as `kubectl label` takes them: `key=value` sets, `key-` removes. */
export type LabelChanges = Record<string, string | null>;

/** Parses `app=web tier-` into changes; a word that is neither is a one-line error. */
export function parseLabelChanges(words: readonly string[]): LabelChanges {
  const out: LabelChanges = {};
  for (const w of words) {
    const set = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$/.exec(w);
    const del = /^([A-Za-z0-9][-A-Za-z0-9_./]*)-$/.exec(w);
    if (set) out[set[1]] = set[2];
    else if (del) out[del[1]] = null;
    else throw new UserError('usage', `"${w}" is not a label change: write key=value to set one or key- to remove one (like app=web or tier-)`);
  }
  return out;
}

/** Changes the labels of pod `name` (`podnet label pod`); a label that exists with another value needs
 * `overwrite`. Services, policies and DNS follow. Resolves with the pod's new labels. */
export function labelPod(deps: LabDeps, lab: string, name: string, changes: LabelChanges, overwrite = false): Promise<Record<string, string>> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab);
    const pod = podOf(state, name);
    const labels = { ...(pod.labels ?? {}) };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete labels[k];
      else if (labels[k] !== undefined && labels[k] !== v && !overwrite) throw new UserError('conflict', `pod "${name}" already has label ${k}=${labels[k]}: add --overwrite to change it`);
      else labels[k] = v;
    }
    if (Object.keys(labels).length) pod.labels = labels;
    else delete pod.labels;
    if (!deps.host.dryRun) await dir.write(state);
    await syncServices(deps, dir, state);
    return labels;
  });
}
