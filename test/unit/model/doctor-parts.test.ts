// The pieces of podnet doctor on their own: nftables rules read back as text (against flannel's own
// ruleset), commands as a user pastes them, the /proc and ethtool parsers, kube-proxy's chains and
// the Service checks, expectations of a real node, the report's rendering, and `lab break`'s
// one-line refusals of bad input (checked before any lab is looked at).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainsOfText, ruleText } from '../../../src/model/doctor/nft-text.js';
import { parseIptablesS } from '../../../src/model/doctor/iptables-s.js';
import { inNs, sysctlName, shellWord } from '../../../src/model/doctor/commands.js';
import { parseConntrackStat, parseEthtoolFeatures, parseSnmp } from '../../../src/model/doctor/check-counters.js';
import { checkProxy, checkServices } from '../../../src/model/doctor/check-proxy.js';
import { hostExpectation, remotesFor } from '../../../src/model/doctor/expect.js';
import { defaultServices, serviceEndpoints, type PodEndpointSource, type Service } from '../../../src/model/k8s.js';
import { parseIptablesSave } from '../../../src/model/netfilter-iptables.js';
import { parseNftJson } from '../../../src/model/netfilter-nft.js';
import { parseSubnetEnv } from '../../../src/model/subnet-env.js';
import { renderDoctor } from '../../../src/render/doctor.js';
import { conflistFacts } from '../../../src/inspect/doctor/host.js';
import { checkRequest, FAULTS } from '../../../src/lab/faults.js';
import { UserError } from '../../../src/model/errors.js';
import { CLUSTER, FLANNEL_TABLE_JSON, LEASES, NODES, NODE_IPTABLES, flannelText, healthyNode } from './doctor-fixtures.js';

test('nft -j rules read back exactly as flannel writes them', () => {
  const rs = parseNftJson(FLANNEL_TABLE_JSON);
  const have = ['FLANNEL-POSTRTG', 'FLANNEL-FWD'].map((chain) => ({ chain, rules: rs.rules.filter((r) => r.chain === chain).map((r) => ruleText(r.expr)) }));
  assert.deepEqual(have, chainsOfText(flannelText('10.42.0.0/24')));
  assert.equal(have[0].rules[0], 'meta mark & 0x4000 == 0x4000 return');
});

test('commands: ip -n for iproute2 in a pinned namespace, nsenter for the rest, plain on this host; sysctl names', () => {
  assert.equal(inNs({ name: 'n1' }, ['ip', 'link', 'set', 'cni0', 'up']), 'ip -n n1 link set cni0 up');
  assert.equal(inNs({ path: '/proc/7/ns/net' }, ['bridge', 'fdb', 'show']), 'nsenter --net=/proc/7/ns/net bridge fdb show');
  assert.equal(inNs({ current: true }, ['sysctl', 'net.ipv4.ip_forward']), 'sysctl net.ipv4.ip_forward');
  assert.equal(sysctlName('net/ipv4/conf/flannel.1/rp_filter'), 'net.ipv4.conf.flannel/1.rp_filter');
  assert.equal(shellWord("it's"), `'it'\\''s'`);
});

test('iptables -S of a chain and the chains it jumps to reads as the same dump iptables-save gives', () => {
  const d = parseIptablesS('filter', '-P FORWARD DROP\n-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD\n-N FLANNEL-FWD\n-A FLANNEL-FWD -s 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT\n');
  const [t] = d.tables;
  assert.deepEqual(t.chains.map((c) => [c.name, c.policy, c.builtin]), [['FORWARD', 'DROP', true], ['FLANNEL-FWD', '-', false]]);
  assert.deepEqual(t.rules.map((r) => [r.chain, r.target, r.comment]), [['FORWARD', 'FLANNEL-FWD', 'flanneld forward'], ['FLANNEL-FWD', 'ACCEPT', 'flanneld forward']]);
  assert.deepEqual(d.warnings, []);
});

