// Fixtures of podnet doctor's unit tests: a healthy two-node lab node as the collector observes it
// (server: 10.42.0.0/24 on 198.51.100.2, agent1 10.42.1.0/24 on 198.51.100.3; two pods each), built
// from reads of a real lab on this machine — `nft -j list table ip flannel` and `iptables-save` of
// the server node verbatim — and helpers to break a copy.
import type { Link } from '../../../src/model/kernel.js';
import { parseIptablesSave } from '../../../src/model/netfilter-iptables.js';
import { parseNftJson } from '../../../src/model/netfilter-nft.js';
import { labExpectation, type LabNodeFacts } from '../../../src/model/doctor/expect.js';
import type { LeaseFact, NodeExpectation, NodeObservation, PodObservation } from '../../../src/model/doctor/types.js';
import type { NodeInput } from '../../../src/model/doctor/index.js';

/** `nft -j list table ip flannel` on the server node (flannel's ruleset for 10.42.0.0/24). */
export const FLANNEL_TABLE_JSON = "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"release_name\": \"Lester Gooch #5\", \"json_schema_version\": 1}}, {\"table\": {\"family\": \"ip\", \"name\": \"flannel\", \"handle\": 2}}, {\"chain\": {\"family\": \"ip\", \"table\": \"flannel\", \"name\": \"FLANNEL-POSTRTG\", \"handle\": 1, \"type\": \"nat\", \"hook\": \"postrouting\", \"prio\": 100, \"policy\": \"accept\"}}, {\"chain\": {\"family\": \"ip\", \"table\": \"flannel\", \"name\": \"FLANNEL-FWD\", \"handle\": 2, \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"accept\"}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-POSTRTG\", \"handle\": 3, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"&\": [{\"meta\": {\"key\": \"mark\"}}, 16384]}, \"right\": 16384}}, {\"return\": null}]}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-POSTRTG\", \"handle\": 4, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 24}}}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"return\": null}]}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-POSTRTG\", \"handle\": 5, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 24}}}}, {\"return\": null}]}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-POSTRTG\", \"handle\": 6, \"expr\": [{\"match\": {\"op\": \"!=\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 24}}}}, {\"return\": null}]}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-POSTRTG\", \"handle\": 7, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"match\": {\"op\": \"!=\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}}, \"right\": {\"prefix\": {\"addr\": \"224.0.0.0\", \"len\": 4}}}}, {\"masquerade\": {\"flags\": [\"random\", \"fully-random\"]}}]}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-POSTRTG\", \"handle\": 8, \"expr\": [{\"match\": {\"op\": \"!=\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"masquerade\": {\"flags\": [\"random\", \"fully-random\"]}}]}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-FWD\", \"handle\": 9, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"accept\": null}]}}, {\"rule\": {\"family\": \"ip\", \"table\": \"flannel\", \"chain\": \"FLANNEL-FWD\", \"handle\": 10, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}}, \"right\": {\"prefix\": {\"addr\": \"10.42.0.0\", \"len\": 16}}}}, {\"accept\": null}]}}]}";

/** `iptables-save` on the server node (kube-proxy's rules for the lab's two default Services). */
export const NODE_IPTABLES = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-FIREWALL - [0:0]\n:KUBE-FORWARD - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\n:KUBE-PROXY-FIREWALL - [0:0]\n:KUBE-SERVICES - [0:0]\n-A INPUT -j KUBE-FIREWALL\n-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\n-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n-A OUTPUT -j KUBE-FIREWALL\n-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A KUBE-SERVICES -d 10.43.0.10/32 -p udp -m comment --comment \"kube-system/kube-dns:dns has no endpoints\" -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable\n-A KUBE-SERVICES -d 10.43.0.10/32 -p tcp -m comment --comment \"kube-system/kube-dns:dns-tcp has no endpoints\" -m tcp --dport 53 -j REJECT --reject-with icmp-port-unreachable\n-A KUBE-SERVICES -d 10.43.0.10/32 -p tcp -m comment --comment \"kube-system/kube-dns:metrics has no endpoints\" -m tcp --dport 9153 -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-PROXY-CANARY - [0:0]\n:KUBE-SEP-XTDWFU26OB2BLAUE - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\n-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n-A KUBE-SEP-XTDWFU26OB2BLAUE -s 198.51.100.2/32 -m comment --comment \"default/kubernetes:https\" -j KUBE-MARK-MASQ\n-A KUBE-SEP-XTDWFU26OB2BLAUE -p tcp -m comment --comment \"default/kubernetes:https\" -m tcp -j DNAT --to-destination 198.51.100.2:6443\n-A KUBE-SERVICES -d 10.43.0.1/32 -p tcp -m comment --comment \"default/kubernetes:https cluster IP\" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y\n-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n-A KUBE-SVC-NPX46M4PTMTKRN6Y ! -s 10.42.0.0/16 -d 10.43.0.1/32 -p tcp -m comment --comment \"default/kubernetes:https cluster IP\" -m tcp --dport 443 -j KUBE-MARK-MASQ\n-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment \"default/kubernetes:https -> 198.51.100.2:6443\" -j KUBE-SEP-XTDWFU26OB2BLAUE\nCOMMIT\n";

