// One pod at a time on a lab that is up: `podnet run` adds one (a namespace, its process, CNI ADD),
// `podnet delete pod` removes one the way a runtime does (CNI DEL with the namespace still there,
// stop, namespace gone).
import { netnsAdd, netnsDelete } from '../host/netns.js';
import { pauseStartAll, processOwner, processStart } from '../host/process.js';
import { UserError } from '../model/errors.js';
import { parseTopology } from '../model/topology.js';
import { checkpoint, now, type LabDeps } from './deps.js';
import { planPod } from './plan.js';
import { labNetns } from './names.js';
import { attachPod, detachPod, predictIps } from './attach.js';
import { nodeOf, requireUp } from './lifecycle.js';
import { stopProcesses } from './down.js';
import { withLabLock } from './lock.js';
import { LabDir, type LabState, type PodState } from './state.js';
import type { PodMeta } from '../model/k8s.js';
import { podArgv, syncServices } from './sync.js';

/** What Kubernetes knows of a new pod besides its name: its namespace, labels, container ports and
 * the commands of its containers (none: a pause process holds the pod). */
export type PodSpec = Partial<Omit<PodMeta, 'name'>>;

/** Adds a pod to a lab that is up, on `nodeName` or the node with the fewest pods. */
export function podRun(deps: LabDeps, lab: string, name: string, nodeName?: string, spec: PodSpec = {}): Promise<PodState> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab);
    const pod = await run(deps, dir, state, name, nodeName, spec);
    await syncServices(deps, dir, state);
    return pod;
  });
}

/** Adds a pod to `state` (written before and after); the caller holds the lab's lock. */
export async function run(deps: LabDeps, dir: LabDir, state: LabState, name: string, nodeName: string | undefined, spec: PodSpec): Promise<PodState> {
  const lab = state.lab;
  if (state.pods.some((p) => p.name === name)) throw new UserError('exists', `pod "${name}" already exists in lab "${lab}"`);
  parseTopology({ pods: [{ name }] });
  const node = nodeOf(state.plan.nodes, nodeName ?? leastLoaded(state));
  const p = planPod(lab, name, node.name, deps.random);
  [p.ip] = await predictIps(dir, node, 1);
  const pod: PodState = { ...p, createdAt: now(), ...podSpecState(spec) };
  state.pods.push(pod);
  if (!deps.host.dryRun) await dir.write(state);
  try {
    await netnsAdd(deps.host.runner, [p.netns]);
    checkpoint(deps);
    const pids = await startPodProcesses(deps, dir, state, pod);
    [pod.pid] = pids;
    if (pids.length > 1 || pod.commands) pod.pids = pids;
    checkpoint(deps);
    Object.assign(pod, await attachPod(deps, dir, state.plan, node, pod));
    checkpoint(deps);
    if (!deps.host.dryRun) await dir.write(state);
    return pod;
  } catch (err) {
    if (!deps.host.dryRun) await removeFrom(deps, dir, state, name).catch(() => undefined);
    throw err;
  }
}

/** The pod's Kubernetes fields as state keeps them (defaults left out). */
export function podSpecState(spec: PodSpec): Partial<PodState> {
  return {
    ...(spec.namespace && spec.namespace !== 'default' ? { namespace: spec.namespace } : {}),
    ...(spec.labels && Object.keys(spec.labels).length ? { labels: spec.labels } : {}),
    ...(spec.ports?.length ? { ports: spec.ports } : {}),
    ...(spec.commands?.length ? { commands: spec.commands } : {}),
  };
}

/** Starts the pod's processes in its namespace, marked as the lab's: each container's command, or the
 * pause process. Resolves with their PIDs. */
export async function startPodProcesses(deps: LabDeps, dir: LabDir, state: LabState, pod: PodState): Promise<number[]> {
  if (!pod.commands?.length) return pauseStartAll(deps.host.runner, [labNetns(pod.netns)], state.lab);
  const pids: number[] = [];
  for (const argv of pod.commands) pids.push(await processStart(deps.host.runner, labNetns(pod.netns), await podArgv(deps, dir, state, pod, argv), state.lab));
  return pids;
}

function leastLoaded(state: LabState): string {
  const count = (n: string) => state.pods.filter((p) => p.node === n).length;
  return [...state.plan.nodes].sort((a, b) => count(a.name) - count(b.name))[0].name;
}

/** The pod named `name` of a lab, or a not-found error listing the pods. */
export function podOf(state: LabState, name: string): PodState {
  const pod = state.pods.find((p) => p.name === name);
  if (!pod) throw new UserError('not-found', `unknown pod "${name}" in lab "${state.lab}" (pods: ${state.pods.map((p) => p.name).join(', ') || 'none'})`);
  return pod;
}

/** Removes one pod the way a runtime does: CNI DEL with the namespace still there, stop, namespace gone. */
export function podDelete(deps: LabDeps, lab: string, name: string): Promise<void> {
  return withLabLock(deps, lab, async () => {
    const dir = new LabDir(deps.stateRoot, lab);
    const state = await requireUp(dir, lab, true);
    await removeFrom(deps, dir, state, name);
    await syncServices(deps, dir, state);
  });
}

/** Removes pod `name` from `state` (written after); the caller holds the lab's lock. */
export async function removeFrom(deps: LabDeps, dir: LabDir, state: LabState, name: string): Promise<void> {
  const pod = podOf(state, name);
  await detachPod(deps, dir, state.plan, nodeOf(state.plan.nodes, pod.node), pod);
  await stopProcesses(deps, state.lab, [pod.netns], [pod.pid ?? 0, ...(pod.pids ?? [])]);
  await netnsDelete(deps.host.runner, [pod.netns]);
  state.pods = state.pods.filter((p) => p.name !== name);
  if (!deps.host.dryRun) await dir.write(state);
}

/** True when the process is still podnet's pause process for `lab`. */
export async function podRunning(lab: string, pod: PodState): Promise<boolean> {
  return pod.pid !== undefined && pod.pid > 0 && (await processOwner(pod.pid)) === lab;
}
