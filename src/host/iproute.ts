// iproute2 in one namespace: reads through `ip -json` / `bridge -json`, writes through
// `ip -n NS -batch -`. Concurrent callers share processes (group commit): a read joins the next read
// of the same kind, and writes join one batch.
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { GroupCommit } from './group-commit.js';
import { HostError, batchFailures, classifyStderr, type HostErrorKind } from './errors.js';
import type { Addr, FdbEntry, Link, Route } from '../model/kernel.js';
import { addrsFromJson, fdbFromJson, linkFromJson, routeFromJson } from '../model/kernel.js';

type Json = Record<string, unknown>;

/** One failed line of a batch, numbered within the caller's own lines (1-based). */
export interface LineFailure {
  line: number;
  text: string;
  message: string;
  kind: HostErrorKind;
}

/** A sysctl key (slash form) and the value to write. */
export type SysctlEntry = readonly [key: string, value: string];

/** Writes sysctls given as positional `KEY=VALUE` arguments; IPv6 keys of a kernel without IPv6 are
 * skipped; a key that cannot be written is reported on stderr as "sysctl: cannot write KEY". */
const SYSCTL_LOOP = 'for kv; do k=${kv%%=*}; case $k in net/ipv6/*) [ -e "/proc/sys/$k" ] || continue;; esac; printf %s "${kv#*=}" > "/proc/sys/$k" || { echo "sysctl: cannot write $k" >&2; f=1; }; done';

/** What a batch did: the failures, and the JSON printed by each `… show …` line that succeeded, in order. */
export class BatchResult {
  constructor(readonly argv: readonly string[], readonly lines: readonly string[], readonly failures: LineFailure[], readonly shows: Json[][], readonly sysctlFailures: string[] = []) {}

  /** Throws the first failure not accepted by `tolerate` (e.g. "exists" on an idempotent add). */
  ok(tolerate: (f: LineFailure) => boolean = () => false): this {
    const bad = this.failures.find((f) => !tolerate(f));
    if (bad) {
      throw new HostError({ kind: bad.kind, argv: this.argv, exitCode: 1, stderr: bad.message, line: bad.line,
        message: `ip ${bad.text}: ${bad.message.split('\n')[0]}` });
    }
    if (this.sysctlFailures.length) {
      throw new HostError({ kind: 'failed', argv: this.argv, exitCode: 1, stderr: this.sysctlFailures[0], message: `sysctl ${this.sysctlFailures[0]}: cannot write it` });
    }
    return this;
  }
}

/** Lines that print JSON in a batch. Callers use `link show`; `addr show` is unsafe in a shared batch (see addrShow). */
const isShow = (line: string) => /^\S+ (show|list|get)\b/.test(line.trim());

/** iproute2 bound to one namespace. Create through `Host.net(ns)` so concurrent users share it. */
interface BatchRequest {
  lines: string[];
  /** Sysctls to write after the lines ran (e.g. on a link the lines created). */
  after: SysctlEntry[];
}

export class NetHandle {
  private readonly writes: GroupCommit<BatchRequest, BatchResult>;
  private readonly reads = new Map<string, GroupCommit<null, string>>();

  constructor(private readonly runner: Runner, readonly ns: Netns) {
    this.writes = new GroupCommit((groups) => this.runBatch(groups));
  }

  /** Runs iproute2 lines in this namespace, in one process shared with concurrent callers.
   * Equivalent to: `ip -n NS -batch - <<EOF` + lines. Never throws for a failed line: see BatchResult.ok. */
  batch(lines: readonly string[], after: readonly SysctlEntry[] = []): Promise<BatchResult> {
    return this.writes.submit({ lines: [...lines], after: [...after] });
  }

  private async runBatch(reqs: BatchRequest[]): Promise<BatchResult[]> {
    const groups = reqs.map((r) => r.lines);
    const input = groups.flat().map((l) => `${l}\n`).join('');
    const after = reqs.flatMap((r) => r.after);
    // With sysctls to write afterwards, one shell in the namespace runs both: still one process chain.
    const argv = after.length === 0
      ? inNetns(this.ns, 'ip', ['-json', '-details', '-force', '-batch', '-'])
      : inNetns({ path: this.ns.path }, 'sh', ['-c', `ip -json -details -force -batch -; r=$?; ${SYSCTL_LOOP}; exit $r`, 'sh', ...after.map(([k, v]) => `${k}=${v}`)]);
    const r = await this.runner.run({ argv, input, mutates: true });
    const failedKeys = [...r.stderr.matchAll(/^sysctl: cannot write (\S+)$/gm)].map((m) => m[1]);
    return this.splitResults(argv, groups, r).map((b, i) => {
      const mine = failedKeys.filter((k) => reqs[i].after.some(([key]) => key === k));
      return mine.length ? new BatchResult(b.argv, b.lines, b.failures, b.shows, mine) : b;
    });
  }

