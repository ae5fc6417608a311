// nftables inside one namespace through `nft`: rulesets applied as one atomic transaction (`nft -f -`)
// or only checked (`nft -c -f -`), tables and rulesets read as JSON (`nft -j`) into ../model types,
// forgiving table deletion, and rule tracing: a short-lived table of podnet's own that sets nftrace
// on one flow, with `nft monitor trace` running beside it, both removed afterwards.
import { randomBytes } from 'node:crypto';
import type { Runner, RunResult } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { HostError, classifyStderr } from './errors.js';
import { NetfilterMonitor, type MonitorOptions, type TraceRun } from './nfmonitor.js';
import type { NftFamily, NftRuleset, NftTable } from '../model/netfilter-nft.js';
import { parseNftJson } from '../model/netfilter-nft.js';
import type { TraceFlow } from '../model/netfilter-flow.js';
import { TRACE_PREFIX, nftTraceRuleset } from '../model/netfilter-flow.js';
import type { TraceParse } from '../model/netfilter-trace.js';
import { groupTraces, parseNftTrace } from '../model/netfilter-trace.js';

/** nft's complaint about a ruleset read from stdin: `/dev/stdin:3:10-16: Error: MESSAGE` → line 3, MESSAGE. */
export function nftErrorOf(stderr: string): { line?: number; message: string } {
  const m = /^(?:\/dev\/stdin|-):(\d+):[\d-]+: Error: (.*)$/m.exec(stderr);
  if (m) return { line: Number(m[1]), message: m[2].trim() };
  const first = stderr.split('\n').map((l) => l.trim()).find(Boolean) ?? 'failed';
  return { message: first.replace(/^Error: /, '') };
}

/** Throws a HostError for a failed `nft -f -` run, naming the line of the ruleset nft complained about. */
function nftFail(argv: readonly string[], r: RunResult, what: string): never {
  const { line, message } = nftErrorOf(r.stderr);
  const kind = /syntax error|unexpected/i.test(message) ? 'invalid' : classifyStderr(message);
  throw new HostError({ kind, argv, exitCode: r.exitCode, stderr: r.stderr, ...(line !== undefined ? { line } : {}),
    message: `${what}${line !== undefined ? `: line ${line}` : ''}: ${message}` });
}

/** Applies `ruleset` in one atomic transaction: all of it or nothing. Equivalent to: `nft -f - <<EOF` + ruleset. */
export async function nftApply(runner: Runner, ns: Netns, ruleset: string): Promise<void> {
  const argv = inNetns(ns, 'nft', ['-f', '-']);
  const r = await runner.run({ argv, input: ruleset, mutates: true });
  if (r.exitCode !== 0) nftFail(argv, r, 'nft -f -');
}

/** Applies the ruleset in `file` in one atomic transaction: all of it or nothing. Equivalent to: `nft -f FILE`. */
export async function nftApplyFile(runner: Runner, ns: Netns, file: string): Promise<void> {
  const argv = inNetns(ns, 'nft', ['-f', file]);
  const r = await runner.run({ argv, mutates: true });
  // nft names the file where it names stdin; read its complaint the same way.
  if (r.exitCode !== 0) nftFail(argv, { ...r, stderr: r.stderr.split(`${file}:`).join('-:') }, `nft -f ${file}`);
}

/** Checks `ruleset` against the namespace's current state without changing anything. Equivalent to: `nft -c -f - <<EOF` + ruleset. */
export async function nftCheck(runner: Runner, ns: Netns, ruleset: string): Promise<void> {
  const argv = inNetns(ns, 'nft', ['-c', '-f', '-']);
  const r = await runner.run({ argv, input: ruleset, mutates: false });
  if (r.exitCode !== 0) nftFail(argv, r, 'nft -c -f -');
}

/** One table with its chains, rules, sets and maps; a table that is not there is a 'not-found' HostError.
 * Equivalent to: `nft -j list table FAMILY TABLE`. */
export async function nftListTable(runner: Runner, ns: Netns, family: NftFamily, table: string): Promise<NftRuleset> {
  const r = await runOk(runner, { argv: inNetns(ns, 'nft', ['-j', 'list', 'table', family, table]), mutates: false });
  return parseNftJson(r.stdout);
}

/** Everything nftables holds in the namespace (iptables-nft's tables included). Equivalent to: `nft -j list ruleset`. */
export async function nftListRuleset(runner: Runner, ns: Netns): Promise<NftRuleset> {
  const r = await runOk(runner, { argv: inNetns(ns, 'nft', ['-j', 'list', 'ruleset']), mutates: false });
  return parseNftJson(r.stdout);
}

/** The tables of the namespace. Equivalent to: `nft -j list tables`. */
export async function nftListTables(runner: Runner, ns: Netns): Promise<NftTable[]> {
  const r = await runOk(runner, { argv: inNetns(ns, 'nft', ['-j', 'list', 'tables']), mutates: false });
  return parseNftJson(r.stdout).tables;
}

