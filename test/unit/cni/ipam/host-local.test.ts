// The host-local plugin driven as a runtime drives it (invokePlugin: env + stdin → stdout + exit
// code), over a MemoryStore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invokePlugin, type PluginContext } from '../../../../src/cni/plugin.js';
import { hostLocal } from '../../../../src/cni/ipam/host-local.js';
import { MemoryStore } from '../../../../src/cni/ipam/memory-store.js';
import { CURRENT_NETNS } from '../../../../src/host/netns.js';
import type { Host } from '../../../../src/host/host.js';

const unused = (what: string) => () => { throw new Error(`host-local must not use ${what}`); };

/** A context whose only working part is the IPAM store (one MemoryStore per dataDir/network). */
function fakeContext(): { ctx: PluginContext; stores: Map<string, MemoryStore> } {
  const stores = new Map<string, MemoryStore>();
  const ctx: PluginContext = {
    host: new Proxy({}, { get: unused('the host') }) as Host,
    hostNetns: CURRENT_NETNS,
    delegate: unused('delegates'),
    ipamStore: (dataDir, network) => {
      const key = `${dataDir}/${network}`;
      let s = stores.get(key);
      if (!s) stores.set(key, (s = new MemoryStore()));
      return s;
    },
    random: unused('random'),
    sleep: unused('sleep'),
  };
  return { ctx, stores };
}

