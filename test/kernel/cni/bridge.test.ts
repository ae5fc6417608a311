// podnet's bridge plugin (with host-local) on the real kernel, driven like a runtime drives it, with a
// node namespace as "the host" and a pod namespace per attachment — all made here with a unique
// prefix and removed in `after`. Covers forceAddress, an interface that already exists, forgiving
// DEL (twice; namespace already gone) and CHECK catching drift. The kernel is read with `ip -json`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Host } from '../../../src/host/host.js';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { defaultRegistry, inProcessContext } from '../../../src/cni/context.js';
import { invokePlugin } from '../../../src/cni/plugin.js';
import { CniRuntime, type Attachment, type NetworkConfigList } from '../../../src/cni/runtime.js';
import { inet, kindOf, link, links, netnsWithPrefix, run, runStatus, tempDir, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const prefix = `${uniqueName('kt')}-`;
const registry = defaultRegistry();
let host: Host;
let tmp = '';
let seq = 0;

/** A fresh namespace `<prefix><name>`, pinned under /run/netns. */
function nsAdd(name: string): string {
  const ns = `${prefix}${name}`;
  run(['ip', 'netns', 'add', ns]);
  return ns;
}

/** One case's world: a node namespace (the plugin's host), a pod namespace, a data dir, a container ID. */
function world(label: string): { node: string; pod: string; dataDir: string; cid: string; resultsDir: string } {
  const n = seq++;
  return { node: nsAdd(`${label}-node`), pod: nsAdd(`${label}-pod`), dataDir: join(tmp, `data${n}`), resultsDir: join(tmp, `results${n}`), cid: `c${n}${uniqueName('')}` };
}

/** The K3s bridge delegate (docs/facts.md#k3s) with host-local's store in `dataDir`. */
function bridgeConfig(dataDir: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'bridge', bridge: 'cni0', hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: 1450,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '10.42.0.0/16' }], dataDir },
    ...over,
  };
}

function network(dataDir: string, over: Record<string, unknown> = {}): NetworkConfigList {
  return { cniVersion: '1.0.0', name: 'cbr0', plugins: [bridgeConfig(dataDir, over) as NetworkConfigList['plugins'][number]] };
}

/** Calls the bridge plugin once, as its executable would be called (no runtime around it, so no DEL after a failed ADD). */
function invoke(command: 'ADD' | 'DEL' | 'CHECK', w: ReturnType<typeof world>, over: Record<string, unknown> = {}) {
  const env = { CNI_COMMAND: command, CNI_CONTAINERID: w.cid, CNI_NETNS: `/run/netns/${w.pod}`, CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1', CNI_PATH: '/opt/cni/bin' };
  const stdin = JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', ...bridgeConfig(w.dataDir, over) });
  return invokePlugin(registry.get('bridge'), env, stdin, inProcessContext({ host, hostNetns: netnsNamed(w.node) }));
}

/** A runtime (libcni's role) whose plugins treat the world's node namespace as the host. */
function runtime(w: ReturnType<typeof world>): { rt: CniRuntime; a: Attachment } {
  const rt = new CniRuntime(registry, inProcessContext({ host, hostNetns: netnsNamed(w.node) }), w.resultsDir);
  return { rt, a: { containerId: w.cid, netns: `/run/netns/${w.pod}`, ifname: 'eth0' } };
}

/** The addresses host-local holds in `<dataDir>/cbr0` (files named by an IPv4 address). */
function ipFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'cbr0')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).sort();
  } catch {
    return [];
  }
}

/** The veths of a namespace, by name. */
const veths = (ns: string) => links(ns).filter((l) => kindOf(l) === 'veth').map((l) => String(l.ifname));

before(async () => {
  host = new Host(new ExecRunner());
  tmp = await tempDir('bridge');
});

