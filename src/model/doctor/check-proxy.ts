// kube-proxy and the Services it serves. Per node: the per-Service chains kube-proxy's rules call for
// (from the Services and their endpoints, computed exactly as the proxy computes them) are all in the
// kernel and no other per-Service chain is (a Service deleted, an endpoint gone). Per Service: it
// selects running pods, and its targetPort resolves on them. Pure.
import { resolveTargetPort, selects, type PodEndpointSource, type Service, type ServicePortEndpoints } from '../k8s.js';
import { iptablesEndpointChain, iptablesPortChains, isIptablesServiceChain, isNftServiceChain, nftEndpointBase, nftPortBase, nftPortChains } from '../kube-proxy/names.js';
import { NFT_TABLE } from '../kube-proxy/nftables.js';
import type { ProxyMode } from '../kube-proxy/mode.js';
import { endpointString, portViews, type PortView, type ProxyNode } from '../kube-proxy/ports.js';
import { inNs } from './commands.js';
import { listed, on, plural } from './node.js';
import type { Finding, NodeObservation } from './types.js';

/** What kube-proxy should have written on one node. */
export interface ProxyExpectation {
  mode: ProxyMode;
  node: ProxyNode;
  ports: readonly ServicePortEndpoints[];
}

/** The per-Service chains kube-proxy writes for one port (none without endpoints), by mode. */
export function portChainNames(v: PortView, mode: ProxyMode): string[] {
  if (v.endpoints.length === 0) return [];
  const local = v.externalLocal && v.local.length > 0;
  if (mode === 'iptables') {
    const c = iptablesPortChains(v.name, v.proto);
    return [c.svc, ...(v.nodePort !== undefined ? [c.ext] : []), ...(local ? [c.svl] : []), ...v.endpoints.map((e) => iptablesEndpointChain(v.name, v.proto, endpointString(e)))];
  }
  const c = nftPortChains(nftPortBase(v.namespace, v.service, v.proto, v.portName));
  return [c.service, ...(v.nodePort !== undefined ? [c.external] : []), ...(local ? [c.local] : []),
    ...v.endpoints.map((e) => `endpoint-${nftEndpointBase(v.namespace, v.service, v.proto, v.portName, e.ip, e.port)}`)];
}

/** The per-Service chains expected (by the Service port they serve) and found. */
function chains(p: ProxyExpectation, obs: NodeObservation): { want: Map<string, string>; have: Set<string> } {
  const want = new Map<string, string>();
  for (const v of portViews(p.ports, p.node)) for (const c of portChainNames(v, p.mode)) want.set(c, `${v.name}/${v.proto}`);
  if (p.mode === 'iptables') {
    const nat = obs.iptables?.tables.find((t) => t.name === 'nat');
    return { want, have: new Set((nat?.chains ?? []).map((c) => c.name).filter(isIptablesServiceChain)) };
  }
  return { want, have: new Set((obs.nft?.chains ?? []).filter((c) => c.family === 'ip' && c.table === NFT_TABLE && isNftServiceChain(c.name)).map((c) => c.name)) };
}

