// Services of a lab that is up, as the API server keeps them: created from a manifest (`podnet apply`)
// or for a pod (`podnet expose`), their ClusterIP and NodePorts allocated from K3s's ranges, deleted;
// every change followed by kube-proxy's rules and the DNS (./sync.ts). Also the two Services every
// cluster has come from src/model/k8s.ts (defaultServices).
import { UserError } from '../model/errors.js';
import { allocateClusterIP, allocateNodePort, type Service, type ServicePort } from '../model/k8s.js';
import type { Manifest, ServiceManifest } from '../model/manifest.js';
import { now, type LabDeps } from './deps.js';
import { requireUp } from './lifecycle.js';
import { withLabLock } from './lock.js';
import { podOf, removeFrom, run } from './pods.js';
import { applyNetpolObject, deleteNetpolObject, type AppliedObject } from './netpol.js';
import { LabDir, type LabState } from './state.js';
import { podMetaOf, syncServices } from './sync.js';

/** The Service `ns/name`, or undefined. */
export const serviceOf = (state: LabState, namespace: string, name: string): Service | undefined =>
  state.services?.find((s) => s.namespace === namespace && s.name === name);

/** A Service from its manifest, its ClusterIP and NodePorts allocated against the lab's others. */
export function allocateService(state: LabState, m: ServiceManifest): Service {
  if (serviceOf(state, m.namespace, m.name)) throw new UserError('exists', `service "${m.namespace}/${m.name}" already exists in lab "${state.lab}"`);
  const others = state.services ?? [];
  const takenIPs = others.map((s) => s.clusterIP).filter((ip) => ip !== 'None');
  const clusterIP = m.clusterIP === 'None' ? 'None' : allocateClusterIP(state.plan.serviceCIDR, takenIPs, m.clusterIP);
  const takenPorts = others.flatMap((s) => s.ports.map((p) => p.nodePort ?? 0));
  const ports: ServicePort[] = m.ports.map((p) => {
    if (m.type !== 'NodePort') return p;
    const nodePort = allocateNodePort(takenPorts, p.nodePort);
    takenPorts.push(nodePort);
    return { ...p, nodePort };
  });
  const { kind: _k, clusterIP: _c, ...rest } = m;
  return { ...rest, clusterIP, ports, createdAt: now() };
}

/** Applies manifests in order (pods made, Services allocated), all or nothing: a failure undoes what
 * this call made, then the Services are synced once. Resolves with one line per object. */
export function applyManifests(deps: LabDeps, lab: string, manifests: readonly Manifest[]): Promise<string[]> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab);
    checkNew(state, manifests);
    const made: Manifest[] = [];
    const lines: string[] = [];
    const objects: AppliedObject[] = [];
    try {
      for (const m of manifests) {
        if (m.kind === 'NetworkPolicy' || m.kind === 'Namespace') {
          objects.push(applyNetpolObject(state, m));
          lines.push(objects[objects.length - 1].line);
          if (!deps.host.dryRun) await dir.write(state);
        } else if (m.kind === 'Pod') {
          const p = await run(deps, dir, state, m.meta.name, m.node, m.meta);
          lines.push(`pod/${m.meta.name} created on ${p.node}: ${p.ip ?? '?'}`);
        } else {
          const s = allocateService(state, m);
          state.services = [...(state.services ?? []), s];
          if (!deps.host.dryRun) await dir.write(state);
          lines.push(`service/${s.name} created: ${s.clusterIP}${s.ports.some((p) => p.nodePort) ? `, node ports ${s.ports.map((p) => p.nodePort).join(',')}` : ''}`);
        }
        made.push(m);
      }
    } catch (e) {
      for (const o of objects.reverse()) o.undo(state);
      await undo(deps, dir, state, made);
      throw e;
    }
    await syncServices(deps, dir, state);
    return lines;
  });
}

