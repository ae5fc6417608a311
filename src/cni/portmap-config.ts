// The portmap plugin's configuration as the reference reads it (containernetworking/plugins
// plugins/meta/portmap, 1.1.1): `runtimeConfig.portMappings` [{hostPort, containerPort, protocol,
// hostIP}], `snat` (default true), `markMasqBit` (default 13: mark 0x2000) or `externalSetMarkChain`,
// and which of the previous result's addresses are the container's (the first IPv4 and the first
// IPv6 on CNI_IFNAME inside a sandbox). IPv6 addresses are written the way ip6tables prints them.
// Pure.
import { CniError, ErrorCode, type CniResult } from './spec.js';
import type { NetConf } from './plugin.js';
import ipaddr from 'ipaddr.js';
import { networkOf, parseCidr, parseIPv4 } from '../model/ip.js';

/** One port mapping (CNI's CONVENTIONS.md `portMappings`). */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  /** Lower case, as kubelet passes it: `tcp`, `udp`, `sctp`. */
  protocol: string;
  hostIP?: string;
}

/** What the plugin reads from its config. */
export interface PortmapConf {
  /** The network's name (the per-container chain name and comments derive from it). */
  name: string;
  mappings: PortMapping[];
  /** Mark and masquerade hairpin and localhost connections (default true). */
  snat: boolean;
  /** The bit of the masquerade mark (default 13: 0x2000). */
  markBit: number;
  /** Set when the config names a chain of its own that sets the mark (then podnet makes no SETMARK/MASQ chain). */
  externalSetMarkChain?: string;
}

/** One address of the container, as the rules use it. */
export interface ContainerAddr {
  family: 4 | 6;
  /** The bare address (IPv6 compressed, lower case). */
  ip: string;
  /** The address's network with its prefix, as iptables prints `-s` (10.42.0.0/24). */
  network: string;
}

/** The default mark bit (Kubernetes uses 14 and 15, Calico 20–31). */
export const DEFAULT_MARK_BIT = 13;

const bad = (field: string, msg: string) => new CniError(ErrorCode.InvalidConfig, `${field}: ${msg}`);

/** Reads one mapping; the reference refuses ports ≤ 0, podnet also ports above 65535 and unknown protocols. */
function mappingOf(raw: unknown, i: number): PortMapping {
  const at = `runtimeConfig.portMappings[${i}]`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(at, `${JSON.stringify(raw)} is not a mapping like {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}`);
  const m = raw as Record<string, unknown>;
  const port = (k: 'hostPort' | 'containerPort') => {
    const v = m[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw bad(`${at}.${k}`, `${JSON.stringify(v)} is not a port number from 1 to 65535`);
    return v;
  };
  const hostPort = port('hostPort');
  const containerPort = port('containerPort');
  const protocol = String(m.protocol ?? '').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw bad(`${at}.protocol`, `${JSON.stringify(m.protocol)} is not tcp, udp or sctp`);
  const hostIP = m.hostIP;
  if (hostIP !== undefined && hostIP !== '' && (typeof hostIP !== 'string' || familyOf(hostIP) === undefined)) throw bad(`${at}.hostIP`, `${JSON.stringify(hostIP)} is not an IP address`);
  return { hostPort, containerPort, protocol, ...(typeof hostIP === 'string' && hostIP ? { hostIP } : {}) };
}

/** The mappings of a config (none when `runtimeConfig.portMappings` is absent or empty). */
export function mappingsOf(config: NetConf): PortMapping[] {
  const raw = config.runtimeConfig?.portMappings;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw bad('runtimeConfig.portMappings', `${JSON.stringify(raw)} is not a list of mappings`);
  return raw.map(mappingOf);
}

/** Reads the plugin's config; a bad value is code 7 naming the field, a key podnet does not
 * implement (`conditionsV4`, `conditionsV6`) code 2. */
export function parsePortmapConf(config: NetConf): PortmapConf {
  for (const k of ['conditionsV4', 'conditionsV6'] as const) {
    const v = config[k];
    if (Array.isArray(v) && v.length > 0) throw new CniError(ErrorCode.UnsupportedField, `${k}: podnet's portmap does not add extra match conditions; leave it out, or chain the reference "portmap"`);
  }
  const snat = config.snat ?? true;
  if (typeof snat !== 'boolean') throw bad('snat', `${JSON.stringify(snat)} is not true or false`);
  const ext = config.externalSetMarkChain;
  if (ext !== undefined && ext !== null && (typeof ext !== 'string' || !/^[A-Za-z0-9_.-]{1,28}$/.test(ext))) throw bad('externalSetMarkChain', `${JSON.stringify(ext)} is not an iptables chain name`);
  const markBit = config.markMasqBit ?? DEFAULT_MARK_BIT;
  if (typeof ext === 'string' && config.markMasqBit !== undefined && config.markMasqBit !== null) throw bad('markMasqBit', 'cannot be given with externalSetMarkChain');
  if (typeof markBit !== 'number' || !Number.isInteger(markBit) || markBit < 0 || markBit > 31) throw bad('markMasqBit', `${JSON.stringify(markBit)} is not a bit from 0 to 31`);
  return { name: config.name, mappings: mappingsOf(config), snat, markBit, ...(typeof ext === 'string' ? { externalSetMarkChain: ext } : {}) };
}

/** The mark value and mask as iptables prints them (`0x2000/0x2000`). */
export function markOf(bit: number): string {
  const v = `0x${(2 ** bit).toString(16)}`;
  return `${v}/${v}`;
}

/** 4 or 6 for an address, undefined when it is neither. */
export function familyOf(ip: string): 4 | 6 | undefined {
  try {
    parseIPv4(ip);
    return 4;
  } catch {
    return ipaddr.IPv6.isValid(ip) && !ip.includes('%') ? 6 : undefined;
  }
}

/** An address as iptables prints it (IPv6 compressed, lower case); IPv4 as it is. */
export function canonicalIp(ip: string): string {
  return familyOf(ip) === 6 ? ipaddr.IPv6.parse(ip).toString() : ip;
}

/** An address and its network (`fd00:22::2/64` → ip `fd00:22::2`, network `fd00:22::/64`), IPv6 written
 * as ip6tables prints it (RFC 5952); undefined when `cidr` is not an address with a prefix. */
export function addrOf(cidr: string): ContainerAddr | undefined {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  if (familyOf(ip) === 4 && Number.isInteger(prefix) && prefix >= 0 && prefix <= 32) return { family: 4, ip, network: `${networkOf(parseCidr(`${ip}/${prefix}`))}/${prefix}` };
  if (familyOf(ip) !== 6 || !Number.isInteger(prefix) || prefix < 0 || prefix > 128) return undefined;
  return { family: 6, ip: canonicalIp(ip), network: `${ipaddr.IPv6.networkAddressFromCIDR(`${ip}/${prefix}`).toString()}/${prefix}` };
}

/** The container's addresses in a previous result: the first IPv4 and the first IPv6 whose interface
 * (when the IP names one) is `ifname` inside a sandbox, as the reference picks them. */
export function containerAddrs(prev: CniResult, ifname: string): ContainerAddr[] {
  const out: ContainerAddr[] = [];
  for (const ip of prev.ips ?? []) {
    const a = addrOf(ip.address);
    if (!a || out.some((o) => o.family === a.family)) continue;
    const idx = ip.interface;
    const itf = idx !== undefined && idx >= 0 ? prev.interfaces?.[idx] : undefined;
    if (itf && (itf.name !== ifname || !itf.sandbox)) continue;
    out.push(a);
  }
  return out;
}
