// `inspect services`' join, from kube-proxy's rules as a lab node held them (captured with
// `iptables-save -c` and `nft -j list table ip kube-proxy` on the server node of a two-node lab: web
// with three endpoints and NodePort 30080, `empty` selecting nothing, kubernetes and kube-dns; one
// DNAT counter set to 5 packets by hand). Pure: text in, rows out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseIptablesSave } from '../../../src/model/netfilter-iptables.js';
import { parseNftJson } from '../../../src/model/netfilter-nft.js';
import { iptablesServiceRows, nftServiceRows, sortServiceRows } from '../../../src/views/service-rules.js';
import { renderTable } from '../../../src/render/table.js';
import { serviceRuleColumns } from '../../../src/render/inspect/services.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../../test/fixtures/${name}`, import.meta.url)), 'utf8');
const pods = new Map([['10.42.0.5', 'default/web1'], ['10.42.1.3', 'default/web2'], ['10.42.1.4', 'default/web3']]);
const podOf = (ip: string) => pods.get(ip);

test('iptables mode: KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT, with probabilities, counters, marks and the NodePort', () => {
  const rows = sortServiceRows(iptablesServiceRows('server', parseIptablesSave(fixture('services-iptables-save.txt')), podOf));
  const web = rows.filter((r) => r.service === 'default/web');
  assert.deepEqual(web.map((r) => [r.clusterIP, r.nodePort, r.chain, r.externalChain, r.endpoint, r.pick, r.pod]), [
    ['10.43.0.11:80/TCP', '30080', 'KUBE-SVC-LOLE4ISW44XBNF3G', 'KUBE-EXT-LOLE4ISW44XBNF3G', '10.42.0.5:8080', 'p=0.33333', 'default/web1'],
    ['10.43.0.11:80/TCP', '30080', 'KUBE-SVC-LOLE4ISW44XBNF3G', 'KUBE-EXT-LOLE4ISW44XBNF3G', '10.42.1.3:8080', 'p=0.50000', 'default/web2'],
    ['10.43.0.11:80/TCP', '30080', 'KUBE-SVC-LOLE4ISW44XBNF3G', 'KUBE-EXT-LOLE4ISW44XBNF3G', '10.42.1.4:8080', 'rest', 'default/web3'],
  ]);
  assert.deepEqual(web.map((r) => r.endpointChain), ['KUBE-SEP-RKECW4BLKEP2CDHU', 'KUBE-SEP-T5UDRGQ75VIEDS43', 'KUBE-SEP-STAEUV75CTOHPGXH']);
  assert.deepEqual(web.map((r) => r.counters?.packets), [5, 0, 0], 'the DNAT rules\' counters');
  assert.deepEqual(web[0].masquerade, ['off-cluster', 'hairpin', 'nodeport']);
  const empty = rows.filter((r) => r.service === 'default/empty');
  assert.deepEqual(empty.map((r) => [r.clusterIP, r.endpoint, r.endpointChain, r.pick]), [['10.43.0.12:81/TCP', '<none>', 'REJECT', 'reject']]);
  const dns = rows.find((r) => r.service === 'kube-system/kube-dns:dns');
  assert.equal(dns?.clusterIP, '10.43.0.10:53/UDP');
  assert.equal(dns?.pod, '-', 'an IP nobody claims: no pod');
  assert.match(renderTable(web, serviceRuleColumns), /^NODE +SERVICE +FRONTEND +CHAIN +PICK +ENDPOINT +PKTS +POD\nserver +default\/web +10\.43\.0\.11:80\/TCP :30080 +KUBE-SVC-LOLE4ISW44XBNF3G +p=0\.33333 +10\.42\.0\.5:8080 +5 +default\/web1\n/);
});

test('nftables mode: service-ips → service- chain → numgen slots → endpoint- chains → dnat; no-endpoint-services → reject-chain', () => {
  const nftPods = new Map([['10.42.1.2', 'default/web1'], ['10.42.1.3', 'default/web2'], ['10.42.0.4', 'default/web3']]); // that lab's addresses
  const rows = sortServiceRows(nftServiceRows('server', parseNftJson(JSON.parse(fixture('services-nft.json'))), (ip) => nftPods.get(ip)));
  const web = rows.filter((r) => r.service === 'default/web');
  assert.equal(web.length, 3);
  assert.ok(web.every((r) => r.chain === 'service-PFISGYVC-default/web/tcp/' && r.externalChain === 'external-PFISGYVC-default/web/tcp/' && r.nodePort === '30080' && r.clusterIP === '10.43.0.11:80/TCP'));
  assert.deepEqual(web.map((r) => r.pick).sort(), ['numgen 0/3', 'numgen 1/3', 'numgen 2/3']);
  for (const r of web) {
    assert.match(r.endpointChain, new RegExp(`^endpoint-[A-Z0-9]{8}-default/web/tcp/__${r.endpoint.replace(':', '/').replace(/\./g, '\\.')}$`), 'the endpoint chain is named after the address it DNATs to');
    assert.deepEqual(r.masquerade, ['off-cluster', 'hairpin', 'nodeport']);
  }
  assert.deepEqual(web.map((r) => r.pod).sort(), ['default/web1', 'default/web2', 'default/web3']);
  assert.deepEqual(rows.filter((r) => r.service === 'default/empty').map((r) => [r.clusterIP, r.endpoint, r.endpointChain]), [['10.43.0.12:81/TCP', '<none>', 'reject-chain']]);
  assert.ok(rows.some((r) => r.service === 'kube-system/kube-dns:dns-tcp' && r.clusterIP === '10.43.0.10:53/TCP'), 'port names from the chain names');
});

test('rules of no kube-proxy: no rows', () => {
  assert.deepEqual(iptablesServiceRows('host', parseIptablesSave('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'), podOf), []);
  assert.deepEqual(nftServiceRows('host', parseNftJson({ nftables: [] }), podOf), []);
});
