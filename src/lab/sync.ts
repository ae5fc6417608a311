// What follows a change of a lab's pods or Services, as kube-proxy and the cluster DNS follow the
// API server: the endpoints are computed again (from the pods that run and the Services' selectors),
// and every part of the node that depends on them is brought to the new set — kube-proxy's rules on
// every node, the DNS records, kube-router's policy rules (which follow pods, labels and policies). Each part receives the whole picture and changes only what differs.
import { processOwner } from '../host/process.js';
import { serviceEndpoints, type PodEndpointSource, type PodMeta, type ServicePortEndpoints } from '../model/k8s.js';
import type { LabDeps } from './deps.js';
import type { LabDir, LabState, PodState } from './state.js';
import { dnsSyncer, resolvConfWrapper } from './dns.js';
import { kubeProxySyncer } from './proxy.js';
import { kubeRouterSyncer } from './policy.js';

/** The pods of a lab as Kubernetes sees them. */
export function podMetaOf(p: PodState): PodMeta {
  return { name: p.name, namespace: p.namespace ?? 'default', labels: p.labels ?? {}, ports: p.ports ?? [], ...(p.commands ? { commands: p.commands } : {}) };
}

/** Every Service port of the lab with its endpoints; a pod is ready when its first process still runs
 * (`running` tells; by default /proc is asked). */
export async function labEndpoints(state: LabState, running?: (pod: PodState) => Promise<boolean>): Promise<ServicePortEndpoints[]> {
  const alive = running ?? (async (p: PodState) => p.pid !== undefined && p.pid > 0 && (await processOwner(p.pid)) === state.lab);
  const pods: PodEndpointSource[] = await Promise.all(state.pods.map(async (p) => ({ meta: podMetaOf(p), ...(p.ip ? { ip: p.ip } : {}), node: p.node, ready: await alive(p) })));
  return serviceEndpoints(state.services ?? [], pods);
}

/** A part of the node that follows the Services and their endpoints (kube-proxy's rules, the DNS). */
export interface ServiceSyncer {
  name: string;
  sync(deps: LabDeps, dir: LabDir, state: LabState, endpoints: readonly ServicePortEndpoints[]): Promise<void>;
}

/** The parts that follow the Services, in the order they are brought up to date. */
const SYNCERS: readonly ServiceSyncer[] = [kubeProxySyncer, dnsSyncer, kubeRouterSyncer];

/** Brings every registered part to the lab's current Services and endpoints. */
export async function syncServices(deps: LabDeps, dir: LabDir, state: LabState): Promise<void> {
  if (SYNCERS.length === 0) return;
  const endpoints = await labEndpoints(state);
  for (const s of SYNCERS) await s.sync(deps, dir, state, endpoints);
}

/** How a pod's process is started, for the parts that change it (the DNS: each pod sees its own
 * resolv.conf). Each wrapper gets the argv the previous one made. */
export type ArgvWrapper = (deps: LabDeps, dir: LabDir, state: LabState, pod: PodState, argv: readonly string[]) => Promise<string[]>;

/** The wrappers of pods' process argv, applied in order. */
const WRAPPERS: readonly ArgvWrapper[] = [resolvConfWrapper];

/** The argv a pod's process runs with: `argv`, as every registered wrapper makes it. */
export async function podArgv(deps: LabDeps, dir: LabDir, state: LabState, pod: PodState, argv: readonly string[]): Promise<string[]> {
  let out = [...argv];
  for (const w of WRAPPERS) out = await w(deps, dir, state, pod, out);
  return out;
}
