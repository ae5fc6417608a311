// The `portmap` plugin (hostPort; capability `portMappings`), chained after flannel in K3s's conflist:
// the reference's nat chains (./portmap-rules.ts), written through src/host/iptables.ts in the
// runtime's namespace — the node's. ADD adds what is missing (a second ADD adds nothing), sets
// route_localnet on the interface towards the pod (so 127.0.0.1:hostPort works) and drops stale UDP
// conntrack entries of the host ports; DEL removes the container's chain whether or not the request
// still carries the mappings, and succeeds when there is nothing (or no namespace) left; CHECK looks
// for every rule ADD would make; GC (CNI 1.1.0) removes the chains of containers no longer attached.
// Writers of one namespace in this process take turns; a writer in another process that made a chain
// meanwhile makes `-N` fail, and the write is planned again from a fresh read.
import type { Netns } from '../host/netns.js';
import { netnsInode } from '../host/process.js';
import { iptablesRestore, iptablesSave, type IptablesFamily } from '../host/iptables.js';
import { conntrackDelete } from '../host/conntrack.js';
import { HostError } from '../host/errors.js';
import type { IptablesTable } from '../model/netfilter.js';
import { CniError, ErrorCode, SUPPORTED_VERSIONS, type CniResult } from './spec.js';
import type { CniPlugin, CniRequest, NetConf, PluginContext } from './plugin.js';
import { containerAddrs, parsePortmapConf, type ContainerAddr, type PortmapConf } from './portmap-config.js';
import { chainsFor, checkChains, mappedContainers, planAdd, planDel, type ChainSpec } from './portmap-rules.js';

/** The previous plugin's result, which a chained plugin needs. */
function prevResultOf(config: NetConf, what: string): CniResult {
  if (!config.prevResult) throw new CniError(ErrorCode.InvalidConfig, `prevResult: missing; ${what}`);
  return config.prevResult;
}

const turns = new Map<string, Promise<unknown>>();

/** Runs `fn` when every earlier writer of the same namespace (by inode) in this process is done. */
async function inTurn<T>(ns: Netns, fn: () => Promise<T>): Promise<T> {
  const key = String((await netnsInode(ns.path)) ?? ns.path);
  const before = turns.get(key) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(fn);
  const settled = mine.catch(() => undefined);
  turns.set(key, settled);
  void settled.then(() => { if (turns.get(key) === settled) turns.delete(key); });
  return mine;
}

/** The nat table of one family (undefined when iptables-save shows none). */
async function natTable(ctx: PluginContext, family: IptablesFamily): Promise<IptablesTable | undefined> {
  return (await iptablesSave(ctx.host.runner, ctx.hostNetns, { table: 'nat', family })).tables.find((t) => t.name === 'nat');
}

/** Reads the nat table, plans, writes; a conflict with another writer (a chain made or removed
 * meanwhile) is planned again from a fresh read, at most three times. With `optional`, a table that
 * cannot be read (ip6tables on a machine without IPv6) means there is nothing to do, as the reference
 * skips a family whose iptables is unusable. */
async function converge(ctx: PluginContext, family: IptablesFamily, plan: (t: IptablesTable | undefined) => string | undefined, optional = false): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let table: IptablesTable | undefined;
    try {
      table = await natTable(ctx, family);
    } catch (e) {
      if (optional && attempt === 1) return;
      throw e;
    }
    const text = plan(table);
    if (!text) return;
    try {
      await iptablesRestore(ctx.host.runner, ctx.hostNetns, text, { noflush: true, family });
      return;
    } catch (e) {
      const conflict = e instanceof HostError && (e.kind === 'exists' || e.kind === 'not-found' || /No chain\/target\/match by that name/.test(e.message));
      if (attempt >= 3 || !conflict) throw e;
    }
  }
}

const familyOf = (a: ContainerAddr): IptablesFamily => a.family;

/** Lets 127.0.0.0/8 cross into the pod: route_localnet on the interface the host routes `ip` through. */
async function routeLocalnet(ctx: PluginContext, ip: string): Promise<void> {
  const net = ctx.host.net(ctx.hostNetns);
  const dev = (await net.routeGet(ip).catch(() => undefined))?.dev;
  if (dev) (await net.batch([], [[`net/ipv4/conf/${dev}/route_localnet`, '1']])).ok();
}

/** Drops the UDP conntrack entries of the host ports, so old flows do not keep missing the new rules
 * (informative only: a failure does not fail the ADD, as in the reference). */