const IPAM = { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '10.42.0.0/16' }] };
const conf = (extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = IPAM) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', ipam, ...extra });
const env = (command: string, id = 'c1', extra: Record<string, string> = {}) =>
  ({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', ...extra });

/** Runs one verb and returns exit code and parsed stdout (undefined when empty). */
async function run(ctx: PluginContext, command: string, id = 'c1', stdin = conf(), extra: Record<string, string> = {}) {
  const out = await invokePlugin(hostLocal, env(command, id, extra), stdin, ctx);
  return { code: out.exitCode, json: out.stdout ? JSON.parse(out.stdout) as Record<string, unknown> : undefined };
}
const addressOf = (json: Record<string, unknown> | undefined) => (json?.ips as { address: string }[] | undefined)?.[0]?.address;

test('ADD returns an IPAM result: ips with gateway, config routes, no interfaces', async () => {
  const { ctx } = fakeContext();
  const r = await run(ctx, 'ADD');
  assert.equal(r.code, 0);
  assert.deepEqual(r.json, { cniVersion: '1.0.0', ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1' }], routes: [{ dst: '10.42.0.0/16' }] });
});

test('ADD in an 0.3.1 config prints the IP version field', async () => {
  const { ctx } = fakeContext();
  const r = await run(ctx, 'ADD', 'c1', conf({ cniVersion: '0.3.1' }));
  assert.deepEqual(r.json?.ips, [{ address: '10.42.0.2/24', gateway: '10.42.0.1', version: '4' }]);
});

test('two containers get .2 then .3 (the gateway .1 is skipped)', async () => {
  const { ctx, stores } = fakeContext();
  assert.equal(addressOf((await run(ctx, 'ADD', 'c1')).json), '10.42.0.2/24');
  assert.equal(addressOf((await run(ctx, 'ADD', 'c2')).json), '10.42.0.3/24');
  const store = stores.get('/var/lib/cni/networks/cbr0');
  assert.deepEqual(await store?.list(), [{ ip: '10.42.0.2', id: 'c1', ifname: 'eth0' }, { ip: '10.42.0.3', id: 'c2', ifname: 'eth0' }]);
});

test('the same container and ifname twice is an error; another ifname is fine', async () => {
  const { ctx } = fakeContext();
  assert.equal((await run(ctx, 'ADD', 'c1')).code, 0);
  const again = await run(ctx, 'ADD', 'c1');
  assert.equal(again.code, 1);
  assert.equal(again.json?.msg, 'failed to allocate for range 0: 10.42.0.2 has been allocated to c1, duplicate allocation is not allowed');
  assert.equal((await run(ctx, 'ADD', 'c1', conf(), { CNI_IFNAME: 'eth1' })).code, 0);
});

test('DEL twice succeeds, also without CNI_NETNS', async () => {
  const { ctx, stores } = fakeContext();
  await run(ctx, 'ADD', 'c1');
  assert.deepEqual(await run(ctx, 'DEL', 'c1'), { code: 0, json: undefined });
  assert.deepEqual(await run(ctx, 'DEL', 'c1', conf(), { CNI_NETNS: '' }), { code: 0, json: undefined });
  assert.deepEqual(await stores.get('/var/lib/cni/networks/cbr0')?.list(), []);
});

test('ADD, DEL, ADD gives the next address, not the same one back', async () => {
  const { ctx } = fakeContext();
  assert.equal(addressOf((await run(ctx, 'ADD', 'c1')).json), '10.42.0.2/24');
  await run(ctx, 'DEL', 'c1');
  assert.equal(addressOf((await run(ctx, 'ADD', 'c1')).json), '10.42.0.3/24');
});

test('a full range set fails with the reference message', async () => {
  const { ctx } = fakeContext();
  const small = conf({}, { type: 'host-local', subnet: '10.42.0.0/30' });
  assert.equal(addressOf((await run(ctx, 'ADD', 'c1', small)).json), '10.42.0.2/30');
  const r = await run(ctx, 'ADD', 'c2', small);
  assert.equal(r.code, 1);
  assert.deepEqual(r.json, { cniVersion: '1.0.0', code: 999, msg: 'failed to allocate for range 0: no IP addresses available in range set: 10.42.0.1-10.42.0.2' });
});

test('IP= in CNI_ARGS asks for an address; a taken or outside one fails', async () => {
  const { ctx } = fakeContext();
  const args = (ip: string) => ({ CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAME=p;IP=${ip}` });
  assert.equal(addressOf((await run(ctx, 'ADD', 'c1', conf(), args('10.42.0.77'))).json), '10.42.0.77/24');
  const taken = await run(ctx, 'ADD', 'c2', conf(), args('10.42.0.77'));
  assert.equal(taken.json?.msg, 'failed to allocate for range 0: requested IP address 10.42.0.77 is not available in range set 10.42.0.1-10.42.0.254');
  const outside = await run(ctx, 'ADD', 'c3', conf(), args('10.50.0.5'));
  assert.equal(outside.json?.code, 7);
  assert.match(String(outside.json?.msg), /requested IP address 10\.50\.0\.5 is not in any range set \(10\.42\.0\.1-10\.42\.0\.254\)/);
  const gateway = await run(ctx, 'ADD', 'c4', conf(), args('10.42.0.1'));
  assert.match(String(gateway.json?.msg), /is the gateway/);
  const garbage = await run(ctx, 'ADD', 'c4', conf(), args('10.42.0.999'));
  assert.equal(garbage.json?.code, 4);
  assert.match(String(garbage.json?.msg), /^CNI_ARGS IP: "10\.42\.0\.999" is not an IPv4 address/);
  // Round robin continues after the requested address.
  assert.equal(addressOf((await run(ctx, 'ADD', 'c5')).json), '10.42.0.78/24');
});

test('args.cni.ips and runtimeConfig.ips ask for addresses too', async () => {
  const { ctx } = fakeContext();
  assert.equal(addressOf((await run(ctx, 'ADD', 'c1', conf({ args: { cni: { ips: ['10.42.0.40'] } } }))).json), '10.42.0.40/24');
  assert.equal(addressOf((await run(ctx, 'ADD', 'c2', conf({ runtimeConfig: { ips: ['10.42.0.41/24'] } }))).json), '10.42.0.41/24');
});

test('an unknown CNI_ARGS key without IgnoreUnknown is code 2', async () => {
  const { ctx } = fakeContext();
  const r = await run(ctx, 'ADD', 'c1', conf(), { CNI_ARGS: 'FOO=bar' });
  assert.equal(r.code, 1);
  assert.equal(r.json?.code, 2);
  assert.match(String(r.json?.msg), /unknown key "FOO"/);
});

test('bad JSON on stdin is code 6', async () => {
  const { ctx } = fakeContext();
  const r = await run(ctx, 'ADD', 'c1', '{"cniVersion": ');
  assert.equal(r.code, 1);
  assert.equal(r.json?.code, 6);
});

test('bad ipam fields are code 7 with the field path in one line', async () => {
  const { ctx } = fakeContext();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ type: 'host-local', ranges: [[{ subnet: '10.42.0.0/33' }]] }, /^ipam\.ranges\[0\]\[0\]\.subnet: "10\.42\.0\.0\/33" is not a CIDR \(like 10\.42\.0\.0\/24\)$/],
    [{ type: 'host-local', ranges: [[{ subnet: 33 }]] }, /^ipam\.ranges\[0\]\[0\]\.subnet: got 33; want a CIDR string/],
    [{ type: 'host-local', ranges: [{ subnet: '10.42.0.0/24' }] }, /^ipam\.ranges\[0\]: got \{"subnet":"10\.42\.0\.0\/24"\}; want a range set/],
    [{ type: 'host-local', ranges: [[{}]] }, /^ipam\.ranges\[0\]\[0\]\.subnet: missing; want a CIDR string/],
    [{ type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: 'x' }] }, /^ipam\.routes\[0\]\.dst: "x" is not a CIDR/],
    [{ type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '0.0.0.0/0', gw: 5 }] }, /^ipam\.routes\[0\]\.gw: got 5; want an IPv4 address/],
    [{ type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], dataDir: false }, /^ipam\.dataDir: got false; want a directory path/],
    [{ type: 'host-local', ranges: [[{ subnet: 'fd00::/64' }]] }, /IPv4-only/],
    [{ ranges: [[{ subnet: '10.42.0.0/24' }]] }, /^ipam\.type: missing/],
  ];
  for (const [ipam, msg] of cases) {
    const r = await run(ctx, 'ADD', 'c1', conf({}, ipam));
    assert.equal(r.code, 1);
    assert.equal(r.json?.code, 7, String(r.json?.msg));
    assert.match(String(r.json?.msg), msg);
    assert.ok(!String(r.json?.msg).includes('\n'));
  }
  const escape = await run(ctx, 'ADD', 'c1', conf({ name: '../etc' }));
  assert.equal(escape.json?.code, 7);
  assert.match(String(escape.json?.msg), /^name: "\.\.\/etc" is not a valid network name/);
  const noIpam = await run(ctx, 'ADD', 'c1', JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', type: 'host-local' }));
  assert.match(String(noIpam.json?.msg), /^ipam: missing/);
});

test('unknown extra fields pass, and so does resolvConf', async () => {
  const { ctx } = fakeContext();
  const r = await run(ctx, 'ADD', 'c1', conf({ bridge: 'cni0', isGateway: true }, { ...IPAM, resolvConf: '/etc/resolv.conf', somethingNew: 1 }));
  assert.equal(r.code, 0);
});

test('the old single-range form and dataDir are honoured', async () => {
  const { ctx, stores } = fakeContext();
  const r = await run(ctx, 'ADD', 'c1', conf({}, { type: 'host-local', subnet: '10.42.3.0/24', rangeStart: '10.42.3.100', gateway: '10.42.3.254', dataDir: '/tmp/x' }));
  assert.deepEqual(r.json?.ips, [{ address: '10.42.3.100/24', gateway: '10.42.3.254' }]);
  assert.ok(stores.has('/tmp/x/cbr0'));
});

test('two range sets: one IP from each; a failing later set releases the earlier one', async () => {
  const { ctx, stores } = fakeContext();
  const two = conf({}, { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }], [{ subnet: '10.44.0.0/30' }]] });
  const r = await run(ctx, 'ADD', 'c1', two);
  assert.deepEqual(r.json?.ips, [{ address: '10.42.0.2/24', gateway: '10.42.0.1' }, { address: '10.44.0.2/30', gateway: '10.44.0.1' }]);
  const full = await run(ctx, 'ADD', 'c2', two);
  assert.equal(full.json?.msg, 'failed to allocate for range 1: no IP addresses available in range set: 10.44.0.1-10.44.0.2');
  const store = stores.get('/var/lib/cni/networks/cbr0');
  assert.deepEqual((await store?.list())?.map((e) => e.id), ['c1', 'c1']);
});

test('CHECK succeeds for a holder and fails for anyone else', async () => {
  const { ctx } = fakeContext();
  await run(ctx, 'ADD', 'c1');
  assert.equal((await run(ctx, 'CHECK', 'c1')).code, 0);
  const r = await run(ctx, 'CHECK', 'c2');
  assert.equal(r.code, 1);
  assert.equal(r.json?.msg, 'host-local: Failed to find address added by container c2');
});

test('GC releases every reservation not in cni.dev/valid-attachments', async () => {
  const { ctx, stores } = fakeContext();
  const v11 = conf({ cniVersion: '1.1.0' });
  for (const id of ['c1', 'c2', 'c3']) await run(ctx, 'ADD', id, v11);
  const gc = (attachments: unknown) => run(ctx, 'GC', '', conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': attachments }), { CNI_IFNAME: '' });
  assert.equal((await gc([{ containerID: 'c2', ifname: 'eth0' }, { containerID: 'c1', ifname: 'eth9' }])).code, 0);
  assert.deepEqual(await stores.get('/var/lib/cni/networks/cbr0')?.list(), [{ ip: '10.42.0.3', id: 'c2', ifname: 'eth0' }]);
  const missing = await run(ctx, 'GC', '', v11, { CNI_IFNAME: '' });
  assert.equal(missing.json?.code, 7);
  assert.match(String(missing.json?.msg), /cni\.dev\/valid-attachments: missing/);
  assert.equal((await gc([])).code, 0);
  assert.deepEqual(await stores.get('/var/lib/cni/networks/cbr0')?.list(), []);
});

test('GC and STATUS need a 1.1.0 config; STATUS succeeds with a usable store', async () => {
  const { ctx } = fakeContext();
  assert.equal((await run(ctx, 'STATUS', 'c1', conf())).json?.code, 1);
  assert.deepEqual(await run(ctx, 'STATUS', '', conf({ cniVersion: '1.1.0' })), { code: 0, json: undefined });
});

test('STATUS is code 50 when the store cannot be used', async () => {
  const { ctx } = fakeContext();
  const broken: PluginContext = { ...ctx, ipamStore: () => Object.assign(new MemoryStore(), { withLock: () => Promise.reject(new Error('EACCES: permission denied')) }) };
  const r = await run(broken, 'STATUS', '', conf({ cniVersion: '1.1.0' }));
  assert.equal(r.json?.code, 50);
  assert.match(String(r.json?.msg), /cannot use data directory \/var\/lib\/cni\/networks\/cbr0: EACCES/);
});

test('VERSION lists the versions host-local speaks', async () => {
  const { ctx } = fakeContext();
  const r = await run(ctx, 'VERSION', '', '');
  assert.deepEqual(r.json?.supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
});
