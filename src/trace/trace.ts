// `podnet trace`: one packet's journey, hop by hop. Plan (resolve the ends, scan the nodes, find the
// paths: one, or one per endpoint behind a Service), (cold: forget what the path learned), start the
// captures on every point and the evidence (drop reasons, rule tracing on every node), send the probe
// from inside the source, stop, decode, keep the path the packet took, follow the packets across
// points (and across NAT), explain each hop from the kernel's state and the evidence, and say in one
// sentence why a failed probe failed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../host/host.js';
import { TraceJournal } from '../host/trace-journal.js';
import type { Target } from '../lab/target.js';
import { Interrupted } from '../lab/deps.js';
import type { CaptureInterface, CapturedFrame } from '../model/packet.js';
import type { TraceAsk, TraceEvent, TracePath, TraceResult } from '../model/trace.js';
import { readCapture } from './capture-file.js';
import { decodeFrame } from './decode.js';
import { writePcapng } from './pcapng.js';
import { answered, correlate, explainL2, verdict } from './correlate.js';
import { readCaptures, startCaptures, stopCaptures, TRACE_OWNER, type Capture } from './capture.js';
import { forget, learnedFdb, sourceDecision } from './explain.js';
import { sendProbe, type ProbeRun } from './probe.js';
import { explainOverlay } from './overlay.js';
import { choosePath } from './nat-path.js';
import { explainNat } from './nat-explain.js';
import { EvidenceSession } from './evidence.js';
import { traceFlows } from './rule-trace.js';
import { planTrace, type TracePlan } from './plan.js';
import { concludeEvidence } from './conclude.js';
import { innermost } from './identify.js';

/** What to trace, and where: a lab (its node, or the nodes a trace crosses), --host, --netns (as for inspect). */
export interface TraceRequest extends TraceAsk {
  target: Target;
  stateRoot: string;
  /** How long to wait for the exchange after the probe command ends, ms. */
  settleMs?: number;
  /** Aborted (Ctrl-C): the trace stops at its next step and removes what it added. */
  signal?: AbortSignal;
}

/** The trace, and a pcapng with one interface per capture point (`owner/iface`). */
export interface TraceOutcome {
  result: TraceResult;
  pcapng: Uint8Array;
  /** Lines a capture could not read fully (a truncated file, say). */
  warnings: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** The captures' frames decoded, with one pcapng interface per capture point. */
async function decodeAll(caps: readonly Capture[], warnings: string[]): Promise<{ interfaces: CaptureInterface[]; frames: CapturedFrame[]; events: TraceEvent[] }> {
  const interfaces: CaptureInterface[] = [];
  const frames: CapturedFrame[] = [];
  const events: TraceEvent[] = [];
  for (const [i, { point, bytes }] of (await readCaptures(caps)).entries()) {
    const file = readCapture(bytes);
    if (file.error) warnings.push(`${point.id}: ${file.error}`);
    interfaces.push({ linkType: file.interfaces[0]?.linkType ?? 1, name: point.id, description: `${point.role} ${point.iface} in ${point.netns}`, snapLen: 262144, tsResolution: 1e9 });
    file.frames.forEach((f, index) => {
      frames.push({ ...f, ifIndex: i });
      events.push({ point: point.id, tsNs: f.tsNs, frame: decodeFrame(f), index });
    });
  }
  frames.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : a.ifIndex - b.ifIndex));
  return { interfaces, frames, events };
}

/** The path the probe took: behind a Service, the candidate whose endpoint a captured packet went to. */
function takenPath(plan: TracePlan, events: readonly TraceEvent[]): TracePath {
  const dsts = new Set(events.map((e) => innermost(e.frame).ipv4?.dst).filter((d): d is string => d !== undefined));
  return choosePath(plan.candidates, dsts);
}

