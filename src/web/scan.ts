// Reads what the UI shows with `podnet inspect`'s own scans: for a lab, inspectLab (every node at
// once, one snapshot per node) and the underlay switch seen from its own namespace; for --host,
// this machine. Also the cheap fingerprint the live view polls to know when a rescan is worth it.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../host/runner.js';
import { inspectLab, inspectTarget } from '../inspect/inspect.js';
import { LabError } from '../lab/errors.js';
import { LabDir } from '../lab/state.js';
import type { NetnsSnapshot, Snapshot } from '../model/snapshot.js';
import { rehost, type Scanned } from './topology.js';

/** What the UI serves: a lab by name, or the machine it runs on. */
export type UiTarget = { lab: string } | { host: true };

const netnsDir = '/run/netns';

/** The lab's underlay switch as the host: every node snapshot holds the switch (a veth joins each
 * node to it), so their union holds the switch and every node end of its ports. */
function underlayView(nodes: readonly Snapshot[], netns: string): Snapshot | undefined {
  const byId = new Map<string, NetnsSnapshot>();
  for (const s of nodes) for (const ns of s.namespaces) if (!byId.has(ns.id)) byId.set(ns.id, ns);
  const sw = [...byId.values()].find((n) => n.names.includes(netns));
  return sw && nodes[0] ? rehost({ ...nodes[0], namespaces: [...byId.values()] }, sw.id) : undefined;
}

/** Scans the target into one snapshot per node (and the underlay's, for a lab). */
export async function scanTarget(runner: Runner, target: UiTarget, stateRoot: string): Promise<Scanned> {
  if ('host' in target) {
    const { snapshot } = await inspectTarget(runner, { lab: 'demo', host: true }, stateRoot);
    const me = snapshot.namespaces.find((n) => n.id === snapshot.host);
    return { source: { kind: 'host', name: me?.identity.name ?? 'this host' }, takenAt: snapshot.takenAt, nodes: [snapshot] };
  }
  const { lab } = target;
  const absent: Scanned = { source: { kind: 'lab', lab, status: 'absent' }, takenAt: new Date().toISOString(), nodes: [] };
  const state = await new LabDir(stateRoot, lab).read();
  if (!state || state.plan.nodes.length === 0) return absent;
  let scan;
  try {
    scan = await inspectLab(runner, lab, stateRoot);
  } catch (e) {
    if (e instanceof LabError) return absent; // went down between reading its state and scanning it
    throw e;
  }
  const nodes = scan.nodes.map((n) => n.snapshot).filter((s) => s.host !== '');
  const underlay = underlayView(nodes, state.plan.underlay.netns);
  return { source: { kind: 'lab', lab, status: state.status }, takenAt: scan.takenAt, nodes, ...(underlay ? { underlay } : {}) };
}

/** Changes whenever a namespace is pinned or removed (a pod or node coming or going) or the lab's
 * state file is rewritten; costs two system calls, no process. */
export async function fingerprint(target: UiTarget, stateRoot: string): Promise<string> {
  const names = (await readdir(netnsDir).catch(() => [] as string[]));
  const mine = 'host' in target ? names : names.filter((n) => n.startsWith(`podnet-${target.lab}-`));
  const st = 'host' in target ? undefined : await stat(join(stateRoot, target.lab, 'state.json')).catch(() => undefined);
  return `${mine.sort().join(',')}|${st ? `${st.mtimeMs}:${st.size}` : '-'}`;
}
