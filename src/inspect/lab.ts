// A lab as `podnet get` shows it: one scan of every node (inspectLab) joined to what the lab records
// of its pods and nodes (src/views/lab.ts), plus whether each node's agent is alive.
import type { Host } from '../host/host.js';
import { processOwner } from '../host/process.js';
import type { Snapshot } from '../model/snapshot.js';
import type { LabState } from '../lab/state.js';
import { nodeRows, podRows, type NodeRow, type PodRow } from '../views/lab.js';
import { inspectLab } from './inspect.js';

/** One snapshot per node of the lab, by node name. */
async function scans(h: Host, state: LabState, stateRoot: string): Promise<Map<string, Snapshot>> {
  const scan = await inspectLab(h, state, stateRoot, { podsOnly: true });
  return new Map(scan.nodes.map((n) => [n.name, n.snapshot]));
}

/** `podnet get pods` rows for a lab. */
export async function labPodRows(h: Host, state: LabState, stateRoot: string, now = new Date()): Promise<PodRow[]> {
  return podRows(state.pods, await scans(h, state, stateRoot), now);
}

/** `podnet get nodes` rows for a lab: an etcd lab's node whose agent process is gone is NotReady. */
export async function labNodeRows(h: Host, state: LabState, stateRoot: string, host: { osImage: string; kernelVersion: string; version: string }, now = new Date()): Promise<NodeRow[]> {
  const agents = state.overlay?.agents ?? {};
  const alive = new Map(await Promise.all(Object.entries(agents).map(async ([node, pid]) => [node, (await processOwner(pid)) === state.lab] as const)));
  const records = state.plan.nodes.map((n, i) => ({
    name: n.name, podCIDR: n.podCIDR, createdAt: n.createdAt ?? state.createdAt, roles: i === 0 ? 'control-plane,master' : '<none>',
    ...(alive.has(n.name) ? { agentAlive: alive.get(n.name)! } : {}),
  }));
  return nodeRows(records, await scans(h, state, stateRoot), host, now);
}
