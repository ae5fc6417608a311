// `podnet get netpol`, `podnet delete netpol`, `podnet inspect policies`, `podnet label pod`:
// NetworkPolicies in a lab and how kube-router enforces them (apply/delete -f take them too).
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, type GlobalOptions } from './flags.js';

const actions = () => import('./actions/netpol.js');

/** Adds `get networkpolicies|netpol` to `get`. */
export function netpolGetCommands(get: Command, global: () => GlobalOptions): void {
  get.command('networkpolicies').alias('networkpolicy').alias('netpol')
    .description('list the lab\'s NetworkPolicies: pod selector, age (-o wide: policy types and the pods they select now)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-n, --namespace <ns>', 'only this Kubernetes namespace (default: every one)')
    .option('-A, --all-namespaces', 'every Kubernetes namespace (the default)')
    .option('-o, --output <format>', 'wide | json | yaml', 'table')
    .addHelpText('after', '\nExamples:\n  podnet get netpol -o wide\n  podnet get netpol deny-all -o yaml')
    .argument('[policy]', 'only this policy')
    .action(lazy(actions, (m) => m.getNetpolVerb, global));
}

/** Adds `delete networkpolicy|netpol NAME` to `delete`. */
export function netpolDeleteCommands(del: Command, global: () => GlobalOptions): void {
  del.command('networkpolicy <policy>').alias('networkpolicies').alias('netpol')
    .description('delete a NetworkPolicy: its chain and ipsets go from every node (the last one takes every kube-router rule away)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-n, --namespace <ns>', 'its Kubernetes namespace', 'default')
    .addHelpText('after', '\nExamples:\n  podnet delete netpol deny-all\n  podnet delete netpol allow-dns -n team-a')
    .action(lazy(actions, (m) => m.deleteNetpolVerb, global));
}

/** Adds `inspect policies [NODE]` to `inspect`. */
export function inspectPoliciesCommand(inspect: Command, global: () => GlobalOptions): void {
  inspect.command('policies')
    .description('per pod: isolated for ingress/egress?, the policies that select it, the KUBE-POD-FW/KUBE-NWPLCY chains and ipsets that enforce them, with the kernel\'s counters')
    .argument('[node]', 'a node of the lab (default: every node)')
    .option('--from <pod|ip>', 'with --to: explain the verdict on one connection instead')
    .option('--to <pod|ip>', 'the destination of --from\'s connection')
    .option('--port <port>', 'its destination port (with --protocol; default 80)')
    .option('--protocol <proto>', 'TCP, UDP, SCTP or ICMP', 'TCP')
    .addHelpText('after', '\nExamples:\n  podnet inspect policies\n  podnet inspect policies agent1 -o wide\n  podnet inspect policies --from client --to web1 --port 80')
    .action(lazy(actions, (m) => m.inspectPoliciesVerb, global));
}

/** Registers `label pod NAME key=value… key-…`. */
export function labelCommand(program: Command, global: () => GlobalOptions): void {
  program.command('label')
    .description('change a pod\'s labels like kubectl label: key=value sets one, key- removes one (Services and NetworkPolicies follow)')
    .argument('<kind>', 'pod')
    .argument('<pod>', 'the pod')
    .argument('<changes...>', 'key=value or key-')
    .option('--overwrite', 'change a label that has another value')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet label pod client role=frontend\n  podnet label pod client role=backend --overwrite\n  podnet label pod client role-')
    .action(lazy(actions, (m) => m.labelVerb, global));
}
