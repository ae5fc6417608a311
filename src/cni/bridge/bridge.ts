// The bridge plugin (k3s-networking-facts.md §2): a veth per container, its host end on a Linux
// bridge, addresses from an IPAM plugin, the gateway on the bridge. Host-side work goes into one
// iproute2 batch (shared with concurrent ADDs), the container side into one process.
import { addIp, canonical, formatCidr, networkOf, parseCidr } from '../../model/ip.js';
import { macFromBytes } from '../../model/mac.js';
import type { Link } from '../../model/kernel.js';
import { isKind } from '../../host/errors.js';
import type { BatchResult, LineFailure } from '../../host/iproute.js';
import { linkFromJson } from '../../model/kernel.js';
import { CniError, ErrorCode, SUPPORTED_VERSIONS, type CniDns, type CniIp, type CniResult, type CniRoute } from '../spec.js';
import type { CniPlugin, CniRequest, PluginContext } from '../plugin.js';
import { openNetns } from '../netns.js';
import { bridgeConf, refuseUnsupported, type BridgeConf } from './config.js';
import { masqSetup, masqTeardown } from './masq.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const exists = (f: LineFailure) => f.kind === 'exists';
const isV4 = (ip: CniIp) => !ip.address.includes(':');

/** How long ADD waits for the host veth to be operationally up (the reference's schedule), in ms. */
export const PORT_UP_WAITS = [0, 50, 500, 1000, 1000];
/** How many random host veth names ADD tries before giving up. */
const VETH_NAME_TRIES = 10;

/** Adds the gateway to every IP (network + 1 when IPAM gave none and isGateway) and the default route. */
function gatewaysAndRoutes(conf: BridgeConf, ipam: CniResult): { ips: CniIp[]; routes: CniRoute[] } {
  const ips = (ipam.ips ?? []).map((ip) => {
    const out: CniIp = { address: ip.address, interface: 2 };
    const gw = ip.gateway ?? (conf.isGateway && isV4(ip) ? addIp(networkOf(parseCidr(ip.address)), 1) : undefined);
    if (gw) out.gateway = gw;
    return out;
  });
  const routes = [...(ipam.routes ?? [])];
  const gw4 = ips.find((ip) => isV4(ip) && ip.gateway)?.gateway;
  if (conf.isDefaultGateway && gw4 && !routes.some((r) => r.dst === '0.0.0.0/0')) routes.push({ dst: '0.0.0.0/0', gw: gw4 });
  return { ips, routes };
}

/** The IPAM plugin's answer, checked before use (another plugin's output is not trusted): at least one
 * IP, addresses and gateways as strings, routes as a list of `{dst, gw?}`, dns an object. */
function checkIpamResult(type: string, r: CniResult | undefined): CniResult {
  if (!r?.ips?.length) throw new CniError(ErrorCode.Internal, 'IPAM plugin returned missing IP config');
  const str = (v: unknown, optional = false) => typeof v === 'string' || (optional && v === undefined);
  const obj = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
  const ok = Array.isArray(r.ips) && r.ips.every((ip) => obj(ip) && str(ip.address) && str(ip.gateway, true))
    && (r.routes === undefined || (Array.isArray(r.routes) && r.routes.every((rt) => obj(rt) && str(rt.dst) && str(rt.gw, true))))
    && (r.dns === undefined || obj(r.dns));
  if (!ok) throw new CniError(ErrorCode.DecodeFailure, `IPAM plugin "${type}" returned a result that is not a CNI result: ${JSON.stringify(r).slice(0, 200)}`);
  return r;
}

