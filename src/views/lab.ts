// A lab as kubectl shows it — `get pods -o wide`, `get nodes -o wide` — drawn from a scan of the lab
// (what the kernel holds) joined to what the lab records of each object (its node, when it was made,
// its process). Pure.
import type { Link } from '../model/kernel.js';
import type { Snapshot } from '../model/snapshot.js';
import { addressOf } from '../model/ip.js';
import { hostOf, ipLinkName, v4 } from './common.js';
import { inspectPods } from './pods.js';

/** What the lab records of a pod (its state). */
export interface PodRecord {
  name: string;
  node: string;
  netns: string;
  createdAt: string;
  pid?: number;
}

/** What the lab records of a node. */
export interface NodeRecord {
  name: string;
  podCIDR: string;
  createdAt: string;
  /** control-plane,master for the first node; <none> for the others. */
  roles: string;
  /** False when the node's agent should run and does not (NotReady). */
  agentAlive?: boolean;
}

/** `kubectl get pods -o wide` row (plus the pod's process, as crictl shows it). */
export interface PodRow {
  name: string;
  ready: string;
  status: string;
  restarts: number;
  age: string;
  ip: string;
  node: string;
  netns: string;
  iface: string;
  hostVeth: string;
  /** The PID of the pod's process (the sandbox's pause), '' when it is not running. */
  pid: string;
}

/** A pod `lab up` has just made: its record, what its CNI ADD answered, and whether its process is
 * in its namespace (read from /proc). */
export interface MadePod extends PodRecord {
  ip?: string;
  hostVeth?: string;
  inNetns: boolean;
}

/** `get pods` rows for pods `lab up` has just made, from their records and their nodes' links
 * (`nodeLinks` by node name): the host veth gives both ifindexes (its own, and its peer's — the
 * pod's eth0), and its operstate is UP only while eth0 is up too (a veth has carrier when both ends
 * are up). Undefined as soon as one pod does not check out (no IP, process not in its namespace,
 * host veth missing or not UP): then the pods are scanned (podRows). */
export function madePodRows(pods: readonly MadePod[], nodeLinks: ReadonlyMap<string, readonly Link[]>, now: Date): PodRow[] | undefined {
  const rows: PodRow[] = [];
  for (const pod of pods) {
    const veth = nodeLinks.get(pod.node)?.find((l) => l.name === pod.hostVeth);
    if (!pod.ip || !pod.inNetns || !pod.pid || veth?.kind !== 'veth' || veth.operstate !== 'UP') return undefined;
    rows.push({
      name: pod.name, ready: '1/1', status: 'Running', restarts: 0, age: age(pod.createdAt, now), ip: pod.ip, node: pod.node,
      netns: pod.netns, iface: `eth0@if${veth.index}`, hostVeth: ipLinkName(veth), pid: String(pod.pid),
    });
  }
  return rows;
}

/** `kubectl get nodes -o wide` row. */
export interface NodeRow {
  name: string;
  status: string;
  roles: string;
  age: string;
  version: string;
  internalIP: string;
  podCIDR: string;
  /** flannel.1's MAC (the node's VTEP), as the kernel has it. */
  vtepMac: string;
  osImage: string;
  kernelVersion: string;
  containerRuntime: string;
}

/** The kubectl age of something created at `createdAt`, seen at `now`: 5s, 3m, 2h, 4d. */
export function age(createdAt: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(createdAt)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** `get pods` rows: each recorded pod joined to its namespace in its node's snapshot (`nodes` by name). */
export function podRows(pods: readonly PodRecord[], nodes: ReadonlyMap<string, Snapshot>, now: Date): PodRow[] {
  const joined = new Map([...nodes].map(([name, s]) => [name, inspectPods(s)]));
  return pods.map((pod) => {
    const s = nodes.get(pod.node);
    const ns = s?.namespaces.find((n) => n.names.includes(pod.netns));
    const pair = joined.get(pod.node)?.find((r) => r.netns === pod.netns);
    const eth0 = ns?.links.find((l) => l.name === 'eth0');
    const running = pod.pid !== undefined && pod.pid > 0 && !!ns?.processes.some((p) => p.pid === pod.pid);
    return {
      name: pod.name,
      ready: running && eth0?.up === true ? '1/1' : '0/1',
      status: running ? (eth0 ? 'Running' : 'ContainerCreating') : 'Error',
      restarts: 0,
      age: age(pod.createdAt, now),
      ip: (ns ? v4(ns, 'eth0').map((c) => addressOf(c))[0] : undefined) ?? '<none>',
      node: pod.node,
      netns: pod.netns,
      iface: pair?.iface ?? (eth0 ? 'eth0' : '<none>'),
      hostVeth: pair?.hostVeth ?? '<none>',
      pid: running ? String(pod.pid) : '',
    };
  });
}

/** `get nodes` rows: each recorded node joined to its snapshot; `host` carries what is the same for
 * every node (OS, kernel, version). A node is Ready when its eth0 is up and its agent (if it should
 * run one) is alive. */
export function nodeRows(nodes: readonly NodeRecord[], scans: ReadonlyMap<string, Snapshot>, host: { osImage: string; kernelVersion: string; version: string }, now: Date): NodeRow[] {
  return nodes.map((n) => {
    const ns = scans.get(n.name);
    const me = ns ? hostOf(ns) : undefined;
    const eth0 = me?.links.find((l) => l.name === 'eth0');
    return {
      name: n.name,
      status: eth0?.up && n.agentAlive !== false ? 'Ready' : 'NotReady',
      roles: n.roles,
      age: age(n.createdAt, now),
      version: host.version,
      internalIP: (me ? v4(me, 'eth0').map((c) => addressOf(c))[0] : undefined) ?? '<none>',
      podCIDR: n.podCIDR || '<none>',
      vtepMac: me?.links.find((l) => l.name === 'flannel.1')?.mac ?? '<none>',
      osImage: host.osImage,
      kernelVersion: host.kernelVersion,
      containerRuntime: `podnet://${host.version.replace(/^v/, '').replace(/\+.*/, '')}`,
    };
  });
}
