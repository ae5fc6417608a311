// Taking a lab down: its processes, its namespaces (the veths and bridges go with them) and its
// directory, from whatever is left (state, kernel, /proc) after a crash too. Kept apart from
// ./lifecycle.ts so that `podnet lab down` loads only this, not everything that brings a lab up.
import { existsSync } from 'node:fs';
import { netnsDelete } from '../host/netns.js';
import { processStopAll, processesInNetns, netnsInode } from '../host/process.js';
import type { LabDeps } from './deps.js';
import { labNetns } from './names.js';
import { withLabLock } from './lock.js';
import { LabDir, StateError, labNamespaces, type LabState } from './state.js';
import { labNamespacesInKernel, labProcessesInKernel } from './owned.js';

/** Takes a lab down: its processes, its namespaces (the veths and bridges go with them), its state
 * directory (the nodes' CNI state with it). Works from partial state after a crash. Returns false
 * when there was nothing to remove. */
export function labDown(deps: LabDeps, lab: string): Promise<boolean> {
  return withLabLock(deps, lab, () => down(deps, lab));
}

/** The lab's state for taking it down: undefined when there is none or it is damaged (then the lab
 * is taken down from kernel state alone, and the damage is reported). */
async function stateForDown(dir: LabDir, warn: (line: string) => void): Promise<LabState | undefined> {
  try {
    return await dir.read();
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    warn(`${dir.file} is damaged (${e.message.slice(e.message.indexOf('(') + 1, e.message.indexOf('):'))}): removing what the kernel holds for lab "${dir.lab}" instead`);
    return undefined;
  }
}

/** Takes lab `lab` down without taking its lock (the caller holds it: labDown, or a failed up unwinding). */
export async function down(deps: LabDeps, lab: string): Promise<boolean> {
  const dir = new LabDir(deps.stateRoot, lab);
  // Everything named for the lab and every process marked for it, whatever the state file says; the
  // state adds recorded PIDs (an agent on an outside etcd lives in podnet's own namespace). The three
  // reads are independent, and made at once.
  const [state, inKernel, marked] = await Promise.all([
    stateForDown(dir, deps.warn ?? (() => undefined)), labNamespacesInKernel(deps, lab), deps.host.dryRun ? [] : labProcessesInKernel(lab)]);
  const names = [...new Set([...(state ? labNamespaces(state) : []), ...inKernel])];
  if (!state && names.length === 0 && marked.length === 0) {
    // Files without state (a crash before state.json was written) are still ours to remove.
    if (!deps.host.dryRun && (await deps.host.exists(dir.dir))) {
      await dir.remove();
      return true;
    }
    return false;
  }
  if (state && !deps.host.dryRun) await dir.write({ ...state, status: 'deleting' });

  const o = state?.overlay;
  // The namespaces go while the processes in them exit (a namespace outlives its file until its last
  // process has left, so nothing waits on the other).
  const pids = [...marked, ...(state?.pods.map((p) => p.pid ?? 0) ?? []), ...Object.values(o?.agents ?? {}), o?.etcd?.pid ?? 0];
  // A lab whose leases are files and that has no injected fault needs nothing from its directory once
  // its processes are signalled, and none of them opens a file there again: the directory goes while
  // they exit too. (An etcd lab's agents, and the undoing of faults, still read it: it goes after.)
  const faults = !deps.host.dryRun && existsSync(dir.faultsFile);
  const early = !!state && !deps.host.dryRun && o?.store !== 'etcd' && !faults;
  await stopProcesses(deps, lab, names, pids, async () => {
    await netnsDelete(deps.host.runner, names);
    if (early) await dir.remove();
  });
  // The fault catalog and the lease stores are loaded only for a lab that needs them.
  if (state && !o?.etcd && faults) {
    await import('./faults.js').then((f) => f.undoOutsideLab(deps, dir, state))
      .catch((e: unknown) => deps.warn?.(`an injected fault stays in ${o?.endpoint ?? 'the lease store'}: ${(e as Error).message}`));
  }
  if (o?.store === 'etcd' && !o.etcd && state) {
    await import('./overlay.js').then((m) => m.releaseLeases(deps, dir, state, state.plan.nodes))
      .catch((e: unknown) => deps.warn?.(`the leases stay in ${o.endpoint}: ${(e as Error).message}`));
  }
  // No CNI DEL per pod: with the namespaces gone it could only delete the reservations, result caches
  // and saved delegates under the lab's directory, which goes whole — as K3s's k3s-killall.sh takes a
  // node down (processes, links, then rm -rf /var/lib/cni), not as kubelet deletes one pod.
  if (!deps.host.dryRun && !early) await dir.remove();
  return true;
}

/** Stops podnet's processes in the given namespaces (by recorded PID, and any found through /proc);
 * `meanwhile` runs once they are signalled, while they exit (processStopAll). */
export async function stopProcesses(deps: LabDeps, lab: string, netns: string[], pids: number[], meanwhile?: () => Promise<void>): Promise<void> {
  if (deps.host.dryRun) {
    for (const pid of pids) if (pid > 0) await deps.host.runner.signal(pid, 'SIGTERM');
    await meanwhile?.();
    return;
  }
  const inodes = new Set((await Promise.all(netns.map((n) => netnsInode(labNetns(n).path)))).filter((x): x is number => x !== undefined));
  const found = (await processesInNetns(inodes)).map((p) => p.pid);
  await processStopAll(deps.host.runner, [...new Set([...pids.filter((p) => p > 0), ...found])], lab, undefined, meanwhile);
}
