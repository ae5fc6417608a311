// The bridge plugin (docs/facts.md#the-bridge-plugin): a veth per container, its host end on a Linux
// bridge, addresses from an IPAM plugin, the gateway on the bridge. Host-side work goes into one
// iproute2 batch (shared with concurrent ADDs), the container side into one process.
import { canonical, formatCidr, parseCidr } from '../../model/ip.js';
import { macFromBytes } from '../../model/mac.js';
import { isKind } from '../../host/errors.js';
import type { BatchResult, LineFailure } from '../../host/iproute.js';
import { linkDel, linkShow } from '../../host/ip-lines.js';
import { linkFromJson } from '../../model/kernel.js';
import { CniError, ErrorCode, SUPPORTED_VERSIONS, type CniDns, type CniIp, type CniResult } from '../spec.js';
import type { CniPlugin, CniRequest, PluginContext } from '../plugin.js';
import type { Netns } from '../../host/netns.js';
import { openNetns } from '../netns.js';
import { bridgeConf, refuseUnsupported } from './config.js';
import { masqSetup, masqTeardown } from './masq.js';
import { bridgeAddresses, checkIpamResult, gatewaysAndRoutes, hostLines, hostSysctls, podLines, podSysctls } from './plan.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const exists = (f: LineFailure) => f.kind === 'exists';
const isV4 = (ip: CniIp) => !ip.address.includes(':');

/** How long ADD waits for the host veth to be operationally up (the reference's schedule), in ms. */
export const PORT_UP_WAITS = [0, 50, 500, 1000, 1000];
/** How many random host veth names ADD tries before giving up. */
const VETH_NAME_TRIES = 10;

async function add(req: CniRequest, ctx: PluginContext): Promise<CniResult> {
  const conf = bridgeConf(req);
  refuseUnsupported(conf);
  const podNs = await openNetns(ctx.host, req.netns);
  const hostNet = ctx.host.net(ctx.hostNetns);
  const podNet = ctx.host.net(podNs);

  // Only the bridge is read (one read shared with concurrent ADDs), never every link of the node.
  const { link: bridgeLink, addrs } = await hostNet.addrShow(conf.bridge);
  if (bridgeLink && bridgeLink.kind !== 'bridge') throw new CniError(ErrorCode.Internal, `"${conf.bridge}" already exists but is not a bridge`);

  const ipam = await ctx.delegate(conf.ipamType, req, req.stdin);
  let veth: string | undefined;
  try {
    const { ips, routes } = gatewaysAndRoutes(conf, checkIpamResult(conf.ipamType, ipam));
    const { add: gwAddrs, stale } = bridgeAddresses(conf, ips, addrs);
    const bridgeMac = bridgeLink?.mac ?? macFromBytes(ctx.random(6));

    let host: BatchResult | undefined;
    for (let i = 0; i < VETH_NAME_TRIES && !host; i++) {
      const name = `veth${hex(ctx.random(4))}`;
      const lines = hostLines(conf, { bridgeExists: !!bridgeLink, bridgeMac, veth: name, ifname: req.ifname, netns: req.netns, gateways: gwAddrs, stale });
      const r = await hostNet.batch(lines, hostSysctls(conf, name));
      const vethLine = r.lines.findIndex((l) => l.startsWith(`link add ${name}`)) + 1;
      const vethFailure = r.failures.find((f) => f.line === vethLine);
      if (vethFailure?.kind === 'exists') {
        if ((await podNet.linkList()).some((l) => l.name === req.ifname)) {
          throw new CniError(ErrorCode.Internal, `container veth name provided (${req.ifname}) already exists`);
        }
        continue; // the random host name collided: try another
      }
      if (!vethFailure) veth = name;
      host = r.ok((f) => exists(f) && !f.text.startsWith(`link add ${name}`) || (f.kind === 'not-found' && f.text.startsWith('addr del')));
    }
    if (!host || !veth) throw new CniError(ErrorCode.Internal, `could not find a free host veth name after ${VETH_NAME_TRIES} tries`);
    const [vethJson, bridgeJson] = host.shows.map((s) => s[0]);
    const pod = (await podNet.configure(podSysctls(req.ifname), podLines(req.ifname, ips, routes))).ok();
    if (conf.ipMasq) {
      await masqSetup(ctx.host.runner, ctx.hostNetns, req.config.name, req.containerId,
        ips.filter(isV4).map((ip) => ({ ip: ip.address.split('/')[0], subnet: formatCidr(canonical(parseCidr(ip.address))) })));
    }
    if (!ctx.host.dryRun) await waitPortUp(ctx, veth);

    const podLink = pod.shows[0]?.[0];
    return {
      cniVersion: req.config.cniVersion,
      interfaces: [
        { name: conf.bridge, mac: bridgeJson ? linkFromJson(bridgeJson).mac : bridgeMac },
        { name: veth, mac: vethJson ? linkFromJson(vethJson).mac : '' },
        { name: req.ifname, mac: podLink ? linkFromJson(podLink).mac : (conf.mac ?? ''), sandbox: req.netns },
      ],
      ips,
      // Like the reference: no `routes` key when there are none.
      ...(routes.length ? { routes } : {}),
      // Like the reference, the result's DNS is the network config's `dns` (not IPAM's).
      ...(dnsOf(req.config.dns) ? { dns: dnsOf(req.config.dns) } : {}),
    };
  } catch (err) {
    const undone = await undoAdd(ctx, req, conf.ipamType, podNs, veth);
    if (undone === undefined) throw err;
    const e = err instanceof CniError ? err : new CniError(ErrorCode.Internal, (err as Error).message);
    throw new CniError(e.code, `${e.message}; undoing the ADD failed too: ${undone}`, e.details);
  }
}