/** True when the namespace has table FAMILY TABLE. Equivalent to: `nft -j list tables`. */
export async function nftTableExists(runner: Runner, ns: Netns, family: NftFamily, table: string): Promise<boolean> {
  return (await nftListTables(runner, ns)).some((t) => t.family === family && t.name === table);
}

/** Deletes a table with everything in it; a table already gone is fine (the transaction declares it
 * first, so it never fails on a missing one). Equivalent to: `nft -f - <<EOF` `table F T {}` `delete table F T`. */
export async function nftDeleteTable(runner: Runner, ns: Netns, family: NftFamily, table: string): Promise<void> {
  if (!/^[A-Za-z0-9_./-]+$/.test(table)) throw new HostError({ kind: 'invalid', argv: ['nft'], exitCode: null, stderr: '', message: `nft: table name ${JSON.stringify(table)} cannot be written in a ruleset` });
  await nftApply(runner, ns, `table ${family} ${table} {}\ndelete table ${family} ${table}\n`);
}

/** podnet's tracing table in a namespace, as added by nftTraceTableAdd. */
export interface NftTraceTable {
  family: 'ip' | 'ip6';
  table: string;
}

/** Adds (or replaces) the tracing table `podnet-trace-<tag>`: base chains at prerouting and output,
 * priority -350, setting nftrace on `flow`. Equivalent to: `nft -f - <<EOF` + nftTraceRuleset(tag, flow). */
export async function nftTraceTableAdd(runner: Runner, ns: Netns, flow: TraceFlow, tag: string): Promise<NftTraceTable> {
  const { family, table, ruleset } = nftTraceRuleset(tag, flow);
  await nftApply(runner, ns, ruleset);
  return { family, table };
}

/** Removes a tracing table (gone already is fine). Equivalent to: `nft delete table FAMILY podnet-trace-TAG`. */
export async function nftTraceTableRemove(runner: Runner, ns: Netns, t: NftTraceTable): Promise<void> {
  await nftDeleteTable(runner, ns, t.family, t.table);
}

/** Removes every `podnet-trace-*` table of the namespace (what a crash left) and resolves with their
 * names. Equivalent to: `nft -j list tables`, then one `nft -f -` deleting them. */
export async function nftTraceTablesRemoveAll(runner: Runner, ns: Netns): Promise<string[]> {
  const mine = (await nftListTables(runner, ns)).filter((t) => t.name.startsWith(TRACE_PREFIX));
  if (mine.length === 0) return [];
  await nftApply(runner, ns, mine.map((t) => `table ${t.family} ${t.name} {}\ndelete table ${t.family} ${t.name}\n`).join(''));
  return mine.map((t) => `${t.family} ${t.name}`);
}

/** `nft -a monitor trace` running in a namespace (handles printed), writing to a file, until stop(). */
export class NftTraceMonitor {
  private constructor(private readonly monitor: NetfilterMonitor) {}

  /** Starts the monitor and waits until it listens. Equivalent to: `nsenter --net=NS sh -c 'exec nft -a monitor trace >FILE 2>&1' &`. */
  static async start(runner: Runner, ns: Netns, opts: MonitorOptions): Promise<NftTraceMonitor> {
    return new NftTraceMonitor(await NetfilterMonitor.start(runner, ns, ['nft', '-a', 'monitor', 'trace'], opts));
  }

  /** The monitor's PID. */
  get pid(): number {
    return this.monitor.pid;
  }

  /** The trace events printed so far. Equivalent to: `cat FILE`. */
  async read(): Promise<TraceParse> {
    return parseNftTrace(await this.monitor.text());
  }

  /** Stops the monitor by PID and resolves with everything it printed. Equivalent to: `kill PID; cat FILE`. */
  async stop(): Promise<TraceParse> {
    return parseNftTrace(await this.monitor.stop());
  }
}

/** Traces `flow` while `fn` runs: adds the tracing table, starts `nft monitor trace`, runs fn(monitor),
 * then stops the monitor and removes the table — also when fn throws. Equivalent to: nftTraceTableAdd,
 * `nft -a monitor trace &`, …, `kill PID`, `nft delete table ip podnet-trace-TAG`. */
export async function nftTrace<T>(runner: Runner, ns: Netns, opts: MonitorOptions & { flow: TraceFlow; tag?: string },
  fn: (monitor: NftTraceMonitor) => Promise<T>): Promise<TraceRun<T>> {
  const table = await nftTraceTableAdd(runner, ns, opts.flow, opts.tag ?? randomBytes(3).toString('hex'));
  let monitor: NftTraceMonitor | undefined;
  try {
    monitor = await NftTraceMonitor.start(runner, ns, opts);
    const value = await fn(monitor);
    const trace = await monitor.stop();
    return { value, trace, groups: groupTraces(trace.events) };
  } finally {
    try {
      await monitor?.stop();
    } finally {
      await nftTraceTableRemove(runner, ns, table);
    }
  }
}
