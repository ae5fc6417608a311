// podnet's flannel and portmap plugins on the real kernel. Each case makes a "node" namespace (the
// plugins' host, where cni0 goes) and a pod namespace with this file's unique prefix, plus its own
// subnet.env and data directories, and removes them in `after` (also on failure). Driven two ways:
// as a runtime execs plugins (`nsenter --net=/run/netns/NODE DIR/podnet-flannel`, the CNI_* env,
// CNI_PATH = the directory `podnet cni install` wrote, no daemon: the one-shot path), and in process
// through CniRuntime with the lab's network (flannelPodNetwork). The kernel is read with `ip -json`.
// One case feeds the same delegate to Debian's reference bridge + host-local and compares the kernel.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Host } from '../../../src/host/host.js';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { defaultRegistry, inProcessContext } from '../../../src/cni/context.js';
import { flannelConflist, flannelPodNetwork } from '../../../src/cni/install.js';
import { CniRuntime, type Attachment } from '../../../src/cni/runtime.js';
import { inet, ipJson, kindOf, link, links, netnsWithPrefix, run, runStatus, tempDir, uniqueName } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const T = { timeout: 30_000 };
const prefix = `${uniqueName('kfl')}-`;
const REFERENCE = '/usr/lib/cni';
let tmp = '';
let bin = '';
let seq = 0;

/** One case's world: node and pod namespaces, subnet.env for node subnet 10.42.X.0/24, data dirs. */
interface World { node: string; pod: string; cid: string; subnetFile: string; flannelDir: string; ipamDir: string; x: number; resultsDir: string }

function world(label: string, x = 3, subnetEnv = true): World {
  const n = seq++;
  const dir = join(tmp, `w${n}`);
  const w: World = {
    node: `${prefix}${label}-n`, pod: `${prefix}${label}-p`, cid: `ctr${n}${uniqueName('')}`, x,
    subnetFile: join(dir, 'subnet.env'), flannelDir: join(dir, 'flannel'), ipamDir: join(dir, 'ipam'), resultsDir: join(dir, 'results'),
  };
  run(['ip', 'netns', 'add', w.node]);
  run(['ip', 'netns', 'add', w.pod]);
  run(['mkdir', '-p', dir]);
  if (subnetEnv) writeFileSync(w.subnetFile, `FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.${x}.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`);
  return w;
}

/** The flannel entry of `podnet cni conflist --flannel`, as a runtime hands it to the plugin. */
function flannelConf(w: World, delegate: Record<string, unknown> = {}): Record<string, unknown> {
  const [plugin] = flannelConflist({ subnetFile: w.subnetFile, dataDir: w.flannelDir, ipamDataDir: w.ipamDir }).plugins;
  return { cniVersion: '1.0.0', name: 'cbr0', ...plugin, delegate: { ...(plugin.delegate as object), ...delegate } };
}

