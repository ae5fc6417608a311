// The CNI conformance suite's reading of the kernel and comparing (conformance.test.ts): a world's
// namespaces read independently of podnet (`ip -json -details`, `bridge -json`, `sysctl`,
// `iptables-save`/`ip6tables-save`, the IPAM files, one `ip netns exec NS sh -c …` per namespace),
// random names and the world's paths normalised to placeholders, and two runs flattened and diffed
// field by field. Nothing here uses podnet's own readers.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { World } from './conformance-world.js';

/** Runs argv without blocking (so two worlds are read at once); never throws. Bounded by 20 s. */
function spawnText(argv: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Normalising: random veth names, MACs and the world's paths become placeholders, numbered in the
// order they are first seen, so relations survive (the result's veth is the kernel's veth; a bridge
// whose MAC followed its port shows the port's placeholder).

const VETH_RE = /\bveth[0-9a-f]{8}\b/g;
const MAC_RE = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi;

/** Replaces one world's random and world-specific strings by placeholders. */
export class Normalizer {
  private readonly names = new Map<string, string>();
  private readonly macs = new Map<string, string>();

  /** `keep`: MACs the case asked for, kept literally. */
  constructor(private readonly world: World, private readonly keep: readonly string[] = []) {}

  /** One string. */
  str(s: string): string {
    let out = s.split(this.world.dataDir).join('<dataDir>').split(this.world.prefix).join('<w>');
    out = out.replace(VETH_RE, (v) => this.placeholder(this.names, v, 'veth'));
    out = out.replace(MAC_RE, (m) => {
      const mac = m.toLowerCase();
      if (mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff' || this.keep.includes(mac)) return mac;
      return this.placeholder(this.macs, mac, 'mac');
    });
    return out;
  }

  /** A JSON value, deeply (object keys too). */
  deep(v: unknown): unknown {
    if (typeof v === 'string') return this.str(v);
    if (Array.isArray(v)) return v.map((x) => this.deep(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.str(k), this.deep(x)]));
    return v;
  }

  private placeholder(map: Map<string, string>, key: string, kind: string): string {
    let p = map.get(key);
    if (!p) map.set(key, (p = `<${kind}${map.size + 1}>`));
    return p;
  }
}

// ---------------------------------------------------------------------------------------------
// The kernel, read independently.

type Json = Record<string, unknown>;

/** One namespace as the suite compares it. */
export interface NsSnapshot {
  gone?: true;
  links?: Record<string, Json>;
  /** IPv4 and non-link-local IPv6 addresses per link: `a.b.c.d/len scope S`. */
  addrs?: Record<string, string[]>;
  /** IPv4 main-table routes as one line each. */
  routes?: string[];
  ip_forward?: string;
  /** `iptables-save` and `ip6tables-save` per table, without comments and counters (H only). */
  iptables?: Record<string, string[]>;
  ip6tables?: Record<string, string[]>;
}

/** The IPAM store of a world: `<dataDir>/<network>/`. */
export interface IpamSnapshot {
  exists: boolean;
  mode?: string;
  /** File name → its mode and content (JSON-quoted in reports, so `\r\n` shows). */
  files?: Record<string, { mode: string; content: string }>;
}

/** Everything the suite reads after a case (or a step marked `snap`). */
export interface Snapshot {
  ns: Record<string, NsSnapshot>;
  ipam: IpamSnapshot;
}

const SNAP_SCRIPT = `
echo @@links; ip -json -details link show
echo @@addrs; ip -json addr show
echo @@routes; ip -json -4 route show table main
echo @@bridge; bridge -json -details link show
echo @@sysctl
echo "- ip_forward $(sysctl -n net.ipv4.ip_forward)"
for d in /sys/class/net/*; do n=\${d##*/}; [ "$n" = lo ] && continue
  echo "$n addr_assign_type $(cat "$d/addr_assign_type")"
  echo "$n accept_ra $(sysctl -n "net.ipv6.conf.$n.accept_ra" 2>/dev/null)"
  echo "$n accept_dad $(sysctl -n "net.ipv6.conf.$n.accept_dad" 2>/dev/null)"
  echo "$n arp_notify $(sysctl -n "net.ipv4.conf.$n.arp_notify" 2>/dev/null)"
  echo "$n route_localnet $(sysctl -n "net.ipv4.conf.$n.route_localnet" 2>/dev/null)"
done
if [ "$1" = nat ]; then echo @@iptables; iptables-save; echo @@ip6tables; ip6tables-save; fi
`;

function sections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur = '';
  for (const line of text.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) out[(cur = m[1])] = '';
    else if (cur) out[cur] += `${line}\n`;
  }
  return out;
}

