// iproute2 in one namespace: reads through `ip -json` / `bridge -json`, writes through
// `ip -n NS -batch -` (lines made by ./ip-lines.ts). Concurrent callers share processes (group
// commit): a read joins the next read of the same kind, and writes join one batch.
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { GroupCommit } from './group-commit.js';
import { HostError } from './errors.js';
import { BatchResult, splitBatch, type SysctlEntry } from './batch.js';
import type { BridgeLine, IpLine } from './ip-lines.js';
import type { Addr, FdbEntry, Link, Neigh, Route } from '../model/kernel.js';
import { addrsFromJson, fdbFromJson, linkFromJson, neighFromJson, routeFromJson } from '../model/kernel.js';

export { BatchResult, type LineFailure, type SysctlEntry } from './batch.js';

type Json = Record<string, unknown>;

/** Writes sysctls given as positional `KEY=VALUE` arguments; IPv6 keys of a kernel without IPv6 are
 * skipped; a key that cannot be written is reported on stderr as "sysctl: cannot write KEY". */
const SYSCTL_LOOP = 'for kv; do k=${kv%%=*}; case $k in net/ipv6/*) [ -e "/proc/sys/$k" ] || continue;; esac; printf %s "${kv#*=}" > "/proc/sys/$k" || { echo "sysctl: cannot write $k" >&2; f=1; }; done';

interface BatchRequest {
  lines: string[];
  /** Sysctls to write after the lines ran (e.g. on a link the lines created). */
  after: SysctlEntry[];
}

/** What `ip addr`, `ip route` and `ip neigh` list in one namespace. */
export interface NetTables {
  links: Link[];
  addrs: Addr[];
  routes: Route[];
  neighs: Neigh[];
}

/** iproute2 bound to one namespace. Create through `Host.net(ns)` so concurrent users share it. */
export class NetHandle {
  private readonly writes: GroupCommit<BatchRequest, BatchResult>;
  private readonly reads = new Map<string, GroupCommit<null, string>>();
  /** In a dry run, the links and addresses the recorded lines would have made, so a later step sees
   * them as a replay of the script would (a second pod's ADD finds cni0 and its gateway there). */
  private readonly made?: Map<string, { link: Link; addrs: Addr[] }>;

  constructor(private readonly runner: Runner, readonly ns: Netns, dryRun = false) {
    this.writes = new GroupCommit((groups) => this.runBatch(groups));
    if (dryRun) this.made = new Map();
  }

  /** Runs iproute2 lines in this namespace, in one process shared with concurrent callers.
   * Equivalent to: `ip -n NS -batch - <<EOF` + lines. Never throws for a failed line: see BatchResult.ok. */
  batch(lines: readonly IpLine[], after: readonly SysctlEntry[] = []): Promise<BatchResult> {
    if (this.made) for (const l of lines) remember(this.made, l);
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
    const r = await this.runner.run({ argv, input, mutates: true, rtnl: { ns: this.ns.path, program: 'ip', lines: groups.flat(), after, batch: true, details: true } });
    const failedKeys = [...r.stderr.matchAll(/^sysctl: cannot write (\S+)$/gm)].map((m) => m[1]);
    return splitBatch(argv, groups, r).map((b, i) => {
      const mine = failedKeys.filter((k) => reqs[i].after.some(([key]) => key === k));
      return mine.length ? new BatchResult(b.argv, b.lines, b.failures, b.shows, mine) : b;
    });
  }

