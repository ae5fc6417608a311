// An iproute2 command carried out over rtnetlink from podnet's process (through ./rtnl-helper.ts)
// instead of by starting `ip`: the runner is handed the command *and* its lines; when every line is
// one rtnl-lines.ts knows (or a read below), it answers with the stdout, stderr and exit code `ip`
// would have given, so callers parse both alike — and `-v`/`--dry-run` print the `ip` command
// itself. Anything else, or no helper, and the command runs as written. PODNET_NETLINK=0 turns it off.
import { readdirSync } from 'node:fs';
import { AF, IFLA, NETNSA, RTM, Attrs, ifinfomsg, ifaddrmsg, ndmsg, parseAttrs, rtgenmsg, rtmsg, type NlMessage } from '../model/rtnetlink.js';
import { NETNS_RUN_DIR } from './netns.js';
import { addrShowJson, fdbJson, linkJson, linkNames, neighJson, neighShown } from '../model/rtnetlink-json.js';
import { routeJson } from '../model/rtnetlink-route.js';
import { rtNames } from './rt-names.js';
import { BatchAbort, LineError, RtnlConn, rtnlKnows, sendLine, type Sent } from './rtnl-lines.js';
import { withRtnlSession, rtnlAvailable, type RtnlSession } from './rtnl-helper.js';
import type { RunResult } from './runner.js';

type Json = Record<string, unknown>;

/** What an iproute2 command does, for the runner to do by rtnetlink instead. */
export interface RtnlWork {
  /** The namespace file the command runs in (`/run/netns/NAME`, `/proc/PID/ns/net`, `/proc/self/ns/net`). */
  ns: string;
  program: 'ip' | 'bridge';
  /** Sysctls (slash form) written in the namespace before the lines; one failing stops there. */
  before?: readonly (readonly [string, string])[];
  lines: readonly string[];
  /** Sysctls written after the lines, whatever they did (their failures only reported). */
  after?: readonly (readonly [string, string])[];
  /** True for `ip -batch` (failures as "message\nCommand failed -:N", the rest still run); false for
   * one command (its message, exit 1). */
  batch: boolean;
  /** `-details` was given (routes then print type, protocol and scope always). */
  details?: boolean;
  /** The exit code when a `before` sysctl fails. */
  beforeExit?: number;
}

const READS = [/^addr show( dev \S+)?$/, /^link show$/, /^route show( table all)?$/, /^neigh show( dev \S+)?$/, /^netns list-id$/];
const BRIDGE_READS = /^fdb show( (?:br|dev) \S+)?$/;

/** True when every line of `work` can be done here. */
export function rtnlCan(work: RtnlWork): boolean {
  if (!rtnlAvailable()) return false;
  if (work.program === 'bridge') return work.lines.every((l) => BRIDGE_READS.test(l));
  return work.lines.every((l) => rtnlKnows(l) || READS.some((re) => re.test(l)));
}

/** A read whose answer holds something not rendered here (e.g. a multipath route): iproute2 prints it. */
class Declined extends Error {}

/** Carries out `work`; resolves undefined when it could not be tried (then run the command). */
export async function runByRtnl(work: RtnlWork): Promise<RunResult | undefined> {
  if (!rtnlCan(work)) return undefined;
  const r = await withRtnlSession(work.ns, (s) => session(s, work)).catch((e: unknown) => {
    // Only reads decline; the command then runs, which is harmless only when all it does is read.
    if (e instanceof Declined && !work.lines.some((l) => rtnlKnows(l)) && !work.before?.length && !work.after?.length) return undefined;
    throw e;
  });
  if (r === undefined) return undefined;
  if ('value' in r) return r.value;
  const a = r.opened;
  const why = a.ok ? '' : a.message;
  return { stdout: '', stderr: `Cannot open network namespace "${work.ns}": ${why}\n`, exitCode: a.ok ? 0 : 1 };
}

