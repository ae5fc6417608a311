// kube-proxy's iptables mode for one node (pkg/proxy/iptables/proxier.go, syncProxyRules), as the
// lines of its iptables-restore input: per Service port the KUBE-SERVICES / KUBE-NODEPORTS rules
// that lead to it and the chains it owns (KUBE-SVC, KUBE-SVL, KUBE-EXT, KUBE-SEP), plus the chains
// every sync rewrites (KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FORWARD, …) and the jumps from the
// built-in chains that kube-proxy ensures. Options come in kube-proxy's order; iptables-save prints
// them in its own. Pure.
import { iptablesEndpointChain, iptablesPortChains } from './names.js';
import { endpointString, portViews, probability, type PortView, type ProxyNode } from './ports.js';
import type { Endpoint, ServicePortEndpoints } from '../k8s.js';

/** kube-proxy's masquerade mark (`--masquerade-bit 14`). */
export const MASQ_MARK = '0x4000';
/** Above this many endpoints kube-proxy leaves the comments off the endpoint rules. */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

/** A chain of one Service port, with its rules (restore lines, `-A CHAIN …`). */
export interface IptablesChainBlock {
  name: string;
  rules: string[];
}

/** What one Service port puts into the chains every sync rewrites (cheap: no hashing). */
export interface IptablesPortTop {
  /** Its rules in KUBE-SERVICES and KUBE-NODEPORTS (nat). */
  natTop: string[];
  /** Its rules in the filter table (REJECT or DROP when it has no usable endpoints). */
  filter: string[];
}

/** A jump from a built-in chain to one of kube-proxy's (kube-proxy ensures it outside the restore). */
export interface IptablesJump {
  table: 'filter' | 'nat';
  chain: string;
  target: string;
  comment?: string;
  ctstateNew?: boolean;
}

/** The parts of kube-proxy's tables that do not depend on any one Service. */
export interface IptablesBase {
  filterChains: string[];
  /** Filter rules written before the ports' (KUBE-FIREWALL's) and after them (KUBE-FORWARD's). */
  filterHead: string[];
  filterTail: string[];
  natChains: string[];
  /** KUBE-POSTROUTING and KUBE-MARK-MASQ. */
  natHead: string[];
  /** The last rule of KUBE-SERVICES: to KUBE-NODEPORTS for the node's own addresses. */
  natTail: string[];
  jumps: IptablesJump[];
  /** The empty chains kube-proxy watches to notice its rules were flushed, by table. */
  canaries: Record<'mangle' | 'nat' | 'filter', string>;
}

const SVC_COMMENT_NODEPORTS = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"';

/** The jumps kube-proxy (and, for KUBE-FIREWALL, kubelet) keep in the built-in chains, in the order
 * kube-proxy ensures them (each one prepended). */
export const IPTABLES_JUMPS: readonly IptablesJump[] = [
  { table: 'filter', chain: 'INPUT', target: 'KUBE-EXTERNAL-SERVICES', comment: 'kubernetes externally-visible service portals', ctstateNew: true },
  { table: 'filter', chain: 'FORWARD', target: 'KUBE-EXTERNAL-SERVICES', comment: 'kubernetes externally-visible service portals', ctstateNew: true },
  { table: 'filter', chain: 'INPUT', target: 'KUBE-NODEPORTS', comment: 'kubernetes health check service ports' },
  { table: 'filter', chain: 'FORWARD', target: 'KUBE-SERVICES', comment: 'kubernetes service portals', ctstateNew: true },
  { table: 'filter', chain: 'OUTPUT', target: 'KUBE-SERVICES', comment: 'kubernetes service portals', ctstateNew: true },
  { table: 'filter', chain: 'FORWARD', target: 'KUBE-FORWARD', comment: 'kubernetes forwarding rules' },
  { table: 'filter', chain: 'INPUT', target: 'KUBE-PROXY-FIREWALL', comment: 'kubernetes load balancer firewall', ctstateNew: true },
  { table: 'filter', chain: 'OUTPUT', target: 'KUBE-PROXY-FIREWALL', comment: 'kubernetes load balancer firewall', ctstateNew: true },
  { table: 'filter', chain: 'FORWARD', target: 'KUBE-PROXY-FIREWALL', comment: 'kubernetes load balancer firewall', ctstateNew: true },
  { table: 'nat', chain: 'OUTPUT', target: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', chain: 'PREROUTING', target: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', chain: 'POSTROUTING', target: 'KUBE-POSTROUTING', comment: 'kubernetes postrouting rules' },
  { table: 'filter', chain: 'INPUT', target: 'KUBE-FIREWALL' },
  { table: 'filter', chain: 'OUTPUT', target: 'KUBE-FIREWALL' },
];