/** Undoes a failed ADD honestly: removes the veth pair (by its host end, else its pod end), then
 * releases the address — but only when no interface of the pod holds it any more, so a pair that could
 * not be removed never leaves its address free for the next pod. Resolves with what could not be
 * undone, or undefined when all was. */
async function undoAdd(ctx: PluginContext, req: CniRequest, ipamType: string, podNs: Netns, veth: string | undefined): Promise<string | undefined> {
  const problems: string[] = [];
  if (veth) {
    const gone = (f: { kind: string }) => f.kind === 'not-found';
    const host = await ctx.host.net(ctx.hostNetns).batch([linkDel(veth)]).then((r) => r.failures.every(gone), () => false);
    const pod = host || await ctx.host.net(podNs).batch([linkDel(req.ifname)]).then((r) => r.failures.every(gone), () => false);
    if (!pod) problems.push(`the veth pair ${veth} ↔ ${req.ifname} could not be removed`);
  }
  const held = await ctx.host.net(podNs).addrShow(req.ifname).then((a) => a.addrs.filter((x) => x.family === 'inet').map((x) => x.local), () => [] as string[]);
  if (held.length) {
    problems.push(`${req.ifname} still holds ${held.join(', ')}: the address stays reserved (DEL releases it)`);
  } else {
    await ctx.delegate(ipamType, { ...req, command: 'DEL' }, req.stdin).catch((e: unknown) => problems.push(`releasing the address: ${(e as Error).message}`));
  }
  return problems.length ? problems.join('; ') : undefined;
}

/** The config's `dns` object if it holds anything, else undefined. */
function dnsOf(raw: unknown): CniDns | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const dns: CniDns = {};
  const r = raw as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (list(r.nameservers).length) dns.nameservers = list(r.nameservers);
  if (typeof r.domain === 'string' && r.domain) dns.domain = r.domain;
  if (list(r.search).length) dns.search = list(r.search);
  if (list(r.options).length) dns.options = list(r.options);
  return Object.keys(dns).length ? dns : undefined;
}

/** Waits until the host veth is operationally up, on the reference's schedule; "bridge port in error state" otherwise. */
async function waitPortUp(ctx: PluginContext, veth: string): Promise<void> {
  const hostNet = ctx.host.net(ctx.hostNetns);
  for (const ms of PORT_UP_WAITS) {
    if (ms) await ctx.sleep(ms);
    const r = await hostNet.batch([linkShow(veth)]);
    const json = r.shows[0]?.[0];
    if (json && linkFromJson(json).operstate === 'UP') return;
  }
  throw new CniError(ErrorCode.Internal, `bridge port in error state: ${veth} is not up`);
}

