// What a running `podnet trace` has added to the machine, written down before it is added: its nft
// tracing tables, its `-j TRACE` rules, the processes it started (captures, rule tracers, probes) and
// its temporary directory,
// one file per trace process under the state root (`traces/<pid>.json`). A trace removes its file
// when it has removed everything; a trace that was killed (SIGKILL, a crash) leaves it, and
// `podnet clean` (traceJournalLeftovers) removes what a dead trace's file lists.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Runner } from './runner.js';
import { netnsAt } from './netns.js';
import { nftDeleteTable } from './nft.js';
import { xtablesTraceRuleRemove } from './iptables.js';
import { processesOwnedBy, processOwner, processRunning, processStopAll } from './process.js';

/** The mark (PODNET_LAB=…) of every process trace process `pid` starts: a killed trace's processes are
 * found by it even when they started after its journal was last written. */
export const traceOwner = (pid: number = process.pid): string => `podnet-trace-${pid}`;

/** One thing a trace added. */
export type JournalItem =
  | { kind: 'nft-table'; netns: string; table: string }
  | { kind: 'xtables'; netns: string; comment: string }
  | { kind: 'process'; pid: number; owner: string }
  /** The trace's own temporary directory (captures, monitor output): only `<tmpdir>/podnet-trace-*` is ever removed. */
  | { kind: 'dir'; path: string };

/** The journal of one trace process. */
export class TraceJournal {
  private items: JournalItem[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** The journal of this process under `stateRoot` (`traces/<pid>.json`). */
  static async open(stateRoot: string): Promise<TraceJournal> {
    const dir = join(stateRoot, 'traces');
    await mkdir(dir, { recursive: true });
    return new TraceJournal(join(dir, `${process.pid}.json`));
  }

  /** Records items before they are made (resolves once the file says so). */
  add(...items: JournalItem[]): Promise<void> {
    this.items.push(...items);
    return this.flush();
  }

  private flush(): Promise<void> {
    const text = JSON.stringify({ pid: process.pid, items: this.items });
    this.writing = this.writing.then(() => writeFile(this.file, text), () => writeFile(this.file, text));
    return this.writing;
  }

  /** Everything is removed: the file goes. */
  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.file, { force: true });
  }
}

/** Removes what the journals of dead trace processes list — tracing tables and TRACE rules (in
 * namespaces that still exist), processes still carrying their mark — and the journals. Resolves
 * with one line per thing removed. Equivalent to: `nft delete table ip podnet-trace-…`,
 * `iptables-restore --noflush` deleting its `podnet-trace-TAG` TRACE rules, `kill PID`. */
export async function traceJournalLeftovers(runner: Runner, stateRoot: string): Promise<string[]> {
  const dir = join(stateRoot, 'traces');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^\d+\.json$/.test(f));
  const removed: string[] = [];
  for (const f of files) {
    const pid = Number(f.split('.')[0]);
    if (pid !== process.pid && (await processRunning(pid))) continue;
    let items: JournalItem[] = [];
    try {
      items = (JSON.parse(await readFile(join(dir, f), 'utf8')) as { items?: JournalItem[] }).items ?? [];
    } catch {
      // a journal cut short by the crash: nothing more to read from it
    }
    for (const it of items) removed.push(...(await undoItem(runner, it)));
    // What it started after the journal's last write (a SIGKILL between a capture starting and being written down).
    const strays = await processesOwnedBy(traceOwner(pid));
    if (strays.length) {
      await processStopAll(runner, strays, traceOwner(pid), 500);
      removed.push(...strays.map((p) => `process ${p}`));
    }
    await rm(join(dir, f), { force: true });
  }
  return removed;
}

async function undoItem(runner: Runner, it: JournalItem): Promise<string[]> {
  try {
    if (it.kind === 'dir') {
      if (dirname(it.path) !== tmpdir() || !basename(it.path).startsWith('podnet-trace-')) return [];
      await rm(it.path, { recursive: true, force: true });
      return [`directory ${it.path}`];
    }
    if (it.kind === 'process') {
      if ((await processOwner(it.pid)) !== it.owner) return [];
      await processStopAll(runner, [it.pid], it.owner, 500);
      return [`process ${it.pid}`];
    }
    if (it.kind === 'nft-table') {
      await nftDeleteTable(runner, netnsAt(it.netns), 'ip', it.table);
      return [`nft table ip ${it.table} in ${it.netns}`];
    }
    const n = await xtablesTraceRuleRemove(runner, netnsAt(it.netns), { family: 4, comment: it.comment, createdRaw: false });
    return n ? [`${n} TRACE rule(s) in ${it.netns}`] : [];
  } catch {
    return []; // the namespace is gone, and what was in it
  }
}
