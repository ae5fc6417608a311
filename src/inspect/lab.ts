// A lab as `podnet get` shows it: one scan of every node (inspectLab) joined to what the lab records
// of its pods and nodes (src/views/lab.ts), plus whether each node's agent is alive.
import type { Host } from '../host/host.js';
import { netnsInode, processOwner } from '../host/process.js';
import type { Snapshot } from '../model/snapshot.js';
import type { LabState } from '../lab/state.js';
import { madePodRows as madeRows, nodeRows, podRows, type NodeRow, type PodRow } from '../views/lab.js';
import { labNetns } from '../lab/names.js';
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

/** `get pods` rows for the pods `lab up` has just made (`state` as it wrote it), without a scan of
 * each pod's namespace: one link read per node (`ip -json -details link show`) and, per pod, the
 * namespace of its process against its pinned namespace (two stats). Undefined when a pod does not
 * check out (views/lab.ts madePodRows): scan with labPodRows then. */
export async function madePodRows(h: Host, state: LabState, now = new Date()): Promise<PodRow[] | undefined> {
  const nodes = state.plan.nodes.filter((n) => state.pods.some((p) => p.node === n.name));
  const links = new Map(await Promise.all(nodes.map(async (n) => [n.name, await h.net(labNetns(n.netns)).linkList()] as const)));
  const pods = await Promise.all(state.pods.map(async (p) => {
    const [mine, its] = await Promise.all([p.pid ? netnsInode(`/proc/${p.pid}/ns/net`) : undefined, netnsInode(labNetns(p.netns).path)]);
    return { ...p, inNetns: mine !== undefined && mine === its };
  }));
  return madeRows(pods, links, now);
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
