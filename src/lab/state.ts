// A lab's state on disk: /var/lib/podnet/<lab>/state.json (root overridable with PODNET_STATE_DIR),
// written atomically (temp file + rename) before and after every change, so `lab down` and `clean`
// know what to remove even after a crash. Read back through a schema: a damaged or hand-edited file
// is one line naming the field, never a stack trace, and a namespace it names outside the lab's own
// `podnet-<lab>-` names is refused (state cannot make podnet delete what is not its own).
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureDir, removeDir } from '../host/dirs.js';
import { checkLabName, isLabName } from '../model/names.js';
import { UserError } from '../model/errors.js';
import type { CidrText } from '../model/ip.js';
import type { ContainerPort, Service } from '../model/k8s.js';
import type { NamespaceState, NetworkPolicy } from '../model/netpol/types.js';
import { storedNamespaceSchema, storedPolicySchema } from '../model/netpol/state-schema.js';
import type { LabPlan, PodPlan } from './plan.js';
import { etcdNetnsName, isPodNetnsOf, labFlag, nodeNetnsName, underlayNetnsName } from './names.js';

/** Where labs keep their state. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PODNET_STATE_DIR || '/var/lib/podnet';
}

/** A pod as it was made: the plan plus what the kernel and the CNI result said, and what Kubernetes
 * knows of it (its namespace, labels, container ports, commands; absent in labs made before Services:
 * `default`, no labels). */
export interface PodState extends PodPlan {
  /** The pod's first process (its pause, or its first container's command). */
  pid?: number;
  /** Every process of the pod (one per container with a command). */
  pids?: number[];
  hostVeth?: string;
  createdAt: string;
  namespace?: string;
  labels?: Record<string, string>;
  ports?: ContainerPort[];
  commands?: string[][];
}

/** The overlay part of a lab's state: where leases live, the lab's etcd, the agents. */
export interface OverlayState {
  store: 'file' | 'etcd';
  /** etcd as agents reach it: `etcd://198.51.100.254:2379`. */
  endpoint?: string;
  /** The lab's own etcd: its namespace, address, PID and the socket podnet talks to it through. */
  etcd?: { netns: string; ip: CidrText; pid: number; socket: string };
  /** Agent processes by node (etcd labs). */
  agents: Record<string, number>;
  /** Lease TTL of the agents (etcd labs), seconds. */
  ttlSeconds: number;
}

/** What is on disk for one lab. */
export interface LabState {
  version: 1;
  lab: string;
  /** creating/deleting: a command was interrupted (or is running); up: complete. */
  status: 'creating' | 'up' | 'deleting';
  createdAt: string;
  plan: Omit<LabPlan, 'pods'>;
  /** The lease store, etcd and agents (labs made before the overlay have none: a file store). */
  overlay?: OverlayState;
  pods: PodState[];
  /** The Services (labs made before Services have none). */
  services?: Service[];
  /** kube-proxy's mode on every node (K3s's default: iptables). */
  proxyMode?: 'iptables' | 'nftables';
  /** NetworkPolicies (labs made before policies have none). */
  policies?: NetworkPolicy[];
  /** Namespaces made by `kind: Namespace`, with their labels (others exist implicitly). */
  namespaces?: NamespaceState[];
}

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { message: 'must be a CIDR like 10.42.0.0/24' }).transform((v) => v as CidrText);
const text = z.string();
const pid = z.number().int().min(-1_000_000).max(4_194_304);
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be a time like 2026-01-01T00:00:00.000Z' });

/** The schema of state.json, for lab `lab`: every namespace must be one of the lab's own names. */
function stateSchema(lab: string) {
  const node = z.object({ name: text, netns: text, ip: cidr, podCIDR: cidr, bridgeIP: z.union([cidr, z.literal('')]).transform((v) => v as CidrText), vtepMac: text, createdAt: time.optional() })
    .refine((n) => n.netns === nodeNetnsName(lab, n.name), { message: `a node's netns must be podnet-${lab}-<node name>`, path: ['netns'] });
  const proto = z.enum(['TCP', 'UDP', 'SCTP']);
  const pod = z.object({
    name: text, node: text, containerId: text, netns: text.refine((n) => isPodNetnsOf(lab, n), { message: `must be a pod namespace of lab "${lab}" (podnet-${lab}-cni-<uuid>)` }),
    mac: text, ip: text.optional(), pid: pid.optional(), pids: z.array(pid).optional(), hostVeth: text.optional(), createdAt: time,
    namespace: text.optional(), labels: z.record(z.string(), z.string()).optional(), commands: z.array(z.array(z.string())).optional(),
    ports: z.array(z.object({ name: text.optional(), containerPort: z.number().int(), protocol: proto, hostPort: z.number().int().optional(), hostIP: text.optional() })).optional(),
  });
  const service = z.object({
    name: text, namespace: text, type: z.enum(['ClusterIP', 'NodePort']), clusterIP: text, selector: z.record(z.string(), z.string()),
    ports: z.array(z.object({ name: text.optional(), protocol: proto, port: z.number().int(), targetPort: z.union([z.number().int(), text]), nodePort: z.number().int().optional() })),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']), sessionAffinity: z.enum(['None', 'ClientIP']), sessionAffinityTimeout: z.number().int().optional(),
    manualEndpoints: z.array(z.object({ ip: text, node: text, ports: z.array(z.object({ name: text.optional(), port: z.number().int(), protocol: proto })) })).optional(),
    createdAt: time,
  });
  const overlay = z.object({
    store: z.enum(['file', 'etcd']), endpoint: text.optional(),
    etcd: z.object({ netns: z.literal(etcdNetnsName(lab), { message: `must be ${etcdNetnsName(lab)}` }), ip: cidr, pid, socket: text }).optional(),
    agents: z.record(z.string(), pid), ttlSeconds: z.number().int().min(0),
  });
  return z.object({
    version: z.literal(1, { message: 'must be 1 (this podnet reads state version 1)' }),
    lab: z.literal(lab, { message: `must be "${lab}", the lab's directory name` }),
    status: z.enum(['creating', 'up', 'deleting']),
    createdAt: time,
    plan: z.object({
      lab: z.literal(lab, { message: `must be "${lab}"` }), clusterCIDR: cidr, serviceCIDR: cidr, mtu: z.number().int().min(68).max(65535),
      underlay: z.object({ netns: z.literal(underlayNetnsName(lab), { message: `must be ${underlayNetnsName(lab)}` }), bridge: text, cidr, gateway: cidr }),
      nodes: z.array(node),
    }),
    overlay: overlay.optional(),
    pods: z.array(pod),
    services: z.array(service).optional(),
    proxyMode: z.enum(['iptables', 'nftables']).optional(),
    policies: z.array(storedPolicySchema).optional(),
    namespaces: z.array(storedNamespaceSchema).optional(),
  });
}