const parseJsonList = (s: string | undefined): Json[] => {
  const t = (s ?? '').trim();
  return t ? (JSON.parse(t) as Json[]) : [];
};

/** Reads one namespace: `ip netns exec NS sh -c SCRIPT` (one process; sysfs is the namespace's there). */
async function readNs(nsName: string, withNat: boolean): Promise<(n: Normalizer) => NsSnapshot> {
  if (!existsSync(`/run/netns/${nsName}`)) return () => ({ gone: true });
  const r = await spawnText(['ip', 'netns', 'exec', nsName, 'sh', '-c', SNAP_SCRIPT, 'snap', withNat ? 'nat' : '']);
  if (r.status !== 0) throw new Error(`reading ${nsName}: ${r.stderr.trim()}`);
  return (n) => nsFromText(r.stdout, withNat, n);
}

/** Builds a namespace's snapshot from the script's output (normalised in a fixed order). */
function nsFromText(text: string, withNat: boolean, n: Normalizer): NsSnapshot {
  const sec = sections(text);
  const rawLinks = parseJsonList(sec.links).filter((l) => l.ifname !== 'lo').sort((a, b) => Number(a.ifindex) - Number(b.ifindex));
  const ports = new Map(parseJsonList(sec.bridge).map((p) => [String(p.ifname), p]));
  const sysctl = new Map<string, Record<string, string>>();
  let ipForward = '';
  for (const line of (sec.sysctl ?? '').split('\n')) {
    const [dev, key, value = ''] = line.split(' ');
    if (!dev || !key) continue;
    if (dev === '-') ipForward = value;
    else sysctl.set(dev, { ...sysctl.get(dev), [key]: value });
  }
  const links: Record<string, Json> = {};
  for (const l of rawLinks) {
    const name = String(l.ifname);
    const info = (l.linkinfo ?? {}) as { info_kind?: string; info_data?: Json; info_slave_kind?: string; info_slave_data?: Json };
    const s = sysctl.get(name) ?? {};
    // No `operstate`, and no NO-CARRIER flag (iproute2's name for UP without RUNNING): the kernel derives both
    // from the carrier later (linkwatch, up to a second), so they are timing. The carrier itself is LOWER_UP.
    const entry: Json = {
      kind: info.info_kind ?? 'none',
      ifindex: l.ifindex,
      flags: ((l.flags as string[] | undefined) ?? []).filter((f) => f !== 'NO-CARRIER').sort().join(','),
      mtu: l.mtu,
      txqlen: l.txqlen,
      mac: l.address,
      addr_assign_type: s.addr_assign_type,
      promiscuity: l.promiscuity,
      master: l.master ?? null,
      accept_ra: s.accept_ra,
      accept_dad: s.accept_dad,
      arp_notify: s.arp_notify,
      route_localnet: s.route_localnet,
    };
    if (info.info_kind === 'veth') {
      entry.peer_ifindex = l.link_index ?? null;
      entry.peer_in_other_netns = l.link_netnsid !== undefined;
    }
    if (info.info_kind === 'bridge' && info.info_data) {
      const d = info.info_data;
      entry.bridge = { stp_state: d.stp_state, vlan_filtering: d.vlan_filtering, ageing_time: d.ageing_time, forward_delay: d.forward_delay, mcast_snooping: d.mcast_snooping };
    }
    if (info.info_slave_kind === 'bridge') {
      const sd = info.info_slave_data ?? {};
      const port = ports.get(name) ?? {};
      entry.port = { hairpin: sd.hairpin, state: sd.state, learning: sd.learning, flood: sd.flood, bridge_link_state: port.state ?? null };
    }
    links[n.str(name)] = n.deep(entry) as Json;
  }
  const addrs: Record<string, string[]> = {};
  for (const a of parseJsonList(sec.addrs)) {
    if (a.ifname === 'lo') continue;
    const infos = ((a.addr_info ?? []) as { family: string; local: string; prefixlen: number; scope: string }[])
      .filter((x) => x.family === 'inet' || (x.family === 'inet6' && x.scope !== 'link'))
      .map((x) => `${x.local}/${x.prefixlen} scope ${x.scope}`);
    if (infos.length) addrs[n.str(String(a.ifname))] = infos;
  }
  const routes = parseJsonList(sec.routes).map((r) => n.str([
    String(r.dst), r.gateway ? `via ${String(r.gateway)}` : '', `dev ${String(r.dev)}`, r.protocol ? `proto ${String(r.protocol)}` : '',
    r.scope ? `scope ${String(r.scope)}` : '', r.prefsrc ? `src ${String(r.prefsrc)}` : '', r.metric ? `metric ${String(r.metric)}` : '',
    // `linkdown` is left out: the kernel sets it from the carrier later (linkwatch, up to a second), so it is
    // timing; the carrier itself is in the link's flags (LOWER_UP / NO-CARRIER), read at once.
    ...((r.flags as string[] | undefined) ?? []).filter((f) => f !== 'linkdown'),
  ].filter(Boolean).join(' '))).sort();
  const out: NsSnapshot = { links, addrs, routes, ip_forward: ipForward };
  if (withNat) {
    out.iptables = saveTables(sec.iptables);
    out.ip6tables = saveTables(sec.ip6tables);
  }
  return out;
}