/** A jump as an iptables-restore line that puts it first in its chain. */
export const jumpLine = (j: IptablesJump): string =>
  `-I ${j.chain} 1${j.ctstateNew ? ' -m conntrack --ctstate NEW' : ''}${j.comment ? ` -m comment --comment "${j.comment}"` : ''} -j ${j.target}`;

/** A comment as kube-proxy writes it: quoted when it has a space. */
const comment = (text: string): string => `-m comment --comment ${/\s/.test(text) ? `"${text}"` : text}`;

/** The parts of kube-proxy's iptables rules that no Service changes. */
export function iptablesBase(): IptablesBase {
  return {
    filterChains: ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL'],
    filterHead: [`-A KUBE-FIREWALL ${comment('block incoming localnet connections')} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`],
    filterTail: [
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
      `-A KUBE-FORWARD ${comment('kubernetes forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
      `-A KUBE-FORWARD ${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    ],
    natChains: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'],
    natHead: [
      `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
      `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
      `-A KUBE-POSTROUTING ${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
      `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
    ],
    natTail: [`-A KUBE-SERVICES -m comment --comment ${SVC_COMMENT_NODEPORTS} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`],
    jumps: [...IPTABLES_JUMPS],
    canaries: { mangle: 'KUBE-PROXY-CANARY', nat: 'KUBE-PROXY-CANARY', filter: 'KUBE-PROXY-CANARY' },
  };
}

/** True when kube-proxy leaves the comments off the endpoint rules (more than 1000 endpoints). */
export const isLargeCluster = (views: readonly PortView[]): boolean => views.reduce((n, v) => n + v.endpoints.length, 0) > LARGE_CLUSTER_ENDPOINTS;

const hasExternalEndpoints = (v: PortView): boolean => v.endpoints.length > 0 && (!v.externalLocal || v.local.length > 0);

/** A port's rules in KUBE-SERVICES / KUBE-NODEPORTS and the filter table, given the 16 characters of
 * its chains' names (portProtoHash). */
export function portTop(v: PortView, hash: string): IptablesPortTop {
  const p = `-m ${v.proto} -p ${v.proto}`;
  const has = v.endpoints.length > 0;
  const natTop: string[] = [];
  const filter: string[] = [];
  const noEndpoints = `"${v.name} has no endpoints"`;
  if (has) natTop.push(`-A KUBE-SERVICES ${comment(`${v.name} cluster IP`)} ${p} -d ${v.clusterIP} --dport ${v.port} -j KUBE-SVC-${hash}`);
  else filter.push(`-A KUBE-SERVICES -m comment --comment ${noEndpoints} ${p} -d ${v.clusterIP} --dport ${v.port} -j REJECT`);
  if (v.nodePort !== undefined) {
    if (has) natTop.push(`-A KUBE-NODEPORTS ${comment(v.name)} ${p} --dport ${v.nodePort} -j KUBE-EXT-${hash}`);
    if (!hasExternalEndpoints(v)) {
      const [why, target] = has ? [`"${v.name} has no local endpoints"`, 'DROP'] : [noEndpoints, 'REJECT'];
      filter.push(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${why} -m addrtype --dst-type LOCAL ${p} --dport ${v.nodePort} -j ${target}`);
    }
  }
  return { natTop, filter };
}

/** The nat chains a port owns (syncProxyRules' loop body): KUBE-EXT, KUBE-SVC, KUBE-SVL, KUBE-SEP. */
export function portChains(v: PortView, node: ProxyNode, large: boolean): IptablesChainBlock[] {
  if (v.endpoints.length === 0) return [];
  const c = iptablesPortChains(v.name, v.proto);
  const chains: IptablesChainBlock[] = [];
  if (v.nodePort !== undefined) chains.push({ name: c.ext, rules: externalRules(v, node, c, hasExternalEndpoints(v)) });
  const svc = [`-A ${c.svc} ${comment(`${v.name} cluster IP`)} -m ${v.proto} -p ${v.proto} -d ${v.clusterIP} --dport ${v.port} ! -s ${node.clusterCIDR} -j KUBE-MARK-MASQ`];
  chains.push({ name: c.svc, rules: [...svc, ...toEndpoints(v, c.svc, v.endpoints, large)] });
  if (v.externalLocal && v.local.length > 0) chains.push({ name: c.svl, rules: toEndpoints(v, c.svl, v.local, large) });
  for (const e of v.endpoints) chains.push(endpointChain(v, e, large));
  return chains;
}

/** The nat chains kube-proxy writes on `node` for every Service port (`ns/name:port/proto`), as
 * a full sync writes them. */
export function iptablesRules(ports: readonly ServicePortEndpoints[], node: ProxyNode): { ports: { key: string; chains: IptablesChainBlock[] }[] } {
  const views = portViews(ports, node);
  const large = isLargeCluster(views);
  return { ports: views.map((v) => ({ key: `${v.name}/${v.proto}`, chains: portChains(v, node, large) })) };
}

/** KUBE-EXT-*: masquerade and go on to the Service (Cluster), or keep the client's address and go to
 * this node's endpoints, short-circuiting pods and the node itself to the Service (Local). */
function externalRules(v: PortView, node: ProxyNode, c: ReturnType<typeof iptablesPortChains>, hasExternal: boolean): string[] {
  const rules = v.externalLocal
    ? [
      `-A ${c.ext} ${comment(`pod traffic for ${v.name} external destinations`)} -s ${node.clusterCIDR} -j ${c.svc}`,
      `-A ${c.ext} ${comment(`masquerade LOCAL traffic for ${v.name} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A ${c.ext} ${comment(`route LOCAL traffic for ${v.name} external destinations`)} -m addrtype --src-type LOCAL -j ${c.svc}`,
    ]
    : [`-A ${c.ext} ${comment(`masquerade traffic for ${v.name} external destinations`)} -j KUBE-MARK-MASQ`];
  if (hasExternal) rules.push(`-A ${c.ext} -j ${v.externalLocal ? c.svl : c.svc}`);
  return rules;
}

/** writeServiceToEndpointRules: ClientIP affinity first, then one rule per endpoint, each but the last
 * with `--probability 1/(n−i)`. */
function toEndpoints(v: PortView, chain: string, endpoints: readonly Endpoint[], large: boolean): string[] {
  const lines: string[] = [];
  const note = (e: Endpoint) => (large ? '' : ` ${comment(`${v.name} -> ${endpointString(e)}`)}`);
  if (v.affinity) {
    for (const e of endpoints) {
      const sep = iptablesEndpointChain(v.name, v.proto, endpointString(e));
      lines.push(`-A ${chain}${note(e)} -m recent --name ${sep} --rcheck --seconds ${v.affinity.timeout} --reap -j ${sep}`);
    }
  }
  endpoints.forEach((e, i) => {
    const sep = iptablesEndpointChain(v.name, v.proto, endpointString(e));
    const pick = i < endpoints.length - 1 ? ` -m statistic --mode random --probability ${probability(endpoints.length - i)}` : '';
    lines.push(`-A ${chain}${note(e)}${pick} -j ${sep}`);
  });
  return lines;
}

/** KUBE-SEP-*: masquerade a pod that reaches itself (hairpin), remember the client (affinity), DNAT. */
function endpointChain(v: PortView, e: Endpoint, large: boolean): IptablesChainBlock {
  const name = iptablesEndpointChain(v.name, v.proto, endpointString(e));
  const head = `-A ${name}${large ? '' : ` ${comment(v.name)}`}`;
  const recent = v.affinity ? ` -m recent --name ${name} --set` : '';
  return { name, rules: [`${head} -s ${e.ip} -j KUBE-MARK-MASQ`, `${head}${recent} -m ${v.proto} -p ${v.proto} -j DNAT --to-destination ${endpointString(e)}`] };
}
