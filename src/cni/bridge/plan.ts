// The bridge plugin's decisions, apart from the kernel: which gateways and routes a result gets,
// which addresses the bridge must hold (and lose), and the exact iproute2 lines for the node side
// and the pod side of an ADD. Pure: unit-tested without a kernel (test/unit/cni/bridge-plan.test.ts).
import { addIp, networkOf, parseCidr } from '../../model/ip.js';
import {
  addrAdd, addrDel, linkAddBridge, linkAddVeth, linkSetAddress, linkSetHairpin, linkSetMaster, linkSetPromisc, linkSetUp, linkShow, routeAdd, type IpLine,
} from '../../host/ip-lines.js';
import type { SysctlEntry } from '../../host/batch.js';
import { CniError, ErrorCode, type CniIp, type CniResult, type CniRoute } from '../spec.js';
import type { BridgeConf } from './config.js';

const isV4 = (ip: CniIp) => !ip.address.includes(':');

/** Adds the gateway to every IP (network + 1 when IPAM gave none and isGateway) and the default route. */
export function gatewaysAndRoutes(conf: Pick<BridgeConf, 'isGateway' | 'isDefaultGateway'>, ipam: CniResult): { ips: CniIp[]; routes: CniRoute[] } {
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
export function checkIpamResult(type: string, r: CniResult | undefined): CniResult {
  if (!r?.ips?.length) throw new CniError(ErrorCode.Internal, 'IPAM plugin returned missing IP config');
  const str = (v: unknown, optional = false) => typeof v === 'string' || (optional && v === undefined);
  const obj = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
  const ok = Array.isArray(r.ips) && r.ips.every((ip) => obj(ip) && str(ip.address) && str(ip.gateway, true))
    && (r.routes === undefined || (Array.isArray(r.routes) && r.routes.every((rt) => obj(rt) && str(rt.dst) && str(rt.gw, true))))
    && (r.dns === undefined || obj(r.dns));
  if (!ok) throw new CniError(ErrorCode.DecodeFailure, `IPAM plugin "${type}" returned a result that is not a CNI result: ${JSON.stringify(r).slice(0, 200)}`);
  return r;
}

/** The gateway addresses the bridge should get, and the IPv4 addresses to remove first. Like the
 * reference: per gateway, walk the bridge's IPv4 addresses in order; the same address ends the walk, a
 * different one is removed with forceAddress and an error without it. */
export function bridgeAddresses(conf: Pick<BridgeConf, 'bridge' | 'isGateway' | 'forceAddress'>, ips: CniIp[], current: readonly { local: string; prefix: number; family: string }[]): { add: string[]; stale: string[] } {
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
  // Only what the bridge lacks: an address it holds already would make the line fail (tolerated, but a
  // replayed --dry-run script stops at it).
  return { add: add.filter((a) => !have.includes(a)), stale: [...stale] };
}

/** What the node side of one ADD needs to know. */
export interface HostSide {
  /** True when the bridge exists already (its MAC is then kept). */
  bridgeExists: boolean;
  bridgeMac: string;
  veth: string;
  ifname: string;
  /** The pod's namespace (a path or a pinned name): the peer is created straight in it. */
  netns: string;
  gateways: string[];
  stale: string[];
}

/** The node side of an ADD as iproute2 lines: bridge (made with its MAC pinned, or pinned to the MAC
 * it has), the veth pair with its pod end born in the pod's namespace, port flags, gateway addresses,
 * and two reads (the veth, the bridge) whose JSON the result reports. */
export function hostLines(conf: BridgeConf, h: HostSide): IpLine[] {
  const mtu = conf.mtu || undefined;
  const lines: IpLine[] = [];
  // If a concurrent ADD made the bridge first, its `link add` fails with "exists" and changes nothing.
  if (!h.bridgeExists) lines.push(linkAddBridge(conf.bridge, { mtu, ...(conf.isGateway ? { mac: h.bridgeMac } : {}) }));
  else if (conf.isGateway) lines.push(linkSetAddress(conf.bridge, h.bridgeMac));
  if (conf.promiscMode) lines.push(linkSetPromisc(conf.bridge, true));
  lines.push(linkSetUp(conf.bridge));
  lines.push(linkAddVeth(h.veth, h.ifname, { mtu, peerMac: conf.mac, peerNetns: h.netns }));
  lines.push(linkSetMaster(h.veth, conf.bridge), linkSetHairpin(h.veth, conf.hairpinMode), linkSetUp(h.veth));
  for (const a of h.stale) lines.push(addrDel(a, conf.bridge));
  for (const a of h.gateways) lines.push(addrAdd(a, conf.bridge));
  lines.push(linkShow(h.veth), linkShow(conf.bridge));
  return lines;
}

/** The sysctls written with the node side: no router advertisements on the new ports; forwarding on
 * a gateway bridge. */
export function hostSysctls(conf: BridgeConf, veth: string): SysctlEntry[] {
  return [
    [`net/ipv6/conf/${veth}/accept_ra`, '0'],
    [`net/ipv6/conf/${conf.bridge}/accept_ra`, '0'],
    ...(conf.isGateway ? [['net/ipv4/ip_forward', '1'] as const] : []),
  ];
}

/** The pod side of an ADD: the interface up, its addresses, its routes (through the IPv4 gateway
 * when a route names none), and a read of the interface. */
export function podLines(ifname: string, ips: readonly CniIp[], routes: readonly CniRoute[]): IpLine[] {
  const gw4 = ips.find((ip) => isV4(ip) && ip.gateway)?.gateway;
  return [
    linkSetUp(ifname),
    ...ips.map((ip) => addrAdd(ip.address, ifname)),
    ...routes.map((r) => routeAdd(r.dst, { via: r.gw ?? gw4, dev: ifname })),
    linkShow(ifname),
  ];
}

/** The sysctls of the pod side: no duplicate address detection, gratuitous ARP on address changes. */
export function podSysctls(ifname: string): SysctlEntry[] {
  return [[`net/ipv6/conf/${ifname}/accept_dad`, '0'], [`net/ipv4/conf/${ifname}/arp_notify`, '1']];
}
