// `podnet agent`: flanneld's job on one node — hold a subnet lease in the store (etcd, or a file),
// keep flannel.1 and its neighbour/FDB/route entries equal to the other nodes' leases, write
// subnet.env for the flannel CNI plugin. Runs until SIGTERM/SIGINT; `--once` sets up, reconciles
// and exits. A lab with `--store etcd` runs one per node inside the node's namespace.
import type { Command } from 'commander';
import { FLANNEL_LEASE_TTL_S } from '../model/k3s.js';
import { lazy, positiveInt, type GlobalOptions } from './flags.js';

/** Registers `podnet agent`. */
export function agentCommand(program: Command, global: () => GlobalOptions): void {
  program.command('agent')
    .description('the node agent (flanneld\'s job): subnet lease, flannel.1, routes/FDB/neighbours to every other node, subnet.env')
    .requiredOption('--node <name>', 'this node\'s name (for messages)')
    .option('--store <store>', 'lease store: etcd://HOST:PORT[,HOST:PORT] or file:/PATH', 'etcd://127.0.0.1:2379')
    .option('--iface <dev>', 'underlay interface (default: the default route\'s)')
    .option('--public-ip <ip>', 'this node\'s address on the underlay (default: the interface\'s first IPv4)')
    .option('--data-dir <dir>', 'where flannel.1\'s MAC is kept across restarts', '/var/lib/podnet/agent')
    .option('--subnet-file <file>', 'flannel\'s subnet.env', '/run/flannel/subnet.env')
    .option('--subnet-hint <cidr>', 'a subnet to take when free (like K3s\'s node podCIDR)')
    .option('--vtep-mac <mac>', 'flannel.1\'s MAC when none is kept yet (default: random; then kept in the data dir)')
    .option('--lease-ttl <seconds>', 'lease TTL; 0 makes a reservation', positiveInt('--lease-ttl', 10_000_000, 'seconds'), FLANNEL_LEASE_TTL_S)
    .option('--network <cidr>', 'store this cluster network config if the store has none (like 10.42.0.0/16)')
    .option('--netns <name>', 'manage this network namespace instead of the current one (a name under /run/netns or a path)')
    .option('--no-ip-masq', 'do not install the masquerade rules (FLANNEL_IPMASQ=false)')
    .option('--once', 'set up and reconcile once, then exit')
    .addHelpText('after', '\nExamples:\n  podnet agent --node server --store etcd://198.51.100.254:2379 --network 10.42.0.0/16\n  podnet agent --node agent1 --store file:/var/lib/podnet/leases.json --once')
    .action(lazy(() => import('./actions/agent.js'), (m) => m.agentVerb, global));
}