  /** Writes sysctls, then runs iproute2 lines, in one process (a pod's side of a CNI ADD). Equivalent to:
   * `nsenter --net=NS sysctl -w KEY=VALUE…` followed by `ip -n NS -batch -`. A sysctl that cannot be
   * written fails the call before any line runs. */
  async configure(sysctls: readonly SysctlEntry[], lines: readonly IpLine[]): Promise<BatchResult> {
    if (sysctls.length === 0) return this.batch(lines);
    const script = `${SYSCTL_LOOP}; [ -z "$f" ] || exit 3; exec ip -json -details -force -batch -`;
    const argv = inNetns({ path: this.ns.path }, 'sh', ['-c', script, 'sh', ...sysctls.map(([k, v]) => `${k}=${v}`)]);
    const r = await this.runner.run({ argv, input: lines.map((l) => `${l}\n`).join(''), mutates: true,
      rtnl: { ns: this.ns.path, program: 'ip', before: sysctls, lines, batch: true, details: true, beforeExit: 3 } });
    if (r.exitCode === 3) throw new HostError({ kind: 'not-found', argv, exitCode: 3, stderr: r.stderr, message: r.stderr.trim().split('\n').pop() ?? 'sysctl failed' });
    return splitBatch(argv, [[...lines]], r)[0];
  }

  /** Runs `bridge` lines (FDB entries of a VXLAN device, flushes) in one process; throws on the first
   * failed line unless `tolerate` accepts it. Equivalent to: `bridge -n NS -batch - <<EOF` + lines. */
  async bridgeBatch(lines: readonly BridgeLine[], tolerate: (message: string, line: string) => boolean = () => false): Promise<void> {
    if (lines.length === 0) return;
    const argv = inNetns(this.ns, 'bridge', ['-force', '-batch', '-']);
    const r = await this.runner.run({ argv, input: lines.map((l) => `${l}\n`).join(''), mutates: true });
    splitBatch(argv, [[...lines]], r)[0].ok((f) => tolerate(f.message, f.text));
  }