/** Refuses, before anything is made, objects that exist already or are given twice. */
function checkNew(state: LabState, manifests: readonly Manifest[]): void {
  const seen = new Set<string>();
  for (const m of manifests) {
    const key = m.kind === 'Pod' ? `pod/${m.meta.name}` : m.kind === 'Service' ? `service/${m.namespace}/${m.name}`
      : m.kind === 'Namespace' ? `namespace/${m.name}` : `networkpolicy/${m.policy.namespace}/${m.policy.name}`;
    if (seen.has(key)) throw new UserError('conflict', `${key} is given twice`);
    seen.add(key);
    if (m.kind === 'Pod' && state.pods.some((p) => p.name === m.meta.name)) throw new UserError('exists', `pod "${m.meta.name}" already exists in lab "${state.lab}"`);
    if (m.kind === 'Service' && serviceOf(state, m.namespace, m.name)) throw new UserError('exists', `service "${m.namespace}/${m.name}" already exists in lab "${state.lab}"`);
  }
}

async function undo(deps: LabDeps, dir: LabDir, state: LabState, made: readonly Manifest[]): Promise<void> {
  for (const m of [...made].reverse()) {
    if (m.kind === 'Pod') await removeFrom(deps, dir, state, m.meta.name).catch(() => undefined);
    else if (m.kind === 'Service') state.services = (state.services ?? []).filter((s) => !(s.namespace === m.namespace && s.name === m.name));
  }
  if (!deps.host.dryRun) await dir.write(state);
}

/** Deletes the objects manifests name (those not there are reported, not errors). */
export function deleteManifests(deps: LabDeps, lab: string, manifests: readonly Manifest[]): Promise<string[]> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab, true);
    const lines: string[] = [];
    for (const m of manifests) {
      if (m.kind === 'NetworkPolicy' || m.kind === 'Namespace') {
        lines.push(deleteNetpolObject(state, m));
      } else if (m.kind === 'Pod') {
        if (!state.pods.some((p) => p.name === m.meta.name)) lines.push(`pod/${m.meta.name} not found`);
        else {
          await removeFrom(deps, dir, state, m.meta.name);
          lines.push(`pod/${m.meta.name} deleted`);
        }
      } else {
        lines.push(removeService(state, m.namespace, m.name) ? `service/${m.name} deleted` : `service/${m.name} not found`);
      }
    }
    if (!deps.host.dryRun) await dir.write(state);
    await syncServices(deps, dir, state);
    return lines;
  });
}

/** Removes a Service from the state; false when there was none. */
function removeService(state: LabState, namespace: string, name: string): boolean {
  const before = state.services?.length ?? 0;
  state.services = (state.services ?? []).filter((s) => !(s.namespace === namespace && s.name === name));
  return state.services.length !== before;
}

/** Deletes Service `ns/name` (`podnet delete svc`). */
export function serviceDelete(deps: LabDeps, lab: string, namespace: string, name: string): Promise<void> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab);
    if (!removeService(state, namespace, name)) throw new UserError('not-found', `unknown service "${namespace}/${name}" in lab "${lab}" (services: ${(state.services ?? []).map((s) => `${s.namespace}/${s.name}`).join(', ') || 'none'})`);
    if (!deps.host.dryRun) await dir.write(state);
    await syncServices(deps, dir, state);
  });
}

/** What `podnet expose pod` asks for. */
export interface ExposeOptions {
  /** The Service's name (default: the pod's). */
  service?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP';
  type?: 'ClusterIP' | 'NodePort';
  nodePort?: number;
}

/** `kubectl expose pod`: a Service named after the pod (or `service`), its selector the pod's labels. */
export function exposePod(deps: LabDeps, lab: string, podName: string, o: ExposeOptions): Promise<Service> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab);
    const meta = podMetaOf(podOf(state, podName));
    if (Object.keys(meta.labels).length === 0) throw new UserError('usage', `pod "${podName}" has no labels to select it by: run it with --labels (like podnet run ${podName} --labels app=${podName})`);
    const type = o.type ?? 'ClusterIP';
    const s = allocateService(state, {
      kind: 'Service', name: o.service ?? podName, namespace: meta.namespace, type, selector: meta.labels, externalTrafficPolicy: 'Cluster', sessionAffinity: 'None',
      ports: [{ protocol: o.protocol ?? 'TCP', port: o.port, targetPort: o.targetPort ?? o.port, ...(type === 'NodePort' && o.nodePort ? { nodePort: o.nodePort } : {}) }],
    });
    state.services = [...(state.services ?? []), s];
    if (!deps.host.dryRun) await dir.write(state);
    await syncServices(deps, dir, state);
    return s;
  });
}
