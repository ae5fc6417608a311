// Flannel's VXLAN datapath on one node (k3s-networking-facts.md §4): the device `flannel.1` (vxlan
// id 1, dstport 8472, nolearning, local = the node's underlay IP, MTU = underlay − 50, a MAC fixed
// before creation, address 10.42.X.0/32) and, per remote lease, in flannel's order: (1) a permanent
// neighbour 10.42.Y.0 → its VTEP MAC, (2) an FDB entry VTEP MAC → its node IP, (3) the route
// 10.42.Y.0/24 via 10.42.Y.0 onlink — the route last, so the kernel never ARPs over the overlay.
// Reconciling compares that with what the kernel holds and changes only the difference: stale
// entries go route first, then FDB, then neighbour; a failed add is rolled back.
import { inNetns, type Netns } from '../host/netns.js';
import type { Host } from '../host/host.js';
import { runOk } from '../host/runner.js';
import { fdbFromJson, neighFromJson, type FdbEntry, type Link, type Neigh, type Route } from '../model/kernel.js';
import { networkOf, parseCidr } from '../model/ip.js';
import type { Lease } from '../model/flannel.js';

/** flannel's VXLAN parameters. */
export const FLANNEL = { device: 'flannel.1', vni: 1, port: 8472, overhead: 50 } as const;

/** The VXLAN device a node wants. */
export interface VtepSpec {
  mac: string;
  /** The node's underlay IP (PublicIP) and interface. */
  localIP: string;
  underlayDev: string;
  underlayMtu: number;
  /** The node's own subnet (its lease): flannel.1 gets its network address as /32. */
  subnet: string;
}

/** One remote node as the datapath needs it. */
export interface Remote {
  subnet: string;
  vtepIP: string;
  vtepMac: string;
  publicIP: string;
}

/** The VTEP address of a subnet: its network address (10.42.1.0 for 10.42.1.0/24). */
export const vtepIPOf = (subnet: string) => networkOf(parseCidr(subnet));

/** The remotes a node programs: every lease but its own. */
export function remotesOf(leases: readonly Lease[], ownSubnet: string): Remote[] {
  return leases.filter((l) => l.subnet !== ownSubnet).map((l) => ({
    subnet: l.subnet, vtepIP: vtepIPOf(l.subnet), vtepMac: l.attrs.BackendData.VtepMAC.toLowerCase(), publicIP: l.attrs.PublicIP,
  })).sort((a, b) => a.subnet.localeCompare(b.subnet, 'en', { numeric: true }));
}

/** `ip` lines that make flannel.1 from nothing. */
export function deviceLines(v: VtepSpec): string[] {
  const d = FLANNEL.device;
  return [
    `link add ${d} address ${v.mac} mtu ${v.underlayMtu - FLANNEL.overhead} type vxlan id ${FLANNEL.vni} local ${v.localIP} dev ${v.underlayDev} dstport ${FLANNEL.port} nolearning`,
    `addr add ${vtepIPOf(v.subnet)}/32 dev ${d}`,
    `link set ${d} up`,
  ];
}

/** True when an existing flannel.1 can be kept (flannel reuses a device whose parameters match). */
export function deviceMatches(link: Link | undefined, v: VtepSpec): boolean {
  return !!link && link.kind === 'vxlan' && link.vni === FLANNEL.vni && link.local === v.localIP && link.dstport === FLANNEL.port
    && !link.learning && link.mtu === v.underlayMtu - FLANNEL.overhead && link.mac.toLowerCase() === v.mac.toLowerCase();
}

/** What the kernel holds on flannel.1 that reconciling looks at. */
export interface VtepState {
  neighs: Neigh[];
  fdb: FdbEntry[];
  routes: Route[];
}

/** The changes that take `have` to the entries `remotes` need, as three ordered phases. */
export function diffEntries(have: VtepState, remotes: readonly Remote[]): { remove: { ip: string[]; fdb: string[] }; add: { neigh: string[]; fdb: string[]; route: string[] } } {
  const d = FLANNEL.device;
  const wantNeigh = new Map(remotes.map((r) => [r.vtepIP, r.vtepMac]));
  const wantFdb = new Map(remotes.map((r) => [r.vtepMac, r.publicIP]));
  const wantRoute = new Map(remotes.map((r) => [r.subnet, r.vtepIP]));
  const neighOk = (n: Neigh) => wantNeigh.get(n.dst) === n.lladdr?.toLowerCase() && n.state.includes('PERMANENT');
  const fdbOk = (e: FdbEntry) => wantFdb.get(e.mac.toLowerCase()) === e.dst;
  const routeOk = (r: Route) => wantRoute.get(r.dst) === r.gateway && r.flags.includes('onlink');
  const stale = {
    routes: have.routes.filter((r) => r.dst !== 'default' && !routeOk(r)),
    fdb: have.fdb.filter((e) => e.dst && !fdbOk(e)),
    neighs: have.neighs.filter((n) => !neighOk(n)),
  };
  const missing = remotes.filter((r) => !have.neighs.some((n) => n.dst === r.vtepIP && neighOk(n))
    || !have.fdb.some((e) => e.mac.toLowerCase() === r.vtepMac && fdbOk(e))
    || !have.routes.some((x) => x.dst === r.subnet && routeOk(x)));
  return {
    remove: {
      ip: [...stale.routes.map((r) => `route del ${r.dst} dev ${d}`), ...stale.neighs.map((n) => `neigh del ${n.dst} dev ${d}`)],
      fdb: stale.fdb.map((e) => `fdb del ${e.mac} dev ${d} dst ${e.dst} self`),
    },
    add: {
      neigh: missing.map((r) => `neigh replace ${r.vtepIP} lladdr ${r.vtepMac} dev ${d} nud permanent`),
      fdb: missing.map((r) => `fdb replace ${r.vtepMac} dev ${d} dst ${r.publicIP} self permanent`),
      route: missing.map((r) => `route replace ${r.subnet} via ${r.vtepIP} dev ${d} onlink`),
    },
  };
}

