// rtnetlink from podnet's process (src/host/rtnl*.ts) against iproute2 on the real kernel: the same
// reads give the same objects, the same lines make the same kernel state, the same mistakes fail the
// same way. The iproute2 side is the same NetHandle with the rtnetlink work taken off each command,
// so `ip`/`bridge` really run; the kernel state is read back with `ip -json`/`bridge -json`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecRunner, type Command, type Runner } from '../../../src/host/runner.js';
import { runByRtnl } from '../../../src/host/rtnl.js';
import type { HostError } from '../../../src/host/errors.js';
import { NetHandle } from '../../../src/host/iproute.js';
import { netnsNamed } from '../../../src/host/netns.js';
import * as L from '../../../src/host/ip-lines.js';
import { ipJson, netnsWithPrefix, nsSysctl, run, runStatus, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const prefix = `${uniqueName('podnet-kt-')}-`;
const [a, b, peer, viaIp, viaNl, mp] = ['a', 'b', 'peer', 'ip', 'nl', 'mp'].map((s) => `${prefix}${s}`);

/** The same commands with iproute2 really run (the rtnetlink work removed). */
class IprouteOnly implements Runner {
  private readonly inner = new ExecRunner();
  calls = 0;
  run(cmd: Command) {
    this.calls++;
    return this.inner.run({ ...cmd, rtnl: undefined });
  }
  start(cmd: Command) {
    return this.inner.start(cmd);
  }
  signal(pid: number, s: NodeJS.Signals) {
    return this.inner.signal(pid, s);
  }
}

/** Counts the commands that reached a real process (the rtnetlink path answers without one). */
class Counting extends ExecRunner {
  spawned = 0;
  override run(cmd: Command) {
    if (!cmd.rtnl) this.spawned++;
    return super.run(cmd);
  }
}

const sh = (script: string) => run(['sh', '-ec', script]);

before(() => {
  for (const ns of [a, b, peer, viaIp, viaNl, mp]) run(['ip', 'netns', 'add', ns]);
  // Namespace a holds one of everything a scan reads.
  sh(`ip -n ${a} link set lo up
ip -n ${a} link add br0 mtu 1450 type bridge
ip -n ${a} addr add 10.77.0.1/24 dev br0
ip -n ${a} addr add fd00:77::1/64 dev br0
ip -n ${a} link set br0 up
ip -n ${a} link add vin0 type veth peer name vin1
ip -n ${a} link set vin0 master br0
ip -n ${a} link set vin0 type bridge_slave hairpin on
ip -n ${a} link set vin0 up; ip -n ${a} link set vin1 up
ip -n ${a} link add vout0 type veth peer name eth0 netns ${peer}
ip -n ${a} link set vout0 master br0; ip -n ${a} link set vout0 up
ip -n ${a} link add dum0 type veth peer name dum1; ip -n ${a} link set dum1 up; ip -n ${a} addr add 192.168.77.2/24 dev dum0; ip -n ${a} link set dum0 up
ip -n ${a} link add flannel.1 type vxlan id 1 local 192.168.77.2 dev dum0 dstport 8472 nolearning
ip -n ${a} link set flannel.1 up
ip -n ${a} addr add 10.78.0.0/32 dev flannel.1
ip -n ${a} route add 10.78.1.0/24 via 10.78.1.0 dev flannel.1 onlink
ip -n ${a} route add default via 192.168.77.1 dev dum0
ip -n ${a} route add 10.79.0.0/16 dev br0 proto static
ip -n ${a} neigh replace 10.78.1.0 lladdr 02:aa:bb:cc:dd:01 dev flannel.1 nud permanent
ip -n ${a} neigh replace 10.77.0.9 lladdr 02:aa:bb:cc:dd:09 dev br0 nud reachable
bridge -n ${a} fdb replace 02:aa:bb:cc:dd:01 dev flannel.1 dst 192.168.77.3 self permanent
bridge -n ${a} fdb add 02:aa:bb:cc:dd:02 dev vout0 master static
ip -n ${a} neigh replace 10.78.2.0 lladdr 02:aa:bb:cc:dd:02 dev flannel.1 nud permanent
ip -n ${a} neigh replace fd00:77::9 lladdr 02:aa:bb:cc:dd:0a dev br0 nud stale
ip -n ${a} route add blackhole 10.80.1.0/24
ip -n ${a} route add unreachable 10.80.2.0/24 metric 9
ip -n ${a} route add 10.80.3.0/24 via 192.168.77.1 dev dum0 table 100 proto static metric 7
ip -n ${a} route add prohibit 10.80.4.0/24 table 100
ip -n ${a} route add throw 10.80.5.0/24 table 1000 proto 99
ip -n ${a} route add 10.80.6.0/24 dev br0 src 10.77.0.1 mtu lock 1300 advmss 1200
ip -n ${a} -6 route add fd00:80::/64 via fd00:77::2 dev br0 metric 50 pref high
ip -n ${a} -6 route add unreachable fd00:81::/64
ip -n ${a} -6 route add blackhole fd00:82::/64 table 100
ip -n ${a} -6 route add fd00:83::/64 from fd00:77::/64 via fd00:77::3 dev br0`);
  // Namespace mp holds a route the rtnetlink side does not render (two next hops): ip prints that listing.
  sh(`ip -n ${mp} link add m0 type veth peer name m1; ip -n ${mp} link set m0 up; ip -n ${mp} link set m1 up
ip -n ${mp} addr add 10.81.0.1/24 dev m0
ip -n ${mp} route add 10.81.9.0/24 nexthop via 10.81.0.2 dev m0 nexthop via 10.81.0.3 dev m0`);
});

after(() => {
  for (const ns of netnsWithPrefix(prefix)) runStatus(['ip', 'netns', 'del', ns]);
});

test('every read gives the same objects as iproute2 does', T, async () => {
  const ns = netnsNamed(a);
  const viaIproute = new NetHandle(new IprouteOnly(), ns);
  const counting = new Counting();
  const viaRtnl = new NetHandle(counting, ns);
  const reads: [string, (h: NetHandle) => Promise<unknown>][] = [
    ['link show', (h) => h.linkList()],
    ['addr show', (h) => h.linksAndAddrs()],
    ['addr show dev br0', (h) => h.addrShow('br0')],
    ['addr show dev nope', (h) => h.addrShow('nope')],
    // One link read alone: its master's name, its peer's in this namespace, its peer's id in another.
    ['addr show dev vin0', (h) => h.addrShow('vin0')],
    ['addr show dev vout0', (h) => h.addrShow('vout0')],
    ['addr show dev flannel.1', (h) => h.addrShow('flannel.1')],
    ['route show', (h) => h.routeList()],
    ['route show table all', (h) => h.routeList('all')],
    ['neigh show dev flannel.1', (h) => h.neighList({ dev: 'flannel.1' })],
    ['neigh show dev br0', (h) => h.neighList({ dev: 'br0' })],
    ['neigh show dev nope', (h) => h.neighList({ dev: 'nope' }).catch((e: HostError) => [e.kind, e.exitCode, e.stderr])],
    ['fdb show', (h) => h.fdbList()],
    ['fdb show br br0', (h) => h.fdbList({ br: 'br0' })],
    ['fdb show dev flannel.1', (h) => h.fdbList({ dev: 'flannel.1' })],
    ['scan tables', (h) => h.tables()],
    ['netns list-id', (h) => h.nsids()],
  ];
  for (const [what, read] of reads) {
    assert.deepEqual(await read(viaRtnl), await read(viaIproute), what);
  }
  assert.equal(counting.spawned, 0, 'no read started a process');
  // The scan's neighbours and routes are really there (not two empty lists agreeing).
  const t = await viaRtnl.tables();
  assert.ok(t.neighs.some((n) => n.dst === '10.78.1.0' && n.state.includes('PERMANENT')));
  assert.ok(t.routes.some((r) => r.dst === '10.78.1.0/24' && r.flags.includes('onlink')));
  assert.ok(t.links.some((l) => l.kind === 'vxlan' && l.vni === 1 && l.dstport === 8472 && l.learning === false));
  assert.ok((await viaRtnl.nsids()).some((n) => n.name === peer), 'the peer namespace is named by its id');
  // flannel.1's neighbours alone, named by address, without the device (ip leaves it out).
  assert.deepEqual((await viaRtnl.neighList({ dev: 'flannel.1' })).map((n) => n.dst).sort(), ['10.78.1.0', '10.78.2.0']);
  const all = await viaRtnl.routeList('all');
  for (const dst of ['10.80.3.0/24', '10.80.4.0/24', '10.80.5.0/24', 'fd00:82::/64', '127.0.0.1', 'default']) assert.ok(all.some((r) => r.dst === dst), dst);
});

test('route and neighbour listings print what ip prints, byte for byte', T, async () => {
  // ip's own output against the text podnet makes (the objects above drop the keys podnet does not read:
  // table, type, metric, metrics, pref…).
  const byIp = (ns: string, args: string[]) => new ExecRunner().run({ argv: ['ip', ...(ns ? ['-n', ns] : []), '-json', ...args], mutates: false });
  const byRtnl = (ns: string, line: string, details = false) => runByRtnl({ ns: ns ? `/run/netns/${ns}` : '/proc/self/ns/net', program: 'ip', lines: [line], batch: false, details });
  for (const line of ['route show table all', 'route show', 'neigh show dev flannel.1', 'neigh show dev br0', 'neigh show dev nope', 'neigh show']) {
    const nl = await byRtnl(a, line);
    assert.ok(nl, `${line}: answered over rtnetlink`);
    assert.deepEqual(nl, await byIp(a, line.split(' ')), line);
  }
  const details = await byRtnl(a, 'route show table all', true);
  assert.ok(details);
  assert.deepEqual(details, await byIp(a, ['-details', 'route', 'show', 'table', 'all']), '-details route show table all');
  const text = (await byRtnl(a, 'route show table all'))!.stdout;
  for (const key of ['"table":"100"', '"table":"1000"', '"table":"local"', '"type":"blackhole"', '"type":"unreachable"', '"type":"prohibit"', '"type":"throw"',
    '"protocol":"openr"', '"metrics":[{"mtu":1300,"advmss":1200}]', '"pref":"high"', '"from":"fd00:77::/64"', '"dst":"fd00:82::/64"']) assert.ok(text.includes(key), key);
  // The namespace podnet runs in (read only): what the lab's check of the machine's routes reads.
  const root = await byRtnl('', 'route show table all');
  if (root) assert.deepEqual(root, await byIp('', ['route', 'show', 'table', 'all']), 'root namespace');
  // A listing with a route not rendered here is left to ip: the same objects, one process.
  assert.equal(await byRtnl(mp, 'route show table all'), undefined);
  const declined = await new NetHandle(new ExecRunner(), netnsNamed(mp)).routeList('all');
  assert.deepEqual(declined, await new NetHandle(new IprouteOnly(), netnsNamed(mp)).routeList('all'));
  assert.ok(declined.some((r) => r.dst === '10.81.9.0/24'));
});

test('the bridge plugin\'s lines make the same kernel state, and fail alike', T, async () => {
  const lines = (target: string) => [
    L.linkAddBridge('cni0', { mtu: 1450, mac: '02:42:0a:2a:00:01' }), L.linkSetUp('cni0'), L.linkSetPromisc('cni0', true),
    L.linkAddVeth('vethc0ffee', 'eth0', { mtu: 1450, peerMac: '02:00:00:00:00:05', peerNetns: `/run/netns/${target}` }),
    L.linkSetMaster('vethc0ffee', 'cni0'), L.linkSetHairpin('vethc0ffee', true), L.linkSetUp('vethc0ffee'),
    L.addrAdd('10.42.0.1/24', 'cni0'), L.linkSetMtu('cni0', 1400), L.linkSetAddress('cni0', '02:42:0a:2a:00:02'),
    L.linkAddBridge('cni0'), L.addrDel('10.42.9.9/24', 'cni0'), L.linkSetMaster('nope0', 'cni0'), L.addrAdd('10.1.1.1/24', 'nope0'),
    L.linkShow('vethc0ffee'),
  ];
  const ipSide = await new NetHandle(new IprouteOnly(), netnsNamed(viaIp)).batch(lines(a), [['net/ipv6/conf/vethc0ffee/accept_ra', '0'], ['net/ipv4/ip_forward', '1']]);
  const counting = new Counting();
  const nlSide = await new NetHandle(counting, netnsNamed(viaNl)).batch(lines(b), [['net/ipv6/conf/vethc0ffee/accept_ra', '0'], ['net/ipv4/ip_forward', '1']]);
  assert.equal(counting.spawned, 0);
  assert.deepEqual(nlSide.failures.map((f) => [f.line, f.kind]), ipSide.failures.map((f) => [f.line, f.kind]));
  assert.deepEqual(nlSide.failures.map((f) => f.line), [11, 12, 13, 14]);
  const state = (ns: string) => ipJson(ns, ['-d', 'addr', 'show']).map((l) => {
    const info = l.linkinfo as Record<string, Record<string, unknown>> | undefined;
    // lo has no address; the kernel picks the host veth's (random, so it may even start 02: as the set ones do).
    const mac = l.ifname === 'lo' ? '' : l.ifname === 'vethc0ffee' ? 'random-mac' : l.address;
    return [l.ifname, l.mtu, mac, l.master, l.operstate, (l.flags as string[]).join(','), info?.info_kind, info?.info_slave_data?.hairpin,
      (l.addr_info as { family: string; local: string; prefixlen: number }[]).filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`)];
  }).map((row) => JSON.stringify(row));
  // A bridge's carrier (NO-CARRIER once its only port is down) is set by the kernel's linkwatch work,
  // which runs up to a second after the change: the faster side can be read before it has. Both sides
  // settle to the same state; wait (bounded) for that, then compare.
  await waitFor(() => JSON.stringify(state(viaNl)) === JSON.stringify(state(viaIp)), 3000, 50);
  assert.deepEqual(state(viaNl), state(viaIp));
  assert.equal(nsSysctl(viaNl, 'net.ipv4.ip_forward'), '1');
  assert.equal(nsSysctl(viaNl, 'net.ipv6.conf.vethc0ffee.accept_ra'), '0');
  assert.equal(ipJson(b, ['link', 'show', 'eth0'])[0]?.address, '02:00:00:00:00:05', 'the peer was born in the pod namespace with its MAC');
  assert.equal(nlSide.shows[0][0].ifname, 'vethc0ffee');
  assert.equal(nlSide.shows[0][0].master, 'cni0');
});

test('flannel.1\'s creation line makes the same vxlan device, and fails alike', T, async () => {
  const vx = (name: string, o: Partial<L.VxlanParams>) => L.linkAddVxlan(name, { vni: 1, local: '192.168.88.2', dev: 'vxu0', dstport: 8472, learning: false, ...o });
  const lines = [
    L.linkAddVeth('vxu0', 'vxu1'), L.addrAdd('192.168.88.2/24', 'vxu0'), L.linkSetUp('vxu0'),
    vx('flannel.1', { mac: '02:42:c0:a8:58:02', mtu: 1400 }), L.addrAdd('10.42.0.0/32', 'flannel.1'), L.linkSetUp('flannel.1'),
    vx('vx42', { vni: 42, dstport: 4789, learning: true }), vx('vxzero', { vni: 16777215, dstport: 0 }),
    vx('flannel.1', { mac: '02:42:c0:a8:58:03' }), L.linkShow('flannel.1'),
  ];
  const after: [string, string][] = [['net/ipv6/conf/flannel.1/accept_ra', '0']];
  const ipSide = await new NetHandle(new IprouteOnly(), netnsNamed(viaIp)).batch(lines, after);
  const counting = new Counting();
  const nlSide = await new NetHandle(counting, netnsNamed(viaNl)).batch(lines, after);
  assert.equal(counting.spawned, 0, 'no process was started');
  assert.deepEqual(nlSide.failures.map((f) => [f.line, f.kind, f.message]), ipSide.failures.map((f) => [f.line, f.kind, f.message]));
  assert.deepEqual(nlSide.failures.map((f) => f.line), [9], 'the second flannel.1 exists already');
  // The devices as the kernel reports them, all details; only what the kernel picks at random differs
  // (the index, and the MAC where none was given).
  const dev = (ns: string, name: string) => {
    const { ifindex: _, ...l } = ipJson(ns, ['-details', 'link', 'show', 'dev', name])[0];
    return name === 'flannel.1' ? l : { ...l, address: 'random' };
  };
  for (const name of ['flannel.1', 'vx42', 'vxzero']) assert.deepEqual(dev(viaNl, name), dev(viaIp, name), name);
  const f1 = ipJson(viaNl, ['-details', 'link', 'show', 'dev', 'flannel.1'])[0] as { address: string; mtu: number; linkinfo: { info_kind: string; info_data: Record<string, unknown> } };
  assert.deepEqual([f1.address, f1.mtu, f1.linkinfo.info_kind], ['02:42:c0:a8:58:02', 1400, 'vxlan']);
  const d = f1.linkinfo.info_data;
  assert.deepEqual([d.id, d.local, d.link, d.port, d.learning], [1, '192.168.88.2', 'vxu0', 8472, false]);
  assert.equal((ipJson(viaNl, ['-details', 'link', 'show', 'dev', 'vx42'])[0].linkinfo as { info_data: { learning: boolean } }).info_data.learning, true);
  assert.equal(nsSysctl(viaNl, 'net.ipv6.conf.flannel/1.accept_ra'), '0');
  assert.equal(nlSide.shows[0][0].ifname, 'flannel.1');
  // An underlay device that is not there ends the batch (ip exits while reading the line).
  const bad = [vx('vxbad', { dev: 'nope0' }), L.linkSetUp('lo')];
  const outcome = (h: NetHandle) => h.batch(bad).then(() => ['ok'], (e: HostError) => [e.kind, e.exitCode, e.stderr]);
  assert.deepEqual(await outcome(new NetHandle(new Counting(), netnsNamed(viaNl))), await outcome(new NetHandle(new IprouteOnly(), netnsNamed(viaIp))));
  assert.equal(runStatus(['ip', '-n', viaNl, 'link', 'show', 'vxbad']).status, 1);
});

test('the pod side: sysctls first, then address and routes; a sysctl that cannot be written stops it', T, async () => {
  const podLines = [L.linkSetUp('eth0'), L.addrAdd('10.42.0.5/24', 'eth0'), L.routeAdd('10.42.0.0/16', { via: '10.42.0.1', dev: 'eth0' }),
    L.routeAdd('default', { via: '10.42.0.1', dev: 'eth0' }), L.routeReplace('10.99.0.0/16', { dev: 'eth0' })];
  const h = new NetHandle(new Counting(), netnsNamed(b));
  (await h.configure([['net/ipv4/conf/eth0/arp_notify', '1'], ['net/ipv6/conf/eth0/accept_dad', '0']], podLines)).ok();
  assert.equal(nsSysctl(b, 'net.ipv4.conf.eth0.arp_notify'), '1');
  const routes = ipJson(b, ['route', 'show']).map((r) => `${r.dst} ${r.gateway ?? ''} ${r.scope ?? ''}`);
  assert.deepEqual(routes.sort(), ['10.42.0.0/16 10.42.0.1 global', '10.42.0.0/24  link', '10.99.0.0/16  link', 'default 10.42.0.1 global'].sort());
  await assert.rejects(h.configure([['net/ipv4/conf/nope9/arp_notify', '1']], [L.addrAdd('10.42.0.6/24', 'eth0')]), (e: Error) => /nope9/.test(e.message));
  assert.ok(!ipJson(b, ['addr', 'show', 'eth0'])[0].addr_info!.toString().includes('10.42.0.6'));
  (await h.batch([L.routeDel('10.99.0.0/16', 'eth0'), L.linkDel('eth0')])).ok();
  assert.equal(runStatus(['ip', '-n', b, 'link', 'show', 'eth0']).status, 1, 'eth0 is gone');
  assert.equal(runStatus(['ip', '-n', a, 'link', 'show', 'vout0']).status, 0);
});

test('a peer namespace that is not there ends the batch as iproute2 does', T, async () => {
  const bad = [L.linkAddVeth('vethx', 'eth1', { peerNetns: 'no-such-ns' }), L.linkSetUp('lo')];
  const kind = (h: NetHandle) => h.batch(bad).then(() => 'ok', (e: { kind: string }) => e.kind);
  assert.equal(await kind(new NetHandle(new Counting(), netnsNamed(viaNl))), await kind(new NetHandle(new IprouteOnly(), netnsNamed(viaIp))));
  assert.equal(await kind(new NetHandle(new Counting(), netnsNamed(viaNl))), 'invalid');
});

test('a namespace that is not there fails as iproute2 does', T, async () => {
  const gone = netnsNamed(`${prefix}never`);
  const nl = new NetHandle(new Counting(), gone);
  const ip = new NetHandle(new IprouteOnly(), gone);
  const kinds = async (h: NetHandle) => Promise.all([h.batch([L.linkSetUp('lo')]).then(() => 'ok', (e: { kind: string }) => e.kind), h.linkList().then(() => 'ok', (e: { kind: string }) => e.kind)]);
  assert.deepEqual(await kinds(nl), await kinds(ip));
  assert.deepEqual(await kinds(nl), ['not-found', 'not-found']);
});

test('sessions in many namespaces at once each land in their own (more than the helpers hold at once)', { timeout: 60_000 }, async () => {
  // 90 sessions: two helpers hold 40 each, so ten wait their turn; every one opens its peer's namespace
  // in a slot of its helper while the others do.
  const n = 90;
  const ns = (i: number) => `${prefix}m${i}`;
  const peerNs = (i: number) => `${prefix}q${i}`;
  for (let i = 0; i < n; i++) for (const x of [ns(i), peerNs(i)]) run(['ip', 'netns', 'add', x]);
  const mac = (i: number) => `02:00:00:00:01:${i.toString(16).padStart(2, '0')}`;
  const counting = new Counting();
  const results = await Promise.all(Array.from({ length: n }, (_, i) => new NetHandle(counting, netnsNamed(ns(i))).configure(
    [['net/ipv4/ip_forward', String(i % 2)]],
    [L.linkAddVeth(`vm${i}`, 'eth0', { peerMac: mac(i), peerNetns: `/run/netns/${peerNs(i)}` }), L.linkSetUp(`vm${i}`), L.linkShow(`vm${i}`)])));
  assert.equal(counting.spawned, 0);
  for (let i = 0; i < n; i++) {
    results[i].ok();
    assert.equal(results[i].shows[0][0].ifname, `vm${i}`);
    assert.deepEqual(ipJson(ns(i), ['link', 'show']).map((l) => l.ifname).sort(), ['lo', `vm${i}`], ns(i));
    assert.equal(ipJson(peerNs(i), ['link', 'show', 'eth0'])[0]?.address, mac(i), peerNs(i));
    assert.equal(nsSysctl(ns(i), 'net.ipv4.ip_forward'), String(i % 2), ns(i));
  }
});
