// The work of `podnet trace SRC DST` (loaded only when the verb runs).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { labDeps } from '../context.js';
import { resolveTarget } from '../../lab/target.js';
import { runTrace } from '../../trace/trace.js';
import { UserError } from '../../model/errors.js';
import { renderSequence, renderTimeline, traceJson } from '../../render/trace.js';
import { renderData } from '../../render/output.js';
import { labChoice, out, outputFormat, requireRoot, say, type GlobalOptions } from '../flags.js';

/** The flags of `podnet trace`. */
export interface TraceOptions {
  cold?: boolean;
  tcp?: number;
  udp?: number;
  pcap?: string;
  output: string;
  host?: boolean;
  netns?: string;
  name: string;
}

/** `podnet trace SRC DST`: exit 0 when answered, 1 when not. */
export async function traceVerb(g: GlobalOptions, src: string, dst: string, o: TraceOptions, cmd: Command): Promise<void> {
  const format = outputFormat(o.output, ['text', 'json', 'mermaid'] as const);
  if (o.tcp && o.udp) throw new UserError('conflict', 'give one of --tcp or --udp');
  requireRoot('trace', 'captures packets inside network namespaces');
  const { deps } = labDeps(g, 8);
  const target = await resolveTarget(deps.stateRoot, { ...labChoice(cmd, o.name), host: o.host, netns: o.netns });
  const protocol = o.tcp ? 'tcp' : o.udp ? 'udp' : 'icmp';
  const port = o.tcp ?? o.udp;
  const { result, pcapng, warnings } = await runTrace(deps.host, { src, dst, protocol, ...(port ? { port } : {}), cold: !!o.cold, target, stateRoot: deps.stateRoot });
  for (const w of warnings) say(`warning: ${w}`);
  if (o.pcap) {
    await writeFile(o.pcap, pcapng);
    say(`wrote ${o.pcap}: ${result.path.points.length} capture points (${result.path.points.map((p) => p.id).join(', ')})`);
  }
  if (format === 'json') out(renderData(traceJson(result), 'json'));
  else out(format === 'mermaid' ? renderSequence(result) : renderTimeline(result));
  if (!result.answered) process.exitCode = 1;
}
