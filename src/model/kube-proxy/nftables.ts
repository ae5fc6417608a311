// kube-proxy's nftables mode for one node (pkg/proxy/nftables/proxier.go): table `ip kube-proxy`
// with its base chains, the dispatch maps, and per Service port its chains (`service-`, `local-`,
// `external-`, `endpoint-`), its affinity sets and the elements it puts in the maps and sets —
// written as `nft -f` commands the way knftables writes a transaction. Pure.
import { nftEndpointBase, nftPortBase, nftPortChains } from './names.js';
import { endpointString, portViews, type PortView, type ProxyNode } from './ports.js';
import { MASQ_MARK } from './iptables.js';
import type { Endpoint, ServicePortEndpoints } from '../k8s.js';

/** The table kube-proxy owns, and the prefix of every command on it. */
export const NFT_TABLE = 'kube-proxy';
const T = `ip ${NFT_TABLE}`;

/** A chain of one Service port with its rules (the text after `add rule ip kube-proxy CHAIN`). */
export interface NftChainBlock {
  name: string;
  rules: string[];
}

/** An element of one of kube-proxy's maps or sets: `add element ip kube-proxy CONTAINER { KEY [comment] [: VALUE] }`. */
export interface NftElement {
  container: string;
  key: string;
  /** The verdict of a map element; undefined in a set. */
  value?: string;
  comment?: string;
}

/** The chains and affinity sets one Service port owns. */
export interface NftPortChains {
  chains: NftChainBlock[];
  /** Its ClientIP affinity sets: names and `add set` bodies. */
  sets: { name: string; body: string }[];
}

/** The value text of an element (`KEY comment "C" : VALUE`), as nft takes it. */
export const elementText = (e: NftElement): string => `${e.key}${e.comment !== undefined ? ` comment "${e.comment}"` : ''}${e.value !== undefined ? ` : ${e.value}` : ''}`;

/** The base chains: name, type, hook, priority (kube-proxy 1.34: filter before DNAT only where it
 * must see the Service address, the rest at priority 0). */
export const NFT_BASE_CHAINS: readonly (readonly [string, string, string, number])[] = [
  ['filter-prerouting-pre-dnat', 'filter', 'prerouting', -110],
  ['filter-output-pre-dnat', 'filter', 'output', -110],
  ['filter-forward', 'filter', 'forward', 0],
  ['filter-input', 'filter', 'input', 0],
  ['filter-output', 'filter', 'output', 0],
  ['nat-prerouting', 'nat', 'prerouting', -100],
  ['nat-output', 'nat', 'output', -100],
  ['nat-postrouting', 'nat', 'postrouting', 100],
];

/** Base chain → `ct state new`-guarded jumps to the top-level chains (nftablesJumpChains). */
const JUMPS: readonly (readonly [string, string, boolean])[] = [
  ['filter-input', 'nodeport-endpoints-check', true], ['filter-input', 'service-endpoints-check', true],
  ['filter-forward', 'service-endpoints-check', true], ['filter-output', 'service-endpoints-check', true],
  ['filter-prerouting-pre-dnat', 'firewall-check', true], ['filter-output-pre-dnat', 'firewall-check', true],
  ['nat-output', 'services', false], ['nat-prerouting', 'services', false], ['nat-postrouting', 'masquerading', false],
  ['filter-forward', 'cluster-ips-check', true], ['filter-output', 'cluster-ips-check', true],
];

const VMAP3 = 'ipv4_addr . inet_proto . inet_service : verdict';

