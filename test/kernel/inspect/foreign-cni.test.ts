// inspect on a network podnet did not build: Debian's reference CNI plugins (bridge, host-local,
// loopback from containernetworking-plugins) exec'd per pod exactly as a runtime does, with a "host"
// namespace H of our own, plus one pod whose namespace nobody pinned (held by `unshare --net busybox
// sleep 600`) wired to H's cni0 by hand. Two pods have a libcni-style cache file, the third is only
// known to host-local. Every join is checked against `ip -json -details` read here, independently.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { scanHost } from '../../../src/inspect/scan.js';
import { identify, type EvidenceDirs } from '../../../src/inspect/identify.js';
import { peerKey, resolvePeers, type NetnsSnapshot, type Snapshot } from '../../../src/model/snapshot.js';
import type { FdbEntry } from '../../../src/model/kernel.js';
import { bridgeJson, ipJson, run, statInode, tempDir, uniqueName } from '../helpers.js';
import { cniExec, containerId, deleteNetnsWithPrefix, ipJsonAt, killAndWait, missing, nsidsAt, unpinnedNamespace } from './foreign.js';
import { Host } from '../../../src/host/host.js';

type Json = Record<string, unknown>;

const skip = missing({
  '/usr/lib/cni/bridge': 'containernetworking-plugins', '/usr/lib/cni/host-local': 'containernetworking-plugins',
  '/usr/lib/cni/loopback': 'containernetworking-plugins', '/usr/bin/busybox': 'busybox', '/usr/bin/unshare': 'util-linux',
});
if (skip) console.log(`# skipping the reference-plugin inspect tests: ${skip}`);
const T = { timeout: 60_000, ...(skip ? { skip } : {}) };

