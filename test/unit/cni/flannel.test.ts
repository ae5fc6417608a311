// The flannel plugin without a kernel: the delegate flannel builds (against K3s's exact delegate from
// docs/facts.md#k3s), and ADD/DEL/CHECK/STATUS/GC over in-memory files with a recording fake
// delegate — when the delegate file is written and removed, the DEL that rebuilds a lost delegate,
// subnet.env missing. Also the conflists. (portmap: ./portmap.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Host } from '../../../src/host/host.js';
import { CURRENT_NETNS } from '../../../src/host/netns.js';
import { buildDelegate, delegateJson, flannelConf, flannelPlugin, memoryFiles, RELEASE_ONLY_SUBNET } from '../../../src/cni/flannel.js';
import { invokePlugin, type PluginContext } from '../../../src/cni/plugin.js';
import type { CniEnv, CniResult } from '../../../src/cni/spec.js';
import { flannelConflist, flannelPodNetwork } from '../../../src/cni/install.js';
import { parseSubnetEnv } from '../../../src/model/subnet-env.js';

const ENV_FILE = '/run/flannel/subnet.env';
const K3S_ENV = 'FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';
/** K3s's flannel entry of 10-flannel.conflist, as a plugin receives it. */
const K3S_FLANNEL = { cniVersion: '1.0.0', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, forceAddress: true, isDefaultGateway: true } };
/** The bridge delegate flannel builds on K3s (docs/facts.md#k3s). */
const FACTS_DELEGATE = JSON.parse('{"type":"bridge","name":"cbr0","hairpinMode":true,"forceAddress":true,"isDefaultGateway":true,"isGateway":true,"ipMasq":false,"mtu":1450,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.42.0.0/24"}]],"routes":[{"dst":"10.42.0.0/16"}]}}') as Record<string, unknown>;
const RESULT: CniResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: '0a:58:0a:2a:00:02', sandbox: '/run/netns/p' }], ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1', interface: 0 }] };

const delegateOf = (config: Record<string, unknown>, envText?: string) =>
  buildDelegate(config as never, flannelConf(config as never), envText === undefined ? undefined : parseSubnetEnv(envText));

test('the K3s delegate is the facts\' bridge config, plus the cniVersion flannel carries', () => {
  assert.deepEqual(delegateOf(K3S_FLANNEL, K3S_ENV), { ...FACTS_DELEGATE, cniVersion: '1.0.0' });
});

test('the saved delegate JSON has its keys sorted (as Go writes a map) and parses back to the delegate', () => {
  const text = delegateJson(delegateOf(K3S_FLANNEL, K3S_ENV));
  assert.equal(text, '{"cniVersion":"1.0.0","forceAddress":true,"hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.42.0.0/24"}]],"routes":[{"dst":"10.42.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}');
  assert.deepEqual(JSON.parse(text), delegateOf(K3S_FLANNEL, K3S_ENV));
});

test('delegate keys win over subnet.env; ipam is merged (type, dataDir kept; ranges from the subnet; routes + the cluster network)', () => {
  const d = delegateOf({
    ...K3S_FLANNEL,
    delegate: { type: 'podnet-bridge', ipMasq: true, mtu: 1400, isGateway: false, bridge: 'cbr1' },
    ipam: { type: 'podnet-host-local', dataDir: '/tmp/x', ranges: [[{ subnet: '10.9.0.0/24' }]], routes: [{ dst: '10.43.0.0/16' }] },
    runtimeConfig: { mac: '0a:58:00:00:00:01' },
  }, K3S_ENV.replace('10.42.0.1/24', '10.42.5.1/24').replace('=true', '=false'));
  assert.deepEqual(d, {
    type: 'podnet-bridge', name: 'cbr0', cniVersion: '1.0.0', ipMasq: true, mtu: 1400, isGateway: false, bridge: 'cbr1',
    runtimeConfig: { mac: '0a:58:00:00:00:01' },
    ipam: { type: 'podnet-host-local', dataDir: '/tmp/x', ranges: [[{ subnet: '10.42.5.0/24' }]], routes: [{ dst: '10.43.0.0/16' }, { dst: '10.42.0.0/16' }] },
  });
  // FLANNEL_IPMASQ=false: flannel does not masquerade, so the bridge must.
  assert.equal(delegateOf(K3S_FLANNEL, K3S_ENV.replace('=true', '=false')).ipMasq, true);
  // Only the bridge gets isGateway.
  assert.equal(delegateOf({ ...K3S_FLANNEL, delegate: { type: 'ipvlan' } }, K3S_ENV).isGateway, undefined);
  assert.equal(delegateOf({ ...K3S_FLANNEL, delegate: { type: 'podnet-bridge' } }, K3S_ENV).isGateway, true);
});