/** flannel.1 on one node: created, checked and reconciled through iproute2 in the node's namespace. */
export class Vtep {
  constructor(private readonly host: Host, private readonly ns: Netns) {}

  private net() {
    return this.host.net(this.ns);
  }

  private async bridgeBatch(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    await runOk(this.host.runner, { argv: inNetns(this.ns, 'bridge', ['-batch', '-']), input: lines.map((l) => `${l}\n`).join(''), mutates: true });
  }

  private async ipBatch(lines: readonly string[], force = false): Promise<void> {
    if (lines.length === 0) return;
    const r = await this.net().batch(lines);
    if (!force) r.ok((f) => /No such process|Cannot find|not found/i.test(f.message) && /^(route|neigh) del/.test(f.text));
  }

  /** Makes flannel.1 as `v` says: kept when it matches, otherwise (re)created; its address set. */
  async ensureDevice(v: VtepSpec): Promise<void> {
    const { link, addrs } = this.host.dryRun ? { link: undefined, addrs: [] } : await this.net().addrShow(FLANNEL.device);
    if (!deviceMatches(link, v)) {
      if (link) await this.ipBatch([`link del ${FLANNEL.device}`]);
      const r = await this.net().batch(deviceLines(v), [[`net/ipv6/conf/${FLANNEL.device}/accept_ra`, '0']]);
      r.ok();
      return;
    }
    const want = `${vtepIPOf(v.subnet)}/32`;
    const v4 = addrs.filter((a) => a.family === 'inet');
    const lines = [
      ...(v4.some((a) => `${a.local}/${a.prefix}` === want) ? [] : [`addr add ${want} dev ${FLANNEL.device}`]),
      ...v4.filter((a) => `${a.local}/${a.prefix}` !== want).map((a) => `addr del ${a.local}/${a.prefix} dev ${FLANNEL.device}`),
      ...(!link?.up ? [`link set ${FLANNEL.device} up`] : []),
    ];
    (await this.net().batch(lines)).ok();
  }

  /** What flannel.1 holds now. */
  async state(): Promise<VtepState> {
    if (this.host.dryRun) return { neighs: [], fdb: [], routes: [] };
    const read = async (program: 'ip' | 'bridge', args: string[]) => {
      const r = await runOk(this.host.runner, { argv: inNetns(this.ns, program, args), mutates: false });
      return r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>[]) : [];
    };
    const [neighs, fdb, routes] = await Promise.all([
      read('ip', ['-json', 'neigh', 'show', 'dev', FLANNEL.device]),
      read('bridge', ['-json', 'fdb', 'show', 'dev', FLANNEL.device]),
      this.net().routeList(),
    ]);
    return {
      neighs: neighs.map((j) => neighFromJson({ dev: FLANNEL.device, ...j })),
      fdb: fdb.map(fdbFromJson).filter((e) => e.dst),
      routes: routes.filter((r) => r.dev === FLANNEL.device),
    };
  }

  /** Brings the entries on flannel.1 to exactly those `remotes` need. Returns what changed (lines). */
  async reconcile(remotes: readonly Remote[]): Promise<string[]> {
    const diff = diffEntries(await this.state(), remotes);
    const { remove, add } = diff;
    const ipRemoves = remove.ip.filter((l) => l.startsWith('route'));
    await this.ipBatch(ipRemoves);
    await this.bridgeBatch(remove.fdb);
    await this.ipBatch(remove.ip.filter((l) => !l.startsWith('route')));
    await this.ipBatch(add.neigh);
    try {
      await this.bridgeBatch(add.fdb);
    } catch (e) {
      await this.ipBatch(add.neigh.map((l) => l.replace(/^neigh replace (\S+) lladdr \S+ dev (\S+) nud permanent$/, 'neigh del $1 dev $2')), true);
      throw e;
    }
    try {
      await this.ipBatch(add.route);
    } catch (e) {
      await this.bridgeBatch(add.fdb.map((l) => l.replace(/^fdb replace (\S+) dev (\S+) dst (\S+) self permanent$/, 'fdb del $1 dev $2 dst $3 self'))).catch(() => undefined);
      await this.ipBatch(add.neigh.map((l) => l.replace(/^neigh replace (\S+) lladdr \S+ dev (\S+) nud permanent$/, 'neigh del $1 dev $2')), true);
      throw e;
    }
    return [...remove.ip, ...remove.fdb, ...add.neigh, ...add.fdb, ...add.route];
  }
}