async function session(s: RtnlSession, work: RtnlWork): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  // As the shell form does: every sysctl is tried (all sent in one write), and if one failed, no line runs.
  const before = await sysctls(s, work.before);
  if (before.length) return { stdout: '', stderr: before.map((k) => `sysctl: cannot write ${k}\n`).join(''), exitCode: work.beforeExit ?? 1 };
  const c = new RtnlConn(s);
  const reads = new Reads(c, work.details ?? false);
  // Every line is sent before any answer is awaited, except where a line needs an earlier answer
  // (a device's index): the batch costs one or two trips to the helper, not one per line.
  const sent: Sent[] = [];
  for (const line of work.lines) {
    try {
      const one = rtnlKnows(line) ? await sendLine(c, line) : { done: reads.run(work.program, line) };
      pending(one.done);
      sent.push(one);
    } catch (e) {
      sent.push({ done: Promise.reject(e) });
      if (e instanceof BatchAbort) break;
    }
  }
  // The sysctls after the lines travel behind them (the helper answers in order, so they are written
  // once the lines are done, whatever the lines did).
  const after = pending(sysctls(s, work.after));
  let failed = false;
  for (const [i, one] of sent.entries()) {
    try {
      const json = await one.done;
      if (json !== undefined) out.push(JSON.stringify(Array.isArray(json) ? json : [json]));
    } catch (e) {
      if (e instanceof BatchAbort) return { stdout: out.map((l) => `${l}\n`).join(''), stderr: `${[...err, e.message].join('\n')}\n`, exitCode: 255 };
      if (!(e instanceof LineError)) throw e;
      failed = true;
      err.push(work.batch ? `${e.message}\nCommand failed -:${i + 1}` : e.message);
      if (!work.batch) break;
    }
  }
  for (const k of await after) err.push(`sysctl: cannot write ${k}`);
  return { stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join(''), exitCode: failed ? 1 : 0 };
}

/** A request sent now whose answer is awaited later, in order: a failure meanwhile is not "unhandled". */
function pending<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Writes sysctls in the session's namespace, all asked at once; resolves with the keys that failed. */
async function sysctls(s: RtnlSession, entries: RtnlWork['before']): Promise<string[]> {
  const asked = (entries ?? []).map(([k, v]) => [k, pending(s.ask(`S ${k} ${v}`))] as const);
  const failed: string[] = [];
  for (const [k, a] of asked) if (!(await a).ok) failed.push(k);
  return failed;
}

const RT_TABLE_MAIN = 254;
const isInet = (m: NlMessage) => m.body[0] === AF.INET || m.body[0] === AF.INET6;

/** The reads a scan and the plugins make, from dumps (each dump taken once per session). */
class Reads {
  private links?: Promise<NlMessage[]>;
  constructor(private readonly c: RtnlConn, private readonly details: boolean) {}

  private linkDump(): Promise<NlMessage[]> {
    this.links ??= pending(this.c.dump(RTM.GETLINK, ifinfomsg(), new Attrs().u32(IFLA.EXT_MASK, 8)));
    return this.links;
  }

  /** Runs one read. Its dumps are all sent before any answer is awaited (one trip to the helper). */
  async run(program: 'ip' | 'bridge', line: string): Promise<Json[]> {
    const w = line.split(' ');
    if (w[0] === 'netns') return this.nsids();
    if (w[0] === 'addr' && w[2] === 'dev') return this.addrOfDev(w[3]);
    if (program === 'ip' && w[0] === 'neigh' && w[2] === 'dev') return this.neighOfDev(w[3]);
    const links = this.linkDump();
    if (program === 'bridge') return this.fdb(links, pending(this.c.dump(RTM.GETNEIGH, ndmsg(AF.BRIDGE))), w[2] as 'br' | 'dev' | undefined, w[3]);
    // `route show` is the main table's IPv4 routes; `table all` asks every family (ip dumps AF_UNSPEC
    // when no table is named, so IPv6 routes are listed too).
    const all = w[0] === 'route' && w[3] === 'all';
    const more = w[0] === 'addr' ? pending(this.c.dump(RTM.GETADDR, ifaddrmsg(AF.UNSPEC, 0, 0, 0)))
      : w[0] === 'route' ? pending(this.c.dump(RTM.GETROUTE, rtmsg({ family: all ? AF.UNSPEC : AF.INET })))
        : w[0] === 'neigh' ? pending(this.c.dump(RTM.GETNEIGH, ndmsg(AF.UNSPEC))) : undefined;
    const dumped = await links;
    const names = linkNames(dumped);
    if (w[0] === 'link') return dumped.map((l) => linkJson(l, names));
    if (w[0] === 'addr') return addrShowJson(dumped, await more!);
    if (w[0] === 'route') return this.routes(await more!, names, all ? undefined : RT_TABLE_MAIN);
    return (await more!).filter((m) => isInet(m) && neighShown(m)).map((m) => neighJson(m, names));
  }