const prefix = `${uniqueName('pnit')}-`;
const H = `${prefix}h`;
const CNI_ARGS = (pod: string) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}`;
interface Pod { ns: string; name: string; cid: string; cached: boolean; result: Json }
const pods: Pod[] = [1, 2, 3].map((n) => ({ ns: `${prefix}p${n}`, name: `pod${n}`, cid: containerId(), cached: n !== 3, result: {} }));
let unnamed: { pid: number; inode: number; path: string; hostVeth: string; ip: string } | undefined;
let tmp = '';
let ev: EvidenceDirs;
let snap: Snapshot;

/** K3s's cbr0 bridge delegate, for the reference bridge plugin, with host-local's store in `dataDir`. */
const bridgeConf = (dataDir: string) => ({
  cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true,
  hairpinMode: true, ipMasq: false, mtu: 1450,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '10.42.0.0/16' }], dataDir },
});

const byName = (s: Snapshot, name: string): NetnsSnapshot | undefined => s.namespaces.find((n) => n.names.includes(name));
const byInode = (s: Snapshot, inode: number): NetnsSnapshot | undefined => s.namespaces.find((n) => n.inode === inode);
const hostOf = (s: Snapshot): NetnsSnapshot => {
  const h = s.namespaces.find((n) => n.id === s.host);
  assert.ok(h, 'the host namespace is in the snapshot');
  return h;
};
interface FdbLike { mac: string; dev: string; master?: string; state: string; flags: string[] }
/** A comparable form of an FDB entry (vlan is not modelled, so an entry per vlan counts on both sides alike). */
const fdbKey = (e: FdbLike) => `${e.mac} dev ${e.dev} master ${e.master ?? '-'} ${e.state} [${[...e.flags].sort().join(',')}]`;
/** Permanent and static entries: learned ones come and go between two reads. */
const stable = (e: FdbLike) => e.state === 'permanent' || e.state === 'static';
const stableKeys = (list: FdbLike[]) => list.filter(stable).map(fdbKey).sort();
/** `bridge -n NS -json fdb show`, read independently. */
const kernelFdb = (ns: string): FdbLike[] => bridgeJson(ns, ['fdb', 'show']).map((j) => ({
  mac: String(j.mac), dev: String(j.ifname), ...(j.master === undefined ? {} : { master: String(j.master) }), state: String(j.state ?? ''), flags: (j.flags ?? []) as string[],
}));

/** Every pod (pinned or not) with the path that opens its namespace. */
function everyPod(s: Snapshot): { label: string; path: string; ns: NetnsSnapshot | undefined }[] {
  assert.ok(unnamed);
  return [
    ...pods.map((p) => ({ label: p.ns, path: `/run/netns/${p.ns}`, ns: byName(s, p.ns) })),
    { label: `unnamed (pid ${unnamed.pid})`, path: unnamed.path, ns: byInode(s, unnamed.inode) },
  ];
}

before(async () => {
  if (skip) return;
  tmp = await tempDir('inspect-foreign');
  const dataDir = join(tmp, 'host-local');
  const resultsDir = join(tmp, 'results');
  const stateRoot = join(tmp, 'state');
  await Promise.all([mkdir(resultsDir), mkdir(stateRoot)]);
  ev = { stateRoot, cniResults: [resultsDir], hostLocal: [dataDir], containersJson: [] };
  run(['ip', 'netns', 'add', H]);
  run(['ip', '-n', H, 'link', 'set', 'lo', 'up']);
  for (const p of pods) {
    run(['ip', 'netns', 'add', p.ns]);
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: p.cid, CNI_NETNS: `/run/netns/${p.ns}`, CNI_ARGS: CNI_ARGS(p.name) };
    cniExec(H, 'loopback', { ...env, CNI_IFNAME: 'lo' }, { cniVersion: '1.0.0', name: 'cbr0', type: 'loopback' });
    p.result = cniExec(H, 'bridge', { ...env, CNI_IFNAME: 'eth0' }, bridgeConf(dataDir));
    if (p.cached) {
      await writeFile(join(resultsDir, `cbr0-${p.cid}-eth0`), JSON.stringify({
        kind: 'cniCacheV1', containerId: p.cid, ifName: 'eth0', networkName: 'cbr0',
        cniArgs: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', p.name], ['K8S_POD_NAMESPACE', 'default']], result: p.result,
      }));
    }
  }
  // The unnamed pod: a namespace only a process holds, its eth0 made from H straight into it by PID.
  const u = await unpinnedNamespace();
  unnamed = { ...u, hostVeth: uniqueName('vethu'), ip: '10.42.0.200' };
  run(['ip', '-n', H, 'link', 'add', unnamed.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(u.pid)]);
  run(['ip', '-n', H, 'link', 'set', unnamed.hostVeth, 'master', 'cni0', 'up']);
  for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', `${unnamed.ip}/24`, 'dev', 'eth0'], ['link', 'set', 'eth0', 'up']]) {
    run(['nsenter', `--net=${u.path}`, '--', 'ip', ...args]);
  }
  snap = await identify(await scanHost(new Host(new ExecRunner()), { host: netnsNamed(H) }), ev);
});

after(async () => {
  if (skip) return;
  const problems: string[] = [];
  if (unnamed && !(await killAndWait(unnamed.pid))) problems.push(`pid ${unnamed.pid} survived SIGKILL`);
  const left = deleteNetnsWithPrefix(prefix);
  if (left.length) problems.push(`namespaces left: ${left.join(', ')}`);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  if (problems.length) throw new Error(problems.join('; '));
});

test('the reference plugins made what a runtime gets: one veth per pod on cni0, an IP each', T, () => {
  for (const p of pods) {
    const ifs = (p.result.interfaces ?? []) as { name: string; sandbox?: string }[];
    assert.deepEqual(ifs.map((i) => i.name).filter((n) => n !== 'cni0' && n !== 'eth0').length, 1, `${p.ns}: one host veth in the result`);
    assert.equal(ifs.find((i) => i.name === 'eth0')?.sandbox, `/run/netns/${p.ns}`);
  }
  assert.equal(new Set(pods.map((p) => JSON.stringify((p.result.ips as Json[])[0].address))).size, 3, 'three distinct IPs');
});

test('every pod eth0 (the unnamed one too) pairs with its host veth on cni0 both ways, as ip -json says', T, () => {
  assert.equal(snap.host, `ino:${statInode(`/run/netns/${H}`)}`);
  const host = hostOf(snap);
  const peers = resolvePeers(snap);
  const hostLinks = ipJson(H, ['link', 'show']);
  for (const c of everyPod(snap)) {
    assert.ok(c.ns, `${c.label} is in the snapshot`);
    assert.equal(c.ns.error, undefined, `${c.label} read without error`);
    const [kEth0] = ipJsonAt(c.path, ['link', 'show', 'dev', 'eth0']);
    const kHost = hostLinks.find((l) => l.ifindex === kEth0.link_index);
    assert.ok(kHost, `${c.label}: the kernel's peer of eth0 is in H`);
    assert.equal(kHost.link_index, kEth0.ifindex, `${c.label}: the host veth points back at eth0`);
    assert.equal(kHost.master, 'cni0');
    assert.equal(nsidsAt(c.path).find((x) => x.nsid === kEth0.link_netnsid)?.name, H, `${c.label}: eth0's link-netnsid is H`);

    const eth0 = c.ns.links.find((l) => l.name === 'eth0');
    assert.ok(eth0 && eth0.kind === 'veth', `${c.label}: eth0 is a veth in the snapshot`);
    assert.equal(eth0.index, kEth0.ifindex);
    assert.equal(eth0.peerIndex, kEth0.link_index);
    assert.equal(eth0.linkNetnsid, kEth0.link_netnsid);
    assert.equal(eth0.mac, kEth0.address);
    assert.deepEqual(peers.get(peerKey(c.ns.id, eth0.index)), { netns: snap.host, index: kHost.ifindex, name: kHost.ifname }, `${c.label}: eth0 → host veth`);
    assert.deepEqual(peers.get(peerKey(snap.host, Number(kHost.ifindex))), { netns: c.ns.id, index: kEth0.ifindex, name: 'eth0' }, `${c.label}: host veth → eth0`);

    const sHost = host.links.find((l) => l.index === kHost.ifindex);
    assert.ok(sHost && sHost.kind === 'veth');
    assert.equal(sHost.name, kHost.ifname);
    assert.equal(sHost.master, 'cni0');
    assert.equal(sHost.linkNetnsid, kHost.link_netnsid);
    const kAddrs = (ipJsonAt(c.path, ['addr', 'show', 'dev', 'eth0'])[0].addr_info as { family: string; local: string; prefixlen: number }[])
      .filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
    assert.deepEqual(c.ns.addrs.filter((a) => a.link === 'eth0' && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`), kAddrs);
  }
  // The plugin-made ports: the result's host veth, hairpin on (hairpinMode), the pod IP from host-local.
  for (const p of pods) {
    const ns = byName(snap, p.ns)!;
    const hostVeth = ((p.result.interfaces ?? []) as { name: string }[]).find((i) => /^veth[0-9a-f]{8}$/.test(i.name))?.name;
    const peer = resolvePeers(snap).get(peerKey(ns.id, ns.links.find((l) => l.name === 'eth0')!.index));
    assert.equal(peer?.name, hostVeth, `${p.ns}: the peer is the host veth the plugin reported`);
    assert.equal(host.links.find((l) => l.name === hostVeth)?.port?.hairpin, true);
    assert.deepEqual(ns.addrs.filter((a) => a.link === 'eth0' && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`),
      (p.result.ips as { address: string }[]).map((i) => i.address));
  }
});

