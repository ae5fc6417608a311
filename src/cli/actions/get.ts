// The work of `podnet get pods|nodes` (loaded only when the verb runs).
import type { Command } from 'commander';
import { hostFacts, labDeps } from '../context.js';
import { LabDir, requireUp, type LabState } from '../../lab/state.js';
import type { LabDeps } from '../../lab/deps.js';
import { labNodeRows, labPodRows, madePodRows } from '../../inspect/lab.js';
import { renderTable, type Column } from '../../render/table.js';
import { renderData } from '../../render/output.js';
import type { NodeRow, PodRow } from '../../views/lab.js';
import { out, outputFormat, requireRoot, terminalWidth, type GlobalOptions } from '../flags.js';

const POD_COLUMNS: Column<PodRow>[] = [
  { header: 'NAME', cell: (r) => r.name }, { header: 'READY', cell: (r) => r.ready }, { header: 'STATUS', cell: (r) => r.status },
  { header: 'RESTARTS', cell: (r) => r.restarts }, { header: 'AGE', cell: (r) => r.age },
];
const POD_WIDE: Column<PodRow>[] = [
  ...POD_COLUMNS, { header: 'IP', cell: (r) => r.ip }, { header: 'NODE', cell: (r) => r.node },
  { header: 'IFACE', cell: (r) => r.iface }, { header: 'HOST VETH', cell: (r) => r.hostVeth }, { header: 'PID', cell: (r) => r.pid || '-' }, { header: 'NETNS', cell: (r) => r.netns, elastic: true },
];
const NODE_COLUMNS: Column<NodeRow>[] = [
  { header: 'NAME', cell: (r) => r.name }, { header: 'STATUS', cell: (r) => r.status }, { header: 'ROLES', cell: (r) => r.roles },
  { header: 'AGE', cell: (r) => r.age }, { header: 'VERSION', cell: (r) => r.version },
];
const NODE_WIDE: Column<NodeRow>[] = [
  ...NODE_COLUMNS, { header: 'INTERNAL-IP', cell: (r) => r.internalIP }, { header: 'POD-CIDR', cell: (r) => r.podCIDR },
  { header: 'VTEP-MAC', cell: (r) => r.vtepMac },
  { header: 'OS-IMAGE', cell: (r) => r.osImage }, { header: 'KERNEL-VERSION', cell: (r) => r.kernelVersion },
  { header: 'CONTAINER-RUNTIME', cell: (r) => r.containerRuntime },
];

/** -o of `get`: table, wide, json or yaml. */
export const getFormat = (o: string) => outputFormat(o, ['table', 'wide', 'json', 'yaml'] as const);

/** Prints a lab's pods of one Kubernetes namespace (default: `default`, as kubectl) or of all (`ns`
 * '*': -A, with kubectl's NAMESPACE column) in the given format (also `lab up`, `lab status`
 * and the demo, which leave out kube-system's DNS pod as `kubectl get pods` does). `known` is the
 * state `lab up` has just written. */
export async function showPods(deps: LabDeps, lab: string, format: string, namespace = 'default', known?: LabState): Promise<void> {
  const ns = namespace === '*' ? undefined : namespace;
  const f = getFormat(format);
  // The state as `lab up` just wrote it, or as it is on disk.
  const full = known ?? await requireUp(new LabDir(deps.stateRoot, lab), lab);
  const nsOf = new Map(full.pods.map((p) => [p.netns, p.namespace ?? 'default']));
  const state = ns === undefined ? full : { ...full, pods: full.pods.filter((p) => nsOf.get(p.netns) === ns) };
  // Pods `lab up` has just made are shown as it made them, with their nodes' links read for the
  // ifindexes (one read per node instead of one per pod); anything it cannot vouch for is scanned.
  const rows = ((known && await madePodRows(deps.host, state)) ?? await labPodRows(deps.host, state, deps.stateRoot)).map((r) => (ns === undefined ? { namespace: nsOf.get(r.netns) ?? 'default', ...r } : r));
  const nsColumn: Column<PodRow>[] = ns === undefined ? [{ header: 'NAMESPACE', cell: (r) => nsOf.get(r.netns) ?? 'default' }] : [];
  if (f === 'json' || f === 'yaml') out(renderData({ kind: 'PodList', lab, items: rows }, f));
  else out(renderTable(rows, [...nsColumn, ...(f === 'wide' ? POD_WIDE : POD_COLUMNS)], ns === undefined ? `No pods found in lab ${lab}.` : `No pods found in ${ns} namespace of lab ${lab}.`, f === 'table' ? terminalWidth() : undefined));
}

/** `podnet get pods`. */
export async function getPods(g: GlobalOptions, o: { name: string; output: string; allNamespaces?: boolean; namespace?: string }): Promise<void> {
  getFormat(o.output);
  requireRoot('get pods', 'reads every network namespace');
  await showPods(labDeps(g).deps, o.name, o.output, o.allNamespaces ? '*' : o.namespace ?? 'default');
}

/** Prints a lab's nodes in the given format (also `lab status`). */
export async function showNodes(deps: LabDeps, state: LabState, format: string): Promise<void> {
  const f = getFormat(format);
  const rows = await labNodeRows(deps.host, state, deps.stateRoot, await hostFacts());
  if (f === 'json' || f === 'yaml') out(renderData({ kind: 'NodeList', lab: state.lab, items: rows }, f));
  else out(renderTable(rows, f === 'wide' ? NODE_WIDE : NODE_COLUMNS, undefined, f === 'table' ? terminalWidth() : undefined));
}

/** `podnet get nodes`. */
export async function getNodes(g: GlobalOptions, o: { name: string; output: string }, _cmd?: Command): Promise<void> {
  getFormat(o.output);
  requireRoot('get nodes', 'reads every network namespace');
  const { deps } = labDeps(g);
  await showNodes(deps, await requireUp(new LabDir(deps.stateRoot, o.name), o.name), o.output);
}
