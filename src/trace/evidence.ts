// The evidence a trace collects while its captures run: the kernel's drop reasons (skb:kfree_skb in a
// private tracefs instance), the netfilter rules the trace's packets meet on every node of the path
// (`-j TRACE` + `xtables-monitor --trace` in kube-proxy's iptables mode, an nft table setting nftrace
// + `nft monitor trace` otherwise), and afterwards the connection tracking entries of the flow. What
// it adds is written in the trace's journal first (src/host/trace-journal.ts), removed afterwards —
// also when the trace fails — and what cannot be collected is one note, never an error.
import { join } from 'node:path';
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { conntrackList } from '../host/conntrack.js';
import { iptablesRestore, xtablesTraceRuleRemove, XtablesTraceMonitor } from '../host/iptables.js';
import { nftApply, nftDeleteTable, nftTableExists, NftTraceMonitor } from '../host/nft.js';
import { DropWatch } from '../host/tracefs.js';
import { nftChainRuleTexts } from '../host/netfilter-read.js';
import type { TraceJournal } from '../host/trace-journal.js';
import type { ConntrackEntry } from '../model/conntrack.js';
import type { DropEvent } from '../model/drops.js';
import type { TraceFlow } from '../model/netfilter-flow.js';
import type { TraceParse } from '../model/netfilter-trace.js';
import type { RuleHit } from '../model/trace.js';
import { TRACE_OWNER } from './capture.js';
import { nftTraceTableText, ruleHits, xtablesTraceText } from './rule-trace.js';

/** A node whose netfilter a trace watches. */
export interface EvidenceNode {
  name: string;
  netns: string;
}

/** How to collect. */
export interface EvidenceOptions {
  nodes: EvidenceNode[];
  /** kube-proxy's mode on the nodes: which rule tracer reads them. */
  mode: 'iptables' | 'nftables';
  flows: TraceFlow[];
  /** The part of podnet's names this trace uses (`podnet-trace-<tag>`). */
  tag: string;
  /** The trace's temporary directory: the rule tracers write there (one file per node), so a killed
   * trace leaves one directory its journal names. */
  dir?: string;
  journal?: TraceJournal;
}

interface NodeTracer {
  node: EvidenceNode;
  undo: () => Promise<void>;
  monitor?: { pid: number; stop(): Promise<TraceParse> };
}