test('identities: two pods from the CNI cache, one from host-local, the unnamed one by its process', T, () => {
  assert.ok(unnamed);
  for (const p of pods.filter((x) => x.cached)) {
    assert.deepEqual(byName(snap, p.ns)?.identity, { kind: 'pod', name: p.name, podNamespace: 'default', containerId: p.cid, source: 'cni-cache' }, p.ns);
  }
  const third = pods.find((x) => !x.cached)!;
  assert.deepEqual(byName(snap, third.ns)?.identity, { kind: 'pod', name: `sandbox ${third.cid.slice(0, 12)}`, containerId: third.cid, source: 'host-local' });
  const u = byInode(snap, unnamed.inode);
  assert.ok(u);
  assert.deepEqual(u.names, [], 'nobody pinned it');
  assert.equal(u.path, `/proc/${unnamed.pid}/ns/net`);
  assert.equal(u.processes[0]?.pid, unnamed.pid);
  assert.equal(u.processes[0]?.cmd, 'busybox sleep 600');
  assert.deepEqual(u.identity, { kind: 'unknown', name: `netns ${unnamed.inode} (pid ${unnamed.pid}: busybox sleep 600)`, source: 'process' });
  assert.equal(hostOf(snap).identity.kind, 'host');
  assert.deepEqual(hostOf(snap).names, [H]);
});

