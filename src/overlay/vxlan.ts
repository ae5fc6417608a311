// Flannel's VXLAN datapath on one node (docs/facts.md#flannel): the device `flannel.1` (vxlan
// id 1, dstport 8472, nolearning, local = the node's underlay IP, MTU = underlay − 50, a MAC fixed
// before creation, address 10.42.X.0/32) and, per remote lease, in flannel's order: (1) a permanent
// neighbour 10.42.Y.0 → its VTEP MAC, (2) an FDB entry VTEP MAC → its node IP, (3) the route
// 10.42.Y.0/24 via 10.42.Y.0 onlink — the route last, so the kernel never ARPs over the overlay.
// Reconciling compares that with what the kernel holds and changes only the difference: stale
// entries go route first, then FDB, then neighbour; a failed add is rolled back.
import type { Netns } from '../host/netns.js';
import type { Host } from '../host/host.js';
import {
  addrAdd, addrDel, fdbDel, fdbReplace, linkAddVxlan, linkDel, linkSetUp, neighDel, neighReplace, routeDel, routeReplace, type BridgeLine, type IpLine,
} from '../host/ip-lines.js';
import type { FdbEntry, Link, Neigh, Route } from '../model/kernel.js';
import { networkOf, parseCidr } from '../model/ip.js';
import type { Lease } from '../model/flannel.js';
import { VXLAN_OVERHEAD } from '../model/k3s.js';
import { natural } from '../model/order.js';

/** flannel's VXLAN parameters. */
export const FLANNEL = { device: 'flannel.1', vni: 1, port: 8472, overhead: VXLAN_OVERHEAD } as const;

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
  })).sort((a, b) => natural(a.subnet, b.subnet));
}

/** `ip` lines that make flannel.1 from nothing. */
export function deviceLines(v: VtepSpec): IpLine[] {
  const d = FLANNEL.device;
  return [
    linkAddVxlan(d, { mac: v.mac, mtu: v.underlayMtu - FLANNEL.overhead, vni: FLANNEL.vni, local: v.localIP, dev: v.underlayDev, dstport: FLANNEL.port, learning: false }),
    addrAdd(`${vtepIPOf(v.subnet)}/32`, d),
    linkSetUp(d),
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

/** The changes that take `have` to the entries `remotes` need, as ordered phases (stale ones route
 * first; new ones neighbour, FDB, route), and the lines that undo the adds (a failed add rolls back). */
export interface EntryDiff {
  remove: { ip: IpLine[]; fdb: BridgeLine[] };
  add: { neigh: IpLine[]; fdb: BridgeLine[]; route: IpLine[] };
  undo: { neigh: IpLine[]; fdb: BridgeLine[] };
}

/** The changes that take `have` to the entries `remotes` need. */
export function diffEntries(have: VtepState, remotes: readonly Remote[]): EntryDiff {
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
      ip: [...stale.routes.map((r) => routeDel(r.dst, d)), ...stale.neighs.map((n) => neighDel(n.dst, d))],
      fdb: stale.fdb.map((e) => fdbDel(e.mac, d, { dst: e.dst, self: true })),
    },
    add: {
      neigh: missing.map((r) => neighReplace(r.vtepIP, r.vtepMac, d)),
      fdb: missing.map((r) => fdbReplace(r.vtepMac, d, { dst: r.publicIP, self: true, permanent: true })),
      route: missing.map((r) => routeReplace(r.subnet, { via: r.vtepIP, dev: d, onlink: true })),
    },
    undo: {
      neigh: missing.map((r) => neighDel(r.vtepIP, d)),
      fdb: missing.map((r) => fdbDel(r.vtepMac, d, { dst: r.publicIP, self: true })),
    },
  };
}

/** flannel.1 on one node: created, checked and reconciled through iproute2 in the node's namespace. */
export class Vtep {
  constructor(private readonly host: Host, private readonly ns: Netns) {}

  private net() {
    return this.host.net(this.ns);
  }

  private async bridgeBatch(lines: readonly BridgeLine[]): Promise<void> {
    await this.net().bridgeBatch(lines);
  }

  private async ipBatch(lines: readonly IpLine[], force = false): Promise<void> {
    if (lines.length === 0) return;
    const r = await this.net().batch(lines);
    if (!force) r.ok((f) => /No such process|Cannot find|not found/i.test(f.message) && /^(route|neigh) del/.test(f.text));
  }

  /** Makes flannel.1 as `v` says: kept when it matches, otherwise (re)created; its address set. */
  async ensureDevice(v: VtepSpec): Promise<void> {
    const { link, addrs } = this.host.dryRun ? { link: undefined, addrs: [] } : await this.net().addrShow(FLANNEL.device);
    if (!deviceMatches(link, v)) {
      if (link) await this.ipBatch([linkDel(FLANNEL.device)]);
      const r = await this.net().batch(deviceLines(v), [[`net/ipv6/conf/${FLANNEL.device}/accept_ra`, '0']]);
      r.ok();
      return;
    }
    const want = `${vtepIPOf(v.subnet)}/32`;
    const v4 = addrs.filter((a) => a.family === 'inet');
    const lines = [
      ...(v4.some((a) => `${a.local}/${a.prefix}` === want) ? [] : [addrAdd(want, FLANNEL.device)]),
      ...v4.filter((a) => `${a.local}/${a.prefix}` !== want).map((a) => addrDel(`${a.local}/${a.prefix}`, FLANNEL.device)),
      ...(!link?.up ? [linkSetUp(FLANNEL.device)] : []),
    ];
    (await this.net().batch(lines)).ok();
  }

  /** What flannel.1 holds now. */
  async state(): Promise<VtepState> {
    if (this.host.dryRun) return { neighs: [], fdb: [], routes: [] };
    const net = this.net();
    const [neighs, fdb, routes] = await Promise.all([net.neighList({ dev: FLANNEL.device }), net.fdbList({ dev: FLANNEL.device }), net.routeList()]);
    return { neighs, fdb: fdb.filter((e) => e.dst), routes: routes.filter((r) => r.dev === FLANNEL.device) };
  }

  /** Brings the entries on flannel.1 to exactly those `remotes` need. Returns what changed (lines). */
  async reconcile(remotes: readonly Remote[]): Promise<string[]> {
    const { remove, add, undo } = diffEntries(await this.state(), remotes);
    await this.ipBatch(remove.ip.filter((l) => l.startsWith('route')));
    await this.bridgeBatch(remove.fdb);
    await this.ipBatch(remove.ip.filter((l) => !l.startsWith('route')));
    await this.ipBatch(add.neigh);
    try {
      await this.bridgeBatch(add.fdb);
    } catch (e) {
      await this.ipBatch(undo.neigh, true);
      throw e;
    }
    try {
      await this.ipBatch(add.route);
    } catch (e) {
      await this.net().bridgeBatch(undo.fdb, () => true).catch(() => undefined);
      await this.ipBatch(undo.neigh, true);
      throw e;
    }
    return [...remove.ip, ...remove.fdb, ...add.neigh, ...add.fdb, ...add.route];
  }
}
