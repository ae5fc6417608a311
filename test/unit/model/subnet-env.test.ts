// flannel's subnet.env: K3s's file parsed and written back byte for byte, the IPv6 keys of a
// dual-stack flannel read past, and every kind of bad line answered with the key and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSubnetEnv, parseSubnetEnv, podSubnet, SubnetEnvError } from '../../../src/model/subnet-env.js';

const K3S = 'FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';

test('K3s\'s subnet.env parses, and formats back to the same text', () => {
  const env = parseSubnetEnv(K3S);
  assert.deepEqual(env, { network: '10.42.0.0/16', subnet: '10.42.0.1/24', mtu: 1450, ipMasq: true });
  assert.equal(formatSubnetEnv(env), K3S);
  assert.equal(podSubnet(env), '10.42.0.0/24');
  const other = { network: '10.42.0.0/16', subnet: '10.42.7.1/24', mtu: 1400, ipMasq: false };
  assert.deepEqual(parseSubnetEnv(formatSubnetEnv(other)), other);
  assert.equal(podSubnet(other), '10.42.7.0/24');
});

test('dual-stack keys, comments, blank lines and CRLF are read past', () => {
  const text = '# written by flannel\r\nFLANNEL_NETWORK=10.42.0.0/16\r\nFLANNEL_SUBNET=10.42.1.1/24\r\nFLANNEL_IPV6_NETWORK=2001:cafe:42::/56\r\n\r\nFLANNEL_IPV6_SUBNET=2001:cafe:42:1::1/64\r\nFLANNEL_MTU=1450\r\nFLANNEL_IPMASQ=false\r\n';
  assert.deepEqual(parseSubnetEnv(text), { network: '10.42.0.0/16', subnet: '10.42.1.1/24', mtu: 1450, ipMasq: false });
});

test('bad input: one line naming the key and the fix', () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => parseSubnetEnv(text), (e: unknown) => e instanceof SubnetEnvError && re.test(e.message) && !e.message.includes('\n'));
  const without = (key: string) => K3S.split('\n').filter((l) => !l.startsWith(`${key}=`)).join('\n');
  bad('', /^FLANNEL_NETWORK: missing; the node agent writes it \(like FLANNEL_NETWORK=10\.42\.0\.0\/16\)$/);
  bad(without('FLANNEL_SUBNET'), /^FLANNEL_SUBNET: missing/);
  bad(without('FLANNEL_MTU'), /^FLANNEL_MTU: missing; .*FLANNEL_MTU=1450/);
  bad(without('FLANNEL_IPMASQ'), /^FLANNEL_IPMASQ: missing/);
  bad(K3S.replace('FLANNEL_MTU=1450', 'FLANNEL_MTU='), /^FLANNEL_MTU: missing/);
  bad(K3S.replace('10.42.0.0/16', '10.42.0.0'), /^FLANNEL_NETWORK is not an IPv4 CIDR; write one like FLANNEL_NETWORK=10\.42\.0\.0\/16$/);
  bad(K3S.replace('10.42.0.0/16', '10.42.0.0/16,10.44.0.0/16'), /^FLANNEL_NETWORK is not an IPv4 CIDR/);
  bad(K3S.replace('10.42.0.0/16', '10.42.0.1/16'), /^FLANNEL_NETWORK has host bits set; write the network address \(like FLANNEL_NETWORK=10\.42\.0\.0\/16\)$/);
  bad(K3S.replace('10.42.0.1/24', '10.99.0.1/24'), /^FLANNEL_SUBNET is not inside FLANNEL_NETWORK/);
  bad(K3S.replace('1450', 'big'), /^FLANNEL_MTU is not an MTU; write a whole number from 68 to 65535 like FLANNEL_MTU=1450$/);
  bad(K3S.replace('1450', '70000'), /^FLANNEL_MTU is not an MTU/);
  bad(K3S.replace('1450', '-1'), /^FLANNEL_MTU is not an MTU/);
  bad(K3S.replace('=true', '=yes'), /^FLANNEL_IPMASQ is not a boolean; write FLANNEL_IPMASQ=true or FLANNEL_IPMASQ=false$/);
  bad(`${K3S}FLANNEL_MTU=1400\n`, /^FLANNEL_MTU: given twice/);
  bad(`${K3S}garbage\n`, /^line 5 is not KEY=VALUE/);
  // The file may be any file a config names: no message quotes what it holds.
  const shadow = 'root:$y$j9T$secret:19000:0:99999:7:::\nFLANNEL_MTU=x=y\n';
  assert.throws(() => parseSubnetEnv(shadow), (e: unknown) => e instanceof SubnetEnvError && !/root|secret|x=y/.test(e.message));
});