/** Execs `podnet-<type>` in the node namespace like a runtime: only PATH and the CNI_* variables. */
function exec(type: string, command: string, w: World, conf: Record<string, unknown>, cniPath = bin): { status: number; stdout: string; json: Record<string, unknown> } {
  const env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin', PODNET_CNI_SOCKET: join(tmp, 'no-daemon.sock'),
    CNI_COMMAND: command, CNI_CONTAINERID: w.cid, CNI_NETNS: `/run/netns/${w.pod}`, CNI_IFNAME: 'eth0', CNI_PATH: cniPath,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${w.cid}`,
  };
  const r = spawnSync('nsenter', [`--net=/run/netns/${w.node}`, join(bin, `podnet-${type}`)], { env, input: JSON.stringify(conf), encoding: 'utf8', timeout: 20_000 });
  let json: Record<string, unknown> = {};
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : {};
  } catch {
    // not JSON: the assertions on `json` will say so
  }
  return { status: r.status ?? 1, stdout: r.stdout, json };
}

/** The addresses host-local holds (files named by an IPv4 address in `<ipamDir>/cbr0`). */
function ipFiles(w: World): string[] {
  try {
    return readdirSync(join(w.ipamDir, 'cbr0')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).sort();
  } catch {
    return [];
  }
}

/** The delegate files flannel saved. */
function delegateFiles(w: World): string[] {
  return existsSync(w.flannelDir) ? readdirSync(w.flannelDir).sort() : [];
}

/** What the kernel says about the pod and its node, in K3s's terms (docs/facts.md#k3s). */
function kernelView(w: World) {
  const eth0 = link(w.pod, 'eth0');
  const veths = links(w.node).filter((l) => kindOf(l) === 'veth');
  const slave = (l: Record<string, unknown>) => (l.linkinfo as { info_slave_data?: { hairpin?: boolean } } | undefined)?.info_slave_data;
  return {
    eth0: eth0 && { kind: kindOf(eth0), mtu: eth0.mtu, up: (eth0.flags as string[]).includes('UP'), addrs: inet(w.pod, 'eth0') },
    routes: ipJson(w.pod, ['-4', 'route', 'show']).map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}`).sort(),
    cni0: link(w.node, 'cni0') && { kind: kindOf(link(w.node, 'cni0')), addrs: inet(w.node, 'cni0') },
    veths: veths.map((l) => ({ master: l.master, mtu: l.mtu, hairpin: slave(l)?.hairpin })),
    ipam: ipFiles(w),
  };
}

/** K3s's pod on node subnet 10.42.X.0/24, first address. */
function k3sPod(x: number) {
  return {
    eth0: { kind: 'veth', mtu: 1450, up: true, addrs: [`10.42.${x}.2/24`] },
    routes: [`10.42.${x}.0/24 dev eth0`, `10.42.0.0/16 via 10.42.${x}.1 dev eth0`, `default via 10.42.${x}.1 dev eth0`].sort(),
    cni0: { kind: 'bridge', addrs: [`10.42.${x}.1/24`] },
    veths: [{ master: 'cni0', mtu: 1450, hairpin: true }],
    ipam: [`10.42.${x}.2`],
  };
}

/** Nothing of a pod is left: no eth0, no veth on the node, no address held, no delegate file. */
function assertGone(w: World): void {
  assert.equal(link(w.pod, 'eth0'), undefined, 'eth0 is gone');
  assert.deepEqual(links(w.node).filter((l) => kindOf(l) === 'veth'), [], 'no veth on the node');
  assert.deepEqual(ipFiles(w), [], 'host-local released the address');
  assert.deepEqual(delegateFiles(w), [], 'no delegate file');
}

/** A runtime (libcni's role) running the lab's network in process, the node namespace as host. */
function inProcess(w: World): { rt: CniRuntime; a: Attachment; net: ReturnType<typeof flannelPodNetwork> } {
  const ctx = inProcessContext({ host: new Host(new ExecRunner()), hostNetns: netnsNamed(w.node) });
  return {
    rt: new CniRuntime(defaultRegistry(), ctx, w.resultsDir),
    a: { containerId: w.cid, netns: `/run/netns/${w.pod}`, ifname: 'eth0' },
    net: flannelPodNetwork({ subnetFile: w.subnetFile, dataDir: w.flannelDir, ipamDataDir: w.ipamDir }),
  };
}

before(async () => {
  tmp = await tempDir('flannel');
  bin = join(tmp, 'bin');
  run([process.execPath, join(ROOT, 'bin', 'podnet.js'), 'cni', 'install', '--dir', bin, '--socket', join(tmp, 'no-daemon.sock')]);
});

