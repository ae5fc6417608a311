// Reads what the UI shows with `podnet inspect`'s own scans: for a lab, inspectLab (every node at
// once, one snapshot per node) and the underlay switch seen from its own namespace; for --host,
// this machine. Also the cheap fingerprint the live view polls to know when a rescan is worth it,
// and the host the scans run on, which the server can abandon when it stops.
import { readdir, stat } from 'node:fs/promises';
import { Host } from '../host/host.js';
import type { Command, RunResult, Runner } from '../host/runner.js';
import { inspectCluster, inspectTarget } from '../inspect/inspect.js';
import { isUserError } from '../model/errors.js';
import { LabDir } from '../lab/state.js';
import { labPrefix } from '../lab/names.js';
import { labEndpoints } from '../lab/sync.js';
import type { Target } from '../lab/target.js';
import type { Scanned } from './topology.js';
import { Closed } from './live.js';

const netnsDir = '/run/netns';

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
  try {
    const servicePorts = state.services?.length ? { servicePorts: await labEndpoints(state) } : {};
    return { source: { kind: 'lab', lab, status: state.status }, ...(await inspectCluster(h, state, stateRoot)), ...servicePorts };
  } catch (e) {
    if (isUserError(e)) return absent; // went down between reading its state and scanning it
    throw e;
  }
}

/** Changes whenever a namespace is pinned or removed (a pod or node coming or going) or the lab's
 * state file is rewritten; costs two system calls, no process. */
export async function fingerprint(target: Target, stateRoot: string): Promise<string> {
  const names = (await readdir(netnsDir).catch(() => [] as string[]));
  const mine = target.kind !== 'lab' ? names : names.filter((n) => n.startsWith(labPrefix(target.lab)));
  const st = target.kind !== 'lab' ? undefined : await stat(new LabDir(stateRoot, target.lab).file).catch(() => undefined);
  return `${mine.sort().join(',')}|${st ? `${st.mtimeMs}:${st.size}` : '-'}`;
}

/** Runs `inner`'s commands until `stop` aborts; from then on every command fails at once with
 * Closed — one in flight too (it finishes unwatched) — so a scan under way is abandoned, not waited
 * for, and none starts. For scans only: they read, so nothing is left half made. */
export class AbandonableRunner implements Runner {
  constructor(private readonly inner: Runner, private readonly stop: AbortSignal) {}

  private guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.stop.aborted) return Promise.reject(new Closed());
    const p = work();
    return Promise.race([p, new Promise<never>((_, reject) => {
      const abort = () => reject(new Closed());
      this.stop.addEventListener('abort', abort, { once: true });
      // Once `p` settles the listener has nothing to do: dropped, so listeners do not pile up.
      const drop = () => this.stop.removeEventListener('abort', abort);
      p.then(drop, drop);
    })]);
  }

  run(cmd: Command): Promise<RunResult> {
    return this.guard(() => this.inner.run(cmd));
  }

  start(cmd: Command): Promise<number> {
    return this.guard(() => this.inner.start(cmd));
  }

  signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    return this.guard(() => this.inner.signal(pid, signal));
  }
}

/** A host like `h` whose commands stop when `stop` aborts (AbandonableRunner). */
export function abandonableHost(h: Host, stop: AbortSignal): Host {
  return new Host(new AbandonableRunner(h.runner, stop), h.dryRun);
}
