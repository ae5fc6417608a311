// Flannel's subnet leases as data (docs/facts.md#flannel): the network config at
// `/coreos.com/network/config`, one key per node subnet at `/coreos.com/network/subnets/10.42.1.0-24`
// holding `{"PublicIP","BackendType","BackendData":{"VNI","VtepMAC"}}`, and how a node picks its
// subnet (our lease, else the previous subnet from subnet.env, else a free one). Pure: the stores
// that hold these keys live in src/overlay.
import { z } from 'zod';
import { AddressError, containsCidr, formatCidr, intToIp, ipToInt, parseCidr, parseIPv4, type Cidr } from './ip.js';
import { parseMac } from './mac.js';

/** flannel's key prefix in etcd (and in podnet's file store). */
export const FLANNEL_PREFIX = '/coreos.com/network';
export const CONFIG_KEY = `${FLANNEL_PREFIX}/config`;
export const SUBNETS_PREFIX = `${FLANNEL_PREFIX}/subnets/`;

/** A lease problem: the key and what is wrong with it. One line. */
export class LeaseError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'LeaseError';
  }
}

const ipv4 = z.string().refine((v) => { try { parseIPv4(v); return true; } catch { return false; } }, { message: 'must be an IPv4 address like 198.51.100.2' });
const cidr = z.string().refine((v) => { try { parseCidr(v); return true; } catch { return false; } }, { message: 'must be a CIDR like 10.42.0.0/16' });

/** The network config flannel reads from `<prefix>/config` (its JSON field names). */
export const networkConfigSchema = z.object({
  Network: cidr,
  SubnetLen: z.number().int().min(8).max(30).default(24),
  SubnetMin: ipv4.optional(),
  SubnetMax: ipv4.optional(),
  Backend: z.object({
    Type: z.literal('vxlan', { message: 'podnet speaks flannel\'s "vxlan" backend only' }).default('vxlan'),
    VNI: z.number().int().min(0).max(16777215).default(1),
    Port: z.number().int().min(0).max(65535).default(0),
  }).loose().default({ Type: 'vxlan', VNI: 1, Port: 0 }),
}).loose();
export type NetworkConfig = z.infer<typeof networkConfigSchema>;

/** A lease's value (flannel's JSON field names). */
export const leaseAttrsSchema = z.object({
  PublicIP: ipv4,
  BackendType: z.literal('vxlan', { message: 'must be "vxlan"' }),
  BackendData: z.object({
    VNI: z.number().int().min(0).max(16777215),
    VtepMAC: z.string().refine((v) => parseMac(v) !== undefined, { message: 'must be a MAC like 7a:1b:2c:3d:4e:5f' }),
  }).loose(),
}).loose();
export type LeaseAttrs = z.infer<typeof leaseAttrsSchema>;

/** One node's subnet lease. */
export interface Lease {
  subnet: string;
  attrs: LeaseAttrs;
  /** When it expires; none for a reservation (a key without TTL). */
  expiresAt?: string;
}

/** `10.42.1.0/24` ↔ `10.42.1.0-24`, the key flannel uses. */
export function subnetKey(subnet: string): string {
  return `${SUBNETS_PREFIX}${subnet.replace('/', '-')}`;
}

/** The subnet a key names, or a LeaseError. */
export function subnetOfKey(key: string): string {
  const m = key.startsWith(SUBNETS_PREFIX) ? /^(\d+\.\d+\.\d+\.\d+)-(\d+)$/.exec(key.slice(SUBNETS_PREFIX.length)) : null;
  if (!m) throw new LeaseError(key, `not a subnet key (expected ${SUBNETS_PREFIX}10.42.1.0-24)`);
  try {
    return formatCidr(parseCidr(`${m[1]}/${m[2]}`));
  } catch (e) {
    throw new LeaseError(key, (e as AddressError).message);
  }
}

const firstIssue = (e: z.ZodError) => {
  const i = e.issues[0];
  return `${i.path.length ? `${i.path.join('.')} ` : ''}${i.message.replace(/^Invalid input: /, '')}`;
};

/** Parses a lease value read at `key`. Throws a LeaseError naming the key and the bad field. */
export function parseLease(key: string, value: string, expiresAt?: string): Lease {
  const subnet = subnetOfKey(key);
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new LeaseError(key, `value is not JSON (expected {"PublicIP":…,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":…}})`);
  }
  const r = leaseAttrsSchema.safeParse(json);
  if (!r.success) throw new LeaseError(key, firstIssue(r.error));
  return { subnet, attrs: r.data, ...(expiresAt ? { expiresAt } : {}) };
}

