// inspect on containers podman 4.3 made with its CNI backend (the reference plugins from
// /usr/lib/cni), set up as docs/machine.md says: a CONTAINERS_CONF of our own
// (network_backend="cni", our conflist dir), --root/--runroot in a temp dir, --rootfs with busybox,
// --runtime runc, low explicit ulimits, and podman run under `nsenter --net=<our H>` so its bridge
// and veths are made in H, never in the root namespace. Checked against `podman inspect` and
// `ip -json`; then `podman rm -f` and the scan must no longer see them, host-local must have released.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { scanHost } from '../../../src/inspect/scan.js';
import { identify, type EvidenceDirs } from '../../../src/inspect/identify.js';
import { peerKey, resolvePeers, type Snapshot } from '../../../src/model/snapshot.js';
import { alive, ipJson, netInodeOf, run, runStatus, statInode, uniqueName, waitFor } from '../helpers.js';
import { busyboxRootfs, deleteNetnsWithPrefix, ipFiles, missing, mountsUnder } from './foreign.js';
import { Host } from '../../../src/host/host.js';

type Json = Record<string, unknown>;

const skip = missing({
  '/usr/bin/podman': 'podman', '/usr/sbin/runc': 'runc', '/usr/lib/cni/bridge': 'containernetworking-plugins',
  '/usr/lib/cni/host-local': 'containernetworking-plugins', '/usr/bin/busybox': 'busybox',
});
if (skip) console.log(`# skipping the podman inspect tests: ${skip}`);
const T = { timeout: 120_000, ...(skip ? { skip } : {}) };

const id = uniqueName('pnit');
const prefix = `${id}-`;
const H = `${prefix}h`;
const NET = id; // the CNI network (conflist) name
const BRIDGE = `cni-${id}`; // 14 characters
const SUBNET_OCTET = 1 + (randomBytes(1)[0] % 254);
const SUBNET = `10.88.${SUBNET_OCTET}.0/24`;
const NAMES = ['pnit-a', 'pnit-b'];
/** libcni's result cache, where podman 4.3 (CNI backend) writes `<net>-<container id>-<ifname>`. */
const CNI_CACHE = '/var/lib/cni/results';

let tmp = '';
let conf = '';
let ev: EvidenceDirs;
let dataDir = '';
interface Container { name: string; id: string; pid: number; sandbox: string; ip: string; prefixLen: number; mac: string }
const containers: Container[] = [];
const sandboxes = new Set<string>();

/** `podman --root … --runroot … --runtime runc ARGS`, run inside H with our CONTAINERS_CONF. Bounded. */
function podman(args: readonly string[], timeoutMs = 60_000): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=/run/netns/${H}`, '--', 'podman', '--root', join(tmp, 'root'), '--runroot', join(tmp, 'runroot'), '--runtime', 'runc', ...args], {
    encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, CONTAINERS_CONF: conf },
  });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? ` (${r.error.message})` : ''}` };
}

function podmanOk(args: readonly string[], timeoutMs?: number): string {
  const r = podman(args, timeoutMs);
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}


const byInode = (s: Snapshot, inode: number) => s.namespaces.find((n) => n.inode === inode);

/** Tears down whatever is left, ours only; returns what had to be forced. */
async function cleanUp(): Promise<string[]> {
  const forced: string[] = [];
  if (conf && existsSync(conf)) {
    const left = podman(['ps', '-aq']).stdout.trim();
    if (left) {
      forced.push(`containers ${left.split('\n').join(' ')}`);
      podman(['rm', '-f', '-t', '0', '--all']);
    }
  }
  // conmon exits after its container; wait for every process that still names our temp dir.
  const ours = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return tmp !== '' && readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(tmp) && alive(pid);
    } catch {
      return false;
    }
  });
  if (!(await waitFor(() => ours().length === 0, 10_000, 100))) {
    forced.push(`processes ${ours().join(' ')}`);
    for (const pid of ours()) runStatus(['kill', '-9', String(pid)]);
  }
  for (const sb of sandboxes) {
    if (existsSync(sb)) {
      forced.push(`sandbox ${sb}`);
      runStatus(['ip', 'netns', 'del', basename(sb)]);
    }
  }
  for (const f of existsSync(CNI_CACHE) ? readdirSync(CNI_CACHE) : []) {
    if (f.startsWith(`${NET}-`)) {
      forced.push(`cache ${f}`);
      rmSync(join(CNI_CACHE, f), { force: true });
    }
  }
  const left = deleteNetnsWithPrefix(prefix);
  if (left.length) forced.push(`namespaces ${left.join(' ')}`);
  if (tmp) {
    for (const m of mountsUnder(tmp)) {
      forced.push(`mount ${m}`);
      runStatus(['umount', '-l', m]);
    }
    await rm(tmp, { recursive: true, force: true });
  }
  return forced;
}

