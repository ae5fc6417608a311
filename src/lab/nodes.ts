// Nodes joining and leaving a lab that is up, the way they join and leave a K3s cluster: a lease for
// the newcomer and every other node programmed with it, or its pods drained, its lease released and
// every other node rid of it.
import { netnsAdd, netnsDelete } from '../host/netns.js';
import { removeDir } from '../host/dirs.js';
import { UserError } from '../model/errors.js';
import { addIp, addressOf, networkOf, parseCidr } from '../model/ip.js';
import { macFromBytes } from '../model/mac.js';
import { parseTopology } from '../model/topology.js';
import { checkpoint, now, type LabDeps } from './deps.js';
import type { NodePlan } from './plan.js';
import { labFlag, nodeNetnsName } from './names.js';
import { controlPlaneIP, freeSubnet, startAgent } from './cluster.js';
import { checkStore, convergeLab, learnLease, releaseLeases, startOverlay } from './overlay.js';
import { wireUnderlay } from './underlay.js';
import { detachPod } from './attach.js';
import { nodeOf, requireUp } from './lifecycle.js';
import { stopProcesses } from './down.js';
import { withLabLock } from './lock.js';
import { LabDir, type LabState } from './state.js';

/** Adds a node to a lab that is up: its namespace on the underlay, its lease, flannel.1, and every
 * node programmed with every other (with etcd: the running agents converge by watching). */
export function nodeAdd(deps: LabDeps, lab: string, name: string): Promise<NodePlan> {
  return withLabLock(deps, lab, () => addNode(deps, lab, name));
}

/** The first underlay address no node (nor the control plane) holds. */
function freeUnderlayIp(state: LabState): string {
  const underlay = parseCidr(state.plan.underlay.cidr);
  const used = new Set([...state.plan.nodes.map((n) => addressOf(n.ip)), addressOf(controlPlaneIP(state.plan))]);
  for (let i = 2; i < 2 ** (32 - underlay.prefix) - 2; i++) if (!used.has(addIp(networkOf(underlay), i))) return addIp(networkOf(underlay), i);
  throw new UserError('conflict', `the underlay ${state.plan.underlay.cidr} has no free address for another node`);
}

async function addNode(deps: LabDeps, lab: string, name: string): Promise<NodePlan> {
  const dir = new LabDir(deps.stateRoot, lab);
  const state = await requireUp(dir, lab);
  if (state.plan.nodes.some((n) => n.name === name)) throw new UserError('exists', `node "${name}" already exists in lab "${lab}"`);
  parseTopology({ nodes: [{ name }] });
  await checkStore(deps, dir, state);
  const ip = freeUnderlayIp(state);
  const podCIDR = freeSubnet(state.plan);
  const node: NodePlan = { name, netns: nodeNetnsName(lab, name), ip: `${ip}/${parseCidr(state.plan.underlay.cidr).prefix}`, podCIDR, bridgeIP: podCIDR, vtepMac: macFromBytes(deps.random(6)), createdAt: now() };
  learnLease(node, podCIDR, node.vtepMac);
  state.plan.nodes.push(node);
  if (!deps.host.dryRun) await dir.write(state);
  try {
    await netnsAdd(deps.host.runner, [node.netns]);
    checkpoint(deps);
    await wireUnderlay(deps, state.plan, [node], undefined, false);
    checkpoint(deps);
    await startOverlay(deps, dir, state, [node]);
    checkpoint(deps);
    if (!deps.host.dryRun) await dir.write(state);
    return node;
  } catch (err) {
    if (!deps.host.dryRun) await deleteNode(deps, lab, name, true).catch(() => undefined);
    throw err;
  }
}

/** Removes a node: its pods (CNI DEL, as a drained node's runtime would), its agent, its lease, its
 * namespace; the other nodes drop their entries for it (with etcd: by watching the lease go). */
export function nodeDelete(deps: LabDeps, lab: string, name: string): Promise<void> {
  return withLabLock(deps, lab, () => deleteNode(deps, lab, name));
}

async function deleteNode(deps: LabDeps, lab: string, name: string, unwinding = false): Promise<void> {
  const dir = new LabDir(deps.stateRoot, lab);
  const state = await requireUp(dir, lab, unwinding);
  const node = nodeOf(state.plan.nodes, name);
  if (state.plan.nodes.length === 1) throw new UserError('conflict', `node "${name}" is the last node of lab "${lab}": run \`podnet lab down${labFlag(lab)}\` instead`);
  const o = state.overlay;
  if (!unwinding) await checkStore(deps, dir, state);
  // The lease first, while the node is whole: a store that fails now leaves the node as it was
  // (its agent, stopped so it cannot renew the lease, is started again).
  const agent = o?.agents[name] ?? 0;
  if (agent) await stopProcesses(deps, lab, [], [agent]);
  try {
    await releaseLeases(deps, dir, state, [node]);
  } catch (e) {
    if (!unwinding) {
      if (agent && o) o.agents[name] = await startAgent(deps, dir, lab, node, o);
      if (!deps.host.dryRun) await dir.write(state);
      throw e;
    }
  }
  const pods = state.pods.filter((p) => p.node === name);
  for (const pod of pods) await detachPod(deps, dir, state.plan, node, pod, true);
  await stopProcesses(deps, lab, [node.netns, ...pods.map((p) => p.netns)], pods.map((p) => p.pid ?? 0));
  await netnsDelete(deps.host.runner, [node.netns, ...pods.map((p) => p.netns)]);
  state.pods = state.pods.filter((p) => p.node !== name);
  state.plan.nodes = state.plan.nodes.filter((n) => n.name !== name);
  if (o) delete o.agents[name];
  if (!deps.host.dryRun) await dir.write(state);
  await convergeLab(deps, dir, state).catch((e: unknown) => { if (!unwinding) throw e; });
  if (!deps.host.dryRun) await removeDir(dir.nodeDir(name));
}