/** A state file that cannot be used: names the field; says what to run. */
export class StateError extends UserError {
  constructor(readonly file: string, readonly lab: string, detail: string) {
    super('state', `${file} is damaged (${detail}): run \`podnet lab down${labFlag(lab)}\` to remove what the kernel holds for lab "${lab}"`);
    this.name = 'StateError';
  }
}

/** The lab's state from the text of its state.json, checked; a StateError names the first bad field. */
export function parseState(lab: string, file: string, raw: string): LabState {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new StateError(file, lab, `not JSON: ${(e as Error).message}`);
  }
  const r = stateSchema(lab).safeParse(json);
  if (r.success) return r.data as LabState;
  const issue = r.error.issues[0];
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || 'the top level';
  const message = issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message;
  throw new StateError(file, lab, `${path}: ${message}`);
}

/** The files of one lab. */
export class LabDir {
  /** Refuses any lab name that is not a plain lab name: it becomes a path under `root` that is removed with -rf. */
  constructor(readonly root: string, readonly lab: string) {
    checkLabName(lab, 'lab name');
  }

  get dir(): string {
    return join(this.root, this.lab);
  }

  get file(): string {
    return join(this.dir, 'state.json');
  }

  /** A node's data directory: host-local's store and the CNI result cache live under it. */
  nodeDir(node: string): string {
    return join(this.dir, 'nodes', node);
  }

  /** host-local's dataDir for a node (the store is `<this>/cbr0/<ip>`). */
  ipamDir(node: string): string {
    return join(this.nodeDir(node), 'cni', 'networks');
  }

  /** The faults injected into the lab and how to undo them (./faults.ts), beside state.json. */
  get faultsFile(): string {
    return join(this.dir, 'faults.json');
  }

  /** The CNI result cache of a node (libcni's /var/lib/cni/results). */
  resultsDir(node: string): string {
    return join(this.nodeDir(node), 'cni', 'results');
  }

  /** The state, or undefined when the lab has none; a StateError when it is damaged. */
  async read(): Promise<LabState | undefined> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError(this.file, this.lab, `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return parseState(this.lab, this.file, raw);
  }

  /** Writes the state atomically. */
  async write(state: LabState): Promise<void> {
    await ensureDir(this.dir);
    await writeFile(`${this.file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(`${this.file}.tmp`, this.file);
  }

  /** Removes every file of the lab. */
  async remove(): Promise<void> {
    await removeDir(this.dir);
  }
}

/** Every namespace a lab's state names (the underlay, the nodes, the pods; of `nodes` only, when given),
 * by pinned name, in the order a lab is made. */
export function labNamespaces(state: LabState, nodes: readonly string[] = state.plan.nodes.map((n) => n.name)): string[] {
  return [state.plan.underlay.netns, ...state.plan.nodes.filter((n) => nodes.includes(n.name)).map((n) => n.netns), ...state.pods.filter((p) => nodes.includes(p.node)).map((p) => p.netns)];
}

/** The names of the labs that have state under `root`. */
export async function listLabDirs(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && isLabName(d.name)).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

/** The state of a lab that is up, or a UserError saying what to do. */
export async function requireUp(dir: LabDir, lab: string, allowPartial = false): Promise<LabState> {
  const state = await dir.read();
  if (!state) throw new UserError('state', `lab "${lab}" is not up: run \`podnet lab up${labFlag(lab)}\``);
  if (state.status !== 'up' && !allowPartial) throw new UserError('state', `lab "${lab}" is ${state.status === 'creating' ? 'still coming up (or was interrupted)' : 'going down'}: run \`podnet lab down${labFlag(lab)}\` to reset it`);
  return state;
}