/** setupNFTables: the table and everything in it that does not depend on the Services. */
export function nftSetup(node: ProxyNode): string[] {
  const top = ['nodeport-endpoints-check', 'service-endpoints-check', 'firewall-check', 'services', 'masquerading', 'cluster-ips-check', 'mark-for-masquerade'];
  return [
    `add table ${T} { comment "rules for kube-proxy" ; }`,
    ...NFT_BASE_CHAINS.map(([n, type, hook, prio]) => `add chain ${T} ${n} { type ${type} hook ${hook} priority ${prio} ; }`),
    ...top.map((c) => `add chain ${T} ${c}`),
    `add chain ${T} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
    `add map ${T} no-endpoint-services { type ${VMAP3} ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${T} firewall-ips { type ${VMAP3} ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${T} service-ips { type ${VMAP3} ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    ...JUMPS.map(([from, to, isNew]) => `add rule ${T} ${from} ${isNew ? 'ct state new ' : ''}jump ${to}`),
    `add rule ${T} mark-for-masquerade mark set mark or ${MASQ_MARK}`,
    `add rule ${T} masquerading mark and ${MASQ_MARK} == 0 return`,
    `add rule ${T} masquerading mark set mark xor ${MASQ_MARK}`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    `add rule ${T} cluster-ips-check ip daddr { ${node.serviceCIDR} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    `add element ${T} nodeport-ips { ${node.ip} }`,
    `add rule ${T} reject-chain reject`,
    `add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`,
    `add rule ${T} nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
  ];
}

const hasExternalEndpoints = (v: PortView): boolean => v.endpoints.length > 0 && (!v.externalLocal || v.local.length > 0);

/** The elements a port puts in kube-proxy's maps and sets, given its chains' base name (nftPortBase). */
export function portElements(v: PortView, base: string): NftElement[] {
  const c = nftPortChains(base);
  const has = v.endpoints.length > 0;
  const elements: NftElement[] = [{ container: 'cluster-ips', key: v.clusterIP }];
  const svcKey = `${v.clusterIP} . ${v.proto} . ${v.port}`;
  elements.push(has ? { container: 'service-ips', key: svcKey, value: `goto ${c.service}` } : { container: 'no-endpoint-services', key: svcKey, comment: v.name, value: 'goto reject-chain' });
  if (v.nodePort !== undefined) {
    const npKey = `${v.proto} . ${v.nodePort}`;
    if (has) elements.push({ container: 'service-nodeports', key: npKey, value: `goto ${c.external}` });
    if (!hasExternalEndpoints(v)) elements.push({ container: 'no-endpoint-nodeports', key: npKey, comment: v.name, value: has ? 'drop' : 'goto reject-chain' });
  }
  return elements;
}

/** The chains and affinity sets of one port (syncProxyRules' loop body). */
export function portChainsNft(v: PortView, node: ProxyNode, base: string): NftPortChains {
  if (v.endpoints.length === 0) return { chains: [], sets: [] };
  const c = nftPortChains(base);
  const ep = (e: Endpoint) => nftEndpointBase(v.namespace, v.service, v.proto, v.portName, e.ip, e.port);
  const chains: NftChainBlock[] = [{ name: c.service, rules: [`ip daddr ${v.clusterIP} ip saddr != ${node.clusterCIDR} jump mark-for-masquerade`, ...toEndpoints(v, v.endpoints, ep)] }];
  if (v.externalLocal && v.local.length > 0) chains.push({ name: c.local, rules: toEndpoints(v, v.local, ep) });
  if (v.nodePort !== undefined) chains.push({ name: c.external, rules: externalRules(v, node, c, hasExternalEndpoints(v)) });
  for (const e of v.endpoints) chains.push(endpointChain(v, e, ep(e)));
  const sets = v.affinity ? v.endpoints.map((e) => ({ name: `affinity-${ep(e)}`, body: `{ type ipv4_addr ; flags dynamic,timeout ; timeout ${v.affinity!.timeout}s ; }` })) : [];
  return { chains, sets };
}

/** The base of a port's chain names, and the 8 hash characters in it. */
export function portBase(v: PortView): string {
  return nftPortBase(v.namespace, v.service, v.proto, v.portName);
}

/** The chains, sets and elements kube-proxy writes on `node` for every Service port, as a full sync
 * writes them. */
export function nftRules(ports: readonly ServicePortEndpoints[], node: ProxyNode): { ports: (NftPortChains & { key: string; elements: NftElement[] })[] } {
  return {
    ports: portViews(ports, node).map((v) => {
      const base = portBase(v);
      return { key: `${v.name}/${v.proto}`, ...portChainsNft(v, node, base), elements: portElements(v, base) };
    }),
  };
}

/** writeServiceToEndpointRules: affinity first, then `numgen random mod N vmap { i : goto endpoint-… }`. */
function toEndpoints(v: PortView, endpoints: readonly Endpoint[], ep: (e: Endpoint) => string): string[] {
  const affinity = v.affinity ? endpoints.map((e) => `ip saddr @affinity-${ep(e)} goto endpoint-${ep(e)}`) : [];
  const arms = endpoints.map((e, i) => `${i} : goto endpoint-${ep(e)}`).join(' , ');
  return [...affinity, `numgen random mod ${endpoints.length} vmap { ${arms} }`];
}

/** external-*: masquerade and go to the Service (Cluster), or short-circuit pods and the node itself
 * and send the rest to this node's endpoints (Local). */
function externalRules(v: PortView, node: ProxyNode, c: ReturnType<typeof nftPortChains>, hasExternal: boolean): string[] {
  const rules = v.externalLocal
    ? [
      `ip saddr ${node.clusterCIDR} goto ${c.service} comment "short-circuit pod traffic"`,
      'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
      `fib saddr type local goto ${c.service} comment "short-circuit local traffic"`,
    ]
    : ['jump mark-for-masquerade'];
  if (hasExternal) rules.push(`goto ${v.externalLocal ? c.local : c.service}`);
  return rules;
}

/** endpoint-*: hairpin masquerade, affinity update, DNAT. */
function endpointChain(v: PortView, e: Endpoint, base: string): NftChainBlock {
  return {
    name: `endpoint-${base}`,
    rules: [
      `ip saddr ${e.ip} jump mark-for-masquerade`,
      ...(v.affinity ? [`update @affinity-${base} { ip saddr }`] : []),
      `meta l4proto ${v.proto} dnat to ${endpointString(e)}`,
    ],
  };
}
