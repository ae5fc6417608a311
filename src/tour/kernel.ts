// The learner's lab as the kernel has it right now: one scan of every node (inspectLab), each pod's
// row of `podnet inspect`, and the facts a chapter's placeholders name. Checks answer from this, never
// from what the learner typed and never from the lab's state file alone.
import type { Host } from '../host/host.js';
import { inspectLab, type LabScan } from '../inspect/inspect.js';
import { addressOf } from '../model/ip.js';
import type { Facts } from '../model/tour/template.js';
import type { LabState } from '../lab/state.js';
import type { NetnsSnapshot, Snapshot } from '../model/snapshot.js';
import { inspectPods, type InspectPodRow } from '../views/pods.js';

/** One pod as the kernel shows it, with the node it hangs off. */
export interface LivePod {
  row: InspectPodRow;
  node: string;
  /** The pod's namespace in the scan. */
  ns?: NetnsSnapshot;
}

/** A lab scanned for the tour. */
export interface LiveLab {
  lab: string;
  state: LabState;
  scan: LabScan;
  pods: Map<string, LivePod>;
  facts: Facts;
}

/** The namespace of a snapshot that is its host (the node). */
export const hostNs = (s: Snapshot): NetnsSnapshot | undefined => s.namespaces.find((n) => n.id === s.host);

/** Scans the lab and derives its facts. */
export async function liveLab(host: Host, state: LabState, stateRoot: string): Promise<LiveLab> {
  const scan = await inspectLab(host, state, stateRoot);
  const pods = new Map<string, LivePod>();
  for (const n of scan.nodes) {
    for (const row of inspectPods(n.snapshot)) {
      if (row.kind === 'pod' && !pods.has(row.pod)) pods.set(row.pod, { row, node: n.name, ns: n.snapshot.namespaces.find((x) => x.id === row.netnsId) });
    }
  }
  return { lab: state.lab, state, scan, pods, facts: factsOf(state, scan, pods) };
}

/** `{lab}`, `{node}`, `{server.netns}`, `{pod1.veth}` … from the scan (the state only for what the
 * kernel does not hold: a pod's PID and a node's plan). */
function factsOf(state: LabState, scan: LabScan, pods: Map<string, LivePod>): Record<string, string> {
  const f: Record<string, string> = { lab: state.lab, node: state.plan.nodes[0]?.name ?? '' };
  for (const n of state.plan.nodes) {
    const ns = hostNs(scan.nodes.find((x) => x.name === n.name)?.snapshot ?? { host: '', namespaces: [], takenAt: '' });
    const vtep = ns?.links.find((l) => l.kind === 'vxlan');
    const set = (k: string, v: string | undefined) => { if (v) f[`${n.name}.${k}`] = v; };
    set('netns', n.netns);
    set('ip', addressOf(n.ip));
    set('podCIDR', n.podCIDR);
    set('bridgeIP', addressOf(n.bridgeIP));
    set('gateway', addressOf(state.plan.underlay.gateway));
    set('vtepMac', vtep?.mac);
    set('vtepIP', ns?.addrs.find((a) => a.link === vtep?.name && a.family === 'inet')?.local);
  }
  for (const [name, p] of pods) {
    const set = (k: string, v: string | number | undefined) => { if (v !== undefined && v !== '') f[`${name}.${k}`] = String(v); };
    const st = state.pods.find((x) => x.name === name);
    set('ip', p.row.ips[0] ? addressOf(p.row.ips[0]) : undefined);
    set('mac', p.row.mac);
    set('netns', p.row.netns);
    set('pid', st?.pid);
    set('veth', p.row.hostVeth.replace(/@.*$/, ''));
    set('vethIndex', p.row.hostIndex);
    set('ifindex', p.row.ifindex);
    set('node', p.node);
    const nodeNs = hostNs(scan.nodes.find((x) => x.name === p.node)!.snapshot);
    set('vethMac', nodeNs?.links.find((l) => l.index === p.row.hostIndex)?.mac);
  }
  return f;
}