/** Everything started before the probe: captures on every point, the evidence, what the source knew. */
async function startAll(h: Host, plan: TracePlan, req: TraceRequest, dir: string, journal: TraceJournal | undefined) {
  const first = plan.candidates[0].path;
  const all = { ...first, points: plan.points };
  if (req.cold) await forget(h, all);
  const evidence = req.noEvidence ? undefined : EvidenceSession.start(h, {
    nodes: plan.nodes, mode: plan.mode, flows: traceFlows(plan.traceHosts, plan.protocol), tag: `p${process.pid}-${randomBytes(2).toString('hex')}`, dir, ...(journal ? { journal } : {}),
  });
  const [fdbBefore, decision, ev, caps] = await Promise.all([
    learnedFdb(h, all), sourceDecision(h, { ...first, dst: { owner: first.dst.owner, ip: plan.probeIp } }), evidence,
    startCaptures(h, plan.points, dir, plan.filter).then(async (c) => {
      await journal?.add(...c.map((x) => ({ kind: 'process' as const, pid: x.pid, owner: TRACE_OWNER })));
      return c;
    }),
  ]).catch(async (e: unknown) => {
    await (await evidence?.catch(() => undefined))?.abort();
    throw e;
  });
  return { fdbBefore, decision, ev, caps };
}

/** Runs a trace. Everything it starts (captures, rule tracers, tracing rules, a drop watch, listeners)
 * is stopped and removed before it returns, also on failure; a killed trace leaves its journal for `podnet clean`. */
export async function runTrace(h: Host, req: TraceRequest): Promise<TraceOutcome> {
  const t0 = Date.now();
  const tick = (what: string) => { if (process.env.PODNET_TRACE_TIMING) process.stderr.write(`${what} +${Date.now() - t0} ms (${Math.round(process.uptime() * 1000)} ms since start)\n`); };
  const plan = await planTrace(h, req);
  tick('plan');
  const journal = await TraceJournal.open(req.stateRoot).catch(() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'podnet-trace-'));
  await journal?.add({ kind: 'dir', path: dir });
  const startedAt = new Date().toISOString();
  const warnings: string[] = [];
  let stopped = false;
  let started: Awaited<ReturnType<typeof startAll>> | undefined;
  try {
    started = await startAll(h, plan, req, dir, journal);
    tick('started');
    const { caps, ev } = started;
    if (req.signal?.aborted) throw new Interrupted();
    const from = nowNs();
    let probe: ProbeRun;
    try {
      probe = await sendProbe(h, plan.srcNetns, plan.probeIp, plan.protocol, plan.port, plan.listeners, journal, req.size);
      tick('probe sent');
      await sleep(req.settleMs ?? 50);
    } finally {
      await stopCaptures(h, caps);
      stopped = true;
    }
    const to = nowNs();
    tick('probed');
    if (req.signal?.aborted) throw new Interrupted();
    const [decoded, collected] = await Promise.all([decodeAll(caps, warnings), ev?.collect()]);
    const path = takenPath(plan, decoded.events);
    let packets = correlate(path, decoded.events);
    const firstReq = packets.findIndex((p) => p.direction === 'request');
    if (firstReq >= 0 && packets[firstReq].hops[0]) {
      packets = packets.map((p, i) => (i !== firstReq ? p : { ...p, hops: p.hops.map((x, j) => (j === 0 ? { ...x, explanation: started!.decision } : x)) }));
    }
    packets = explainNat(path, explainL2(path, explainOverlay(path, packets), started.fdbBefore), collected?.rules ?? []);
    const result: TraceResult = {
      path, protocol: plan.protocol, ...(plan.port ? { port: plan.port } : {}), cold: !!req.cold, startedAt, packets,
      answered: answered(packets, plan.protocol, path), verdict: verdict(path, packets, plan.protocol),
      fdbBefore: started.fdbBefore, fdbAfter: await learnedFdb(h, { ...path, points: plan.points }),
    };
    tick('collected');
    const concluded = collected ? await concludeEvidence(h, plan, result, collected, decoded.events, { fromNs: from, toNs: to, pids: new Set(probe.pid ? [probe.pid] : []) }) : result;
    tick('concluded');
    return { result: concluded, pcapng: writePcapng(decoded.interfaces, decoded.frames), warnings };
  } finally {
    if (started && !stopped) await stopCaptures(h, started.caps).catch(() => undefined);
    await started?.ev?.abort();
    await rm(dir, { recursive: true, force: true });
    await journal?.close();
  }
}