export const CLUSTER = '10.42.0.0/16';
export const NODES: LabNodeFacts[] = [
  { name: 'server', ip: '198.51.100.2/24', podCIDR: '10.42.0.0/24', bridgeIP: '10.42.0.1/24', vtepMac: '8a:d5:9b:3e:26:91' },
  { name: 'agent1', ip: '198.51.100.3/24', podCIDR: '10.42.1.0/24', bridgeIP: '10.42.1.1/24', vtepMac: '76:12:bb:aa:f4:5e' },
];
export const LEASES: LeaseFact[] = NODES.map((n) => ({ subnet: n.podCIDR, publicIP: n.ip.split('/')[0], vtepMac: n.vtepMac, vni: 1 }));
/** The pods: two per node, `pod<i>` at .2 and .3 of the node's subnet. */
export const PODS = [
  { name: 'pod1', node: 'server', ip: '10.42.0.2', containerId: 'c1'.repeat(32) },
  { name: 'pod3', node: 'server', ip: '10.42.0.3', containerId: 'c3'.repeat(32) },
  { name: 'pod2', node: 'agent1', ip: '10.42.1.2', containerId: 'c2'.repeat(32) },
  { name: 'pod4', node: 'agent1', ip: '10.42.1.3', containerId: 'c4'.repeat(32) },
];

/** flannel's ruleset for a node, as src/overlay/nft.ts writes it (copied here: the model may not import overlay). */
export function flannelText(podCIDR: string): string {
  return `table ip flannel {}\ndelete table ip flannel\ntable ip flannel {\n  chain FLANNEL-POSTRTG {\n    type nat hook postrouting priority srcnat; policy accept;\n    meta mark & 0x4000 == 0x4000 return\n    ip saddr ${podCIDR} ip daddr ${CLUSTER} return\n    ip saddr ${CLUSTER} ip daddr ${podCIDR} return\n    ip saddr != ${CLUSTER} ip daddr ${podCIDR} return\n    ip saddr ${CLUSTER} ip daddr != 224.0.0.0/4 masquerade random,fully-random\n    ip saddr != ${CLUSTER} ip daddr ${CLUSTER} masquerade random,fully-random\n  }\n  chain FLANNEL-FWD {\n    type filter hook forward priority filter; policy accept;\n    ip saddr ${CLUSTER} accept\n    ip daddr ${CLUSTER} accept\n  }\n}\n`;
}

const base = (name: string, index: number, mtu: number, mac: string): Omit<Link, 'kind'> => ({ name, index, mtu, mac, up: true, operstate: 'UP', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], promiscuity: 0 });
const port = { state: 'forwarding', hairpin: true, learning: true, flood: true };

/** A pod as observed: its eth0 (MTU 1450) and its host veth on cni0. */
function pod(p: (typeof PODS)[number], i: number): PodObservation {
  return {
    name: p.name, ns: { name: `podnet-t-cni-${p.name}` }, containerId: p.containerId,
    iface: { name: 'eth0', mtu: 1450, up: true, addrs: [`${p.ip}/24`] },
    hostVeth: { ...base(`veth0000000${i}`, 10 + i, 1450, `0a:00:00:00:00:0${i}`), kind: 'veth', peerIndex: 2, master: 'cni0', port: { ...port } },
  };
}

