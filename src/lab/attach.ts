// Pods on a node's network, exactly as K3s's containerd attaches them: the loopback network, then
// the cbr0 conflist (flannel → bridge → host-local, then portmap with the pod's hostPorts) through
// podnet's CNI plugins, run with the node's namespace as their host. Detaching is CNI DEL in reverse.
import { join } from 'node:path';
import { defaultRegistry, inProcessContext } from '../cni/context.js';
import { CniRuntime, type Attachment, type NetworkConfigList } from '../cni/runtime.js';
import { DiskStore } from '../cni/ipam/disk-store.js';
import { MemoryStore } from '../cni/ipam/memory-store.js';
import { parseRangeSets, planAllocations } from '../cni/ipam/allocator.js';
import { flannelPodNetwork } from '../cni/install.js';
import { addressOf, type CidrText } from '../model/ip.js';
import type { LabDeps } from './deps.js';
import { LOOPBACK_IFNAME, LOOPBACK_NETWORK, podNetwork, type LabPlan, type NodePlan, type PodPlan } from './plan.js';
import { labNetns } from './names.js';
import { subnetFileOf } from './cluster.js';
import type { LabDir, PodState } from './state.js';
import type { ContainerPort } from '../model/k8s.js';
import type { PortMapping } from '../cni/portmap-config.js';

const registry = defaultRegistry();

/** A pod as the lab attaches it: its plan and, when Kubernetes knows them, its container ports. */
export type AttachedPod = PodPlan & { ports?: readonly ContainerPort[] };

/** The `portMappings` capability of a pod, as kubelet makes it: one per container port with a hostPort
 * (protocol in lower case, hostIP when given). */
export function portMappingsOf(ports: readonly ContainerPort[] = []): PortMapping[] {
  return ports.filter((p) => p.hostPort !== undefined && p.hostPort > 0)
    .map((p) => ({ hostPort: p.hostPort!, containerPort: p.containerPort, protocol: p.protocol.toLowerCase(), ...(p.hostIP ? { hostIP: p.hostIP } : {}) }));
}

/** How the lab attaches a pod: K8s's CNI_ARGS, plus the planned MAC and IP (MAC=, IP=) so the kernel
 * ends up exactly as `lab up --dry-run` showed, whatever order concurrent ADDs finish in; its hostPorts
 * as the `portMappings` capability (for portmap, on ADD and DEL alike). */
export function attachment(p: AttachedPod): Attachment {
  const portMappings = portMappingsOf(p.ports);
  return {
    containerId: p.containerId, netns: labNetns(p.netns).path, ifname: 'eth0',
    args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: p.name, K8S_POD_INFRA_CONTAINER_ID: p.containerId, MAC: p.mac, ...(p.ip ? { IP: p.ip } : {}) },
    ...(portMappings.length ? { capabilityArgs: { portMappings } } : {}),
  };
}

/** The CNI runtime of one node: plugins run with the node's namespace as their host. */
function runtimeFor(deps: LabDeps, dir: LabDir, node: NodePlan): CniRuntime {
  const ctx = inProcessContext({ host: deps.host, hostNetns: labNetns(node.netns), dryRun: deps.host.dryRun, random: deps.random });
  return new CniRuntime(registry, ctx, dir.resultsDir(node.name), deps.host.dryRun);
}

/** Predicts the IPs host-local will hand the next pods on a node (pure allocator over the current store). */
export async function predictIps(dir: LabDir, node: NodePlan, count: number): Promise<string[]> {
  const sets = parseRangeSets({ ranges: [[{ subnet: node.podCIDR }]] });
  const snap = await MemoryStore.snapshotOf(new DiskStore(dir.ipamDir(node.name), 'cbr0'));
  const taken = (await snap.list()).map((e) => e.ip);
  const last = await snap.lastReservedIP(0);
  return planAllocations(sets, { lastReserved: [last], taken }, count).map((ips) => ips[0]);
}

/** The pod network of a node: K3s's cbr0 conflist (flannel → bridge → host-local, then portmap),
 * reading the subnet.env the node's agent wrote. A dry run has no subnet.env to read, so it attaches
 * with the very bridge config flannel would delegate (the commands are the same). */
export function nodeNetwork(deps: LabDeps, dir: LabDir, plan: Pick<LabPlan, 'mtu' | 'clusterCIDR'>, node: NodePlan): NetworkConfigList {
  if (deps.host.dryRun) return podNetwork(plan, node, dir.ipamDir(node.name));
  return flannelPodNetwork({ subnetFile: subnetFileOf(dir, node.name), dataDir: join(dir.nodeDir(node.name), 'cni', 'flannel'), ipamDataDir: dir.ipamDir(node.name) });
}

/** The loopback network's attachment of a pod: its own, on `lo`. */
const onLoopback = (p: AttachedPod): Attachment => ({ ...attachment(p), ifname: LOOPBACK_IFNAME });

/** Attaches one pod as a runtime would: the loopback network, then cbr0. Returns the pod's address
 * (bare) and its host veth, from the CNI result. */
export async function attachPod(deps: LabDeps, dir: LabDir, plan: Pick<LabPlan, 'mtu' | 'clusterCIDR'>, node: NodePlan, p: AttachedPod): Promise<Pick<PodState, 'ip' | 'hostVeth'>> {
  const rt = runtimeFor(deps, dir, node);
  await rt.add(LOOPBACK_NETWORK, onLoopback(p));
  const result = await rt.add(nodeNetwork(deps, dir, plan, node), attachment(p));
  const address = result.ips?.[0]?.address as CidrText | undefined;
  return { ip: address ? addressOf(address) : undefined, hostVeth: result.interfaces?.find((i) => i.name.startsWith('veth') && !i.sandbox)?.name };
}

/** Detaches one pod as a runtime would: CNI DEL of cbr0, then of the loopback network. With
 * `forgiving`, a failing DEL is ignored (a node being removed, a namespace already gone). */
export async function detachPod(deps: LabDeps, dir: LabDir, plan: Pick<LabPlan, 'mtu' | 'clusterCIDR'>, node: NodePlan, p: AttachedPod, forgiving = false): Promise<void> {
  const rt = runtimeFor(deps, dir, node);
  const quiet = <T>(x: Promise<T>) => (forgiving ? x.catch(() => undefined) : x);
  await quiet(rt.del(nodeNetwork(deps, dir, plan, node), attachment(p)));
  await quiet(rt.del(LOOPBACK_NETWORK, onLoopback(p)));
}
