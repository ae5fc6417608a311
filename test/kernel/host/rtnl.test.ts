// rtnetlink from podnet's process (src/host/rtnl*.ts) against iproute2 on the real kernel: the same
// reads give the same objects, the same lines make the same kernel state, the same mistakes fail the
// same way. The iproute2 side is the same NetHandle with the rtnetlink work taken off each command,
// so `ip`/`bridge` really run; the kernel state is read back with `ip -json`/`bridge -json`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecRunner, type Command, type Runner } from '../../../src/host/runner.js';
import { NetHandle } from '../../../src/host/iproute.js';
import { netnsNamed } from '../../../src/host/netns.js';
import * as L from '../../../src/host/ip-lines.js';
import { ipJson, netnsWithPrefix, nsSysctl, run, runStatus, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const prefix = `${uniqueName('podnet-kt-')}-`;
const [a, b, peer, viaIp, viaNl] = ['a', 'b', 'peer', 'ip', 'nl'].map((s) => `${prefix}${s}`);

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
  for (const ns of [a, b, peer, viaIp, viaNl]) run(['ip', 'netns', 'add', ns]);
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
bridge -n ${a} fdb add 02:aa:bb:cc:dd:02 dev vout0 master static`);
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