async function dropStaleUdp(ctx: PluginContext, conf: PortmapConf, family: IptablesFamily): Promise<void> {
  for (const m of conf.mappings.filter((x) => x.protocol === 'udp')) {
    await conntrackDelete(ctx.host.runner, ctx.hostNetns, { family: family === 6 ? 'ipv6' : 'ipv4', proto: 'udp', dport: m.hostPort }).catch(() => undefined);
  }
}

/** Removes the chains of `ids` in every family; ip6tables that cannot be read (no IPv6) is skipped. */
async function teardown(ctx: PluginContext, network: string, ids: readonly string[], families: readonly IptablesFamily[] = [4, 6]): Promise<void> {
  await Promise.all(families.map((family) => converge(ctx, family, (t) => planDel(t, network, ids), family === 6)));
}

/** ADD: the chains for each of the container's addresses; a failure removes what this ADD made. */
async function add(req: CniRequest, ctx: PluginContext): Promise<CniResult> {
  const conf = parsePortmapConf(req.config);
  const prev = prevResultOf(req.config, `"${req.config.type}" is a chained plugin: put it after a plugin that returns a result (flannel, bridge) in a conflist`);
  if (conf.mappings.length === 0) return prev;
  const addrs = containerAddrs(prev, req.ifname);
  const done: IptablesFamily[] = [];
  await inTurn(ctx.hostNetns, async () => {
    try {
      for (const a of addrs) {
        if (a.family === 4 && conf.snat) await routeLocalnet(ctx, a.ip);
        const chains = chainsFor(conf, req.containerId, a);
        done.push(familyOf(a));
        await converge(ctx, familyOf(a), (t) => planAdd(t, chains));
      }
    } catch (e) {
      const undo = await teardown(ctx, conf.name, [req.containerId], done).then(() => '', (u: unknown) => `; undoing the ADD failed too: ${(u as Error).message}`);
      throw new CniError(ErrorCode.Internal, `could not map ports ${conf.mappings.map((m) => `${m.hostPort}/${m.protocol}`).join(', ')}: ${(e as Error).message}${undo}`);
    }
  });
  for (const a of addrs) await dropStaleUdp(ctx, conf, familyOf(a));
  return prev;
}

/** DEL: the container's chains go, with or without mappings in the request; a namespace that is gone
 * holds no rules any more. Checks that refuse a config (bad ports) are ADD's and CHECK's only. */
async function del(req: CniRequest, ctx: PluginContext): Promise<void> {
  if (!(await ctx.host.exists(ctx.hostNetns.path))) return;
  await inTurn(ctx.hostNetns, () => teardown(ctx, req.config.name, [req.containerId]));
}

/** CHECK: every chain and rule ADD would have made for the container's addresses is there. */
async function check(req: CniRequest, ctx: PluginContext): Promise<void> {
  const conf = parsePortmapConf(req.config);
  const prev = prevResultOf(req.config, 'CHECK needs the result of ADD (prevResult) in the config');
  if (conf.mappings.length === 0) return;
  for (const a of containerAddrs(prev, req.ifname)) {
    const chains: ChainSpec[] = chainsFor(conf, req.containerId, a);
    const missing = checkChains(await natTable(ctx, familyOf(a)), chains);
    if (missing.length) throw new CniError(ErrorCode.Internal, `port mappings of ${req.containerId}: ${missing[0]}${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`);
  }
}

/** GC (CNI 1.1.0): removes the chains of this network's containers that are not in `cni.dev/valid-attachments`. */
async function gc(req: CniRequest, ctx: PluginContext): Promise<void> {
  const valid = req.config['cni.dev/valid-attachments'];
  if (valid !== undefined && !Array.isArray(valid)) throw new CniError(ErrorCode.InvalidConfig, 'cni.dev/valid-attachments: not a list of {"containerID", "ifname"}');
  const keep = new Set((valid ?? []).map((v: unknown) => String((v as { containerID?: unknown })?.containerID)));
  await inTurn(ctx.hostNetns, () => Promise.all(([4, 6] as const).map((family) =>
    converge(ctx, family, (t) => planDel(t, req.config.name, mappedContainers(t, req.config.name).filter((id) => !keep.has(id))), family === 6))));
}

/** The portmap plugin. */
export const portmap: CniPlugin = { type: 'portmap', versions: SUPPORTED_VERSIONS, add, del, check, gc };