before(async () => {
  if (skip) return;
  tmp = await mkdtemp(join(tmpdir(), 'pnit-podman-'));
  dataDir = join(tmp, 'host-local');
  conf = join(tmp, 'containers.conf');
  mkdirSync(join(tmp, 'cni.d'));
  mkdirSync(join(tmp, 'state'));
  await writeFile(conf, [
    '[engine]',
    `tmp_dir = "${join(tmp, 'libpod-tmp')}"`,
    '[network]',
    'network_backend = "cni"',
    'cni_plugin_dirs = ["/usr/lib/cni"]',
    `network_config_dir = "${join(tmp, 'cni.d')}"`,
    '',
  ].join('\n'));
  await writeFile(join(tmp, 'cni.d', `${NET}.conflist`), JSON.stringify({
    cniVersion: '1.0.0', name: NET,
    plugins: [{ type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: false, hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir } }],
  }));
  busyboxRootfs(join(tmp, 'rootfs'));
  ev = { stateRoot: join(tmp, 'state'), cniResults: [CNI_CACHE], hostLocal: [dataDir], containersJson: [join(tmp, 'root', 'overlay-containers', 'containers.json')] };
  run(['ip', 'netns', 'add', H]);
  run(['ip', '-n', H, 'link', 'set', 'lo', 'up']);
  for (const name of NAMES) {
    podmanOk(['run', '-d', '--name', name, '--network', NET, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
      '--rootfs', join(tmp, 'rootfs'), '/bin/busybox', 'sleep', '600']);
    const [j] = JSON.parse(podmanOk(['inspect', name])) as Json[];
    const settings = j.NetworkSettings as { SandboxKey: string; Networks: Record<string, { IPAddress: string; IPPrefixLen: number; MacAddress: string }> };
    const net = settings.Networks[NET];
    sandboxes.add(settings.SandboxKey);
    containers.push({ name, id: String(j.Id), pid: Number((j.State as Json).Pid), sandbox: settings.SandboxKey, ip: net.IPAddress, prefixLen: net.IPPrefixLen, mac: net.MacAddress });
  }
});

after(async () => {
  if (skip) return;
  const forced = await cleanUp();
  const still = deleteNetnsWithPrefix(prefix);
  if (still.length) throw new Error(`namespaces left: ${still.join(', ')}`);
  // Only a failed test may leave things for the after hook; after a green run nothing is forced but H.
  if (forced.length) console.log(`# podman test cleaned up: ${forced.join('; ')}`);
});

test('podman made its bridge and veths in H, not in the root namespace', T, () => {
  assert.equal(containers.length, 2);
  const inH = ipJson(H, ['link', 'show']);
  assert.ok(inH.some((l) => l.ifname === BRIDGE), `${BRIDGE} is in ${H}`);
  assert.equal(inH.filter((l) => l.master === BRIDGE).length, 2);
  const root = JSON.parse(run(['ip', '-json', 'link', 'show'])) as Json[];
  assert.ok(!root.some((l) => l.ifname === BRIDGE), 'no bridge of ours in the root namespace');
});

