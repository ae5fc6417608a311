// `podnet doctor [NODE]`: what is wrong with a node's pod network, one finding per root cause, each with
// what it breaks, the evidence and the commands that fix it. Reads only.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, type GlobalOptions } from './flags.js';

/** Registers `doctor`. */
export function doctorCommand(program: Command, global: () => GlobalOptions): void {
  program.command('doctor')
    .description('check a node against what it says about itself (lab plan, subnet.env, leases, CNI config, Services): forwarding, bridged netfilter, rp_filter, ports, MTUs, flannel.1 and its entries, flannel\'s and kube-proxy\'s rules, FORWARD, conntrack, offloads, pod addresses, IPAM; exit 1 with findings')
    .argument('[node]', 'one node of the lab (default: every node)')
    .option('--host', 'this host as a K3s node (reads /run/flannel/subnet.env and the CNI config)')
    .option('--netns <name|path>', 'another namespace as a node: a name under /run/netns or a path such as /proc/PID/ns/net')
    .option('--name <lab>', 'the lab (default: the only lab that is up, else "demo"; an error when it is not up)', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'table | wide | json | yaml', 'table')
    .addHelpText('after', '\nExit status: 0 when nothing is wrong, 1 with findings (or an error).\n\nExamples:\n  podnet doctor                    every node of the lab that is up\n  podnet doctor agent1 --name big  one node\n  podnet doctor --host -o json     this machine, a real K3s node\n  podnet lab break mtu-mismatch --node agent1 && podnet doctor')
    .action(lazy(() => import('./actions/doctor.js'), (m) => m.doctorVerb, global));
}
