// `inspect services`: kube-proxy's rules of one node read back as a join — each Service port's
// frontend (ClusterIP:port, NodePort) → the chain kube-proxy named for it → each endpoint's chain,
// how it is chosen (iptables' statistic probability, nftables' numgen slot), its DNAT target and
// counters → the pod. Built only from what the kernel holds (iptables-save -c, nft -j), so it reads a
// real K3s node as well as a lab's: names come from kube-proxy's comments (`default/web:http`) and
// chain names (`service-HASH-default/web/tcp/http`). Pure.
import type { IptablesDump, IptablesRule, NetfilterCounters } from '../model/netfilter-iptables.js';
import type { NftRule, NftRuleset } from '../model/netfilter-nft.js';
import { lexical } from '../model/order.js';

/** One endpoint of one Service port on one node (or the port's REJECT when it has none). */
export interface ServiceRuleRow {
  node: string;
  mode: 'iptables' | 'nftables';
  /** `default/web:http` (kube-proxy's service port name; no `:port` when the port has no name). */
  service: string;
  /** `10.43.0.11:80/TCP`. */
  clusterIP: string;
  /** The node port, or '' when the Service has none. */
  nodePort: string;
  /** KUBE-SVC-… / service-… (the ClusterIP's chain). */
  chain: string;
  /** KUBE-EXT-… / external-… (the NodePort's chain), '' without one. */
  externalChain: string;
  /** `10.42.0.4:8080`, `<none>` for a port without endpoints. */
  endpoint: string;
  /** KUBE-SEP-… / endpoint-…, or the verdict of a port without endpoints (REJECT). */
  endpointChain: string;
  /** `p=0.33333` / `rest` (iptables), `numgen 0/3` (nftables), `reject` (no endpoints). */
  pick: string;
  /** The DNAT rule's counters (iptables -c; nftables only when the rule counts), undefined when not counted. */
  counters?: NetfilterCounters;
  /** The masquerade marks on the way: `off-cluster` (the chain marks sources outside the cluster CIDR), `hairpin`, `nodeport`. */
  masquerade: string[];
  /** The pod holding the endpoint's IP (`default/web1`), '-' when unknown. */
  pod: string;
}

/** Who owns an IP (a lab's pods; nothing on a real host). */
export type PodOfIp = (ip: string) => string | undefined;

const opt = (r: IptablesRule, name: string) => r.matches.find((m) => m.option === name);
const targetArg = (r: IptablesRule, name: string) => r.targetArgs.find((m) => m.option === name)?.value;
const bare = (cidr = '') => cidr.replace(/\/32$/, '');
const serviceOfComment = (c = '') => c.replace(/ (cluster IP|has no endpoints|external IP)$/, '').replace(/ -> .*$/, '');

/** The rows of a node in iptables mode, from `iptables-save -c` (nat and filter). */
export function iptablesServiceRows(node: string, dump: IptablesDump, podOf: PodOfIp): ServiceRuleRow[] {
  const rules = (table: string) => dump.tables.find((t) => t.name === table)?.rules ?? [];
  const nat = rules('nat');
  const chain = (name: string) => nat.filter((r) => r.chain === name);
  const nodePorts = new Map<string, { port: string; ext: string }>();
  for (const r of chain('KUBE-NODEPORTS').filter((x) => x.target?.startsWith('KUBE-EXT-'))) {
    const svc = chain(r.target!).find((x) => /^KUBE-(SVC|SVL)-/.test(x.target ?? ''))?.target;
    if (svc) nodePorts.set(svc, { port: opt(r, '--dport')?.value ?? '?', ext: r.target! });
  }
  const rows: ServiceRuleRow[] = [];
  for (const front of chain('KUBE-SERVICES').filter((r) => /^KUBE-(SVC|SVL)-/.test(r.target ?? ''))) {
    const svcChain = front.target!;
    const np = nodePorts.get(svcChain);
    const base = {
      node, mode: 'iptables' as const, service: serviceOfComment(front.comment) || svcChain,
      clusterIP: `${bare(opt(front, '-d')?.value)}:${opt(front, '--dport')?.value ?? '?'}/${(opt(front, '-p')?.value ?? '?').toUpperCase()}`,
      nodePort: np?.port ?? '', chain: svcChain, externalChain: np?.ext ?? '',
    };
    const offCluster = chain(svcChain).some((r) => r.target === 'KUBE-MARK-MASQ' && opt(r, '-s')?.negated);
    for (const jump of chain(svcChain).filter((r) => r.target?.startsWith('KUBE-SEP-'))) {
      const sep = chain(jump.target!);
      const dnat = sep.find((r) => r.target === 'DNAT');
      const endpoint = targetArg(dnat ?? jump, '--to-destination') ?? '?';
      const hairpin = sep.some((r) => r.target === 'KUBE-MARK-MASQ' && opt(r, '-s'));
      const p = opt(jump, '--probability')?.value;
      rows.push({
        ...base, endpoint, endpointChain: jump.target!, pick: p ? `p=${Number(p).toFixed(5)}` : 'rest', counters: dnat?.counters,
        masquerade: [...(offCluster ? ['off-cluster'] : []), ...(hairpin ? ['hairpin'] : []), ...(np ? ['nodeport'] : [])],
        pod: podOf(endpoint.split(':')[0]) ?? '-',
      });
    }
  }
  return [...rows, ...rules('filter').filter((r) => r.chain === 'KUBE-SERVICES' && r.target === 'REJECT').map((r) => ({
    node, mode: 'iptables' as const, service: serviceOfComment(r.comment),
    clusterIP: `${bare(opt(r, '-d')?.value)}:${opt(r, '--dport')?.value ?? '?'}/${(opt(r, '-p')?.value ?? '?').toUpperCase()}`,
    nodePort: '', chain: '-', externalChain: '', endpoint: '<none>', endpointChain: 'REJECT', pick: 'reject', counters: r.counters, masquerade: [], pod: '-',
  }))];
}

