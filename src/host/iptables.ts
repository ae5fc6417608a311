// iptables inside one namespace (iptables 1.8.9, nf_tables backend): rules written through
// iptables-restore (stdin), read through iptables-save into ../model types, and rule tracing with
// iptables-nft — a `-j TRACE` rule in the raw table marked with a comment of podnet's own, plus
// `xtables-monitor --trace` running beside it, both removed afterwards. iptables-restore commits
// each table at its COMMIT, so a multi-table input that fails part-way is undone here.
import { randomBytes } from 'node:crypto';
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { HostError, classifyStderr } from './errors.js';
import { NetfilterMonitor, type MonitorOptions, type TraceRun } from './nfmonitor.js';
import { nftDeleteTable, nftTableExists } from './nft.js';
import type { IptablesDump } from '../model/netfilter-iptables.js';
import { iptablesRestoreTables, iptablesSaveSections, parseIptablesRestoreError, parseIptablesSave } from '../model/netfilter-iptables.js';
import type { TraceFlow } from '../model/netfilter-flow.js';
import { TRACE_PREFIX, checkTraceFlow, xtablesTraceRules } from '../model/netfilter-flow.js';
import type { TraceParse } from '../model/netfilter-trace.js';
import { groupTraces, parseXtablesTrace } from '../model/netfilter-trace.js';

/** IPv4 (`iptables`) or IPv6 (`ip6tables`). */
export type IptablesFamily = 4 | 6;

const program = (family: IptablesFamily | undefined, suffix: string) => `${family === 6 ? 'ip6tables' : 'iptables'}${suffix}`;
const nftFamily = (family: IptablesFamily | undefined) => (family === 6 ? 'ip6' : 'ip');

/** What iptablesSave reads. */
export interface IptablesSaveOptions {
  /** One table only. (iptables-nft prints a table that does not exist as its empty built-in chains.) */
  table?: string;
  /** Rule counters too (`-c`). */
  counters?: boolean;
  family?: IptablesFamily;
}

/** The namespace's rules as iptables-save prints them. Equivalent to: `iptables-save [-c] [-t TABLE]`. */
export async function iptablesSaveText(runner: Runner, ns: Netns, o: IptablesSaveOptions = {}): Promise<string> {
  const args = [...(o.counters ? ['-c'] : []), ...(o.table !== undefined ? ['-t', o.table] : [])];
  return (await runOk(runner, { argv: inNetns(ns, program(o.family, '-save'), args), mutates: false })).stdout;
}

/** The namespace's rules, parsed; a namespace without tables is an empty dump. Equivalent to: `iptables-save [-c] [-t TABLE]`. */
export async function iptablesSave(runner: Runner, ns: Netns, o: IptablesSaveOptions = {}): Promise<IptablesDump> {
  return parseIptablesSave(await iptablesSaveText(runner, ns, o));
}

/** How iptablesRestore writes. */
export interface IptablesRestoreOptions {
  /** Keep what the tables hold and add to it (`--noflush`); otherwise each table named is replaced. */
  noflush?: boolean;
  /** The input carries `[packets:bytes]` counters (`--counters`). */
  counters?: boolean;
  family?: IptablesFamily;
}

/** Writes `text` (iptables-save format) in one iptables-restore run; on failure throws a HostError with
 * the line and message iptables-restore gave, after putting back any table it had already committed.
 * Equivalent to: `iptables-restore [--noflush] [--counters] -w <<EOF` + text. */
export async function iptablesRestore(runner: Runner, ns: Netns, text: string, o: IptablesRestoreOptions = {}): Promise<void> {
  const name = program(o.family, '-restore');
  const argv = inNetns(ns, name, [...(o.noflush ? ['--noflush'] : []), ...(o.counters ? ['--counters'] : []), '-w']);
  const tables = iptablesRestoreTables(text);
  // Only a second table can fail after a first one was committed: keep what was there to put it back.
  const before = tables.length > 1 ? await iptablesSaveText(runner, ns, { counters: true, family: o.family }).catch(() => undefined) : undefined;
  const r = await runner.run({ argv, input: text, mutates: true });
  if (r.exitCode === 0) return;
  const { line, message } = parseIptablesRestoreError(r.stderr);
  const committed = tables.filter((t) => t.commitLine !== undefined && line !== undefined && t.commitLine < line).map((t) => t.table);
  const undo = before !== undefined && committed.length > 0 ? await putBack(runner, ns, o.family, before, committed) : '';
  throw new HostError({ kind: classifyStderr(message), argv, exitCode: r.exitCode, stderr: r.stderr, ...(line !== undefined ? { line } : {}),
    message: `${name}${line !== undefined ? `: line ${line}` : ''}: ${message}${undo}` });
}