/** The lines that make the host side: bridge, veth (its peer created straight in the pod), port flags, gateway. */
function hostLines(conf: BridgeConf, bridgeLink: Link | undefined, bridgeMac: string, veth: string, req: CniRequest, gwAddrs: string[], stale: string[]): string[] {
  const mtu = conf.mtu ? ` mtu ${conf.mtu}` : '';
  const lines: string[] = [];
  // A new bridge gets its MAC at birth (pinned: it will not follow its ports); if a concurrent ADD made it
  // first, this line fails with "exists" and changes nothing. An existing bridge is pinned to the MAC it has.
  if (!bridgeLink) lines.push(`link add ${conf.bridge}${mtu}${conf.isGateway ? ` address ${bridgeMac}` : ''} type bridge`);
  else if (conf.isGateway) lines.push(`link set ${conf.bridge} address ${bridgeMac}`);
  if (conf.promiscMode) lines.push(`link set ${conf.bridge} promisc on`);
  lines.push(`link set ${conf.bridge} up`);
  lines.push(`link add ${veth}${mtu} type veth peer name ${req.ifname}${mtu}${conf.mac ? ` address ${conf.mac}` : ''} netns ${req.netns}`);
  lines.push(`link set ${veth} master ${conf.bridge}`);
  lines.push(`link set ${veth} type bridge_slave hairpin ${conf.hairpinMode ? 'on' : 'off'}`);
  lines.push(`link set ${veth} up`);
  for (const a of stale) lines.push(`addr del ${a} dev ${conf.bridge}`);
  for (const a of gwAddrs) lines.push(`addr add ${a} dev ${conf.bridge}`);
  lines.push(`link show dev ${veth}`, `link show dev ${conf.bridge}`);
  return lines;
}

/** The gateway addresses the bridge should hold, and the IPv4 addresses to remove first. Like the
 * reference: per gateway, walk the bridge's IPv4 addresses in order; the same address ends the walk, a
 * different one is removed with forceAddress and an error without it. */
function bridgeAddresses(conf: BridgeConf, ips: CniIp[], current: { local: string; prefix: number; family: string }[]): { add: string[]; stale: string[] } {
  if (!conf.isGateway) return { add: [], stale: [] };
  const add = [...new Set(ips.filter((ip) => isV4(ip) && ip.gateway).map((ip) => `${ip.gateway}/${parseCidr(ip.address).prefix}`))];
  const have = current.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefix}`);
  const stale = new Set<string>();
  for (const want of add) {
    for (const h of have) {
      if (h === want) break;
      // Another gateway of this same ADD (two IPv4 range sets) is not "different": keep it. (The
      // reference refuses the second gateway, or with forceAddress swaps the first one out.)
      if (add.includes(h)) continue;
      if (!conf.forceAddress) throw new CniError(ErrorCode.Internal, `"${conf.bridge}" already has an IP address different from ${want}`);
      stale.add(h);
    }
  }
  return { add, stale: [...stale] };
}

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
      const r = await hostNet.batch(hostLines(conf, bridgeLink, bridgeMac, name, req, gwAddrs, stale), [
        [`net/ipv6/conf/${name}/accept_ra`, '0'],
        [`net/ipv6/conf/${conf.bridge}/accept_ra`, '0'],
        ...(conf.isGateway ? [['net/ipv4/ip_forward', '1'] as const] : []),
      ]);
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

    const gw4 = ips.find((ip) => isV4(ip) && ip.gateway)?.gateway;
    const podLines = [
      `link set ${req.ifname} up`,
      ...ips.map((ip) => `addr add ${ip.address} dev ${req.ifname}`),
      ...routes.map((r) => `route add ${r.dst}${(r.gw ?? gw4) ? ` via ${r.gw ?? gw4}` : ''} dev ${req.ifname}`),
      `link show dev ${req.ifname}`,
    ];
    const pod = (await podNet.configure([
      [`net/ipv6/conf/${req.ifname}/accept_dad`, '0'],
      [`net/ipv4/conf/${req.ifname}/arp_notify`, '1'],
    ], podLines)).ok();
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
    // Self-undoing failure: remove what this ADD made (the veth pair goes with its host end), release the IP.
    if (veth) await hostNet.batch([`link del ${veth}`]).catch(() => undefined);
    await ctx.delegate(conf.ipamType, { ...req, command: 'DEL' }, req.stdin).catch(() => undefined);
    throw err;
  }
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
    const r = await hostNet.batch([`link show dev ${veth}`]);
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
      (await ctx.host.net(podNs).batch([`link del ${req.ifname}`])).ok((f) => f.kind === 'not-found');
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