after(async () => {
  const left = netnsWithPrefix(prefix);
  for (const ns of left) runStatus(['ip', 'netns', 'del', ns]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(netnsWithPrefix(prefix), [], 'every namespace of this file is gone');
});

describe('forceAddress with a wrong address already on cni0', () => {
  const preset = (node: string) => {
    run(['ip', '-n', node, 'link', 'add', 'cni0', 'type', 'bridge']);
    run(['ip', '-n', node, 'addr', 'add', '10.42.9.1/24', 'dev', 'cni0']);
    run(['ip', '-n', node, 'link', 'set', 'cni0', 'up']);
    assert.deepEqual(inet(node, 'cni0'), ['10.42.9.1/24']);
  };

  test('forceAddress true: the old address is replaced by 10.42.0.1/24', T, async () => {
    const w = world('force');
    preset(w.node);
    const out = await invoke('ADD', w, { forceAddress: true });
    assert.equal(out.error, undefined, out.stdout);
    assert.deepEqual(inet(w.node, 'cni0'), ['10.42.0.1/24']);
    assert.deepEqual(inet(w.pod, 'eth0'), ['10.42.0.2/24']);
    assert.deepEqual(ipFiles(w.dataDir), ['10.42.0.2']);
  });

  test('forceAddress false: ADD fails with the reference message, the IP is released, nothing is attached', T, async () => {
    const w = world('noforce');
    preset(w.node);
    const out = await invoke('ADD', w, { forceAddress: false });
    assert.notEqual(out.exitCode, 0);
    assert.equal(out.error?.message, '"cni0" already has an IP address different from 10.42.0.1/24');
    assert.equal(JSON.parse(out.stdout).msg, '"cni0" already has an IP address different from 10.42.0.1/24');
    assert.deepEqual(ipFiles(w.dataDir), [], 'host-local released the address');
    assert.deepEqual(inet(w.node, 'cni0'), ['10.42.9.1/24'], 'the bridge keeps its address');
    assert.deepEqual(veths(w.node), [], 'no veth in the node namespace');
    assert.equal(link(w.pod, 'eth0'), undefined, 'no eth0 in the pod');
  });
});

test('ADD when eth0 already exists in the pod → "container veth name provided (eth0) already exists", nothing left', T, async () => {
  const w = world('exists');
  // (This kernel has no dummy driver: a veth pair inside the pod stands in for "something named eth0".)
  run(['ip', '-n', w.pod, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']);
  const out = await invoke('ADD', w);
  assert.notEqual(out.exitCode, 0);
  assert.equal(out.error?.message, 'container veth name provided (eth0) already exists');
  assert.deepEqual(veths(w.node), [], 'no veth left in the node namespace');
  assert.deepEqual(ipFiles(w.dataDir), [], 'host-local released the address');
  const own = link(w.pod, 'eth0');
  assert.equal(own?.link, 'eth0peer', "the pod's own eth0 is untouched (its peer is still eth0peer, in the pod)");
  assert.equal(own?.mtu, 1500);
  assert.deepEqual(inet(w.pod, 'eth0'), []);
});

test('DEL twice succeeds: eth0 and its host veth are gone, the IP is released', T, async () => {
  const w = world('del2');
  const { rt, a } = runtime(w);
  await rt.add(network(w.dataDir), a);
  assert.deepEqual(inet(w.pod, 'eth0'), ['10.42.0.2/24']);
  assert.equal(veths(w.node).length, 1);
  await rt.del(network(w.dataDir), a);
  await rt.del(network(w.dataDir), a);
  const out = await invoke('DEL', w);
  assert.equal(out.exitCode, 0, out.stdout);
  assert.equal(link(w.pod, 'eth0'), undefined);
  assert.deepEqual(veths(w.node), []);
  assert.deepEqual(ipFiles(w.dataDir), []);
});

test('DEL with the pod namespace already deleted succeeds and releases the IP', T, async () => {
  const w = world('gone');
  const { rt, a } = runtime(w);
  await rt.add(network(w.dataDir), a);
  assert.deepEqual(ipFiles(w.dataDir), ['10.42.0.2']);
  run(['ip', 'netns', 'del', w.pod]);
  await rt.del(network(w.dataDir), a);
  assert.deepEqual(ipFiles(w.dataDir), [], 'host-local released the address');
  const out = await invoke('DEL', w);
  assert.equal(out.exitCode, 0, out.stdout);
  // The kernel destroys the namespace (and with it the veth pair) asynchronously.
  assert.ok(await waitFor(() => veths(w.node).length === 0, 5000), `no veth is left in the node namespace: ${veths(w.node).join(', ')}`);
});

test('CHECK passes after ADD and fails once the pod address or route drifts', T, async () => {
  const w = world('check');
  const { rt, a } = runtime(w);
  const net = network(w.dataDir);
  await rt.add(net, a);
  await rt.check(net, a);

  run(['ip', '-n', w.pod, 'route', 'del', '10.42.0.0/16']);
  // The ADD result's route carries no gw (host-local's routes have none; the gateway fills it in).
  await assert.rejects(rt.check(net, a), { message: `route 10.42.0.0/16 is missing in /run/netns/${w.pod}` });
  run(['ip', '-n', w.pod, 'route', 'add', '10.42.0.0/16', 'via', '10.42.0.1', 'dev', 'eth0']);
  await rt.check(net, a);

  run(['ip', '-n', w.pod, 'addr', 'del', '10.42.0.2/24', 'dev', 'eth0']);
  run(['ip', '-n', w.pod, 'addr', 'add', '10.42.0.99/24', 'dev', 'eth0']);
  await assert.rejects(rt.check(net, a), { message: 'address 10.42.0.2/24 is missing from eth0' });
  await rt.del(net, a);
  assert.deepEqual(ipFiles(w.dataDir), []);
});
