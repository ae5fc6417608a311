// `podnet get pods|nodes`: kubectl's columns, drawn from what the kernel reports.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, type GlobalOptions } from './flags.js';
import { k8sGetCommands } from './k8s.js';
import { netpolGetCommands } from './netpol.js';

const actions = () => import('./actions/get.js');

/** Registers `get pods` and `get nodes`. */
export function getCommand(program: Command, global: () => GlobalOptions): void {
  const get = program.command('get').description('list pods, nodes, Services or endpoints like kubectl');
  get.command('pods').alias('pod').alias('po')
    .description('list the lab\'s pods: IP, node, eth0@ifN and its host veth, the pod\'s process')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-n, --namespace <ns>', 'the pods of this Kubernetes namespace (default: default, as kubectl)')
    .option('-A, --all-namespaces', 'every Kubernetes namespace, with a NAMESPACE column (kube-system holds the DNS pod)')
    .option('-o, --output <format>', 'wide | json | yaml', 'table')
    .addHelpText('after', '\nExamples:\n  podnet get pods -o wide\n  podnet get pods -A -o json\n  podnet get pods -n kube-system')
    .action(lazy(actions, (m) => m.getPods, global));
  get.command('nodes').alias('node').alias('no')
    .description('list the lab\'s nodes: internal IP, pod CIDR (from its lease) and VTEP MAC (flannel.1)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'wide | json | yaml', 'table')
    .addHelpText('after', '\nExample:\n  podnet get nodes -o wide')
    .action(lazy(actions, (m) => m.getNodes, global));
  k8sGetCommands(get, global);
  netpolGetCommands(get, global);
}
