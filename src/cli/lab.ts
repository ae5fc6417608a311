// `podnet lab up|down|status|list|break|heal`: bring a lab up from a topology, take it down, show it,
// break it on purpose and heal it.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, positiveInt, type GlobalOptions } from './flags.js';

const actions = () => import('./actions/lab.js');
const faults = () => import('./actions/faults.js');
const down = () => import('./actions/lab-down.js');

/** `lab up` and `lab down` take the lab's lock first: its helper starts while their module loads
 * (not for a dry run, which takes no lock, nor without root, which is refused). Its small module is
 * loaded and the helper launched before the verb's module: a launch queued behind that load (one
 * synchronous stretch of the thread) waited for it, and the two Perl start-ups came after. */
const warmLock = async (o: { dryRun?: boolean }) => {
  if (!o.dryRun && process.getuid?.() === 0) await import('../host/lock-helper.js').then((m) => m.warmLockHelper(), () => undefined);
};

/** Registers the `lab` verbs. */
export function labCommand(program: Command, global: () => GlobalOptions): void {
  const lab = program.command('lab').description('bring labs up and down');

  lab.command('up')
    .description('bring a lab up: nodes, pods and the underlay as network namespaces, wired by podnet\'s CNI plugins')
    .option('-f, --file <file>', 'topology file (YAML); default: the blog\'s node "server" with pod1 and pod2')
    .option('--name <name>', 'lab name (default: the file\'s name:, else "demo")', labName)
    .option('--pods <n>', 'pods pod1…podN instead of the file\'s (spread over the nodes)', positiveInt('--pods'))
    .option('--nodes <n>', 'nodes server, agent1…agentN-1 instead of the file\'s, joined by flannel\'s VXLAN', positiveInt('--nodes', 250, 'nodes', 1))
    .option('--store <store>', 'where node subnet leases live: file (default), etcd (the lab runs its own, with one agent process per node) or etcd://HOST:PORT', 'file')
    .option('--proxy-mode <mode>', 'kube-proxy\'s mode on every node: iptables (K3s\'s default) or nftables', 'iptables')
    .option('--lease-ttl <seconds>', 'lease TTL of the agents with etcd (flannel: 86400)', positiveInt('--lease-ttl', 10_000_000, 'seconds'))
    .option('--no-dns', 'no cluster DNS: leave out the kube-dns pod (unbound) in kube-system that K3s always runs as CoreDNS')
    .option('--dry-run', 'print the commands that would run, in order, and change nothing')
    .addHelpText('after', '\nExamples:\n  podnet lab up\n  podnet lab up --no-dns             a bare lab: no DNS pod, Services by ClusterIP only\n  podnet lab up --pods 10 --name big\n  podnet lab up --nodes 3 --pods 6\n  podnet lab up --nodes 3 --pods 6 --store etcd\n  podnet lab up -f lab.yaml --dry-run')
    .action(lazy(actions, (m) => m.labUpVerb, global, warmLock));

  lab.command('down')
    .description('take a lab down: its processes, namespaces, IPAM state and files')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExamples:\n  podnet lab down\n  podnet lab down --name big')
    .action(lazy(down, (m) => m.labDownVerb, global, warmLock));

  lab.command('status')
    .description('show a lab\'s nodes and pods as the kernel has them (exit 1 when it is not up)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'wide | json | yaml', 'wide')
    .addHelpText('after', '\nExample:\n  podnet lab status -o yaml')
    .action(lazy(actions, (m) => m.labStatusVerb, global));

  lab.command('break')
    .description('inject a real fault with the kernel\'s own tools (podnet doctor finds it; lab heal undoes it)')
    .argument('[fault]', 'the fault (see --list)')
    .option('--list', 'list the faults, one line each')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--node <node>', 'the node to break (default: the lab\'s first node)')
    .option('--pod <pod>', 'the pod (hairpin-off, duplicate-ip, mtu-mismatch --on pod)')
    .option('--on <where>', 'where an MTU mismatch goes: pod, cni0 or flannel.1 (default)')
    .option('--peer <node>', 'the other node whose entry is deleted (fdb-missing, neigh-missing, route-missing)')
    .addHelpText('after', '\nExamples:\n  podnet lab break --list\n  podnet lab break mtu-mismatch --node agent1\n  podnet lab break fdb-missing --node server --peer agent1\n  podnet lab break netpol-no-dns      (a cluster fault: no --node)\n  podnet doctor; podnet lab heal')
    .action(lazy(faults, (m) => m.labBreakVerb, global));

  lab.command('heal')
    .description('undo every fault `lab break` injected, the last first')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExample:\n  podnet lab heal && podnet doctor')
    .action(lazy(faults, (m) => m.labHealVerb, global));

  lab.command('list').alias('ls')
    .description('list the labs on this machine')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .addHelpText('after', '\nExample:\n  podnet lab list')
    .action(lazy(actions, (m) => m.labListVerb, global));
}
