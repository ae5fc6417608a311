// The machinery of the CNI conformance suite (conformance.test.ts): the implementations under test,
// a fresh "world" per case and implementation (a host namespace H and pod namespaces, prefix
// `pncf<hex>-`), plugin calls made exactly as a runtime makes them (CNI_* environment, config on
// stdin, the executable found on CNI_PATH and exec'd inside H), an independent read of the kernel
// afterwards (`ip -json -details`, `bridge -json`, `sysctl`, `iptables -t nat -S`, the IPAM files),
// and the normalising, flattening and diffing that turns two runs into "case → field → podnet vs
// reference". Nothing here uses podnet's own readers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { netnsWithPrefix, run, runStatus, waitFor, within } from '../helpers.js';

/** The reference plugins (Debian's containernetworking-plugins 1.1.1). */
export const REFERENCE_DIR = '/usr/lib/cni';

/** The implementations a case can run against. The mixed ones chain one side of each. */
export type ImplId = 'podnet' | 'reference' | 'podnet-oneshot' | 'podnet-bridge+ref-ipam' | 'ref-bridge+podnet-ipam';

/** One implementation: the `type`s its config names and the plugin path a runtime would search. */
export interface Impl {
  id: ImplId;
  /** Short tag used in namespace names. */
  tag: string;
  bridgeType: string;
  ipamType: string;
  cniPath: string[];
  /** Extra environment of the runtime (PODNET_CNI_SOCKET: daemon or one-shot). */
  env: Record<string, string>;
}

/** The implementations, given the directory `podnet cni install` wrote and the daemon's socket. */
export function implementations(podnetDir: string, socket: string, noSocket: string): Record<ImplId, Impl> {
  const daemon = { PODNET_CNI_SOCKET: socket };
  return {
    podnet: { id: 'podnet', tag: 'pn', bridgeType: 'podnet-bridge', ipamType: 'podnet-host-local', cniPath: [podnetDir], env: daemon },
    reference: { id: 'reference', tag: 'ref', bridgeType: 'bridge', ipamType: 'host-local', cniPath: [REFERENCE_DIR], env: {} },
    'podnet-oneshot': { id: 'podnet-oneshot', tag: 'pn1', bridgeType: 'podnet-bridge', ipamType: 'podnet-host-local', cniPath: [podnetDir], env: { PODNET_CNI_SOCKET: noSocket } },
    'podnet-bridge+ref-ipam': { id: 'podnet-bridge+ref-ipam', tag: 'mxa', bridgeType: 'podnet-bridge', ipamType: 'host-local', cniPath: [podnetDir, REFERENCE_DIR], env: daemon },
    'ref-bridge+podnet-ipam': { id: 'ref-bridge+podnet-ipam', tag: 'mxb', bridgeType: 'bridge', ipamType: 'podnet-host-local', cniPath: [podnetDir, REFERENCE_DIR], env: daemon },
  };
}

/** What one plugin call ended with. */
export interface Outcome {
  exit: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json?: Record<string, unknown>;
  ms: number;
}

/** Finds `type` on the plugin path, as libcni's FindInPath does. */
export function findInPath(type: string, path: readonly string[]): string | undefined {
  for (const dir of path) {
    const file = join(dir, type);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Execs a plugin like a runtime: `nsenter --net=/run/netns/H <plugin>` with exactly `env` (plus PATH)
 * and `stdin`; bounded by `timeoutMs` (then SIGKILL). */
export function execPlugin(hostNs: string, exe: string, env: Record<string, string | undefined>, stdin: string, timeoutMs = 15_000): Promise<Outcome> {
  const t0 = Date.now();
  const vars: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
  return new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, exe], { env: vars, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        const v: unknown = JSON.parse(stdout);
        if (v && typeof v === 'object' && !Array.isArray(v)) json = v as Record<string, unknown>;
      } catch {
        // not JSON (empty, or text)
      }
      resolve({ exit: code ?? (signal ? 128 : 1), stdout, stderr, json, ms: Date.now() - t0 });
    });
  });
}

/** A case's kernel, made fresh per implementation: H (the runtime's namespace) and the pods. */
export class World {
  /** Namespace names by key: `H`, `p1`, `p2`, … */
  readonly ns: Record<string, string>;
  /** host-local's data dir for this world. */
  readonly dataDir: string;

  constructor(readonly prefix: string, readonly dir: string, pods: readonly string[]) {
    this.ns = Object.fromEntries(['H', ...pods].map((k) => [k, `${prefix}${k}`]));
    this.dataDir = join(dir, 'data');
  }

