// `podnet clean`: every podnet object found on the machine, from kernel state — namespaces named
// `podnet-*`, podnet's marked processes in them (and agents of labs on an outside etcd, by their
// recorded PIDs) — all lab state, the trace instances a crashed trace left in tracefs, and what a
// killed trace's journal lists (its tracing tables and TRACE rules, its processes).
import { netnsDelete, netnsList } from '../host/netns.js';
import { processesInNetns, netnsInode, processOwner, processStopAll } from '../host/process.js';
import type { LabDeps } from './deps.js';
import { labNetns } from './names.js';
import { LabDir, listLabDirs } from './state.js';
import { dropWatchLeftovers } from '../host/tracefs.js';
import { traceJournalLeftovers } from '../host/trace-journal.js';

/** Removes every podnet object found on the machine: processes and namespaces named `podnet-*`, and all lab state. */
export async function cleanAll(deps: LabDeps): Promise<{ netns: string[]; processes: number; labs: string[]; traces: string[] }> {
  // What a killed trace added (tracing tables and rules, its processes), from its journal: first, while
  // the namespaces it names still exist.
  const journaled = await traceJournalLeftovers(deps.host.runner, deps.stateRoot).catch(() => []);
  const labs = await listLabDirs(deps.stateRoot);
  const netns = (await netnsList(deps.host.runner)).filter((n) => n.startsWith('podnet-'));
  const inodes = new Set((await Promise.all(netns.map((n) => netnsInode(labNetns(n).path)))).filter((x): x is number => x !== undefined));
  // Agents of a lab on an outside etcd live in podnet's own namespace: found by their recorded PIDs.
  const agents = (await Promise.all(labs.map(async (lab) => Object.values((await new LabDir(deps.stateRoot, lab).read().catch(() => undefined))?.overlay?.agents ?? {})))).flat();
  const procs = [...new Set([...(await processesInNetns(inodes)).map((p) => p.pid), ...agents])];
  const owners = await Promise.all(procs.map(async (pid) => ({ pid, owner: await processOwner(pid) })));
  const ours = owners.filter((o): o is { pid: number; owner: string } => o.owner !== undefined);
  for (const owner of new Set(ours.map((o) => o.owner))) await processStopAll(deps.host.runner, ours.filter((o) => o.owner === owner).map((o) => o.pid), owner);
  await netnsDelete(deps.host.runner, netns);
  for (const lab of labs) await new LabDir(deps.stateRoot, lab).remove();
  // Drop-reason trace instances of a trace that crashed (their podnet process is gone).
  const traces = await dropWatchLeftovers(deps.host.runner).catch(() => []);
  return { netns, processes: ours.length, labs, traces: [...traces, ...journaled] };
}