test('without subnet.env (a DEL rebuilding a lost delegate): release-only range, ipMasq true, no mtu', () => {
  const d = delegateOf(K3S_FLANNEL);
  assert.deepEqual(d.ipam, { type: 'host-local', ranges: [[{ subnet: RELEASE_ONLY_SUBNET }]], routes: [] });
  assert.equal(d.ipMasq, true);
  assert.equal('mtu' in d, false);
});

/** A fake world: memory files, a delegate that records each call (and whether its file existed then). */
function world(opts: { env?: string; dryRun?: boolean; fail?: string } = {}) {
  const files = memoryFiles(opts.env === undefined ? {} : { [ENV_FILE]: opts.env });
  const calls: { type: string; command: string; conf: Record<string, unknown>; savedAtCall: boolean }[] = [];
  const ctx: PluginContext = {
    host: { dryRun: !!opts.dryRun } as Host,
    hostNetns: CURRENT_NETNS,
    random: (n) => new Uint8Array(n),
    sleep: async () => undefined,
    ipamStore: () => { throw new Error('no store here'); },
    async delegate(type: string, env: CniEnv, stdin: string) {
      calls.push({ type, command: env.command, conf: JSON.parse(stdin), savedAtCall: files.files.has('/var/lib/cni/flannel/ctr1') });
      if (opts.fail === env.command) throw new Error(`${type} ${env.command} failed`);
      return env.command === 'ADD' ? RESULT : undefined;
    },
  };
  const plugin = flannelPlugin(files);
  const call = (command: string, config: Record<string, unknown> = K3S_FLANNEL) => invokePlugin(plugin,
    { CNI_COMMAND: command, CNI_CONTAINERID: 'ctr1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' }, JSON.stringify(config), ctx);
  return { files: files.files, calls, call };
}
const SAVED = '/var/lib/cni/flannel/ctr1';

test('ADD saves the delegate before the delegate ADD runs and returns the delegate\'s result', async () => {
  const w = world({ env: K3S_ENV });
  const out = await w.call('ADD');
  assert.equal(out.exitCode, 0, out.stdout);
  assert.deepEqual(JSON.parse(out.stdout), RESULT);
  assert.deepEqual(w.calls.map((c) => [c.type, c.command, c.savedAtCall]), [['bridge', 'ADD', true]]);
  assert.equal(w.files.get(SAVED), delegateJson(w.calls[0].conf));
});

test('a failed delegate ADD leaves no delegate file; the error is the delegate\'s', async () => {
  const w = world({ env: K3S_ENV, fail: 'ADD' });
  const out = await w.call('ADD');
  assert.equal(out.exitCode, 1);
  assert.equal(JSON.parse(out.stdout).msg, 'bridge ADD failed');
  assert.equal(w.files.has(SAVED), false);
});

test('ADD without subnet.env: code 11 "try again later", no delegate call, no file', async () => {
  const w = world();
  const out = await w.call('ADD');
  assert.equal(out.exitCode, 1);
  assert.deepEqual(JSON.parse(out.stdout), {
    cniVersion: '1.0.0', code: 11,
    msg: `subnetFile: ${ENV_FILE} is not there yet: the node agent (flannel) has not acquired this node's subnet lease; try again later`,
  });
  assert.deepEqual(w.calls, []);
  assert.deepEqual([...w.files.keys()], []);
});

