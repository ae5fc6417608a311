// `podnet trace SRC DST`: capture on every hop at once and show the packet's journey with timestamps
// and the kernel's decision at each hop — across nodes too, through flannel.1 and VXLAN.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { requireRoot } from '../lab/lab.js';
import { LabError } from '../lab/errors.js';
import { runTrace } from '../trace/trace.js';
import { renderSequence, renderTimeline, traceJson } from '../render/trace.js';
import { renderData } from '../render/output.js';
import { DEFAULT_LAB, labDeps, labName, out, outputFormat, say, type GlobalOptions } from './context.js';

interface TraceOptions {
  cold?: boolean;
  tcp?: string;
  udp?: string;
  pcap?: string;
  output: string;
  host?: boolean;
  netns?: string;
  name: string;
}

const portOf = (flag: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new LabError(`${flag}: "${v}" is not a port (1-65535)`);
  return n;
};

/** Registers `trace`. */
export function traceCommand(program: Command, global: () => GlobalOptions): void {
  program.command('trace')
    .description('follow one packet from a pod to a pod (or an IP): every hop, in order, with its time and the kernel\'s reason')
    .argument('<src>', 'the source pod')
    .argument('<dst>', 'the destination: a pod or an IPv4 address')
    .option('--cold', 'flush neighbours and the learned FDB first: see ARP, flooding and learning')
    .option('--tcp <port>', 'a TCP handshake to this port (podnet runs a listener in the destination pod if none)')
    .option('--udp <port>', 'one UDP datagram to this port')
    .option('--pcap <file>', 'also write a pcapng with one interface per capture point (node/iface)')
    .option('-o, --output <format>', 'text | json | mermaid', 'text')
    .option('--host', 'the pods hang off the namespace podnet runs in (not a lab)')
    .option('--netns <name|path>', 'the pods hang off this namespace')
    .option('--name <lab>', 'the lab', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet trace pod1 pod2                  ICMP echo, warm caches\n  podnet trace pod1 pod2 --cold           ARP, flooding, learning\n  podnet trace pod1 pod2 --tcp 8080       a TCP handshake\n  podnet trace pod1 pod3 --name multi     pods on two nodes: through flannel.1, VXLAN and the underlay\n  podnet trace pod1 10.42.0.10 --udp 53 -o json\n  podnet trace pod1 pod2 --pcap out.pcapng   then: wireshark out.pcapng')
    .action(async (src: string, dst: string, o: TraceOptions) => {
      const format = outputFormat(o.output, ['text', 'json', 'mermaid'] as const);
      if (o.tcp && o.udp) throw new LabError('give one of --tcp or --udp');
      requireRoot('trace');
      const { deps } = labDeps(global(), 8);
      const protocol = o.tcp ? 'tcp' : o.udp ? 'udp' : 'icmp';
      const port = o.tcp ? portOf('--tcp', o.tcp) : o.udp ? portOf('--udp', o.udp) : undefined;
      const target = { lab: o.name, ...(o.host ? { host: true } : {}), ...(o.netns ? { netns: o.netns } : {}) };
      const { result, pcapng, warnings } = await runTrace(deps.host.runner, {
        src, dst, protocol, ...(port ? { port } : {}), cold: !!o.cold, target, stateRoot: deps.stateRoot,
      });
      for (const w of warnings) say(`warning: ${w}`);
      if (o.pcap) {
        await writeFile(o.pcap, pcapng);
        say(`wrote ${o.pcap}: ${result.path.points.length} capture points (${result.path.points.map((p) => p.id).join(', ')})`);
      }
      if (format === 'json') out(renderData(traceJson(result), 'json'));
      else out(format === 'mermaid' ? renderSequence(result) : renderTimeline(result));
      if (!result.answered) process.exitCode = 1;
    });
}
