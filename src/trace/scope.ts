// What a trace scans. On a lab, the source pod's node, as `podnet inspect NODE` does; when the lab's
// state puts the destination (a pod, or an IP of another node's pod subnet) on another node, both
// nodes at once (inspectLab), so the path can follow the packet across the overlay. Elsewhere
// (--host, --netns), the one namespace given.
import type { Host } from '../host/host.js';
import { inspectLab, inspectTarget } from '../inspect/inspect.js';
import { contains, parseCidr } from '../model/ip.js';
import type { Snapshot } from '../model/snapshot.js';
import type { LabState } from '../lab/state.js';
import type { Target } from '../lab/target.js';

/** The node lab state puts `ref` on: a pod's node, or the node whose pod subnet holds an IPv4 `ref`. */
function nodeOf(state: LabState, ref: string): string | undefined {
  const pod = state.pods.find((p) => p.name === ref || p.netns === ref);
  if (pod) return pod.node;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ref)) return undefined;
  return state.plan.nodes.find((n) => {
    try {
      return contains(parseCidr(n.podCIDR), ref);
    } catch {
      return false;
    }
  })?.name;
}

/** The snapshots a trace from `src` to `dst` needs: one per node it crosses. */
export async function traceSnapshots(h: Host, target: Target, stateRoot: string, src: string, dst: string): Promise<Snapshot[]> {
  if (target.kind !== 'lab') return [await inspectTarget(h, target, stateRoot)];
  const srcNode = nodeOf(target.state, src);
  const dstNode = nodeOf(target.state, dst);
  if (srcNode && dstNode && srcNode !== dstNode) {
    return (await inspectLab(h, target.state, stateRoot, { nodes: [srcNode, dstNode] })).nodes.map((n) => n.snapshot);
  }
  return [await inspectTarget(h, srcNode ? { ...target, node: srcNode } : target, stateRoot)];
}

/** The snapshots of several nodes of a lab (a trace through a Service: the source's node and every
 * endpoint's), one scan; elsewhere the one namespace given. */
export async function snapshotsOfNodes(h: Host, target: Target, stateRoot: string, nodes: readonly string[]): Promise<Snapshot[]> {
  if (target.kind !== 'lab') return [await inspectTarget(h, target, stateRoot)];
  return (await inspectLab(h, target.state, stateRoot, { nodes })).nodes.map((n) => n.snapshot);
}