/** kube-proxy's per-Service chains on a node: none missing, none left over. */
export function checkProxy(p: ProxyExpectation, obs: NodeObservation): Finding[] {
  if (p.mode === 'iptables' ? !obs.iptables : !obs.nft) return [];
  const { want, have } = chains(p, obs);
  const missing = [...want].filter(([c]) => !have.has(c));
  const extra = [...have].filter((c) => !want.has(c)).sort();
  const show = p.mode === 'iptables' ? inNs(obs.ns, ['iptables-save', '-t', 'nat']) : inNs(obs.ns, ['nft', 'list', 'table', 'ip', NFT_TABLE]);
  const resync = '# kube-proxy writes every chain again on its next full sync: restart it (on K3s: systemctl restart k3s, or k3s-agent on an agent)';
  const drop = (c: string) => (p.mode === 'iptables'
    ? [inNs(obs.ns, ['iptables', '-t', 'nat', '-F', c]), inNs(obs.ns, ['iptables', '-t', 'nat', '-X', c])]
    : [inNs(obs.ns, ['nft', 'flush', 'chain', 'ip', NFT_TABLE, c]), inNs(obs.ns, ['nft', 'delete', 'chain', 'ip', NFT_TABLE, c])]);
  const out: Finding[] = [];
  if (missing.length) {
    const ports = [...new Set(missing.map(([, k]) => k))];
    out.push(on(obs, { id: 'proxy-rules-missing', severity: 'error', reach: 'service', subject: ports.join(','),
      what: `kube-proxy's rules lack ${plural(missing.length, 'chain')} for ${plural(ports.length, 'Service port')} (${listed(ports)})`,
      breaks: `Connections from this node to ${listed(ports)} are not load-balanced to their endpoints: they go nowhere.`,
      evidence: [{ command: show, value: `missing: ${listed(missing.map(([c]) => c), 4)}` }], fix: [resync] }));
  }
  if (extra.length) {
    out.push(on(obs, { id: 'proxy-rules-stale', severity: 'warning', reach: 'service', subject: extra.join(','),
      what: `kube-proxy's rules hold ${plural(extra.length, 'chain')} no Service calls for (${listed(extra, 4)})`,
      breaks: 'Traffic may still be sent to endpoints that are gone, or a deleted Service still answers.',
      evidence: [{ command: show, value: listed(extra, 8) }], fix: extra.flatMap(drop) }));
  }
  return out;
}

/** The Services that cannot work: selecting no pod, no running pod, or a targetPort the pods lack.
 * `skip` names Services not checked (`ns/name`: the cluster DNS of a lab that runs none). */
export function checkServices(services: readonly Service[], pods: readonly PodEndpointSource[], skip: ReadonlySet<string> = new Set()): Finding[] {
  const out: Finding[] = [];
  for (const s of services) {
    if (s.manualEndpoints || Object.keys(s.selector).length === 0 || skip.has(`${s.namespace}/${s.name}`)) continue;
    const sel = Object.entries(s.selector).map(([k, v]) => `${k}=${v}`).join(',');
    const chosen = pods.filter((p) => p.meta.namespace === s.namespace && selects(s.selector, p.meta.labels));
    const base = { node: 'cluster', reach: 'service' as const, subject: `${s.namespace}/${s.name}` };
    const ev = { command: `podnet get endpoints ${s.name} -n ${s.namespace}`, value: '' };
    if (chosen.length === 0 || !chosen.some((p) => p.ready)) {
      out.push({ ...base, id: 'service-no-endpoints', severity: 'error',
        what: chosen.length === 0 ? `Service ${s.namespace}/${s.name} selects no pod (selector ${sel})` : `Service ${s.namespace}/${s.name} selects only pods that do not run (${listed(chosen.map((p) => p.meta.name))})`,
        breaks: `Connections to ${s.clusterIP === 'None' ? s.name : s.clusterIP} are refused: it has no endpoints.`,
        evidence: [{ ...ev, value: '<none>' }],
        fix: [chosen.length === 0 ? `# label the pods that should serve it ${sel}, or fix the Service's selector` : '# start the pods again'] });
      continue;
    }
    // Only a named targetPort can be known wrong: a number is sent to as it is, and a pod need not
    // declare the ports it listens on (containerPort is informational), so a number no pod declares
    // (kube-dns's metrics port 9153 on a DNS pod that declares only 53) is not a finding.
    for (const port of s.ports) {
      if (typeof port.targetPort !== 'string' || chosen.some((p) => resolveTargetPort(port.targetPort, port.protocol, p.meta) !== undefined)) continue;
      const declared = chosen.flatMap((p) => p.meta.ports.filter((x) => x.protocol === port.protocol).map((x) => `${p.meta.name}:${x.name ? `${x.name}/` : ''}${x.containerPort}`));
      out.push({ ...base, id: 'service-target-port', severity: 'error',
        what: `Service ${s.namespace}/${s.name} port ${port.port} targets "${port.targetPort}", which no selected pod names (they declare ${listed(declared) || 'no ports'})`,
        breaks: `Port ${port.port} has no endpoints: connections to it are refused.`,
        evidence: [{ ...ev, value: '<none>' }],
        fix: [`# set the Service's targetPort to the pods' port name or number (${listed(declared) || 'their containerPort'})`] });
    }
  }
  return out;
}