test('each container is in the snapshot, named from the CNI cache / podman, its eth0 paired with its veth on the bridge, its IP podman\'s', T, async (t) => {
  const snap = await identify(await scanHost(new Host(new ExecRunner()), { host: netnsNamed(H) }), ev);
  const peers = resolvePeers(snap);
  const host = snap.namespaces.find((n) => n.id === snap.host)!;
  assert.equal(snap.host, `ino:${statInode(`/run/netns/${H}`)}`);
  const hostLinks = ipJson(H, ['link', 'show']);
  for (const c of containers) {
    const inode = statInode(c.sandbox);
    assert.equal(netInodeOf(c.pid), inode, `${c.name}: its process is in its SandboxKey's namespace`);
    const ns = byInode(snap, inode);
    assert.ok(ns, `${c.name}: netns ${c.sandbox} is in the snapshot`);
    assert.equal(ns.error, undefined);
    assert.ok(ns.names.includes(basename(c.sandbox)), `${c.name}: pinned as ${basename(c.sandbox)}`);
    assert.equal(ns.identity.kind, 'pod');
    assert.equal(ns.identity.name, c.name);
    assert.equal(ns.identity.containerId, c.id);
    assert.ok(['cni-cache', 'podman'].includes(ns.identity.source), `${c.name}: source ${ns.identity.source}`);
    t.diagnostic(`${c.name}: ${c.sandbox} ino ${inode} → ${JSON.stringify(ns.identity)}`);
    assert.ok(ns.processes.some((p) => p.pid === c.pid && p.cmd === '/bin/busybox sleep 600'), `${c.name}: its sleep process`);

    const pinned = basename(c.sandbox);
    const [kEth0] = ipJson(pinned, ['link', 'show', 'dev', 'eth0']);
    const kHost = hostLinks.find((l) => l.ifindex === kEth0.link_index);
    assert.ok(kHost, `${c.name}: eth0's peer is in H`);
    assert.equal(kHost.link_index, kEth0.ifindex);
    assert.equal(kHost.master, BRIDGE);
    const eth0 = ns.links.find((l) => l.name === 'eth0');
    assert.ok(eth0 && eth0.kind === 'veth');
    assert.equal(eth0.index, kEth0.ifindex);
    assert.equal(eth0.mac, c.mac, 'MAC as podman inspect says');
    assert.deepEqual(peers.get(peerKey(ns.id, eth0.index)), { netns: snap.host, index: kHost.ifindex, name: kHost.ifname });
    assert.deepEqual(peers.get(peerKey(snap.host, Number(kHost.ifindex))), { netns: ns.id, index: kEth0.ifindex, name: 'eth0' });
    assert.equal(host.links.find((l) => l.index === kHost.ifindex)?.master, BRIDGE);
    assert.deepEqual(ns.addrs.filter((a) => a.link === 'eth0' && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`), [`${c.ip}/${c.prefixLen}`]);
    assert.ok(ipFiles(dataDir, NET).includes(c.ip), `host-local holds ${c.ip}`);
  }
  assert.deepEqual(host.addrs.filter((a) => a.link === BRIDGE && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`), [`10.88.${SUBNET_OCTET}.1/24`]);
});

test('after podman rm -f: the scan no longer sees them, host-local released their IPs, the cache is gone', T, async () => {
  const ids = containers.map((c) => c.id);
  podmanOk(['rm', '-f', '-t', '0', ...NAMES]);
  assert.equal(podmanOk(['ps', '-aq']).trim(), '', 'podman lists nothing');
  for (const c of containers) assert.ok(await waitFor(() => !alive(c.pid), 10_000), `${c.name}: pid ${c.pid} ended`);
  const snap = await identify(await scanHost(new Host(new ExecRunner()), { host: netnsNamed(H) }), ev);
  for (const c of containers) {
    assert.ok(!existsSync(c.sandbox), `${c.sandbox} unpinned`);
    assert.ok(!snap.namespaces.some((n) => n.names.includes(basename(c.sandbox))), `${c.name}: its namespace is not in the scan`);
    assert.ok(!snap.namespaces.some((n) => n.identity.containerId === c.id || n.identity.name === c.name), `${c.name}: nobody is named after it`);
  }
  const host = snap.namespaces.find((n) => n.id === snap.host)!;
  assert.deepEqual(host.links.filter((l) => l.master === BRIDGE).map((l) => l.name), [], 'no port left on the bridge');
  assert.deepEqual(ipJson(H, ['link', 'show']).filter((l) => l.master === BRIDGE), [], 'the kernel agrees');
  assert.deepEqual(ipFiles(dataDir, NET), [], 'host-local released every IP');
  assert.deepEqual(readdirSync(CNI_CACHE).filter((f) => ids.some((i) => f.includes(i))), [], 'libcni removed its cache files');
});