  /** Writes sysctls, then runs iproute2 lines, in one process (a pod's side of a CNI ADD). Equivalent to:
   * `nsenter --net=NS sysctl -w KEY=VALUE…` followed by `ip -n NS -batch -`. A sysctl that cannot be
   * written fails the call before any line runs. */
  async configure(sysctls: readonly (readonly [string, string])[], lines: readonly string[]): Promise<BatchResult> {
    if (sysctls.length === 0) return this.batch(lines);
    const script = `${SYSCTL_LOOP}; [ -z "$f" ] || exit 3; exec ip -json -details -force -batch -`;
    const argv = inNetns({ path: this.ns.path }, 'sh', ['-c', script, 'sh', ...sysctls.map(([k, v]) => `${k}=${v}`)]);
    const r = await this.runner.run({ argv, input: lines.map((l) => `${l}\n`).join(''), mutates: true });
    if (r.exitCode === 3) throw new HostError({ kind: 'not-found', argv, exitCode: 3, stderr: r.stderr, message: r.stderr.trim().split('\n').pop() ?? 'sysctl failed' });
    return this.splitResults(argv, [[...lines]], r)[0];
  }

  private splitResults(argv: string[], groups: string[][], r: { stdout: string; stderr: string; exitCode: number }): BatchResult[] {
    if (r.exitCode !== 0 && !/Command failed|^sysctl: cannot write/m.test(r.stderr)) {
      // The batch did not run at all (namespace gone, ip missing): every caller fails the same way.
      throw new HostError({ kind: classifyStderr(r.stderr), argv, exitCode: r.exitCode, stderr: r.stderr });
    }
    const failed = new Map(batchFailures(r.stderr).map((f) => [f.line, f.message]));
    const outputs = r.stdout.split('\n').filter((l) => l.trim().startsWith('['));
    let out = 0;
    let offset = 0;
    return groups.map((lines) => {
      const failures: LineFailure[] = [];
      const shows: Json[][] = [];
      lines.forEach((text, i) => {
        const message = failed.get(offset + i + 1);
        if (message !== undefined) failures.push({ line: i + 1, text, message, kind: classifyStderr(message) });
        else if (isShow(text)) shows.push(JSON.parse(outputs[out++] ?? '[]') as Json[]);
      });
      offset += lines.length;
      return new BatchResult(argv, lines, failures, shows);
    });
  }

  /** Runs a read-only command in this namespace; concurrent identical reads share one process. */
  private read(program: 'ip' | 'bridge', args: readonly string[]): Promise<string> {
    const key = `${program} ${args.join(' ')}`;
    let gc = this.reads.get(key);
    if (!gc) {
      gc = new GroupCommit<null, string>(async (reqs) => {
        const r = await runOk(this.runner, { argv: inNetns(this.ns, program, args), mutates: false });
        return reqs.map(() => r.stdout);
      });
      this.reads.set(key, gc);
    }
    return gc.submit(null);
  }

  private async readJson(program: 'ip' | 'bridge', args: readonly string[]): Promise<Json[]> {
    const text = (await this.read(program, args)).trim();
    return text ? (JSON.parse(text) as Json[]) : [];
  }

  /** Every link with its details. Equivalent to: `ip -json -details link show`. */
  async linkList(): Promise<Link[]> {
    return (await this.readJson('ip', ['-json', '-details', 'link', 'show'])).map(linkFromJson);
  }

  /** One link by name, or undefined. Equivalent to: `ip -json -details link show dev NAME`. */
  async linkByName(name: string): Promise<Link | undefined> {
    return (await this.linkList()).find((l) => l.name === name);
  }

  /** Every link with its details and addresses, in one read. Equivalent to: `ip -json -details addr show`. */
  async linksAndAddrs(): Promise<{ links: Link[]; addrs: Addr[] }> {
    const list = await this.readJson('ip', ['-json', '-details', 'addr', 'show']);
    return { links: list.map(linkFromJson), addrs: addrsFromJson(list) };
  }

  /** One link and its addresses, or no link when it does not exist; concurrent callers share one read.
   * Equivalent to: `ip -json -details addr show dev NAME`. (Not a batch line: in `ip -batch`, an
   * `addr show` after a `link show` prints no addresses, and batches are shared between callers.) */
  async addrShow(dev: string): Promise<{ link?: Link; addrs: Addr[] }> {
    let list: Json[];
    try {
      list = await this.readJson('ip', ['-json', '-details', 'addr', 'show', 'dev', dev]);
    } catch (e) {
      if (e instanceof HostError && e.kind === 'not-found') return { addrs: [] };
      throw e;
    }
    return list[0] ? { link: linkFromJson(list[0]), addrs: addrsFromJson(list) } : { addrs: [] };
  }

  /** The main table's IPv4 routes. Equivalent to: `ip -json route show`. */
  async routeList(): Promise<Route[]> {
    return (await this.readJson('ip', ['-json', 'route', 'show'])).map(routeFromJson);
  }

  /** The forwarding database of every bridge and vxlan device. Equivalent to: `bridge -json fdb show`. */
  async fdbList(): Promise<FdbEntry[]> {
    return (await this.readJson('bridge', ['-json', 'fdb', 'show'])).map(fdbFromJson);
  }
}