/** iptables-save's text as table → lines (chains and rules), without comments, COMMIT and counters. */
function saveTables(text = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) out[line.slice(1)] = cur = [];
    else if (line === 'COMMIT') cur = undefined;
    else if (cur && line && !line.startsWith('#')) cur.push(line.replace(/ \[\d+:\d+\]$/, ''));
  }
  return out;
}

/** The IPAM files of a world's network, read from disk. */
function readIpam(world: World, network: string): IpamSnapshot {
  const dir = join(world.dataDir, network);
  if (!existsSync(dir)) return { exists: false };
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, '0');
  const files: Record<string, { mode: string; content: string }> = {};
  for (const f of readdirSync(dir).sort()) files[f] = { mode: mode(join(dir, f)), content: readFileSync(join(dir, f), 'utf8') };
  return { exists: true, mode: mode(dir), files };
}

/** Reads H (with its nat table), every pod and the IPAM store, normalised by `n` (H first, then the pods). */
export async function snapshot(world: World, network: string, n: Normalizer): Promise<Snapshot> {
  const entries = Object.entries(world.ns);
  const reads = await Promise.all(entries.map(([key, name]) => readNs(name, key === 'H')));
  const ns: Record<string, NsSnapshot> = {};
  entries.forEach(([key], i) => { ns[key] = reads[i](n); });
  return { ns, ipam: readIpam(world, network) };
}

// ---------------------------------------------------------------------------------------------
// Flattening and diffing.

/** A value as one comparable leaf string. */
const leaf = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

/** Flattens a value to `path → leaf`: objects by key (sorted), arrays of objects by index; arrays of
 * primitives and empty objects stay one leaf each. */
export function flatten(v: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  const isObj = (x: unknown): x is Json => !!x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(v) && Object.keys(v).length > 0) {
    for (const k of Object.keys(v).sort()) flatten(v[k], path ? `${path}.${k}` : k, out);
  } else if (Array.isArray(v) && v.some((x) => x && typeof x === 'object')) {
    v.forEach((x, i) => flatten(x, `${path}[${i}]`, out));
    if (v.length === 0) out.set(path, '[]');
  } else {
    out.set(path, leaf(v));
  }
  return out;
}

/** One field that differs between two runs. */
export interface FieldDiff {
  field: string;
  /** The first implementation's value (podnet, or a mixed chain). */
  a: string;
  /** The second's (the reference). */
  b: string;
}

/** The fields whose leaves differ (a field present on one side only counts, as `(absent)`). */
export function diff(a: Map<string, string>, b: Map<string, string>): FieldDiff[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => (a.get(k) ?? '(absent)') !== (b.get(k) ?? '(absent)'))
    .map((k) => ({ field: k, a: a.get(k) ?? '(absent)', b: b.get(k) ?? '(absent)' }));
}