after(async () => {
  for (const ns of netnsWithPrefix(prefix)) runStatus(['ip', 'netns', 'del', ns]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(netnsWithPrefix(prefix), [], 'every namespace of this file is gone');
});

test('executables: ADD wires the pod as K3s does, saves the delegate; CHECK passes; portmap passes the result on; DEL undoes it all', T, () => {
  const w = world('add', 3);
  const conf = flannelConf(w);
  const add = exec('flannel', 'ADD', w, conf);
  assert.equal(add.status, 0, add.stdout);
  assert.deepEqual(kernelView(w), k3sPod(3));
  assert.deepEqual(add.json.ips, [{ address: '10.42.3.2/24', gateway: '10.42.3.1', interface: 2 }]);
  assert.deepEqual(add.json.routes, [{ dst: '10.42.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.42.3.1' }]);

  const file = join(w.flannelDir, w.cid);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
    cniVersion: '1.0.0', type: 'podnet-bridge', name: 'cbr0', hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: 1450,
    ipam: { type: 'podnet-host-local', dataDir: w.ipamDir, ranges: [[{ subnet: '10.42.3.0/24' }]], routes: [{ dst: '10.42.0.0/16' }] },
  });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(w.flannelDir).mode & 0o777, 0o700);

  const check = exec('flannel', 'CHECK', w, { ...conf, prevResult: add.json });
  assert.equal(check.status, 0, check.stdout);
  const pm = { cniVersion: '1.0.0', name: 'cbr0', type: 'podnet-portmap', prevResult: add.json };
  const portmap = exec('portmap', 'ADD', w, pm);
  assert.equal(portmap.status, 0, portmap.stdout);
  assert.deepEqual(portmap.json, add.json);
  assert.equal(exec('portmap', 'DEL', w, pm).status, 0);

  const del = exec('flannel', 'DEL', w, conf);
  assert.equal(del.status, 0, del.stdout);
  assertGone(w);
  assert.deepEqual(inet(w.node, 'cni0'), ['10.42.3.1/24'], 'cni0 stays, as in the reference');
  assert.equal(exec('flannel', 'DEL', w, conf).status, 0, 'a second DEL succeeds');
});

test('executables: DEL with the delegate file deleted still releases the IP (the reference returns success and leaks it)', T, () => {
  const w = world('lost', 4);
  const conf = flannelConf(w);
  assert.equal(exec('flannel', 'ADD', w, conf).status, 0);
  assert.deepEqual(ipFiles(w), ['10.42.4.2']);
  rmSync(join(w.flannelDir, w.cid));
  const del = exec('flannel', 'DEL', w, conf);
  assert.equal(del.status, 0, del.stdout);
  assertGone(w);
});

test('executables: ADD without subnet.env answers code 11 (try again later) and changes nothing', T, () => {
  const w = world('noenv', 5, false);
  const before = { node: links(w.node).map((l) => l.ifname), pod: links(w.pod).map((l) => l.ifname) };
  const add = exec('flannel', 'ADD', w, flannelConf(w));
  assert.equal(add.status, 1);
  assert.deepEqual(add.json, {
    cniVersion: '1.0.0', code: 11,
    msg: `subnetFile: ${w.subnetFile} is not there yet: the node agent (flannel) has not acquired this node's subnet lease; try again later`,
  });
  assert.deepEqual({ node: links(w.node).map((l) => l.ifname), pod: links(w.pod).map((l) => l.ifname) }, before);
  assert.equal(existsSync(w.flannelDir), false, 'no delegate directory');
  assert.equal(existsSync(w.ipamDir), false, 'no IPAM store');
});