test('/proc/net/stat/nf_conntrack (per-CPU hex rows), /proc/net/snmp and ethtool -k as printed here', () => {
  const stat = 'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n00000005  00000000 00000000 00000000 00000001 00000000 00000000 00000000 00000000 00000002 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n00000005  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 0000000a 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n';
  const s = parseConntrackStat(stat);
  assert.equal(s.entries, 5);
  assert.equal(s.insert_failed, 12);
  assert.equal(s.invalid, 1);
  const snmp = 'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\nUdp: 6 0 2 0 0 0 2 0 0\nUdpLite: InDatagrams NoPorts\nUdpLite: 0 0\n';
  assert.deepEqual({ ...parseSnmp(snmp, 'Udp') }.InCsumErrors, 2);
  const f = parseEthtoolFeatures('Features for flannel.1:\nrx-checksumming: on\ntx-checksumming: on\n\ttx-checksum-ipv4: off [fixed]\n\ttx-checksum-ip-generic: off\n');
  assert.equal(f['tx-checksum-ip-generic'], false);
  assert.equal(f['tx-checksum-ipv4'], false);
  assert.equal(f['rx-checksumming'], true);
});

/** The lab's two default Services (kubernetes → server:6443; kube-dns, no DNS pod) plus `extra`. */
function services(extra: Service[] = []): Service[] {
  return [...defaultServices('10.43.0.0/16', { name: 'server', ip: '198.51.100.2' }, '2026-01-01T00:00:00.000Z'), ...extra];
}
const node = { name: 'server', ip: '198.51.100.2', clusterCIDR: CLUSTER, serviceCIDR: '10.43.0.0/16' };

test('kube-proxy: the fixture node holds exactly the chains its Services call for; missing and stale chains are findings', () => {
  const obs = healthyNode('server').obs;
  const ports = serviceEndpoints(services(), []);
  assert.deepEqual(checkProxy({ mode: 'iptables', node, ports }, obs), []);
  const gone = { ...obs, iptables: parseIptablesSave(NODE_IPTABLES.replace(':KUBE-SEP-XTDWFU26OB2BLAUE - [0:0]\n', '')) };
  assert.deepEqual(checkProxy({ mode: 'iptables', node, ports }, gone).map((f) => f.id), ['proxy-rules-missing']);
  const web: Service = { ...services()[0], name: 'web', namespace: 'default', clusterIP: '10.43.0.20', selector: { app: 'web' }, manualEndpoints: undefined, ports: [{ protocol: 'TCP', port: 80, targetPort: 'http' }] };
  const pods: PodEndpointSource[] = [{ meta: { name: 'w1', namespace: 'default', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }, ip: '10.42.0.5', node: 'server', ready: true }];
  const withWeb = serviceEndpoints(services([web]), pods);
  assert.deepEqual(checkProxy({ mode: 'iptables', node, ports: withWeb }, obs).map((f) => f.id), ['proxy-rules-missing']);
  const stale = checkProxy({ mode: 'iptables', node, ports: serviceEndpoints([], []) }, obs);
  assert.deepEqual(stale.map((f) => f.id), ['proxy-rules-stale']);
});

test('Services: selecting nothing, only stopped pods, or a targetPort the pods do not name', () => {
  const web: Service = { ...services()[0], name: 'web', namespace: 'default', clusterIP: '10.43.0.20', selector: { app: 'web' }, manualEndpoints: undefined, ports: [{ protocol: 'TCP', port: 80, targetPort: 'http' }] };
  const pod = (labels: Record<string, string>, ready = true, portName = 'http'): PodEndpointSource => ({ meta: { name: 'w1', namespace: 'default', labels, ports: [{ name: portName, containerPort: 8080, protocol: 'TCP' }] }, ip: '10.42.0.5', node: 'server', ready });
  const skip = new Set(['kube-system/kube-dns']);
  assert.deepEqual(checkServices(services([web]), [pod({ app: 'web' })], skip), []);
  assert.deepEqual(checkServices(services([web]), [pod({ app: 'api' })], skip).map((f) => f.id), ['service-no-endpoints']);
  assert.match(checkServices(services([web]), [pod({ app: 'web' }, false)], skip)[0].what, /do not run/);
  const tp = checkServices(services([web]), [pod({ app: 'web' }, true, 'web')], skip);
  assert.deepEqual(tp.map((f) => [f.id, f.severity]), [['service-target-port', 'error']]);
  const metrics: Service = { ...web, ports: [{ protocol: 'TCP', port: 9153, targetPort: 9153 }] };
  assert.deepEqual(checkServices(services([metrics]), [pod({ app: 'web' })], skip), [], 'a number no pod declares is sent to as it is: not a finding');
  assert.deepEqual(checkServices(services(), []).map((f) => f.subject), ['kube-system/kube-dns'], 'kube-dns without pods, unless skipped');
});