/** A healthy node as the collector reads it. */
export function healthyNode(name: 'server' | 'agent1'): NodeInput {
  const n = NODES.find((x) => x.name === name)!;
  const other = NODES.find((x) => x.name !== name)!;
  const ip = n.ip.split('/')[0];
  const net = n.podCIDR.split('/')[0];
  const pods = PODS.filter((p) => p.node === name).map((p, i) => pod(p, i + (name === 'server' ? 0 : 5)));
  const links: Link[] = [
    { ...base('lo', 1, 65536, '00:00:00:00:00:00'), kind: 'generic', infoKind: 'loopback' },
    { ...base('eth0', 2, 1500, '02:00:00:00:00:01'), kind: 'veth', peerIndex: 3 },
    { ...base('flannel.1', 3, 1450, n.vtepMac), kind: 'vxlan', vni: 1, local: ip, dstport: 8472, learning: false },
    { ...base('cni0', 4, 1450, '02:00:00:00:00:04'), kind: 'bridge' },
    ...pods.map((p) => p.hostVeth!),
  ];
  const json = name === 'server' ? FLANNEL_TABLE_JSON : FLANNEL_TABLE_JSON.split('"addr": "10.42.0.0", "len": 24').join('"addr": "10.42.1.0", "len": 24');
  const obs: NodeObservation = {
    node: name, ns: { name: `podnet-t-${name}` }, links,
    addrs: [
      { link: 'eth0', family: 'inet', local: ip, prefix: 24, scope: 'global' },
      { link: 'flannel.1', family: 'inet', local: net, prefix: 32, scope: 'global' },
      { link: 'cni0', family: 'inet', local: n.bridgeIP.split('/')[0], prefix: 24, scope: 'global' },
    ],
    routes: [
      { dst: 'default', gateway: '198.51.100.1', dev: 'eth0', flags: [] },
      { dst: n.podCIDR, dev: 'cni0', protocol: 'kernel', scope: 'link', flags: [] },
      { dst: other.podCIDR, gateway: other.podCIDR.split('/')[0], dev: 'flannel.1', flags: ['onlink'] },
    ],
    neighs: [{ dst: other.podCIDR.split('/')[0], dev: 'flannel.1', lladdr: other.vtepMac, state: ['PERMANENT'] }],
    fdb: [{ mac: other.vtepMac, dev: 'flannel.1', dst: other.ip.split('/')[0], flags: ['self'], state: 'permanent' }],
    sysctls: { 'net/ipv4/ip_forward': '1', 'net/bridge/bridge-nf-call-iptables': '1', 'net/ipv4/conf/all/rp_filter': '0', 'net/ipv4/conf/eth0/rp_filter': '0', 'net/ipv4/conf/flannel.1/rp_filter': '0' },
    udp: { InDatagrams: 10, InCsumErrors: 0 },
    conntrack: { count: 1, max: 262144, stats: { entries: 1, insert_failed: 0, drop: 0, early_drop: 0 } },
    iptables: parseIptablesSave(NODE_IPTABLES), nft: parseNftJson(json), vtepFeatures: { 'tx-checksum-ip-generic': true },
    pods,
    ipam: { dir: `/var/lib/podnet/t/nodes/${name}/cni/networks/cbr0`, entries: PODS.filter((p) => p.node === name).map((p) => ({ ip: p.ip, containerId: p.containerId, file: `/var/lib/podnet/t/nodes/${name}/cni/networks/cbr0/${p.ip}` })) },
  };
  const exp: NodeExpectation = labExpectation({ clusterCIDR: CLUSTER, mtu: 1450, node: n, nodes: NODES, leases: LEASES, pods: PODS.filter((p) => p.node === name), flannelRuleset: flannelText(n.podCIDR) });
  return { exp, obs };
}

/** Both nodes, healthy, as fresh copies. */
export const healthyLab = (): NodeInput[] => [healthyNode('server'), healthyNode('agent1')];

/** A lab's cluster facts (leases, nodes, an empty underlay). */
export const clusterFacts = () => ({ store: 'file /var/lib/podnet/t/leases.json', leases: LEASES.map((l) => ({ ...l })), nodes: NODES.map((n) => ({ name: n.name, ip: n.ip.split('/')[0], podCIDR: n.podCIDR })), underlay: { ns: { name: 'podnet-t-underlay' }, nft: parseNftJson('[]') } });
