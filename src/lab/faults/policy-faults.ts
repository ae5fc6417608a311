// A NetworkPolicy that forgets DNS: every pod of the default namespace isolated for egress and allowed
// to reach only the pods of its own namespace — the policy people write to "allow only my namespace",
// which also cuts them off kube-dns in kube-system. Applied as `podnet apply` applies it (kube-router's
// rules synced on every node); the undo step deletes it again.
import { UserError } from '../../model/errors.js';
import { DNS_NAMESPACE, DNS_POD } from '../dns.js';
import { labFlag } from '../names.js';
import { applyNetpolObject, policyOf } from '../netpol.js';
import { syncServices } from '../sync.js';
import type { FaultDef } from './types.js';

/** The policy the fault applies (in the default namespace). */
export const NO_DNS_POLICY = 'podnet-fault-same-namespace-only';

export const policyFaults: FaultDef[] = [
  {
    name: 'netpol-no-dns', scope: 'cluster', summary: `apply NetworkPolicy ${NO_DNS_POLICY}: default's pods may reach only their own namespace, port 53 to kube-dns forgotten`,
    async inject(ctx) {
      const { state } = ctx;
      if (!state.pods.some((p) => p.name === DNS_POD && p.namespace === DNS_NAMESPACE)) {
        throw new UserError('state', `lab "${state.lab}" runs no DNS pod, so there is no DNS to cut off: bring it up with its DNS (podnet lab up, without --no-dns); nothing was changed`);
      }
      if (policyOf(state, 'default', NO_DNS_POLICY)) throw new UserError('exists', `networkpolicy default/${NO_DNS_POLICY} exists already: run \`podnet lab heal${labFlag(state.lab)}\` or delete it first`);
      ctx.undo.push({ op: 'netpol-delete', namespace: 'default', name: NO_DNS_POLICY });
      applyNetpolObject(state, { kind: 'NetworkPolicy', policy: { name: NO_DNS_POLICY, namespace: 'default', spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: {} }] }] } } });
      if (!ctx.deps.host.dryRun) await ctx.dir.write(state);
      await syncServices(ctx.deps, ctx.dir, state);
    },
  },
];
