// The host-local IPAM plugin (docs/facts.md#host-local): reads `ipam` from the config, hands out
// one address per range set round robin from a Store shared with the reference plugin, releases by
// (container, ifname). Also GC (drops reservations of attachments the runtime no longer has) and
// STATUS (the data directory is usable), which the reference lacks.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CniError, ErrorCode, parseCniArgs, type CniDns, type CniIp, type CniRoute } from '../spec.js';
import type { CniPlugin, CniRequest, NetConf, PluginContext } from '../plugin.js';
import type { Store } from './store.js';
import { exhaustedError, formatRangeSet, nextIP, parseRangeSets, rangeFor, rangeSetSize, type RangeSet } from './allocator.js';
import { AddressError, parseCidr, parseIPv4 } from '../../model/ip.js';

/** Where host-local keeps reservations when `ipam.dataDir` is not given. */
export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';
/** The CNI_ARGS keys host-local accepts without IgnoreUnknown=1. */
export const CNI_ARGS_KEYS = ['IP', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID', 'MAC'] as const;
/** The top-level config key GC reads the attachments to keep from. */
export const VALID_ATTACHMENTS = 'cni.dev/valid-attachments';

const CIDR = 'want a CIDR string (like 10.42.0.0/24)';
const IP = 'want an IPv4 address string (like 10.42.0.1)';
const text = (error: string) => z.string({ error });
const int = z.number({ error: 'want an integer' }).int({ error: 'want an integer' }).optional();

const rangeSchema = z.looseObject({ subnet: text(CIDR), rangeStart: text(IP).optional(), rangeEnd: text(IP).optional(), gateway: text(IP).optional() },
  { error: 'want a range like {"subnet": "10.42.0.0/24"}' });
const routeSchema = z.looseObject({ dst: text(CIDR), gw: text(IP).optional(), mtu: int, advmss: int, priority: int, table: int, scope: int },
  { error: 'want a route like {"dst": "10.42.0.0/16"}' });
const ipsSchema = z.array(text(IP), { error: 'want a list of IPv4 addresses like ["10.42.0.5"]' }).optional();

const confSchema = z.looseObject({
  ipam: z.looseObject({
    type: text('want the IPAM plugin type as a string ("host-local")'),
    ranges: z.array(z.array(rangeSchema, { error: 'want a range set: a list of ranges like [{"subnet": "10.42.0.0/24"}]' }),
      { error: 'want a list of range sets like [[{"subnet": "10.42.0.0/24"}]]' }).optional(),
    subnet: text(CIDR).optional(),
    rangeStart: text(IP).optional(),
    rangeEnd: text(IP).optional(),
    gateway: text(IP).optional(),
    routes: z.array(routeSchema, { error: 'want a list of routes like [{"dst": "10.42.0.0/16"}]' }).optional(),
    dataDir: text('want a directory path string (default /var/lib/cni/networks)').optional(),
    resolvConf: text('want a file path string (like /etc/resolv.conf)').optional(),
  }, { error: 'want an object like {"type": "host-local", "ranges": [[{"subnet": "10.42.0.0/24"}]]}' }),
  args: z.looseObject({ cni: z.looseObject({ ips: ipsSchema }).optional() }).optional(),
  runtimeConfig: z.looseObject({ ips: ipsSchema }).optional(),
  [VALID_ATTACHMENTS]: z.array(z.looseObject({ containerID: text('want a container ID string'), ifname: text('want an interface name string') }),
    { error: 'want a list like [{"containerID": "…", "ifname": "eth0"}]' }).optional(),
});

/** An attachment the runtime still has (GC keeps its reservations). */
export interface Attachment {
  containerID: string;
  ifname: string;
}

/** host-local's configuration, validated and with defaults. */
export interface HostLocalConfig {
  rangeSets: RangeSet[];
  routes: CniRoute[];
  dataDir: string;
  /** Addresses asked for in `args.cni.ips` and `runtimeConfig.ips`. */
  requestedIPs: string[];
  /** GC's list of attachments to keep, if given. */
  validAttachments?: Attachment[];
  /** A resolv.conf whose settings become the result's `dns`. */
  resolvConf?: string;
}

/** The spec's network name syntax; host-local makes it a directory, so nothing else may pass. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const invalid = (msg: string) => new CniError(ErrorCode.InvalidConfig, msg);

/** The start of a value as JSON, for an error message; a value too deeply nested to stringify is named by its type. */
function preview(input: unknown): string {
  try {
    return JSON.stringify(input)?.slice(0, 60) ?? String(input);
  } catch {
    return Array.isArray(input) ? 'a deeply nested list' : `a deeply nested ${typeof input}`;
  }
}

function issueLine(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  const input = (issue as { input?: unknown }).input;
  const got = input === undefined ? 'missing' : `got ${preview(input)}`;
  return `${path || 'config'}: ${got}; ${issue.message}`;
}

function checkAddress(path: string, raw: string, parse: (t: string) => unknown, code: number = ErrorCode.InvalidConfig): void {
  if (raw.includes(':')) throw new CniError(code, `${path}: "${raw}" is IPv6; podnet's host-local is IPv4-only for now`);
  try {
    parse(raw);
  } catch (e) {
    if (e instanceof AddressError) throw new CniError(code, `${path}: ${e.message}`);
    throw e;
  }
}

/** One requested address: a bare IPv4 address or one in CIDR form (the prefix is ignored). */
function parseRequested(raw: string, path: string, code: number = ErrorCode.InvalidConfig): string {
  const ip = raw.trim().replace(/\/\d{1,2}$/, '');
  checkAddress(path, ip, parseIPv4, code);
  return ip;
}

function parseRoute(r: z.infer<typeof routeSchema>, path: string): CniRoute {
  checkAddress(`${path}.dst`, r.dst, parseCidr);
  if (r.gw !== undefined) checkAddress(`${path}.gw`, r.gw, parseIPv4);
  const route: CniRoute = { dst: r.dst };
  if (r.gw !== undefined) route.gw = r.gw;
  for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (r[k] !== undefined) route[k] = r[k];
  return route;
}

/** Validates a request's config for host-local: one CniError line naming the field and the fix. */
export function parseHostLocalConfig(config: NetConf): HostLocalConfig {
  if (config.ipam === undefined) throw invalid('ipam: missing; host-local reads its settings from the "ipam" key (like {"type": "host-local", "ranges": [[{"subnet": "10.42.0.0/24"}]]})');
  if (!NETWORK_NAME.test(config.name)) throw invalid(`name: "${config.name}" is not a valid network name (a letter or digit, then letters, digits, "_", "." or "-"); host-local uses it as a directory name`);
  const parsed = confSchema.safeParse(config, { reportInput: true });
  if (!parsed.success) throw invalid(issueLine(parsed.error.issues[0]));
  const { ipam, args, runtimeConfig } = parsed.data;
  const requested = [
    ...(args?.cni?.ips ?? []).map((ip, i) => parseRequested(ip, `args.cni.ips[${i}]`)),
    ...(runtimeConfig?.ips ?? []).map((ip, i) => parseRequested(ip, `runtimeConfig.ips[${i}]`)),
  ];
  return {
    rangeSets: parseRangeSets(ipam),
    routes: (ipam.routes ?? []).map((r, i) => parseRoute(r, `ipam.routes[${i}]`)),
    dataDir: ipam.dataDir || DEFAULT_DATA_DIR,
    requestedIPs: requested,
    ...(ipam.resolvConf ? { resolvConf: ipam.resolvConf } : {}),
    ...(parsed.data[VALID_ATTACHMENTS] ? { validAttachments: parsed.data[VALID_ATTACHMENTS] } : {}),
  };
}

/** The addresses asked for in CNI_ARGS `IP=` (comma separated); unknown keys are code 2 unless IgnoreUnknown=1. */
export function requestedFromCniArgs(raw: string): string[] {
  const ip = parseCniArgs(raw, CNI_ARGS_KEYS).get('IP');
  if (!ip) return [];
  return ip.split(',').filter((s) => s.trim()).map((s) => parseRequested(s, 'CNI_ARGS IP', ErrorCode.InvalidEnv));
}

/** Matches requested addresses to range sets: the address wanted per set index (undefined = next free). */
export function assignRequested(sets: readonly RangeSet[], requested: readonly string[]): (string | undefined)[] {
  const wanted: (string | undefined)[] = sets.map(() => undefined);
  for (const ip of new Set(requested)) {
    const i = sets.findIndex((s) => rangeFor(s, ip));
    if (i < 0) throw invalid(`requested IP address ${ip} is not in any range set (${sets.map(formatRangeSet).join('; ')}); ask for one inside them`);
    if (rangeFor(sets[i], ip)?.gateway === ip) throw invalid(`requested IP address ${ip} is the gateway of range set ${formatRangeSet(sets[i])}; ask for another`);
    const other = wanted[i];
    if (other !== undefined) throw invalid(`requested IP addresses ${other} and ${ip} are both in range set ${formatRangeSet(sets[i])}; host-local gives one address per range set`);
    wanted[i] = ip;
  }
  return wanted;
}

const allocFailed = (i: number, msg: string) => new CniError(ErrorCode.Internal, `failed to allocate for range ${i}: ${msg}`);

function ipResult(set: RangeSet, ip: string): CniIp {
  const r = rangeFor(set, ip);
  return { address: `${ip}/${r?.subnet.prefix ?? 32}`, gateway: r?.gateway ?? ip };
}

async function allocateOne(store: Store, set: RangeSet, i: number, want: string | undefined, id: string, ifname: string): Promise<CniIp> {
  if (want !== undefined) {
    if (await store.reserve(id, ifname, want, i)) return ipResult(set, want);
    throw allocFailed(i, `requested IP address ${want} is not available in range set ${formatRangeSet(set)}`);
  }
  const taken = new Set((await store.list()).map((e) => e.ip));
  const last = await store.lastReservedIP(i);
  for (let tries = rangeSetSize(set); tries > 0; tries--) {
    const ip = nextIP(set, last, (a) => taken.has(a));
    if (ip === undefined) break;
    if (await store.reserve(id, ifname, ip, i)) return ipResult(set, ip);
    taken.add(ip);
  }
  throw allocFailed(i, exhaustedError(set).message);
}

/** Reserves one address per range set for (id, ifname); call holding the store's lock. On failure
 * releases what (id, ifname) holds, so a half-done ADD leaves nothing behind. */
export async function allocateAll(store: Store, sets: readonly RangeSet[], wanted: readonly (string | undefined)[], id: string, ifname: string): Promise<CniIp[]> {
  const held = await store.getByOwner(id, ifname);
  sets.forEach((set, i) => {
    const dup = held.find((ip) => rangeFor(set, ip));
    if (dup) throw allocFailed(i, `${dup} has been allocated to ${id}, duplicate allocation is not allowed`);
  });
  const ips: CniIp[] = [];
  try {
    for (const [i, set] of sets.entries()) ips.push(await allocateOne(store, set, i, wanted[i], id, ifname));
  } catch (e) {
    if (ips.length > 0) await store.releaseByOwner(id, ifname);
    throw e;
  }
  return ips;
}

/** The DNS settings of a resolv.conf (`nameserver`, `domain`, `search`, `options` lines), as the reference reads them. */
export function parseResolvConf(text: string): CniDns {
  const dns: CniDns = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const [key, ...values] = line.split(/\s+/);
    if (values.length === 0) continue;
    if (key === 'nameserver') (dns.nameservers ??= []).push(values[0]);
    else if (key === 'domain') dns.domain = values[0];
    else if (key === 'search') (dns.search ??= []).push(...values);
    else if (key === 'options') (dns.options ??= []).push(...values);
  }
  return dns;
}