/** Writes the iptables-save-format file `file` in one iptables-restore run, as kube-proxy does: each
 * table is committed at its COMMIT and nothing is put back when a later one fails (the caller syncs
 * everything again). Throws a HostError with the line and message iptables-restore gave.
 * Equivalent to: `iptables-restore -w [--noflush] [--counters] FILE`. */
export async function iptablesRestoreFile(runner: Runner, ns: Netns, file: string, o: IptablesRestoreOptions = {}): Promise<void> {
  const name = program(o.family, '-restore');
  // `-w` first: placed last it would take FILE as its wait time (and the rules would be read from stdin).
  const argv = inNetns(ns, name, ['-w', ...(o.noflush ? ['--noflush'] : []), ...(o.counters ? ['--counters'] : []), file]);
  const r = await runner.run({ argv, mutates: true });
  if (r.exitCode === 0) return;
  const { line, message } = parseIptablesRestoreError(r.stderr);
  throw new HostError({ kind: classifyStderr(message), argv, exitCode: r.exitCode, stderr: r.stderr, ...(line !== undefined ? { line } : {}),
    message: `${name} ${file}${line !== undefined ? `: line ${line}` : ''}: ${message}` });
}

/** Puts `tables` back as `before` had them (counters included); a table `before` did not have is
 * deleted. Resolves with '' or a note on what could not be put back. */
async function putBack(runner: Runner, ns: Netns, family: IptablesFamily | undefined, before: string, tables: string[]): Promise<string> {
  const sections = iptablesSaveSections(before);
  try {
    const old = tables.filter((t) => sections.has(t)).map((t) => sections.get(t)).join('');
    if (old) await runOk(runner, { argv: inNetns(ns, program(family, '-restore'), ['--counters', '-w']), input: old, mutates: true });
    for (const t of tables.filter((x) => !sections.has(x))) await nftDeleteTable(runner, ns, nftFamily(family), t);
    return '';
  } catch (e) {
    return ` (and putting back table ${tables.join(', ')} failed: ${(e as Error).message})`;
  }
}

/** A `-j TRACE` rule set added by xtablesTraceRuleAdd. */
export interface XtablesTraceRule {
  family: IptablesFamily;
  /** `podnet-trace-<tag>`: the comment that marks the rules. */
  comment: string;
  /** True when the raw table was not there before (it is deleted again once empty). */
  createdRaw: boolean;
}

/** Adds `-j TRACE` rules for `flow` to the raw table's PREROUTING (and OUTPUT), marked `podnet-trace-<tag>`.
 * Equivalent to: `iptables-restore --noflush -w <<EOF` `*raw` `-A PREROUTING FLOW -m comment --comment podnet-trace-TAG -j TRACE` …. */
export async function xtablesTraceRuleAdd(runner: Runner, ns: Netns, flow: TraceFlow, tag: string): Promise<XtablesTraceRule> {
  const family: IptablesFamily = checkTraceFlow(flow).family === 'ip6' ? 6 : 4;
  const { comment, text } = xtablesTraceRules(tag, flow);
  const rawExisted = await nftTableExists(runner, ns, nftFamily(family), 'raw').catch(() => true);
  await iptablesRestore(runner, ns, text, { noflush: true, family });
  return { family, comment, createdRaw: !rawExisted };
}

/** Deletes the TRACE rules whose comment `pick` accepts, found from kernel state; resolves with how many. */
async function removeTraceRules(runner: Runner, ns: Netns, family: IptablesFamily, pick: (comment: string) => boolean): Promise<number> {
  const dump = await iptablesSave(runner, ns, { table: 'raw', family });
  const mine = dump.tables.flatMap((t) => t.rules).filter((r) => r.target === 'TRACE' && r.comment !== undefined && pick(r.comment));
  if (mine.length === 0) return 0;
  await iptablesRestore(runner, ns, ['*raw', ...mine.map((r) => r.text.replace(/^-A /, '-D ')), 'COMMIT', ''].join('\n'), { noflush: true, family });
  return mine.length;
}