  /** Runs a read-only command in this namespace; concurrent identical reads share one process. */
  private read(program: 'ip' | 'bridge', args: readonly string[]): Promise<string> {
    const key = `${program} ${args.join(' ')}`;
    let gc = this.reads.get(key);
    if (!gc) {
      gc = new GroupCommit<null, string>(async (reqs) => {
        const line = rtnlRead(program, args);
        const rtnl = line === undefined ? undefined : { ns: this.ns.path, program, lines: [line], batch: false, details: args.includes('-details') };
        const r = await runOk(this.runner, { argv: inNetns(this.ns, program, args), mutates: false, rtnl });
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
    const made = this.made?.get(dev);
    if (made) return { link: made.link, addrs: [...made.addrs] };
    let list: Json[];
    try {
      list = await this.readJson('ip', ['-json', '-details', 'addr', 'show', 'dev', dev]);
    } catch (e) {
      if (e instanceof HostError && e.kind === 'not-found') return { addrs: [] };
      throw e;
    }
    return list[0] ? { link: linkFromJson(list[0]), addrs: addrsFromJson(list) } : { addrs: [] };
  }

  /** The IPv4 routes of the main table, or of `table` ('all' for every table). Equivalent to: `ip -json route show [table T]`. */
  async routeList(table?: string): Promise<Route[]> {
    return (await this.readJson('ip', ['-json', 'route', 'show', ...(table ? ['table', table] : [])])).map(routeFromJson);
  }

  /** The route the kernel picks for `dst`, or undefined when it has none. Equivalent to: `ip -json route get DST`. */
  async routeGet(dst: string): Promise<Route | undefined> {
    try {
      const [j] = await this.readJson('ip', ['-json', 'route', 'get', dst]);
      return j ? routeFromJson(j) : undefined;
    } catch (e) {
      if (e instanceof HostError && /unreachable|No route/i.test(e.stderr)) return undefined;
      throw e;
    }
  }

  /** Neighbour entries: every one, those of a device, or the one for an address. Equivalent to:
   * `ip -json neigh show [dev DEV | ADDR]`. */
  async neighList(o: { dev?: string; addr?: string } = {}): Promise<Neigh[]> {
    const args = ['-json', 'neigh', 'show', ...(o.dev ? ['dev', o.dev] : []), ...(o.addr ? [o.addr] : [])];
    return (await this.readJson('ip', args)).map((j) => neighFromJson(o.dev ? { dev: o.dev, ...j } : j));
  }

  /** The forwarding database: of every bridge and vxlan device, of one bridge (`br`) or of one
   * device (`dev`). Equivalent to: `bridge -json fdb show [br BR | dev DEV]`. */
  async fdbList(o: { br?: string; dev?: string } = {}): Promise<FdbEntry[]> {
    const args = ['-json', 'fdb', 'show', ...(o.br ? ['br', o.br] : []), ...(o.dev ? ['dev', o.dev] : [])];
    return (await this.readJson('bridge', args)).map(fdbFromJson);
  }

  /** This namespace's ids for the namespaces it can see. Equivalent to: `ip -json netns list-id`.
   * (It opens every file in /run/netns: O(namespaces) per call; read it only where veths fan out.) */
  async nsids(): Promise<{ nsid: number; name?: string }[]> {
    return (await this.readJson('ip', ['-json', 'netns', 'list-id'])).map((j) => ({ nsid: Number(j.nsid), ...(typeof j.name === 'string' ? { name: j.name } : {}) }));
  }

  /** Links with addresses, routes and neighbours in one process (what a scan reads of every
   * namespace); with `routes: false`, links and addresses only (routes and neighbours empty).
   * Equivalent to: `ip -n NS -json -details -batch -` with `addr show`, `route show`, `neigh show`.
   * Throws a HostError when the namespace cannot be read. */
  async tables(o: { routes?: boolean } = {}): Promise<NetTables> {
    const argv = inNetns(this.ns, 'ip', ['-json', '-details', '-force', '-batch', '-']);
    const lines = o.routes === false ? ['addr show'] : ['addr show', 'route show', 'neigh show'];
    const r = await this.runner.run({ argv, input: lines.map((l) => `${l}\n`).join(''), mutates: false, rtnl: { ns: this.ns.path, program: 'ip', lines, batch: true, details: true } });
    const outputs = r.stdout.split('\n').filter((l) => l.startsWith('['));
    if (outputs.length < lines.length) throw new HostError({ kind: 'not-found', argv, exitCode: r.exitCode, stderr: r.stderr, message: r.stderr.trim().split('\n')[0] || `ip exited ${r.exitCode}` });
    const [addr, route = [], neigh = []] = outputs.map((out) => JSON.parse(out) as Json[]);
    return { links: addr.map(linkFromJson), addrs: addrsFromJson(addr), routes: route.map(routeFromJson), neighs: neigh.map(neighFromJson) };
  }
}

/** The line of `ip -batch` / `bridge -batch` a read's arguments equal (flags dropped: rtnetlink answers
 * in full), or undefined when the read is not one rtnl.ts does. */
function rtnlRead(program: 'ip' | 'bridge', args: readonly string[]): string | undefined {
  const words = args.filter((a) => a !== '-json' && a !== '-details');
  return words.some((w) => w.startsWith('-')) ? undefined : words.join(' ');
}

/** Records what a dry run's line would make: a link (`link add NAME … [address MAC] type KIND`) or an
 * address (`addr add CIDR dev NAME`) of a link made earlier. */
function remember(made: Map<string, { link: Link; addrs: Addr[] }>, line: string): void {
  const w = line.split(' ');
  if (w[0] === 'link' && w[1] === 'add' && !made.has(w[2])) {
    const kind = w[w.indexOf('type') + 1];
    const mac = w.includes('address') && w.indexOf('address') < w.indexOf('type') ? w[w.indexOf('address') + 1] : '';
    const base = { name: w[2], index: 0, mtu: 0, mac, up: false, operstate: 'DOWN', flags: [], promiscuity: 0 };
    made.set(w[2], { link: kind === 'bridge' ? { ...base, kind: 'bridge' } : { ...base, kind: 'generic', infoKind: kind ?? 'device' }, addrs: [] });
  } else if (w[0] === 'addr' && w[1] === 'add' && made.has(w[4])) {
    const [local, prefix] = w[2].split('/');
    made.get(w[4])!.addrs.push({ link: w[4], family: 'inet', local, prefix: Number(prefix), scope: 'global' });
  }
}