/** The JSON flannel stores for a lease. */
export function formatLease(attrs: LeaseAttrs): string {
  return JSON.stringify({ PublicIP: attrs.PublicIP, BackendType: attrs.BackendType, BackendData: { VNI: attrs.BackendData.VNI, VtepMAC: attrs.BackendData.VtepMAC } });
}

/** Parses the network config; a LeaseError names the field. Fills flannel's defaults for the range. */
export function parseNetworkConfig(value: string): Required<Pick<NetworkConfig, 'Network' | 'SubnetLen' | 'SubnetMin' | 'SubnetMax'>> & NetworkConfig {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new LeaseError(CONFIG_KEY, 'value is not JSON (expected {"Network":"10.42.0.0/16","Backend":{"Type":"vxlan"}})');
  }
  const r = networkConfigSchema.safeParse(json);
  if (!r.success) throw new LeaseError(CONFIG_KEY, firstIssue(r.error));
  const c = r.data;
  const net = parseCidr(c.Network);
  if (c.SubnetLen < net.prefix) throw new LeaseError(CONFIG_KEY, `SubnetLen ${c.SubnetLen} is shorter than the Network's /${net.prefix}`);
  const size = 2 ** (32 - c.SubnetLen);
  const base = ipToInt(net.ip);
  // flannel's defaults: skip the network's first subnet, end at its last one.
  const min = c.SubnetMin ?? intToIp(base + size);
  const max = c.SubnetMax ?? intToIp(base + 2 ** (32 - net.prefix) - size);
  for (const [field, ip] of [['SubnetMin', min], ['SubnetMax', max]] as const) {
    if (!containsCidr(net, parseCidr(`${ip}/${c.SubnetLen}`))) throw new LeaseError(CONFIG_KEY, `${field} ${ip} is outside Network ${c.Network}`);
  }
  return { ...c, SubnetMin: min, SubnetMax: max };
}

/** The config a lab (or `podnet agent --init`) writes: K3s's cluster CIDR, /24 per node, starting at
 * 10.42.0.0 as K3s hands out node pod CIDRs (flannel alone would skip the first subnet). */
export function labNetworkConfig(clusterCIDR: string, subnetLen = 24): string {
  const net = parseCidr(clusterCIDR);
  return JSON.stringify({ Network: formatCidr(net), SubnetLen: subnetLen, SubnetMin: net.ip, Backend: { Type: 'vxlan', VNI: 1, Port: 8472 } });
}

/** What acquiring decides. */
export type Choice =
  | { kind: 'reuse'; lease: Lease }
  | { kind: 'create'; subnet: string }
  | { kind: 'full' };

/** Picks our subnet as flannel does: a lease that carries our PublicIP; else the previous subnet
 * (from subnet.env) or a hinted one (a lab's declared podCIDR, like K3s's node.spec.podCIDR) when
 * free and in range; else a free subnet in [SubnetMin, SubnetMax], drawn with `pick`. */
export function chooseSubnet(o: {
  config: ReturnType<typeof parseNetworkConfig>;
  leases: readonly Lease[];
  publicIP: string;
  previous?: string;
  hint?: string;
  /** Subnets held by keys that cannot be read (a corrupt value still occupies its subnet). */
  unreadable?: readonly string[];
  pick: (n: number) => number;
}): Choice {
  const ours = o.leases.find((l) => l.attrs.PublicIP === o.publicIP);
  if (ours) return { kind: 'reuse', lease: ours };
  const taken = new Set([...o.leases.map((l) => l.subnet), ...(o.unreadable ?? [])]);
  const len = o.config.SubnetLen;
  const min = ipToInt(o.config.SubnetMin);
  const max = ipToInt(o.config.SubnetMax);
  const inRange = (s: string) => {
    const c: Cidr = parseCidr(s);
    const at = ipToInt(c.ip);
    return c.prefix === len && at >= min && at <= max;
  };
  for (const want of [o.previous, o.hint]) {
    if (want && inRange(want) && !taken.has(formatCidr(parseCidr(want)))) return { kind: 'create', subnet: formatCidr(parseCidr(want)) };
  }
  const size = 2 ** (32 - len);
  const free: string[] = [];
  for (let at = min; at <= max && free.length < 4096; at += size) {
    const s = `${intToIp(at)}/${len}`;
    if (!taken.has(s)) free.push(s);
  }
  if (free.length === 0) return { kind: 'full' };
  return { kind: 'create', subnet: free[o.pick(free.length) % free.length] };
}