/** Removes the rules of `rule` (gone already is fine) and the raw table too when adding them had made
 * it and it is empty again; resolves with how many rules were removed. Equivalent to: `iptables-save -t raw`,
 * `iptables-restore --noflush` with `-D` lines, `nft delete table ip raw`. */
export async function xtablesTraceRuleRemove(runner: Runner, ns: Netns, rule: XtablesTraceRule): Promise<number> {
  const removed = await removeTraceRules(runner, ns, rule.family, (c) => c === rule.comment);
  if (rule.createdRaw && (await nftTableExists(runner, ns, nftFamily(rule.family), 'raw'))) {
    const [raw] = (await iptablesSave(runner, ns, { table: 'raw', family: rule.family })).tables;
    const empty = !raw || (raw.rules.length === 0 && raw.chains.every((c) => c.builtin && c.policy === 'ACCEPT'));
    if (empty) await nftDeleteTable(runner, ns, nftFamily(rule.family), 'raw');
  }
  return removed;
}

/** Removes every `podnet-trace-*` TRACE rule of the namespace (what a crash left; the raw table stays).
 * Equivalent to: `iptables-save -t raw`, then `iptables-restore --noflush` with `-D` lines. */
export function xtablesTraceRulesRemoveAll(runner: Runner, ns: Netns, family: IptablesFamily = 4): Promise<number> {
  return removeTraceRules(runner, ns, family, (c) => c.startsWith(TRACE_PREFIX));
}

/** `xtables-monitor --trace` running in a namespace, writing to a file, until stop(). It shows rules in
 * iptables syntax; on an nft rule it cannot translate (a verdict map) it prints an error and ends. */
export class XtablesTraceMonitor {
  private constructor(private readonly monitor: NetfilterMonitor) {}

  /** Starts the monitor and waits until it listens. Equivalent to: `nsenter --net=NS sh -c 'exec xtables-monitor --trace >FILE 2>&1' &`. */
  static async start(runner: Runner, ns: Netns, opts: MonitorOptions): Promise<XtablesTraceMonitor> {
    return new XtablesTraceMonitor(await NetfilterMonitor.start(runner, ns, ['xtables-monitor', '--trace'], opts));
  }

  /** The monitor's PID. */
  get pid(): number {
    return this.monitor.pid;
  }

  /** True while it runs. */
  running(): Promise<boolean> {
    return this.monitor.running();
  }

  /** The trace events printed so far. Equivalent to: `cat FILE`. */
  async read(): Promise<TraceParse> {
    return parseXtablesTrace(await this.monitor.text());
  }

  /** Stops the monitor by PID and resolves with everything it printed. Equivalent to: `kill PID; cat FILE`. */
  async stop(): Promise<TraceParse> {
    return parseXtablesTrace(await this.monitor.stop());
  }
}

/** Traces `flow` while `fn` runs: adds the TRACE rules, starts `xtables-monitor --trace`, runs fn(monitor),
 * then stops the monitor and removes the rules — also when fn throws. Equivalent to: xtablesTraceRuleAdd,
 * `xtables-monitor --trace &`, …, `kill PID`, xtablesTraceRuleRemove. */
export async function xtablesTrace<T>(runner: Runner, ns: Netns, opts: MonitorOptions & { flow: TraceFlow; tag?: string },
  fn: (monitor: XtablesTraceMonitor) => Promise<T>): Promise<TraceRun<T>> {
  const rule = await xtablesTraceRuleAdd(runner, ns, opts.flow, opts.tag ?? randomBytes(3).toString('hex'));
  let monitor: XtablesTraceMonitor | undefined;
  try {
    monitor = await XtablesTraceMonitor.start(runner, ns, opts);
    const value = await fn(monitor);
    const trace = await monitor.stop();
    return { value, trace, groups: groupTraces(trace.events) };
  } finally {
    try {
      await monitor?.stop();
    } finally {
      await xtablesTraceRuleRemove(runner, ns, rule);
    }
  }
}
