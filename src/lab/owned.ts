// What belongs to a lab on this machine, found from kernel state alone (a state file may be missing,
// damaged or lying): every namespace named `podnet-<lab>-…` and every process marked PODNET_LAB=<lab>.
// Lab names may prefix one another ("a" and "a-b"): a namespace `podnet-a-b-…` belongs to lab "a-b"
// when that lab has a state directory or its underlay namespace exists, else to "a".
import { netnsList } from '../host/netns.js';
import { processesOwnedBy } from '../host/process.js';
import { isLabName } from '../model/names.js';
import type { LabDeps } from './deps.js';
import { labPrefix, underlayNetnsName } from './names.js';
import { listLabDirs } from './state.js';

/** The other labs whose prefix starts with lab `lab`'s (`a-b` for `a`), known by state or underlay. */
function longerLabs(lab: string, labDirs: readonly string[], netns: readonly string[]): string[] {
  const fromDirs = labDirs.filter((l) => l !== lab && l.startsWith(`${lab}-`));
  const fromKernel = netns.filter((n) => n.endsWith('-underlay') && n.startsWith(labPrefix(lab)))
    .map((n) => n.slice('podnet-'.length, -'-underlay'.length)).filter((l) => l !== lab && isLabName(l));
  return [...new Set([...fromDirs, ...fromKernel])];
}

/** The namespaces named for lab `lab`, from `ip netns list`. */
export async function labNamespacesInKernel(deps: LabDeps, lab: string): Promise<string[]> {
  const all = await netnsList(deps.host.runner);
  const others = longerLabs(lab, await listLabDirs(deps.stateRoot), all);
  return all.filter((n) => n.startsWith(labPrefix(lab)) && !others.some((o) => n.startsWith(labPrefix(o)) || n === underlayNetnsName(o)));
}

/** The processes marked as lab `lab`'s (PODNET_LAB=<lab> in their environment), from /proc. */
export function labProcessesInKernel(lab: string): Promise<number[]> {
  return processesOwnedBy(lab);
}