/** `default/web:http` from a chain's base `HASH-default/web/tcp/http` (`…__10.42.0.4/8080` for endpoints). */
function nftServiceName(chain: string): string {
  const [ns, name, , port] = chain.replace(/^[a-z]+-[A-Z0-9]{8}-/, '').split('__')[0].split('/');
  return `${ns}/${name}${port ? `:${port}` : ''}`;
}

/** The `dnat to ADDR:PORT` of an nftables rule's expressions. */
function nftDnat(r: NftRule): string | undefined {
  for (const e of r.expr) {
    const d = (e as { dnat?: { addr?: unknown; port?: unknown } }).dnat;
    if (d && typeof d.addr === 'string') return `${d.addr}${d.port !== undefined ? `:${String(d.port)}` : ''}`;
  }
  return undefined;
}

/** True when a rule of the chain jumps to mark-for-masquerade with a source match on `negated`-ness. */
function marks(rules: readonly NftRule[], negated: boolean): boolean {
  return rules.some((r) => r.verdict?.target === 'mark-for-masquerade' && JSON.stringify(r.expr).includes('"saddr"')
    && JSON.stringify(r.expr).includes('"op":"!="') === negated);
}

/** The rows of a node in nftables mode, from `nft -j list table ip kube-proxy`. */
export function nftServiceRows(node: string, rs: NftRuleset, podOf: PodOfIp): ServiceRuleRow[] {
  const map = (name: string) => rs.sets.find((s) => s.table === 'kube-proxy' && s.name === name)?.elements ?? [];
  const chain = (name: string) => rs.rules.filter((r) => r.table === 'kube-proxy' && r.chain === name);
  const nodePorts = new Map<string, { port: string; ext: string }>();
  for (const e of map('service-nodeports')) {
    const ext = e.verdict?.target;
    const svc = ext ? chain(ext).find((r) => r.verdict?.target?.startsWith('service-'))?.verdict?.target : undefined;
    if (ext && svc) nodePorts.set(svc, { port: e.key[1] ?? '?', ext });
  }
  const rows: ServiceRuleRow[] = [];
  for (const e of map('service-ips')) {
    const svcChain = e.verdict?.target ?? '?';
    const np = nodePorts.get(svcChain);
    const base = {
      node, mode: 'nftables' as const, service: nftServiceName(svcChain), clusterIP: `${e.key[0]}:${e.key[2]}/${(e.key[1] ?? '?').toUpperCase()}`,
      nodePort: np?.port ?? '', chain: svcChain, externalChain: np?.ext ?? '',
    };
    const rules = chain(svcChain);
    const arms = rules.find((r) => r.vmap && !r.vmap.map)?.vmap?.elements ?? [];
    for (const arm of arms) {
      const epChain = arm.verdict?.target ?? '?';
      const epRules = chain(epChain);
      const dnat = epRules.find((r) => nftDnat(r) !== undefined);
      const endpoint = (dnat && nftDnat(dnat)) ?? '?';
      rows.push({
        ...base, endpoint, endpointChain: epChain, pick: `numgen ${arm.key[0]}/${arms.length}`, counters: dnat?.counter,
        masquerade: [...(marks(rules, true) ? ['off-cluster'] : []), ...(marks(epRules, false) ? ['hairpin'] : []), ...(np ? ['nodeport'] : [])],
        pod: podOf(endpoint.split(':')[0]) ?? '-',
      });
    }
  }
  return [...rows, ...map('no-endpoint-services').map((e) => ({
    node, mode: 'nftables' as const, service: e.comment ?? '?', clusterIP: `${e.key[0]}:${e.key[2]}/${(e.key[1] ?? '?').toUpperCase()}`,
    nodePort: '', chain: '-', externalChain: '', endpoint: '<none>', endpointChain: e.verdict?.target === 'reject-chain' ? 'reject-chain' : e.verdict?.kind ?? '?',
    pick: 'reject', counters: e.counter, masquerade: [], pod: '-',
  }))];
}

/** Rows in the order a user reads them: by Service, then frontend, then endpoint. */
export function sortServiceRows(rows: ServiceRuleRow[]): ServiceRuleRow[] {
  return rows.sort((a, b) => lexical(a.node, b.node) || lexical(a.service, b.service) || lexical(a.clusterIP, b.clusterIP) || lexical(a.endpoint, b.endpoint));
}
