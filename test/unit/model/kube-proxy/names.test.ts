// kube-proxy's names: the hashes in iptables chain names (KUBE-SVC/SVL/EXT/FW from the service port
// name and protocol, KUBE-SEP with the endpoint) and in nftables chain names, checked against the
// values kube-proxy itself produces (K3s's default Services, and the vectors of upstream's
// proxier_test.go); the probabilities of the load-balancing rules, formatted as Go's %0.10f.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32, hashAndTruncate, iptablesEndpointChain, iptablesPortChains, isIptablesServiceChain, isNftServiceChain, nftEndpointBase, nftPortBase, portProtoHash } from '../../../../src/model/kube-proxy/names.js';
import { probability } from '../../../../src/model/kube-proxy/ports.js';

test('KUBE-SVC hashes of K3s\'s default Services are the ones on every K3s node', () => {
  assert.equal(portProtoHash('default/kubernetes:https', 'tcp'), 'NPX46M4PTMTKRN6Y');
  assert.equal(portProtoHash('kube-system/kube-dns:dns', 'udp'), 'TCOU7JCQXEZGVUNU');
  assert.equal(portProtoHash('kube-system/kube-dns:dns-tcp', 'tcp'), 'ERIFXISQEP7F7OF4');
  assert.equal(portProtoHash('kube-system/kube-dns:metrics', 'tcp'), 'JD5MR3NA4I4DYORP');
});

test('every per-port iptables chain carries the same hash; SEP chains hash the endpoint too (upstream vectors)', () => {
  assert.deepEqual(iptablesPortChains('ns1/svc1:p80', 'tcp'), {
    svc: 'KUBE-SVC-XPGD46QRK7WJZT7O', svl: 'KUBE-SVL-XPGD46QRK7WJZT7O', ext: 'KUBE-EXT-XPGD46QRK7WJZT7O', fw: 'KUBE-FW-XPGD46QRK7WJZT7O',
  });
  assert.equal(iptablesEndpointChain('ns1/svc1:p80', 'tcp', '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  for (const c of ['KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ', 'KUBE-EXT-X', 'KUBE-SVL-X', 'KUBE-FW-X']) assert.ok(isIptablesServiceChain(c), c);
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ', 'KUBE-PROXY-CANARY']) assert.ok(!isIptablesServiceChain(c), c);
});

test('nftables chain bases: 8 hash characters, then the readable name (upstream vectors)', () => {
  assert.equal(nftPortBase('ns1', 'svc1', 'tcp', 'p80'), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(nftPortBase('ns2', 'svc2', 'tcp', 'p80'), '42NFTM6N-ns2/svc2/tcp/p80');
  assert.equal(nftPortBase('ns5', 'svc5', 'tcp', 'p80'), 'HVFWP5L3-ns5/svc5/tcp/p80');
  assert.equal(nftEndpointBase('ns1', 'svc1', 'tcp', 'p80', '10.180.0.1', 80), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  assert.equal(nftEndpointBase('ns5', 'svc5', 'tcp', 'p80', '10.180.0.3', 80), 'GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80');
  const long = hashAndTruncate('x'.repeat(300));
  assert.equal(long.length, 240);
  assert.ok(long.endsWith('...'));
  assert.ok(isNftServiceChain('service-ULMVA6XW-ns1/svc1/tcp/p80') && !isNftServiceChain('services'));
});

test('base32 is RFC 4648 (Go\'s StdEncoding), padding included', () => {
  const enc = (s: string) => base32(new TextEncoder().encode(s));
  assert.deepEqual(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map(enc), ['', 'MY======', 'MZXQ====', 'MZXW6===', 'MZXW6YQ=', 'MZXW6YTB', 'MZXW6YTBOI======']);
});

test('--probability 1/n with ten decimals, ties to even like Go\'s %0.10f', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(probability), ['1.0000000000', '0.5000000000', '0.3333333333', '0.2500000000', '0.2000000000', '0.1666666667', '0.1428571429']);
  assert.equal(probability(2048), '0.0004882812', '0.00048828125 is a tie: Go rounds to the even digit');
  assert.equal(probability(1000), '0.0010000000');
});
