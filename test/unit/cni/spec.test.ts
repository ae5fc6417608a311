import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniError, parseCniArgs, parseEnv, resultForVersion } from '../../../src/cni/spec.js';

const code = (fn: () => unknown, c: number, msg?: RegExp) => assert.throws(fn, (e: unknown) => e instanceof CniError && e.code === c && (!msg || msg.test(e.message)));

test('environment: required variables per command, code 4', () => {
  code(() => parseEnv({}), 4, /CNI_COMMAND/);
  code(() => parseEnv({ CNI_COMMAND: 'ADD' }), 4, /CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME/);
  code(() => parseEnv({ CNI_COMMAND: 'FOO' }), 4, /unknown CNI_COMMAND/);
  code(() => parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: '-bad', CNI_IFNAME: 'eth0' }), 4, /CNI_CONTAINERID/);
  code(() => parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'ok', CNI_IFNAME: 'a-very-long-interface' }), 4, /CNI_IFNAME/);
  const env = parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'abc', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b' });
  assert.equal(env.netns, '');
  assert.deepEqual(env.path, ['/a', '/b']);
});

test('CNI_ARGS: unknown keys are code 2 unless IgnoreUnknown', () => {
  assert.equal(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=p;FOO=1', ['K8S_POD_NAME']).get('K8S_POD_NAME'), 'p');
  code(() => parseCniArgs('FOO=1', ['MAC']), 2, /FOO/);
  code(() => parseCniArgs('novalue', []), 4);
});

test('results are printed in the version that came in', () => {
  const r = { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', mac: 'aa', mtu: 1450, sandbox: '/x' }], ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '10.42.0.1', mtu: 1400 }] };
  const old = resultForVersion(r, '0.3.1');
  assert.equal(old.cniVersion, '0.3.1');
  assert.equal(old.ips?.[0].version, '4');
  assert.deepEqual(old.routes, [{ dst: '0.0.0.0/0', gw: '10.42.0.1' }]);
  assert.equal(old.interfaces?.[0].mtu, undefined);
  const v1 = resultForVersion(r, '1.0.0');
  assert.equal(v1.ips?.[0].version, undefined);
  assert.equal(resultForVersion(r, '1.1.0').routes?.[0].mtu, 1400);
});