/** What was collected. */
export interface Collected {
  rules: RuleHit[];
  drops: DropEvent[];
  /** realtime − CLOCK_MONOTONIC of the drop trace, ns. */
  monoOffsetNs: bigint;
  notes: string[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Drop reasons, rule tracing on every node: started before the probe, collected after it. */
export class EvidenceSession {
  private done = false;

  private constructor(private readonly h: Host, private readonly drops: DropWatch | undefined, private readonly tracers: NodeTracer[], readonly notes: string[]) {}

  /** Starts everything; a part that cannot start is a note. */
  static async start(h: Host, o: EvidenceOptions): Promise<EvidenceSession> {
    const notes: string[] = [];
    const [drops, ...tracers] = await Promise.all([
      DropWatch.start({ runner: h.runner, exclude: ['NOT_SPECIFIED'], filter: 'protocol == 2048 || protocol == 2054' }).catch((e: unknown) => {
        notes.push(`drop reasons: ${message(e)}`);
        return undefined;
      }),
      ...o.nodes.map((n) => startTracer(h, n, o).catch((e: unknown) => {
        notes.push(`rule tracing on ${n.name}: ${message(e)}`);
        return undefined;
      })),
    ]);
    return new EvidenceSession(h, drops, tracers.filter((t): t is NodeTracer => t !== undefined), notes);
  }

  /** Stops the tracers and the drop watch, removes what was added, and resolves with what they saw. */
  async collect(): Promise<Collected> {
    this.done = true;
    const monoOffsetNs = this.drops?.monoOffsetNs ?? 0n;
    const [drops, ...perNode] = await Promise.all([
      this.drops ? this.drops.read().then((t) => t.events).catch(() => []) : Promise.resolve([] as DropEvent[]),
      ...this.tracers.map(async (t) => {
        const parse = t.monitor ? await t.monitor.stop().catch((e: unknown) => ({ events: [], warnings: [message(e)] })) : { events: [], warnings: [] };
        await t.undo().catch((e: unknown) => this.notes.push(`removing rule tracing on ${t.node.name}: ${message(e)}`));
        const warn = parse.warnings.filter((w) => /error|invalid/i.test(w));
        if (warn.length) this.notes.push(`rule tracing on ${t.node.name}: ${warn[0]}`);
        return completeNativeRules(this.h, t.node, ruleHits(t.node.name, parse));
      }),
    ]);
    await this.drops?.stop().catch(() => undefined);
    return { rules: perNode.flat(), drops, monoOffsetNs, notes: this.notes };
  }

  /** Removes everything without reading it (after a failure); nothing when collect() ran. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await Promise.all([
      this.drops?.stop().catch(() => undefined),
      ...this.tracers.map(async (t) => {
        await t.monitor?.stop().catch(() => undefined);
        await t.undo().catch(() => undefined);
      }),
    ]);
  }
}

/** The tables iptables-nft owns: xtables-monitor prints their rules in iptables syntax. */
const XTABLES = new Set(['raw', 'mangle', 'nat', 'filter', 'security']);

/** xtables-monitor prints a native nft table's rule (flannel's `masquerade random,fully-random`) only
 * as far as iptables has words for it: such hits get the rule as nft lists it, by handle. */
async function completeNativeRules(h: Host, n: EvidenceNode, hits: RuleHit[]): Promise<RuleHit[]> {
  const cut = hits.filter((x) => x.type === 'rule' && x.handle !== undefined && !XTABLES.has(x.table) && !/ -[jg] /.test(x.rule ?? '') && (x.rule ?? '').startsWith('-4 '));
  const chains = [...new Set(cut.map((x) => `${x.table} ${x.chain}`))];
  const texts = new Map<string, Map<number, string>>();
  await Promise.all(chains.map(async (c) => {
    const [table, chain] = c.split(' ');
    texts.set(c, await nftChainRuleTexts(h.runner, netnsAt(n.netns), 'ip', table, chain).catch(() => new Map<number, string>()));
  }));
  return hits.map((x) => {
    const text = cut.includes(x) ? texts.get(`${x.table} ${x.chain}`)?.get(x.handle!) : undefined;
    return text ? { ...x, rule: text } : x;
  });
}

/** Marks the flows on one node and starts its tracer (the marking is undone if the tracer fails). */
async function startTracer(h: Host, n: EvidenceNode, o: EvidenceOptions): Promise<NodeTracer> {
  const ns = netnsAt(n.netns);
  let undo: () => Promise<void>;
  if (o.mode === 'iptables') {
    const { comment, text } = xtablesTraceText(o.tag, o.flows);
    const createdRaw = !(await nftTableExists(h.runner, ns, 'ip', 'raw').catch(() => true));
    await o.journal?.add({ kind: 'xtables', netns: n.netns, comment });
    await iptablesRestore(h.runner, ns, text, { noflush: true });
    undo = async () => { await xtablesTraceRuleRemove(h.runner, ns, { family: 4, comment, createdRaw }); };
  } else {
    const { table, text } = nftTraceTableText(o.tag, o.flows);
    await o.journal?.add({ kind: 'nft-table', netns: n.netns, table });
    await nftApply(h.runner, ns, text);
    undo = () => nftDeleteTable(h.runner, ns, 'ip', table);
  }
  try {
    const mo = { owner: TRACE_OWNER, ...(o.dir ? { file: join(o.dir, `rules-${n.name}.txt`) } : {}) };
    const monitor = o.mode === 'iptables' ? await XtablesTraceMonitor.start(h.runner, ns, mo) : await NftTraceMonitor.start(h.runner, ns, mo);
    await o.journal?.add({ kind: 'process', pid: monitor.pid, owner: TRACE_OWNER });
    return { node: n, undo, monitor };
  } catch (e) {
    await undo().catch(() => undefined);
    throw e;
  }
}

/** The connection tracking entries of `proto` on each node (read after the probe). Equivalent to, per
 * node: `nsenter --net=NODE conntrack -L -o extended,id -p PROTO`. */
export async function conntrackOf(h: Host, nodes: readonly EvidenceNode[], proto: string): Promise<{ node: string; entries: ConntrackEntry[] }[]> {
  return Promise.all(nodes.map(async (n) => ({ node: n.name, entries: await conntrackList(h.runner, netnsAt(n.netns), { proto }).catch(() => []) })));
}
