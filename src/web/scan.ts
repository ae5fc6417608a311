// Reads what the UI shows with `podnet inspect`'s own scans: for a lab, inspectLab (every node at
// once, one snapshot per node) and the underlay switch seen from its own namespace; for --host,
// this machine. Also the cheap fingerprint the live view polls to know when a rescan is worth it.
import { readdir, stat } from 'node:fs/promises';
import type { Host } from '../host/host.js';
import { inspectLab, inspectTarget } from '../inspect/inspect.js';
import { isUserError } from '../model/errors.js';
import { LabDir } from '../lab/state.js';
import { labPrefix } from '../lab/names.js';
import type { Target } from '../lab/target.js';
import type { NetnsSnapshot, Snapshot } from '../model/snapshot.js';
import { rehost, type Scanned } from './topology.js';

const netnsDir = '/run/netns';

/** The lab's underlay switch as the host: every node snapshot holds the switch (a veth joins each
 * node to it), so their union holds the switch and every node end of its ports. */
function underlayView(nodes: readonly Snapshot[], netns: string): Snapshot | undefined {
  const byId = new Map<string, NetnsSnapshot>();
  for (const s of nodes) for (const ns of s.namespaces) if (!byId.has(ns.id)) byId.set(ns.id, ns);
  const sw = [...byId.values()].find((n) => n.names.includes(netns));
  return sw && nodes[0] ? rehost({ ...nodes[0], namespaces: [...byId.values()] }, sw.id) : undefined;
}

/** Scans the target into one snapshot per node (and the underlay's, for a lab). A lab's state is
 * read afresh at each scan: pods and nodes come and go while the page is open. */
export async function scanTarget(h: Host, target: Target, stateRoot: string): Promise<Scanned> {
  if (target.kind !== 'lab') {
    const snapshot = await inspectTarget(h, target, stateRoot);
    const me = snapshot.namespaces.find((n) => n.id === snapshot.host);
    return { source: { kind: 'host', name: me?.identity.name ?? 'this host' }, takenAt: snapshot.takenAt, nodes: [snapshot] };
  }
  const { lab } = target;
  const absent: Scanned = { source: { kind: 'lab', lab, status: 'absent' }, takenAt: new Date().toISOString(), nodes: [] };
  const state = await new LabDir(stateRoot, lab).read().catch(() => undefined);
  if (!state || state.plan.nodes.length === 0) return absent;
  let scan;
  try {
    scan = await inspectLab(h, state, stateRoot);
  } catch (e) {
    if (isUserError(e)) return absent; // went down between reading its state and scanning it
    throw e;
  }
  const nodes = scan.nodes.map((n) => n.snapshot).filter((s) => s.host !== '');
  const underlay = underlayView(nodes, state.plan.underlay.netns);
  return { source: { kind: 'lab', lab, status: state.status }, takenAt: scan.takenAt, nodes, ...(underlay ? { underlay } : {}) };
}

/** Changes whenever a namespace is pinned or removed (a pod or node coming or going) or the lab's
 * state file is rewritten; costs two system calls, no process. */
export async function fingerprint(target: Target, stateRoot: string): Promise<string> {
  const names = (await readdir(netnsDir).catch(() => [] as string[]));
  const mine = target.kind !== 'lab' ? names : names.filter((n) => n.startsWith(labPrefix(target.lab)));
  const st = target.kind !== 'lab' ? undefined : await stat(new LabDir(stateRoot, target.lab).file).catch(() => undefined);
  return `${mine.sort().join(',')}|${st ? `${st.mtimeMs}:${st.size}` : '-'}`;
}
