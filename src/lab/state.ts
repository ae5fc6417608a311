// A lab's state on disk: /var/lib/podnet/<lab>/state.json (root overridable with PODNET_STATE_DIR),
// written atomically (temp file + rename) before and after every change, so `lab down` and `clean`
// know what to remove even after a crash.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { ensureDir, removeDir } from '../host/dirs.js';
import { checkLabName } from '../model/topology.js';
import { join } from 'node:path';
import type { LabPlan, PodPlan } from './plan.js';
import type { OverlayState } from './cluster.js';

/** Where labs keep their state. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PODNET_STATE_DIR || '/var/lib/podnet';
}

/** A pod as it was made: the plan plus what the kernel and the CNI result said. */
export interface PodState extends PodPlan {
  pid?: number;
  ip?: string;
  hostVeth?: string;
  createdAt: string;
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

  /** A node's data directory: host-local's store and the CNI result cache live under it. */
  nodeDir(node: string): string {
    return join(this.dir, 'nodes', node);
  }

  /** host-local's dataDir for a node (the store is `<this>/cbr0/<ip>`). */
  ipamDir(node: string): string {
    return join(this.nodeDir(node), 'cni', 'networks');
  }

  /** The CNI result cache of a node (libcni's /var/lib/cni/results). */
  resultsDir(node: string): string {
    return join(this.nodeDir(node), 'cni', 'results');
  }

  /** The state, or undefined when the lab has none. */
  async read(): Promise<LabState | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'state.json'), 'utf8')) as LabState;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`${join(this.dir, 'state.json')} is unreadable (${(e as Error).message}): run \`podnet clean\` to remove the lab`, { cause: e });
    }
  }

  /** Writes the state atomically. */
  async write(state: LabState): Promise<void> {
    await ensureDir(this.dir);
    const path = join(this.dir, 'state.json');
    await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  /** Removes every file of the lab. */
  async remove(): Promise<void> {
    await removeDir(this.dir);
  }
}

/** The names of the labs that have state under `root`. */
export async function listLabDirs(root: string): Promise<string[]> {
  try {
    const isLab = (n: string) => { try { return checkLabName(n) === n; } catch { return false; } };
    return (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && isLab(d.name)).map((d) => d.name).sort();
  } catch {
    return [];
  }
}