  /** Creates the namespaces. Equivalent to: `ip netns add NAME` for each. */
  create(): void {
    const input = Object.values(this.ns).map((n) => `netns add ${n}\n`).join('');
    runStdin(['ip', '-batch', '-'], input);
  }

  /** The CNI_NETNS of a pod (also for a pod whose namespace was deleted). */
  netnsPath(pod: string): string {
    return `/run/netns/${this.ns[pod] ?? `${this.prefix}${pod}`}`;
  }

  /** `ip -n NS ARGS…` in the namespace of `key`. */
  ip(key: string, args: readonly string[]): string {
    return run(['ip', '-n', this.ns[key], ...args]);
  }

  /** Deletes the namespace of `key` (a pod going away before DEL) and waits (bounded) until the kernel
   * has destroyed it: the host ends of its veths vanish from H. Equivalent to: `ip netns del NAME`. */
  async deleteNetns(key: string): Promise<void> {
    const peers = JSON.parse(this.ip(key, ['-json', 'link', 'show']) || '[]') as { link_index?: number; link_netnsid?: number }[];
    const hostEnds = peers.filter((l) => l.link_netnsid !== undefined && l.link_index !== undefined).map((l) => l.link_index);
    run(['ip', 'netns', 'del', this.ns[key]]);
    const gone = () => {
      const h = JSON.parse(this.ip('H', ['-json', 'link', 'show']) || '[]') as { ifindex: number }[];
      return !h.some((l) => hostEnds.includes(l.ifindex));
    };
    if (!(await waitFor(gone, 5000))) throw new Error(`the host ends of ${this.ns[key]}'s veths are still in H 5 s after ip netns del`);
  }

  /** Removes every namespace of this world (a namespace already gone is fine). */
  destroy(): void {
    for (const n of netnsWithPrefix(this.prefix)) runStatus(['ip', 'netns', 'del', n]);
  }
}

/** Runs argv with `input` on stdin; throws with stderr on failure. */
function runStdin(argv: readonly string[], input: string): void {
  const r = spawnSyncText(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
}

/** Runs argv synchronously with optional stdin; never throws. */
function spawnSyncText(argv: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

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
  /** `iptables -t nat -S` (H only). */
  nat?: string[];
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
done
if [ "$1" = nat ]; then echo @@nat; iptables -w -t nat -S; fi
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
  if (withNat) out.nat = (sec.nat ?? '').split('\n').filter(Boolean);
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

// ---------------------------------------------------------------------------------------------
// podnet's plugins as a runtime would find them, and the daemon that serves them.

/** A unique prefix for this run's namespaces: `pncf<6 hex>-`. */
export function runPrefix(): string {
  return `pncf${randomBytes(3).toString('hex')}-`;
}

/** `node bin/podnet.js cni install --dir DIR --socket SOCKET`. */
export function installPodnet(repoRoot: string, dir: string, socket: string): void {
  run([process.execPath, join(repoRoot, 'bin', 'podnet.js'), 'cni', 'install', '--dir', dir, '--socket', socket]);
}

/** `podnet cni serve --socket SOCKET`, started here and stopped by its PID. */
export class Daemon {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  output = '';

  constructor(private readonly repoRoot: string, readonly socket: string) {}

  /** Starts the daemon and waits (bounded) until its socket exists. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(this.repoRoot, 'bin', 'podnet.js'), 'cni', 'serve', '--socket', this.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((r) => child.on('exit', () => r()));
    child.stdout?.on('data', (b: Buffer) => { this.output += b.toString(); });
    child.stderr?.on('data', (b: Buffer) => { this.output += b.toString(); });
    if (!(await waitFor(() => existsSync(this.socket), 10_000))) throw new Error(`podnet cni serve did not listen on ${this.socket}: ${this.output}`);
  }

  /** The daemon's PID, or undefined before start. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGTERM to the daemon's PID, SIGKILL after 5 s; waits until it has exited, then (bounded) until the
   * processes it had started (its shells) are gone too. Returns the PIDs of those that had to be killed. */
  async stop(): Promise<number[]> {
    const pid = this.child?.pid;
    if (!pid || !this.exited || this.child?.exitCode !== null) return [];
    const children = childrenOf(pid);
    process.kill(pid, 'SIGTERM');
    const done = await within(this.exited.then(() => true), 5000, false);
    if (!done) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await this.exited;
    }
    const alive = (p: number) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, 'latin1').includes(') Z ');
    await waitFor(() => !children.some(alive), 3000);
    const left = children.filter(alive);
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return left;
  }
}

/** The PIDs whose parent is `pid` (field 4 of /proc/PID/stat). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}
