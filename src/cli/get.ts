// `podnet get pods|nodes`: kubectl's columns, drawn from what the kernel reports.
import type { Command } from 'commander';
import type { LabDeps } from '../lab/lab.js';
import { requireRoot, requireUp } from '../lab/lab.js';
import { LabDir } from '../lab/state.js';
import { observeLab } from '../lab/observe.js';
import { nodeRows, podRows, type NodeRow, type PodRow } from '../model/views.js';
import { renderTable, type Column } from '../render/table.js';
import { renderData } from '../render/output.js';
import { DEFAULT_LAB, hostFacts, labDeps, out, type GlobalOptions, labName, outputFormat } from './context.js';

const POD_COLUMNS: Column<PodRow>[] = [
  { header: 'NAME', cell: (r) => r.name }, { header: 'READY', cell: (r) => r.ready }, { header: 'STATUS', cell: (r) => r.status },
  { header: 'RESTARTS', cell: (r) => r.restarts }, { header: 'AGE', cell: (r) => r.age },
];
const POD_WIDE: Column<PodRow>[] = [
  ...POD_COLUMNS, { header: 'IP', cell: (r) => r.ip }, { header: 'NODE', cell: (r) => r.node },
  { header: 'IFACE', cell: (r) => r.iface }, { header: 'HOST VETH', cell: (r) => r.hostVeth }, { header: 'NETNS', cell: (r) => r.netns },
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

const checkFormat = (o: string) => outputFormat(o, ['table', 'wide', 'json', 'yaml'] as const);

/** Prints a lab's pods in the given format. */
export async function showPods(deps: LabDeps, lab: string, format: string): Promise<void> {
  const f = checkFormat(format);
  const state = await requireUp(new LabDir(deps.stateRoot, lab), lab);
  const rows = podRows(await observeLab(deps.host, state), new Date());
  if (f === 'json' || f === 'yaml') out(renderData({ kind: 'PodList', lab, items: rows }, f));
  else out(renderTable(rows, f === 'wide' ? POD_WIDE : POD_COLUMNS, `No pods found in lab ${lab}.`));
}

/** Registers `get pods` and `get nodes`. */
export function getCommand(program: Command, global: () => GlobalOptions): void {
  const get = program.command('get').description('list pods or nodes like kubectl');
  get.command('pods').alias('pod').alias('po')
    .description('list the lab\'s pods: IP, node, eth0@ifN and its host veth')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'wide | json | yaml', 'table')
    .addHelpText('after', '\nExamples:\n  podnet get pods -o wide\n  podnet get pods -o json')
    .action(async (o: { name: string; output: string }) => {
      requireRoot('get pods');
      await showPods(labDeps(global()).deps, o.name, o.output);
    });
  get.command('nodes').alias('node').alias('no')
    .description('list the lab\'s nodes: internal IP, pod CIDR (from its lease) and VTEP MAC (flannel.1)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'wide | json | yaml', 'table')
    .addHelpText('after', '\nExample:\n  podnet get nodes -o wide')
    .action(async (o: { name: string; output: string }) => {
      requireRoot('get nodes');
      const f = checkFormat(o.output);
      const { deps } = labDeps(global());
      const state = await requireUp(new LabDir(deps.stateRoot, o.name), o.name);
      const cidrs = Object.fromEntries(state.plan.nodes.map((n) => [n.name, n.podCIDR]));
      const rows = nodeRows(await observeLab(deps.host, state), await hostFacts(), new Date(), cidrs);
      if (f === 'json' || f === 'yaml') out(renderData({ kind: 'NodeList', lab: o.name, items: rows }, f));
      else out(renderTable(rows, f === 'wide' ? NODE_WIDE : NODE_COLUMNS));
    });
}
