// Faults of a Service, as a user makes them with a typo in its manifest: a targetPort no selected pod
// names (the Service keeps its ClusterIP and selects its pods, but has no endpoints on that port), and
// a selector that matches no pod (no endpoints at all). The lab's API-server state is changed and
// kube-proxy and the DNS synced, exactly as `podnet apply` of the edited Service would; the undo step
// keeps the Service's selector and ports as they were. And the cluster DNS pod down: its processes
// stopped (the pod, its address and veth stay, as a crashed container's), the kube-dns Service left
// with no endpoint; heal replaces the pod, as its Deployment would.
import { UserError } from '../../model/errors.js';
import type { Service } from '../../model/k8s.js';
import { stopProcesses } from '../down.js';
import { DNS_NAMESPACE, DNS_POD } from '../dns.js';
import { labFlag } from '../names.js';
import { syncServices } from '../sync.js';
import type { FaultContext, FaultDef } from './types.js';

/** The targetPort the fault writes: a named port no pod declares (a typo of "http"). */
export const WRONG_TARGET_PORT = 'htpp';
/** What the fault appends to the selector's first value (a typo of the label). */
export const SELECTOR_TYPO = '-typo';

/** The lab's first Service that selects pods (not the cluster's own in kube-system, not one with manual endpoints). */
function serviceToBreak(ctx: FaultContext): Service {
  const s = (ctx.state.services ?? []).find((x) => x.namespace !== 'kube-system' && !x.manualEndpoints && Object.keys(x.selector).length > 0);
  if (!s) throw new UserError('state', `lab "${ctx.state.lab}" has no Service that selects pods: make one first (podnet expose POD --port 80${labFlag(ctx.state.lab)}); nothing was changed`);
  return s;
}

/** Changes the Service with `edit`, records how to put it back, and syncs kube-proxy and the DNS. */
async function editService(ctx: FaultContext, edit: (s: Service) => void): Promise<void> {
  const s = serviceToBreak(ctx);
  ctx.undo.push({ op: 'service', namespace: s.namespace, name: s.name, selector: { ...s.selector }, ports: JSON.parse(JSON.stringify(s.ports)) as Record<string, unknown>[] });
  edit(s);
  if (!ctx.deps.host.dryRun) await ctx.dir.write(ctx.state);
  await syncServices(ctx.deps, ctx.dir, ctx.state);
}

export const serviceFaults: FaultDef[] = [
  {
    name: 'service-target-port', scope: 'cluster', summary: `point the lab's first Service's ports at targetPort "${WRONG_TARGET_PORT}", which no pod names`,
    inject: (ctx) => editService(ctx, (s) => { s.ports = s.ports.map((p) => ({ ...p, targetPort: WRONG_TARGET_PORT })); }),
  },
  {
    name: 'service-no-endpoints', scope: 'cluster', summary: `misspell the lab's first Service's selector (value + "${SELECTOR_TYPO}"): it selects no pod`,
    inject: (ctx) => editService(ctx, (s) => {
      const [k, v] = Object.entries(s.selector)[0];
      s.selector = { ...s.selector, [k]: `${v}${SELECTOR_TYPO}` };
    }),
  },
  {
    name: 'dns-down', scope: 'cluster', summary: `stop the cluster DNS pod's server (${DNS_NAMESPACE}/${DNS_POD}): kube-dns has no endpoint, names stop resolving`,
    async inject(ctx) {
      const pod = ctx.state.pods.find((p) => p.name === DNS_POD && p.namespace === DNS_NAMESPACE);
      if (!pod) throw new UserError('state', `lab "${ctx.state.lab}" runs no DNS pod: bring it up with its DNS (podnet lab up, without --no-dns); nothing was changed`);
      ctx.undo.push({ op: 'dns-pod-replace' });
      await stopProcesses(ctx.deps, ctx.state.lab, [pod.netns], [pod.pid ?? 0, ...(pod.pids ?? [])]);
      await syncServices(ctx.deps, ctx.dir, ctx.state);
    },
  },
];