test('executables: a failed delegate ADD (eth0 already in the pod) leaves no delegate file and holds no address', T, () => {
  const w = world('fail', 6);
  run(['ip', '-n', w.pod, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']);
  const add = exec('flannel', 'ADD', w, flannelConf(w));
  assert.equal(add.status, 1);
  assert.equal(add.json.msg, 'container veth name provided (eth0) already exists');
  assert.deepEqual(delegateFiles(w), []);
  assert.deepEqual(ipFiles(w), []);
  assert.equal(link(w.pod, 'eth0')?.link, 'eth0peer', "the pod's own eth0 is untouched");
  assert.equal(exec('flannel', 'DEL', w, flannelConf(w)).status, 0, "the runtime's DEL after the failed ADD succeeds");
});

test('executables: podnet-portmap maps the port in the node namespace (CNI-DN-… chain) and DEL removes it', T, () => {
  const w = world('pm', 7, false);
  const conf = {
    cniVersion: '1.0.0', name: 'cbr0', type: 'podnet-portmap', runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
    prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.42.7.2/24', gateway: '10.42.7.1' }] },
  };
  const add = exec('portmap', 'ADD', w, conf);
  assert.equal(add.status, 0, add.stdout);
  assert.deepEqual(add.json.ips, conf.prevResult.ips, 'the previous result is handed on');
  const nat = () => run(['nsenter', `--net=/run/netns/${w.node}`, 'iptables-save', '-t', 'nat']);
  assert.match(nat(), new RegExp(`-A CNI-DN-[0-9a-f]{21} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\\.42\\.7\\.2:80`));
  assert.equal(exec('portmap', 'DEL', w, conf).status, 0);
  assert.doesNotMatch(nat(), /CNI-DN-/, 'the container\'s chain is gone');
  assert.match(nat(), /:CNI-HOSTPORT-DNAT /, 'the shared chain stays, as with the reference');
});

test('in process (the lab\'s network): ADD and DEL; DEL with the delegate file lost still releases the IP', T, async () => {
  const w = world('inp', 8);
  const { rt, a, net } = inProcess(w);
  await rt.add(net, a);
  assert.deepEqual(kernelView(w), k3sPod(8));
  assert.deepEqual(delegateFiles(w), [w.cid]);
  assert.equal(JSON.parse(readFileSync(join(w.flannelDir, w.cid), 'utf8')).type, 'bridge');
  await rt.check(net, a);
  await rt.del(net, a);
  assertGone(w);

  await rt.add(net, a);
  assert.deepEqual(ipFiles(w), ['10.42.8.3'], 'round robin: the next address');
  rmSync(join(w.flannelDir, w.cid));
  await rt.del(net, a);
  assertGone(w);
});

test('in process: port mappings through K3s\'s chain: ADD maps the hostPort, DEL leaves nothing', T, async () => {
  const w = world('inpm', 9);
  const { rt, a, net } = inProcess(w);
  const mapped = { ...a, capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } };
  await rt.add(net, mapped);
  const nat = () => run(['nsenter', `--net=/run/netns/${w.node}`, 'iptables-save', '-t', 'nat']);
  assert.match(nat(), /-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.42\.9\.2:80/);
  await rt.check(net, mapped);
  await rt.del(net, mapped);
  assert.doesNotMatch(nat(), /CNI-DN-/);
  assertGone(w);
});

test('the reference bridge + host-local (Debian, /usr/lib/cni) fed the same delegate leave the same kernel state', { ...T, skip: existsSync(join(REFERENCE, 'bridge')) ? false : `no reference plugins in ${REFERENCE}` }, () => {
  const ours = world('ours', 10);
  const ref = world('ref', 10);
  const refConf = { ...flannelConf(ref, { type: 'bridge' }), ipam: { type: 'host-local', dataDir: ref.ipamDir } };
  assert.equal(exec('flannel', 'ADD', ours, flannelConf(ours)).status, 0);
  const add = exec('flannel', 'ADD', ref, refConf, `${bin}:${REFERENCE}`);
  assert.equal(add.status, 0, add.stdout);
  assert.deepEqual(kernelView(ref), kernelView(ours));
  assert.deepEqual(kernelView(ref), k3sPod(10));
  rmSync(join(ref.flannelDir, ref.cid));
  assert.equal(exec('flannel', 'DEL', ref, refConf, `${bin}:${REFERENCE}`).status, 0);
  assertGone(ref);
});
