// `podnet trace`: one packet's journey, hop by hop. Scan the node (both nodes when the packet
// crosses the overlay), find the path, (cold: forget what the path learned), capture on every point
// at once, send the probe from inside the source pod, stop, decode, follow the packets across
// points, and explain each hop from the kernel's state.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../host/host.js';
import type { Target } from '../lab/target.js';
import type { CaptureInterface, CapturedFrame } from '../model/packet.js';
import { readCapture } from './capture-file.js';
import { decodeFrame } from './decode.js';
import { writePcapng } from './pcapng.js';
import { answered, correlate, explainL2, verdict } from './correlate.js';
import { captureFilter, filterByRole, readCaptures, startCaptures, stopCaptures, vxlanFilter } from './capture.js';
import { forget, learnedFdb, sourceDecision } from './explain.js';
import { sendProbe } from './probe.js';
import { tracePath } from './path.js';
import { explainOverlay } from './overlay.js';
import { traceSnapshots } from './scope.js';
import type { CapturePoint, TraceAsk, TraceEvent, TracePath, TraceResult } from '../model/trace.js';

/** What to trace, and where: a lab (its node, or both nodes of a cross-node trace), --host,
 * --netns (as for inspect). */
export interface TraceRequest extends TraceAsk {
  target: Target;
  stateRoot: string;
  /** How long to wait for the exchange after the probe command ends, ms. */
  settleMs?: number;
}

/** The trace, and a pcapng with one interface per capture point (`owner/iface`). */
export interface TraceOutcome {
  result: TraceResult;
  pcapng: Uint8Array;
  /** Lines a capture could not read fully (a truncated file, say). */
  warnings: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each point's capture filter: the flow (and ARP), or on uplinks and the underlay the flow inside VXLAN. */
function filters(path: TracePath, req: TraceRequest): (p: CapturePoint) => string {
  const flow = captureFilter(req.protocol, path.src.ip, path.dst.ip, req.port);
  return filterByRole(flow, vxlanFilter(req.protocol, path.src.ip, path.dst.ip, path.overlay?.request?.from.port ?? 8472));
}

/** Runs a trace. Everything it starts (tcpdump, a listener) is stopped before it returns, also on failure. */
export async function runTrace(h: Host, req: TraceRequest): Promise<TraceOutcome> {
  const path = tracePath(await traceSnapshots(h, req.target, req.stateRoot, req.src, req.dst), req.src, req.dst);
  const dstPoint = path.points.find((p) => p.position === path.points.length - 1 && p.role === 'pod-eth0');
  if (req.cold) await forget(h, path);
  const [fdbBefore, decision] = await Promise.all([learnedFdb(h, path), sourceDecision(h, path)]);
  const dir = await mkdtemp(join(tmpdir(), 'podnet-trace-'));
  const startedAt = new Date().toISOString();
  const warnings: string[] = [];
  try {
    const caps = await startCaptures(h, path.points, dir, filters(path, req));
    try {
      await sendProbe(h, path, req.protocol, req.port, dstPoint?.netns);
      await sleep(req.settleMs ?? 50);
    } finally {
      await stopCaptures(h, caps);
    }
    const interfaces: CaptureInterface[] = [];
    const frames: CapturedFrame[] = [];
    const events: TraceEvent[] = [];
    for (const [i, { point, bytes }] of (await readCaptures(caps)).entries()) {
      const file = readCapture(bytes);
      if (file.error) warnings.push(`${point.id}: ${file.error}`);
      const linkType = file.interfaces[0]?.linkType ?? 1;
      interfaces.push({ linkType, name: point.id, description: `${point.role} ${point.iface} in ${point.netns}`, snapLen: 262144, tsResolution: 1e9 });
      file.frames.forEach((f, index) => {
        frames.push({ ...f, ifIndex: i });
        events.push({ point: point.id, tsNs: f.tsNs, frame: decodeFrame(f), index });
      });
    }
    frames.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : a.ifIndex - b.ifIndex));
    let packets = correlate(path, events);
    // The kernel's decision at the source comes first on the first request hop.
    const first = packets.findIndex((p) => p.direction === 'request');
    if (first >= 0 && packets[first].hops[0]) {
      packets = packets.map((p, i) => (i !== first ? p : { ...p, hops: p.hops.map((h, j) => (j === 0 ? { ...h, explanation: decision } : h)) }));
    }
    packets = explainL2(path, explainOverlay(path, packets), fdbBefore);
    const result: TraceResult = {
      path, protocol: req.protocol, ...(req.port ? { port: req.port } : {}), cold: !!req.cold, startedAt, packets,
      answered: answered(packets, req.protocol), verdict: verdict(path, packets, req.protocol),
      fdbBefore, fdbAfter: await learnedFdb(h, path),
    };
    return { result, pcapng: writePcapng(interfaces, frames), warnings };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