  private routes(msgs: readonly NlMessage[], names: ReadonlyMap<number, string>, table: number | undefined): Json[] {
    const rt = rtNames();
    const out: Json[] = [];
    for (const m of msgs) {
      const j = routeJson(m, names, rt, { table, details: this.details });
      if (j === null) throw new Declined('a route not rendered here');
      if (j !== undefined) out.push(j);
    }
    return out;
  }

  /** `ip neigh show dev NAME` (flannel's reconcile reads flannel.1's): that device's entries, without
   * the `dev` key (ip leaves it out when filtering by device); `Cannot find device "NAME"` (exit 1)
   * when there is none. The dump and the device's lookup travel together (one trip, not two). */
  private async neighOfDev(dev: string): Promise<Json[]> {
    const dump = pending(this.c.dump(RTM.GETNEIGH, ndmsg(AF.UNSPEC)));
    const index = await this.c.ifindex(dev);
    const mine = (await dump).filter((m) => m.body.readInt32LE(4) === index && isInet(m) && neighShown(m));
    return mine.map((m) => {
      const { dev: _, ...j } = neighJson(m, new Map());
      return j;
    });
  }

  /** `ip addr show dev NAME` (the bridge plugin reads its bridge so on every ADD): that link alone, not
   * a dump of every link — a node holds a veth per pod — with its addresses. */
  private async addrOfDev(dev: string): Promise<Json[]> {
    const addrs = pending(this.c.dump(RTM.GETADDR, ifaddrmsg(AF.UNSPEC, 0, 0, 0)));
    const l = await this.c.linkNamed(dev);
    if (!l) throw new LineError(`Device "${dev}" does not exist.`);
    return addrShowJson([l.m], await addrs, l.names);
  }

  /** `ip netns list-id`: this namespace's ids for others, named as iproute2 names them — by asking
   * the id of every namespace pinned in /run/netns (one request each, all sent together). */
  private async nsids(): Promise<Json[]> {
    const ids = (await this.c.dump(RTM.GETNSID, rtgenmsg(AF.UNSPEC))).map((m) => parseAttrs(m.body, 4).get(NETNSA.NSID)?.readInt32LE(0));
    const listed = ids.filter((id): id is number => id !== undefined && id >= 0);
    if (listed.length === 0) return [];
    let files: string[] = [];
    try {
      files = readdirSync(NETNS_RUN_DIR);
    } catch { /* no pinned namespace: ids without names */ }
    const names = new Map<number, string>();
    const asks = files.map((f) => this.c.nsidOf(`${NETNS_RUN_DIR}/${f}`).then((id) => { if (id !== undefined && id >= 0 && !names.has(id)) names.set(id, f); }, () => undefined));
    await Promise.all(asks);
    return listed.map((nsid) => ({ nsid, ...(names.has(nsid) ? { name: names.get(nsid) } : {}) }));
  }

  /** `bridge fdb show [br BR | dev DEV]`: every entry, those of BR and its ports, or those of DEV. */
  private async fdb(linkDump: Promise<NlMessage[]>, fdbDump: Promise<NlMessage[]>, by: 'br' | 'dev' | undefined, name: string | undefined): Promise<Json[]> {
    const links = await linkDump;
    const names = linkNames(links);
    const masterOf = new Map(links.map((l) => [names.get(l.body.readInt32LE(4)), linkJson(l, names).master]));
    if (by && name !== undefined && !masterOf.has(name)) throw new LineError(`Cannot find device "${name}"`);
    const all = (await fdbDump).map((m) => fdbJson(m, names));
    // Filtered by device, bridge(8) leaves the device's name out, as ip neigh does.
    if (by === 'dev') return all.filter((e) => e.ifname === name).map(({ ifname: _, ...e }) => e);
    if (by === 'br') return all.filter((e) => e.ifname === name || masterOf.get(e.ifname as string) === name);
    return all;
  }
}
