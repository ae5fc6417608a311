// The work of `podnet trace SRC DST` (loaded only when the verb runs): one probe, or with --watch /
// --count a live watch of the path that prints each journey as it happens.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { labDeps } from '../context.js';
import { resolveTarget, type Target } from '../../lab/target.js';
import { runTrace } from '../../trace/trace.js';
import { OwnAddress } from '../../trace/path.js';
import { watchTrace, type Journey } from '../../trace/watch.js';
import { UserError } from '../../model/errors.js';
import type { TraceProtocol } from '../../model/trace.js';
import type { Host } from '../../host/host.js';
import { renderJourney, renderSequence, renderTimeline, traceJson, watchHeader, wrapText } from '../../render/trace.js';
import { renderData } from '../../render/output.js';
import { labChoice, out, outputFormat, requireRoot, say, terminalWidth, type GlobalOptions } from '../flags.js';
import { interruptible } from '../interrupt.js';

/** The flags of `podnet trace`. */
export interface TraceOptions {
  cold?: boolean;
  /** A port, or true when the flag was given without one (the destination names it). */
  tcp?: number | true;
  udp?: number | true;
  /** The ICMP echo's payload (--size). */
  size?: number;
  /** False with --no-evidence. */
  evidence?: boolean;
  pcap?: string;
  watch?: boolean;
  count?: number;
  output: string;
  host?: boolean;
  netns?: string;
  name: string;
}

type Format = 'text' | 'json' | 'mermaid';

/** `podnet trace SRC DST`: exit 0 when answered, 1 when not; with --watch/--count, see watchVerb. A
 * trace from a pod to its own address prints why there is nothing to capture, and exits 0. */
export async function traceVerb(g: GlobalOptions, src: string, dst: string, o: TraceOptions, cmd: Command): Promise<void> {
  const format = outputFormat(o.output, ['text', 'json', 'mermaid'] as const);
  if (o.tcp !== undefined && o.udp !== undefined) throw new UserError('conflict', 'give one of --tcp or --udp');
  const live = o.watch || o.count !== undefined;
  if (o.size !== undefined && (o.tcp !== undefined || o.udp !== undefined)) throw new UserError('conflict', '--size sets the ICMP echo\'s payload: leave out --tcp/--udp, or leave out --size');
  if (live && o.pcap) throw new UserError('conflict', '--pcap writes the file of one trace: leave it out with --watch or --count');
  requireRoot('trace', 'captures packets inside network namespaces');
  const { deps } = labDeps(g, 8);
  const target = await resolveTarget(deps.stateRoot, { ...labChoice(cmd, o.name), host: o.host, netns: o.netns });
  const protocol = o.tcp !== undefined ? 'tcp' : o.udp !== undefined ? 'udp' : undefined;
  const given = o.tcp ?? o.udp;
  const port = typeof given === 'number' ? given : undefined;
  try {
    if (live) await watchVerb(deps.host, { target, stateRoot: deps.stateRoot, src, dst, protocol, port, o, format, verbose: !!g.verbose });
    else await oneTrace(deps.host, { target, stateRoot: deps.stateRoot, src, dst, ...(protocol ? { protocol } : {}), port, o, format });
  } catch (e) {
    if (!(e instanceof OwnAddress)) throw e;
    out(`${e.message}\n`);
  }
}

interface Run {
  target: Target;
  stateRoot: string;
  src: string;
  dst: string;
  port?: number;
  o: TraceOptions;
  format: Format;
}

/** One probe, captured on every point, printed once. Ctrl-C / SIGTERM stop it at its next step; what
 * it added (captures, rule tracers, tracing rules, the drop watch) is removed either way. */
async function oneTrace(h: Host, r: Run & { protocol?: TraceProtocol }): Promise<void> {
  const { o, format } = r;
  const outcome = await interruptible('the trace', 'podnet clean', (signal) => runTrace(h, {
    src: r.src, dst: r.dst, ...(r.protocol ? { protocol: r.protocol } : {}), ...(r.port ? { port: r.port } : {}), cold: !!o.cold,
    ...(o.size !== undefined ? { size: o.size } : {}), ...(o.evidence === false ? { noEvidence: true } : {}), target: r.target, stateRoot: r.stateRoot, signal,
  }));
  if (!outcome) return;
  const { result, pcapng, warnings } = outcome;
  for (const w of warnings) say(`warning: ${w}`);
  if (o.pcap) {
    await writeFile(o.pcap, pcapng);
    const ids = [...new Set(result.path.points.map((p) => p.id))];
    say(`wrote ${o.pcap}: ${ids.length} capture points (${ids.join(', ')})`);
  }
  if (format === 'json') out(renderData(traceJson(result), 'json'));
  else out(format === 'mermaid' ? renderSequence(result) : renderTimeline(result, { width: terminalWidth() }));
  if (!result.answered) process.exitCode = 1;
}

/** --watch / --count: the header once every point captures (with -v, the tcpdump of each point as a
 * user would type it in a terminal of their own), then each journey as it completes: text, one JSON
 * document per line, or one Mermaid diagram each. Exit 0 after N journeys; on SIGINT/SIGTERM every
 * tcpdump is stopped, one line says so, and podnet exits 130/143. */
async function watchVerb(h: Host, r: Run & { protocol?: TraceProtocol; verbose: boolean }): Promise<void> {
  const { o, format } = r;
  const controller = new AbortController();
  let caught: NodeJS.Signals | undefined;
  // Later signals are ignored: stopping the captures is bounded (tcpdumpStop), and must finish.
  const onSignal = (sig: NodeJS.Signals) => {
    if (caught) return;
    caught = sig;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const width = terminalWidth();
  const show = (j: Journey) => {
    if (format === 'json') out(`${JSON.stringify({ journey: j.index, exchange: j.kind, ...traceJson(j.result) })}\n`);
    else out(`${j.index > 1 ? '\n' : ''}${format === 'mermaid' ? renderSequence(j.result) : renderJourney(j.index, j.result, { width })}`);
  };
  try {
    const end = await watchTrace(h, {
      target: r.target, stateRoot: r.stateRoot, src: r.src, dst: r.dst, ...(r.protocol ? { protocol: r.protocol } : {}), ...(r.port ? { port: r.port } : {}),
      cold: !!o.cold, ...(o.count !== undefined ? { count: o.count } : {}), signal: controller.signal,
    }, {
      started: (path, commands) => {
        const header = watchHeader({ path, ...(r.protocol ? { protocol: r.protocol } : {}), ...(r.port ? { port: r.port } : {}), ...(o.count !== undefined ? { count: o.count } : {}) });
        const lines = width === undefined ? [header] : wrapText(header, width, '  ');
        if (format === 'text') out(`${lines.join('\n')}\n\n`);
        else say(lines.join('\n'));
        if (r.verbose) {
          say('the same by hand, one terminal per point:');
          for (const c of commands) say(c);
        }
      },
      journey: show,
      warning: (line) => say(`warning: ${line}`),
    });
    if (caught) {
      say(`${caught}: stopped watching after ${end.journeys} journey${end.journeys === 1 ? '' : 's'}; every tcpdump it started is stopped`);
      process.exitCode = caught === 'SIGTERM' ? 143 : 130;
    } else if (end.reason === 'capture-ended') {
      throw new UserError('state', `a capture ended by itself after ${end.journeys} journeys (was the lab taken down?)`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