test('expectations: a real node from subnet.env; a namespace without one checks only consistency; remotes from leases', () => {
  const env = parseSubnetEnv('FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  const e = hostExpectation({ node: 'this host', subnetEnv: env, publicIP: '198.51.100.3', leases: LEASES });
  assert.equal(e.k3s, true);
  assert.equal(e.bridgeIP, '10.42.1.1/24');
  assert.deepEqual(e.remotes?.map((r) => r.subnet), ['10.42.0.0/24']);
  const bare = hostExpectation({ node: 'x', conflist: { bridge: 'cni-podman0', hairpin: true } });
  assert.deepEqual([bare.k3s, bare.bridge, bare.hairpin, bare.remotes], [false, 'cni-podman0', true, undefined]);
  const r = remotesFor({ ip: '198.51.100.2' }, [...LEASES, { subnet: '10.42.7.0/24', publicIP: '198.51.100.77', vtepMac: 'AA:bb:cc:dd:ee:ff', vni: 1 }], NODES, true);
  assert.deepEqual(r.map((x) => [x.name, !!x.stale, x.vtepMac]), [['agent1', false, '76:12:bb:aa:f4:5e'], ['198.51.100.77', true, 'aa:bb:cc:dd:ee:ff']]);
});

test('CNI config: K3s\'s flannel delegate, a plain bridge plugin, nonsense', () => {
  assert.deepEqual(conflistFacts({ name: 'cbr0', plugins: [{ type: 'flannel', delegate: { hairpinMode: true, forceAddress: true } }, { type: 'portmap' }] }), { bridge: 'cni0', hairpin: true, network: 'cbr0' });
  assert.deepEqual(conflistFacts({ name: 'p', plugins: [{ type: 'bridge', bridge: 'cni-podman0', hairpinMode: false }] }), { bridge: 'cni-podman0', hairpin: false, network: 'p' });
  assert.equal(conflistFacts({}), undefined);
});

test('the report: "No problems" when clean; a table that fits the terminal, then each finding in full', () => {
  assert.equal(renderDoctor({ kind: 'DoctorReport', target: 'lab "x"', nodes: ['a', 'b'], takenAt: '', findings: [] }), 'No problems found on lab "x" (2 nodes).\n');
  const f = { id: 'vtep-mtu', severity: 'error' as const, node: 'agent1', reach: 'node' as const, what: 'flannel.1 has MTU 1400; over eth0 (MTU 1500) it must be 1450 — and a long tail to make the line longer than the terminal', breaks: 'b', evidence: [{ command: 'ip -d link show', value: 'eth0 mtu 1500' }], fix: ['ip -n n link set flannel.1 mtu 1450'] };
  const text = renderDoctor({ kind: 'DoctorReport', target: 'lab "x"', nodes: ['a'], takenAt: '', findings: [f] }, { width: 80 });
  const lines = text.split('\n');
  const tableLines = lines.slice(2, 4);
  assert.ok(tableLines.every((l) => l.length <= 80), tableLines.join('\n'));
  assert.ok(text.includes('     ip -n n link set flannel.1 mtu 1450'));
  assert.ok(text.includes('     $ ip -d link show\n       eth0 mtu 1500'));
});

test('lab break refuses bad input in one line naming the flag, before touching any lab', () => {
  const refused = (r: Parameters<typeof checkRequest>[0]) => {
    try {
      checkRequest(r);
    } catch (e) {
      assert.ok(e instanceof UserError);
      assert.ok(!e.message.includes('\n'));
      return e.message;
    }
    return assert.fail('not refused');
  };
  assert.match(refused({ fault: 'nope' }), /^fault "nope": no such fault \(use one of ip-forward-off, .*; podnet lab break --list\)$/);
  assert.match(refused({ fault: 'ip-forward-off', pod: 'p' }), /^--pod: fault "ip-forward-off" takes no --pod/);
  assert.match(refused({ fault: 'mtu-mismatch', on: 'eth9' }), /^--on "eth9": use pod, cni0, flannel\.1$/);
  assert.match(refused({ fault: 'stale-lease', node: 'server' }), /^--node: fault "stale-lease" is the cluster's/);
  assert.match(refused({ fault: 'conntrack-max' }), /cannot be made here: nf_conntrack_max is machine-wide/);
  assert.equal(new Set(FAULTS.map((f) => f.name)).size, FAULTS.length, 'fault names are unique');
});
