// `podnet trace SRC DST`: capture on every hop at once and show the packet's journey with timestamps
// and the kernel's decision at each hop — across nodes too, through flannel.1 and VXLAN.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, portNumber, positiveInt, type GlobalOptions } from './flags.js';

/** Registers `trace`. */
export function traceCommand(program: Command, global: () => GlobalOptions): void {
  program.command('trace')
    .description('follow one packet from a pod to a pod (or an IP): every hop, in order, with its time and the kernel\'s reason')
    .argument('<src>', 'the source pod')
    .argument('<dst>', 'the destination: a pod or an IPv4 address')
    .option('--cold', 'flush neighbours and the learned FDB first: see ARP, flooding and learning')
    .option('--tcp <port>', 'a TCP handshake to this port (podnet runs a listener in the destination pod if none)', portNumber('--tcp'))
    .option('--udp <port>', 'one UDP datagram to this port', portNumber('--udp'))
    .option('--pcap <file>', 'also write a pcapng with one interface per capture point (node/iface)')
    .option('--watch', 'keep capturing and print each journey as it happens (ping or curl from another terminal); Ctrl-C stops')
    .option('--count <n>', 'like --watch, and stop after N journeys (an exchange: a request and its reply, a TCP connection, an ARP request and its reply)', positiveInt('--count', 1_000_000, 'journeys', 1))
    .option('-o, --output <format>', 'text | json | mermaid', 'text')
    .option('--host', 'the pods hang off the namespace podnet runs in (not a lab)')
    .option('--netns <name|path>', 'the pods hang off this namespace')
    .option('--name <lab>', 'the lab (an error when it is not up)', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet trace pod1 pod2                  ICMP echo, warm caches\n  podnet trace pod1 pod2 --cold           ARP, flooding, learning\n  podnet trace pod1 pod2 --tcp 8080       a TCP handshake\n  podnet trace pod1 pod3 --name multi     pods on two nodes: through flannel.1, VXLAN and the underlay\n  podnet trace pod1 10.42.0.10 --udp 53 -o json\n  podnet trace pod1 pod2 --pcap out.pcapng   then: wireshark out.pcapng\n  podnet trace pod1 pod2 --watch -v       live, while you run: podnet exec pod1 -- ping 10.42.0.3\n  podnet trace pod1 pod2 --count 3        the next three journeys, then exit')
    .action(lazy(() => import('./actions/trace.js'), (m) => m.traceVerb, global));
}