test('the host FDB is read: a permanent entry for every host veth, and the same entries the kernel lists', T, () => {
  assert.ok(unnamed);
  const host = hostOf(snap);
  const hostVeths = ipJson(H, ['link', 'show']).filter((l) => l.master === 'cni0');
  assert.equal(hostVeths.length, 4, 'three plugin veths and the hand-made one on cni0');
  for (const v of hostVeths) {
    assert.ok(host.fdb.some((e: FdbEntry) => e.mac === v.address && e.dev === v.ifname && e.master === 'cni0' && e.state === 'permanent'),
      `permanent FDB entry for ${String(v.ifname)} (${String(v.address)})`);
  }
  // Learned entries come and go; the permanent/static/self ones must match the kernel's list exactly.
  assert.deepEqual(stableKeys(host.fdb), stableKeys(kernelFdb(H)));
});

test('a scan scoped with `only` (a name, a pinned path, a /proc path) holds those and the host, read the same', T, async () => {
  assert.ok(unnamed);
  const only = [pods[0].ns, `/run/netns/${pods[1].ns}`, unnamed.path];
  const scoped = await identify(await scanHost(new Host(new ExecRunner()), { host: netnsNamed(H), only }), ev);
  const expected = [snap.host, byName(snap, pods[0].ns)!.id, byName(snap, pods[1].ns)!.id, `ino:${unnamed.inode}`].sort();
  assert.deepEqual(scoped.namespaces.map((n) => n.id).sort(), expected);
  assert.equal(scoped.host, snap.host);
  const peersFull = resolvePeers(snap);
  const peersScoped = resolvePeers(scoped);
  for (const ns of scoped.namespaces) {
    const full = snap.namespaces.find((n) => n.id === ns.id)!;
    assert.deepEqual(ns.links, full.links, `${ns.id}: links`);
    assert.deepEqual(ns.addrs, full.addrs, `${ns.id}: addresses`);
    assert.deepEqual(ns.routes, full.routes, `${ns.id}: routes`);
    assert.deepEqual(ns.names, full.names);
    assert.deepEqual(ns.identity, full.identity, `${ns.id}: identity`);
    assert.deepEqual(stableKeys(ns.fdb), stableKeys(full.fdb), `${ns.id}: FDB`);
    if (ns.id === scoped.host) continue;
    const eth0 = ns.links.find((l) => l.name === 'eth0')!;
    assert.deepEqual(peersScoped.get(peerKey(ns.id, eth0.index)), peersFull.get(peerKey(ns.id, eth0.index)));
  }
  // The third pod was left out: its host veth's peer is known by index only, never guessed.
  const third = byName(snap, pods[2].ns)!;
  const hostSide = peersFull.get(peerKey(third.id, third.links.find((l) => l.name === 'eth0')!.index))!;
  assert.deepEqual(peersScoped.get(peerKey(scoped.host, hostSide.index)), { index: third.links.find((l) => l.name === 'eth0')!.index });
});
