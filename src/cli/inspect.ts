// `podnet inspect` (pods, fdb, neigh, routes, links, overlay) and `podnet graph`: one scan of a lab
// node, this host or another namespace, joined and drawn; `inspect overlay` without a node scans every
// node of the lab. Works with no lab at all.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, type GlobalOptions } from './flags.js';
import { inspectPoliciesCommand } from './netpol.js';

const actions = () => import('./actions/inspect.js');

/** Adds the flags that choose what to inspect. */
function targetOptions(cmd: Command): Command {
  return cmd
    .option('--host', 'inspect the namespace podnet runs in (run under `ip netns exec NODE` or `nsenter --net=…` to inspect that node)')
    .option('--netns <name|path>', 'inspect another namespace as the host: a name under /run/netns or a path such as /proc/PID/ns/net')
    .option('--name <lab>', 'the lab whose node to inspect (an error when it is not up)', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'table | wide | json | yaml', 'table');
}

/** Registers `inspect` and `graph`. */
export function inspectCommand(program: Command, global: () => GlobalOptions): void {
  const inspect = targetOptions(program.command('inspect')
    .description('map a host\'s pod network: each pod\'s netns, eth0@ifN, host veth, bridge, MAC, hairpin, state')
    .argument('[node]', 'a node of the lab (default: the lab\'s first node if it is up, else this host)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nThe options above also go with fdb, neigh, routes, links and overlay (podnet inspect fdb --host -o json).\n\nExamples:\n  podnet inspect                 the demo lab\'s node\n  podnet inspect --host -o wide   this machine (a K3s node, say)\n  podnet inspect fdb              what cni0 learned, joined to pods\n  ip netns exec NODE podnet inspect --host'))
    .action(lazy(actions, (m) => m.inspectPodsVerb, global));

  inspect.command('fdb')
    .description('the bridges\' forwarding database: each MAC, its port, the pod that owns it, learned/permanent/self')
    .argument('[node]', 'a node of the lab')
    .option('--bridge <name>', 'only this bridge\'s entries (like bridge fdb show br NAME)')
    .option('--no-multicast', 'leave out group MACs (the ports\' multicast filter entries)')
    .addHelpText('after', '\nExamples:\n  podnet inspect fdb -o wide\n  podnet inspect fdb --bridge cni0 --no-multicast')
    .action(lazy(actions, (m) => m.inspectFdbVerb, global));

  inspect.command('neigh')
    .description('the neighbour (ARP) tables of every namespace, each MAC joined to its owner')
    .argument('[node]', 'a node of the lab')
    .addHelpText('after', '\nExample:\n  podnet inspect neigh')
    .action(lazy(actions, (m) => m.inspectNeighVerb, global));

  inspect.command('routes')
    .description('routes of one pod or node (or of every namespace)')
    .argument('[pod|node]', 'a pod or node name, a pinned netns name, or ino:INODE')
    .addHelpText('after', '\nExamples:\n  podnet inspect routes pod1\n  podnet inspect routes --host')
    .action(lazy(actions, (m) => m.inspectRoutesVerb, global));

  inspect.command('links')
    .description('every link of every namespace: kind, master, MAC, MTU, state, addresses, and the veth peer')
    .argument('[node]', 'a node of the lab')
    .addHelpText('after', '\nExample:\n  podnet inspect links -o json')
    .action(lazy(actions, (m) => m.inspectLinksVerb, global));

  inspect.command('overlay')
    .description('the VXLAN overlay: flannel.1 (VNI, local IP, port, learning, MTU) and, per remote node, its route, neighbour and FDB entry, joined to the node')
    .argument('[node]', 'a node of the lab (default: every node of the lab)')
    .addHelpText('after', '\nExamples:\n  podnet inspect overlay            every node of the demo lab\n  podnet inspect overlay agent1 -o wide\n  podnet inspect overlay --host     this machine (a K3s node: remote nodes by IP)')
    .action(lazy(actions, (m) => m.inspectOverlayVerb, global));

  inspect.command('services').alias('svc')
    .description('kube-proxy\'s rules per Service port: its chain (KUBE-SVC-…/service-…), each endpoint\'s chain (KUBE-SEP-…/endpoint-…), its probability or numgen slot, packet counters, masquerade marks, the pod')
    .argument('[node]', 'a node of the lab (default: every node of the lab)')
    .addHelpText('after', '\nExamples:\n  podnet inspect services                  every node of the demo lab\n  podnet inspect services agent1 -o wide   with the NodePort and endpoint chains, bytes, masquerade marks\n  ip netns exec NODE podnet inspect services --host   a real K3s node: names from kube-proxy\'s comments')
    .action(lazy(actions, (m) => m.inspectServicesVerb, global));

  inspectPoliciesCommand(inspect, global);

  program.command('graph')
    .description('draw the topology: host interface, cni0, the veths, each pod namespace with eth0 and IP')
    .argument('[node]', 'a node of the lab')
    .option('--host', 'draw the namespace podnet runs in')
    .option('--netns <name|path>', 'draw another namespace as the host')
    .option('--name <lab>', 'the lab whose node to draw (an error when it is not up)', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'mermaid | dot | svg | json', 'mermaid')
    .addHelpText('after', '\nExamples:\n  podnet graph                       Mermaid, shaped like the blog\'s diagram\n  podnet graph -o svg > node.svg     drawn without a browser\n  podnet graph -o dot | dot -Tpng > node.png')
    .action(lazy(actions, (m) => m.graphVerb, global));
}