async function del(req: CniRequest, ctx: PluginContext): Promise<void> {
  const conf = bridgeConf(req);
  if (req.netns && (await ctx.host.exists(req.netns))) {
    try {
      const podNs = await openNetns(ctx.host, req.netns);
      (await ctx.host.net(podNs).batch([linkDel(req.ifname)])).ok((f) => f.kind === 'not-found');
    } catch (e) {
      if (!isKind(e, 'not-found') && !(e instanceof CniError && e.code === ErrorCode.IoFailure)) throw e;
    }
  }
  await ctx.delegate(conf.ipamType, req, req.stdin);
  // Unlike the reference, remove the masquerade chain even when the interface was already gone.
  if (conf.ipMasq) await masqTeardown(ctx.host.runner, ctx.hostNetns, req.config.name, req.containerId);
}

async function check(req: CniRequest, ctx: PluginContext): Promise<void> {
  const conf = bridgeConf(req);
  refuseUnsupported(conf);
  const prev = req.config.prevResult;
  if (!prev) throw new CniError(ErrorCode.InvalidConfig, 'prevResult: CHECK needs the result of ADD (prevResult) in the config');
  await ctx.delegate(conf.ipamType, req, req.stdin);
  const podNs = await openNetns(ctx.host, req.netns);
  const hostLinks = await ctx.host.net(ctx.hostNetns).linkList();
  const br = hostLinks.find((l) => l.name === conf.bridge);
  if (!br || br.kind !== 'bridge') throw new CniError(ErrorCode.Internal, `bridge "${conf.bridge}" is missing or is not a bridge`);
  const want = prev.interfaces?.find((i) => i.name === req.ifname && i.sandbox);
  if (!want) throw new CniError(ErrorCode.Internal, `prevResult has no interface "${req.ifname}" in a sandbox`);
  const { links, addrs } = await ctx.host.net(podNs).linksAndAddrs();
  const c = links.find((l) => l.name === req.ifname);
  if (!c) throw new CniError(ErrorCode.Internal, `container interface ${req.ifname} not found in ${req.netns}`);
  if (c.kind !== 'veth') throw new CniError(ErrorCode.Internal, `container interface ${req.ifname} is not a veth`);
  if (want.mac && c.mac !== want.mac) throw new CniError(ErrorCode.Internal, `interface ${req.ifname} MAC ${c.mac} differs from the ADD result's ${want.mac}`);
  const peer = hostLinks.find((l) => l.index === c.peerIndex && l.kind === 'veth');
  if (!peer) throw new CniError(ErrorCode.Internal, `the host end of ${req.ifname} (ifindex ${c.peerIndex}) is missing`);
  if (peer.master !== conf.bridge) throw new CniError(ErrorCode.Internal, `host veth ${peer.name} is not attached to ${conf.bridge}`);
  for (const ip of prev.ips ?? []) {
    const [a, p] = ip.address.split('/');
    if (!addrs.some((x) => x.link === req.ifname && x.local === a && x.prefix === Number(p))) {
      throw new CniError(ErrorCode.Internal, `address ${ip.address} is missing from ${req.ifname}`);
    }
  }
  const routes = await ctx.host.net(podNs).routeList();
  for (const r of prev.routes ?? []) {
    const dst = r.dst === '0.0.0.0/0' ? 'default' : r.dst;
    if (!routes.some((x) => x.dst === dst && (!r.gw || x.gateway === r.gw))) {
      throw new CniError(ErrorCode.Internal, `route ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing in ${req.netns}`);
    }
  }
}

/** STATUS and GC: what the bridge itself holds needs nothing; its IPAM plugin answers (host-local
 * reports an unusable data directory with code 50, and releases stale addresses on GC). */
async function forward(req: CniRequest, ctx: PluginContext): Promise<void> {
  await ctx.delegate(bridgeConf(req).ipamType, req, req.stdin);
}

/** The bridge plugin. */
export const bridge: CniPlugin = { type: 'bridge', versions: SUPPORTED_VERSIONS, add, del, check, status: forward, gc: forward };
