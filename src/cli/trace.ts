// `podnet trace SRC DST`: capture on every hop at once and show the packet's journey with timestamps
// and the kernel's decision at each hop — across nodes too, through flannel.1 and VXLAN.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, portNumber, positiveInt, type GlobalOptions } from './flags.js';

/** Registers `trace`. */
export function traceCommand(program: Command, global: () => GlobalOptions): void {
  program.command('trace')
    .description('follow one packet from a pod (or the lab\'s outside host) to a pod, an IP, a Service or the outside host: every hop, in order, with its time, the kernel\'s reason, the NAT and why it died')
    .argument('<src>', 'the source pod, or outside (the lab\'s outside host)')
    .argument('<dst>', 'a pod, an IPv4 address, a Service (web, web.default, web.default.svc.cluster.local), CLUSTERIP:PORT, a NodePort (NODEIP:PORT, NODE:PORT) or outside')
    .option('--cold', 'flush neighbours and the learned FDB first: see ARP, flooding and learning')
    .option('--tcp [port]', 'a TCP handshake (to this port; a Service or HOST:PORT names its own) — podnet runs a listener where it is delivered if none', portNumber('--tcp'))
    .option('--udp [port]', 'one UDP datagram (to this port)', portNumber('--udp'))
    .option('--size <bytes>', 'the ICMP echo\'s payload in bytes, sent with DF set (ping -s N -M do): find an MTU that is too small', positiveInt('--size', 65_000, 'bytes', 0))
    .option('--no-evidence', 'collect no evidence beside the captures (drop reasons, rule tracing, conntrack): faster')
    .option('--pcap <file>', 'also write a pcapng with one interface per capture point (node/iface)')
    .option('--watch', 'keep capturing and print each journey as it happens (ping or curl from another terminal); Ctrl-C stops')
    .option('--count <n>', 'like --watch, and stop after N journeys (an exchange: a request and its reply, a TCP connection, an ARP request and its reply)', positiveInt('--count', 1_000_000, 'journeys', 1))
    .option('-o, --output <format>', 'text | json | mermaid', 'text')
    .option('--host', 'the pods hang off the namespace podnet runs in (not a lab)')
    .option('--netns <name|path>', 'the pods hang off this namespace')
    .option('--name <lab>', 'the lab (an error when it is not up)', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet trace pod1 pod2                  ICMP echo, warm caches\n  podnet trace pod1 pod2 --cold           ARP, flooding, learning\n  podnet trace pod1 pod2 --tcp 8080       a TCP handshake\n  podnet trace pod1 pod3 --name multi     pods on two nodes: through flannel.1, VXLAN and the underlay\n  podnet trace pod1 10.42.0.10 --udp 53 -o json\n  podnet trace pod1 web --tcp 80 --name svc   through a Service: the rule that chose the endpoint, the conntrack entry\n  podnet trace outside agent1:30080 --tcp     a NodePort from outside the cluster\n  podnet trace pod1 outside --tcp 80          out of the cluster: flannel\'s masquerade\n  podnet trace pod1 pod3 --size 1400      a big echo with DF set: where a too-small MTU drops it\n  podnet trace pod1 pod2 --pcap out.pcapng   then: wireshark out.pcapng\n  podnet trace pod1 pod2 --watch -v       live, while you run: podnet exec pod1 -- ping 10.42.0.3\n  podnet trace pod1 pod2 --count 3        the next three journeys, then exit')
    .action(lazy(() => import('./actions/trace.js'), (m) => m.traceVerb, global));
}