test('ADD with a bad subnet.env or a bad flannel config: code 7 naming the key', async () => {
  const bad = await world({ env: K3S_ENV.replace('1450', 'big') }).call('ADD');
  assert.equal(JSON.parse(bad.stdout).code, 7);
  assert.match(JSON.parse(bad.stdout).msg, /^subnetFile \/run\/flannel\/subnet\.env: FLANNEL_MTU is not an MTU/);
  const name = await world({ env: K3S_ENV }).call('ADD', { ...K3S_FLANNEL, delegate: { name: 'x' } });
  assert.deepEqual([JSON.parse(name.stdout).code, JSON.parse(name.stdout).msg], [7, 'delegate.name: flannel sets it itself; remove it from "delegate"']);
  const ipam = await world({ env: K3S_ENV }).call('ADD', { ...K3S_FLANNEL, delegate: { ipam: {} } });
  assert.match(JSON.parse(ipam.stdout).msg, /^delegate\.ipam: flannel sets it itself; remove it from "delegate" \(put IPAM settings in flannel's own "ipam"\)$/);
  const type = await world({ env: K3S_ENV }).call('ADD', { ...K3S_FLANNEL, delegate: { type: 3 } });
  assert.deepEqual([JSON.parse(type.stdout).code, JSON.parse(type.stdout).msg], [7, 'delegate.type: want the delegate plugin type as a string like "bridge"']);
  const file = await world({ env: K3S_ENV }).call('ADD', { ...K3S_FLANNEL, subnetFile: 7 });
  assert.match(JSON.parse(file.stdout).msg, /^subnetFile: want a file path string/);
});

test('DEL uses the saved delegate and removes it; a failed delegate DEL keeps it for the retry', async () => {
  const w = world({ env: K3S_ENV });
  await w.call('ADD');
  const saved = w.files.get(SAVED);
  w.files.set(ENV_FILE, K3S_ENV.replace('10.42.0.1/24', '10.42.9.1/24')); // the node's subnet changed since
  const failing = world({ env: K3S_ENV, fail: 'DEL' });
  await failing.call('ADD');
  assert.equal((await failing.call('DEL')).exitCode, 1);
  assert.equal(failing.files.has(SAVED), true, 'kept after a failed delegate DEL');
  assert.equal((await w.call('DEL')).exitCode, 0);
  assert.equal(delegateJson(w.calls[1].conf), saved, 'DEL acts on what ADD did, not on today\'s subnet.env');
  assert.equal(w.files.has(SAVED), false);
});

test('DEL with the delegate file missing still calls the delegate DEL: rebuilt from subnet.env, else from the config alone', async () => {
  const w = world({ env: K3S_ENV });
  assert.equal((await w.call('DEL')).exitCode, 0);
  assert.deepEqual(w.calls.map((c) => [c.type, c.command]), [['bridge', 'DEL']]);
  assert.deepEqual(w.calls[0].conf, { ...FACTS_DELEGATE, cniVersion: '1.0.0' });

  const bare = world();
  assert.equal((await bare.call('DEL')).exitCode, 0);
  assert.deepEqual(bare.calls[0].conf.ipam, { type: 'host-local', ranges: [[{ subnet: RELEASE_ONLY_SUBNET }]], routes: [] });
  // A saved file that is not a delegate counts as missing, and goes once DEL succeeded.
  const corrupt = world({ env: K3S_ENV });
  corrupt.files.set(SAVED, '{not json');
  assert.equal((await corrupt.call('DEL')).exitCode, 0);
  assert.equal(corrupt.calls[0].conf.type, 'bridge');
  assert.equal(corrupt.files.has(SAVED), false);
});

test('CHECK: the saved delegate with this request\'s prevResult', async () => {
  const w = world({ env: K3S_ENV });
  await w.call('ADD');
  assert.equal((await w.call('CHECK', { ...K3S_FLANNEL, prevResult: RESULT })).exitCode, 0);
  assert.deepEqual(w.calls[1].conf, { ...JSON.parse(w.files.get(SAVED)!), prevResult: RESULT });
});

test('STATUS is code 50 while subnet.env is missing, else the delegate\'s STATUS', async () => {
  const v11 = { ...K3S_FLANNEL, cniVersion: '1.1.0' };
  const missing = await world().call('STATUS', v11);
  assert.equal(JSON.parse(missing.stdout).code, 50);
  const ready = world({ env: K3S_ENV });
  assert.equal((await ready.call('STATUS', v11)).exitCode, 0);
  assert.deepEqual(ready.calls.map((c) => c.command), ['STATUS']);
});

test('GC: the delegate\'s GC with the valid attachments, then saved delegates of this network not among them', async () => {
  const w = world({ env: K3S_ENV });
  const other = delegateJson({ type: 'bridge', name: 'othernet' });
  w.files.set('/var/lib/cni/flannel/gone', delegateJson({ type: 'bridge', name: 'cbr0' }));
  w.files.set('/var/lib/cni/flannel/keep', delegateJson({ type: 'bridge', name: 'cbr0' }));
  w.files.set('/var/lib/cni/flannel/theirs', other);
  // Earlier builds wrote `.ID.PID.RANDOM.tmp` and renamed it: a dead writer's goes, a live one's stays.
  w.files.set('/var/lib/cni/flannel/.x.2147483646.abcd0123.tmp', '{');
  w.files.set(`/var/lib/cni/flannel/.y.${process.pid}.abcd0123.tmp`, '{');
  const valid = [{ containerID: 'keep', ifname: 'eth0' }];
  const out = await w.call('GC', { ...K3S_FLANNEL, cniVersion: '1.1.0', 'cni.dev/valid-attachments': valid });
  assert.equal(out.exitCode, 0, out.stdout);
  assert.deepEqual(w.calls[0].conf['cni.dev/valid-attachments'], valid);
  assert.deepEqual([...w.files.keys()].filter((f) => f.startsWith('/var/lib/cni/flannel/')).sort(), [`/var/lib/cni/flannel/.y.${process.pid}.abcd0123.tmp`, '/var/lib/cni/flannel/keep', '/var/lib/cni/flannel/theirs']);
  const missing = await w.call('GC', { ...K3S_FLANNEL, cniVersion: '1.1.0' });
  assert.equal(JSON.parse(missing.stdout).code, 7);
});

test('a dry run writes no delegate file', async () => {
  const w = world({ env: K3S_ENV, dryRun: true });
  assert.equal((await w.call('ADD')).exitCode, 0);
  assert.equal(w.files.has(SAVED), false);
});

test('conflists: K3s\'s chain for runtimes and for the lab', () => {
  assert.deepEqual(flannelConflist(), {
    cniVersion: '1.0.0', name: 'cbr0', plugins: [
      { type: 'podnet-flannel', delegate: { type: 'podnet-bridge', hairpinMode: true, forceAddress: true, isDefaultGateway: true }, ipam: { type: 'podnet-host-local' } },
      { type: 'podnet-portmap', capabilities: { portMappings: true } },
    ],
  });
  assert.deepEqual(flannelConflist({ subnetFile: '/s', dataDir: '/d', ipamDataDir: '/i', portmap: true }).plugins, [
    { type: 'podnet-flannel', subnetFile: '/s', dataDir: '/d', delegate: { type: 'podnet-bridge', hairpinMode: true, forceAddress: true, isDefaultGateway: true }, ipam: { type: 'podnet-host-local', dataDir: '/i' } },
    { type: 'portmap', capabilities: { portMappings: true } },
    { type: 'bandwidth', capabilities: { bandwidth: true } },
  ]);
  assert.deepEqual(flannelPodNetwork({ subnetFile: '/s', dataDir: '/d', ipamDataDir: '/i' }).plugins, [
    { type: 'flannel', subnetFile: '/s', dataDir: '/d', delegate: { hairpinMode: true, forceAddress: true, isDefaultGateway: true }, ipam: { type: 'host-local', dataDir: '/i' } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ]);
});