/** Reads `ipam.resolvConf`; an unreadable file fails ADD (code 5), as in the reference. Equivalent to: `cat FILE`. */
async function readResolvConf(path: string): Promise<CniDns | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CniError(ErrorCode.IoFailure, `ipam.resolvConf: cannot read ${path}: ${(e as Error).message}`);
  }
  const dns = parseResolvConf(text);
  return Object.keys(dns).length ? dns : undefined;
}

function storeOf(req: CniRequest, ctx: PluginContext): { conf: HostLocalConfig; store: Store } {
  const conf = parseHostLocalConfig(req.config);
  return { conf, store: ctx.ipamStore(conf.dataDir, req.config.name) };
}

/** host-local: IPv4 addresses from range sets, kept as files under `<dataDir>/<network>/`. */
export const hostLocal: CniPlugin = {
  type: 'host-local',
  versions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],

  async add(req, ctx) {
    const { conf, store } = storeOf(req, ctx);
    const wanted = assignRequested(conf.rangeSets, [...requestedFromCniArgs(req.args), ...conf.requestedIPs]);
    const ips = await store.withLock(() => allocateAll(store, conf.rangeSets, wanted, req.containerId, req.ifname));
    const dns = conf.resolvConf ? await readResolvConf(conf.resolvConf) : undefined;
    return { cniVersion: req.config.cniVersion, ips, ...(conf.routes.length > 0 ? { routes: conf.routes } : {}), ...(dns ? { dns } : {}) };
  },

  async del(req, ctx) {
    const { store } = storeOf(req, ctx);
    await store.withLock(() => store.releaseByOwner(req.containerId, req.ifname));
  },

  async check(req, ctx) {
    const { store } = storeOf(req, ctx);
    const held = await store.withLock(() => store.getByOwner(req.containerId, req.ifname));
    if (held.length === 0) throw new CniError(ErrorCode.UnknownContainer, `host-local: Failed to find address added by container ${req.containerId}`);
  },

  async gc(req, ctx) {
    const { conf, store } = storeOf(req, ctx);
    const keep = conf.validAttachments;
    if (!keep) throw invalid(`${VALID_ATTACHMENTS}: missing; GC needs the attachments to keep (an empty list releases every address)`);
    await store.withLock(async () => {
      const stale = (await store.list()).filter((e) => !keep.some((a) => a.containerID === e.id && (a.ifname === e.ifname || e.ifname === '')));
      const owners = new Map(stale.map((e) => [`${e.id}\n${e.ifname}`, e]));
      for (const o of owners.values()) await store.releaseByOwner(o.id, o.ifname);
    });
  },

  async status(req, ctx) {
    const { conf, store } = storeOf(req, ctx);
    try {
      await store.withLock(async () => undefined);
    } catch (e) {
      throw new CniError(ErrorCode.NotReady, `host-local: cannot use data directory ${conf.dataDir}/${req.config.name}: ${(e as Error).message}`);
    }
  },
};
