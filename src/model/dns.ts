// Cluster DNS as pure data: the records CoreDNS's kubernetes plugin answers for a cluster domain
// (Services' A and SRV, headless endpoints, pods, the zone's SOA/NS) computed from the Services,
// their endpoints and the pods; those records as unbound `local-data` lines (the server podnet runs);
// and the resolv.conf kubelet writes for a pod. Pure.
import type { PodMeta, Service, ServicePortEndpoints } from './k8s.js';

/** K3s's cluster domain (kubelet's --cluster-domain). */
export const CLUSTER_DOMAIN = 'cluster.local';
/** The TTL of every record (CoreDNS's kubernetes plugin: 5 s). */
export const DNS_TTL = 5;
/** kubelet's `options ndots:5`. */
export const DNS_NDOTS = 5;
/** The version of the Kubernetes DNS schema served (`dns-version.<domain>` TXT). */
export const DNS_SCHEMA_VERSION = '1.1.0';

/** One resource record; names are absolute, written without the final dot. */
export type DnsRecord =
  | { name: string; type: 'A'; ip: string }
  | { name: string; type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { name: string; type: 'PTR'; target: string }
  | { name: string; type: 'NS'; target: string }
  | { name: string; type: 'TXT'; text: string }
  | { name: string; type: 'SOA'; mname: string; rname: string; serial: number; minimum: number };

/** A pod as DNS names it: its Kubernetes namespace and address. */
export interface DnsPod { namespace: string; ip?: string }

/** What the records of a cluster are made from. */
export interface ZoneInput {
  services: readonly Service[];
  endpoints: readonly ServicePortEndpoints[];
  pods: readonly DnsPod[];
  /** The kube-dns Service's ClusterIP (the zone's name server). */
  dnsIP: string;
  /** The SOA serial (a new one for every change). */
  serial: number;
  domain?: string;
}

// A DNS-1123 label: Kubernetes namespace, Service and port names are of this form; anything else is
// left out of the zone (and so can never break the server's configuration).
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An address as a DNS label, `10-42-0-5` (pod and headless endpoint names). */
export const dashedIP = (ip: string): string => ip.replace(/\./g, '-');

/** The reverse name of an IPv4 address: `5.0.42.10.in-addr.arpa`. */
export const reverseName = (ip: string): string => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;

/** A Service's name in DNS: `<svc>.<ns>.svc.<domain>`. */
export const serviceFqdn = (s: Pick<Service, 'name' | 'namespace'>, domain = CLUSTER_DOMAIN): string => `${s.name}.${s.namespace}.svc.${domain}`;

/** A pod's name in DNS: `a-b-c-d.<ns>.pod.<domain>`. */
export const podFqdn = (ip: string, namespace: string, domain = CLUSTER_DOMAIN): string => `${dashedIP(ip)}.${namespace}.pod.${domain}`;

/** SRV weight of each of `n` records of one priority, as CoreDNS spreads 100 among them. */
export const srvWeight = (n: number): number => Math.floor(100 / Math.max(n, 1));

/** The zone's own records: SOA, NS, the name server's address, the schema version. */
function apexRecords(domain: string, dnsIP: string, serial: number): DnsRecord[] {
  const ns = `ns.dns.${domain}`;
  return [
    { name: domain, type: 'SOA', mname: ns, rname: `hostmaster.${domain}`, serial, minimum: DNS_TTL },
    { name: domain, type: 'NS', target: ns },
    { name: ns, type: 'A', ip: dnsIP },
    { name: `dns-version.${domain}`, type: 'TXT', text: DNS_SCHEMA_VERSION },
  ];
}

/** One Service's records: A (ClusterIP, or each ready endpoint when headless), SRV per named port
 * (to the Service's name, or to each endpoint's name when headless), PTR of the ClusterIP. */
function serviceRecords(s: Service, endpoints: readonly ServicePortEndpoints[], domain: string): DnsRecord[] {
  if (!LABEL.test(s.name) || !LABEL.test(s.namespace)) return [];
  const fqdn = serviceFqdn(s, domain);
  const named = (p: { name?: string }) => p.name !== undefined && LABEL.test(p.name);
  const srvName = (p: ServicePortEndpoints['port']) => `_${p.name}._${p.protocol.toLowerCase()}.${fqdn}`;
  if (s.clusterIP !== 'None') {
    if (!IPV4.test(s.clusterIP)) return [];
    return [
      { name: fqdn, type: 'A', ip: s.clusterIP },
      { name: reverseName(s.clusterIP), type: 'PTR', target: fqdn },
      ...s.ports.filter(named).map((p): DnsRecord => ({ name: srvName(p), type: 'SRV', priority: 0, weight: 100, port: p.port, target: fqdn })),
    ];
  }
  const mine = endpoints.filter((e) => e.service.namespace === s.namespace && e.service.name === s.name);
  const ready = (e: ServicePortEndpoints) => e.endpoints.filter((x) => x.ready && IPV4.test(x.ip));
  const ips = [...new Set(mine.flatMap((e) => ready(e).map((x) => x.ip)))];
  const out: DnsRecord[] = ips.flatMap((ip): DnsRecord[] => [
    { name: fqdn, type: 'A', ip },
    { name: `${dashedIP(ip)}.${fqdn}`, type: 'A', ip },
  ]);
  for (const e of mine.filter((x) => named(x.port))) {
    const eps = ready(e);
    for (const x of eps) out.push({ name: srvName(e.port), type: 'SRV', priority: 0, weight: srvWeight(eps.length), port: x.port, target: `${dashedIP(x.ip)}.${fqdn}` });
  }
  return out;
}

/** Every record of the cluster domain: the zone's own, each Service's, each pod's `a-b-c-d.<ns>.pod`. */
export function zoneRecords(z: ZoneInput): DnsRecord[] {
  const domain = z.domain ?? CLUSTER_DOMAIN;
  const pods = z.pods.filter((p): p is DnsPod & { ip: string } => p.ip !== undefined && IPV4.test(p.ip) && LABEL.test(p.namespace));
  const all = [
    ...apexRecords(domain, z.dnsIP, z.serial),
    ...z.services.flatMap((s) => serviceRecords(s, z.endpoints, domain)),
    ...pods.map((p): DnsRecord => ({ name: podFqdn(p.ip, p.namespace, domain), type: 'A', ip: p.ip })),
  ];
  const seen = new Set<string>();
  return all.filter((r) => {
    const key = recordData(r, DNS_TTL);
    return !seen.has(key) && (seen.add(key), true);
  });
}

/** A record in zone-file syntax: `name. TTL IN TYPE data`. */
export function recordData(r: DnsRecord, ttl = DNS_TTL): string {
  const head = `${r.name}. ${ttl} IN ${r.type}`;
  switch (r.type) {
    case 'A': return `${head} ${r.ip}`;
    case 'SRV': return `${head} ${r.priority} ${r.weight} ${r.port} ${r.target}.`;
    case 'PTR':
    case 'NS': return `${head} ${r.target}.`;
    case 'TXT': return `${head} "${r.text}"`;
    case 'SOA': return `${head} ${r.mname}. ${r.rname}. ${r.serial} 7200 1800 86400 ${r.minimum}`;
  }
}

/** The records as unbound reads them (an `include:`d file): the cluster domain a static zone (names
 * it does not hold are NXDOMAIN, with the SOA), the Service network's reverse zone the same. */
export function unboundLocalData(records: readonly DnsRecord[], serviceReverseZone: string, domain = CLUSTER_DOMAIN): string {
  const lines = records.map((r) => `  local-data: '${recordData(r)}'`);
  return ['server:', `  local-zone: "${domain}." static`, `  local-zone: "${serviceReverseZone}." static`, ...lines, ''].join('\n');
}

/** unbound's configuration for a DNS pod: every address of the pod's namespace on 53/UDP and 53/TCP,
 * answers for anyone, names outside the cluster REFUSED at once (a lab has no upstream), the records
 * from `recordsFile`, control through a Unix socket (`unbound-control reload` re-reads the records
 * without closing the sockets). Only 16 outgoing ports: shuffling all 64 K took 70 000 getrandom()
 * calls and ~200 ms of start-up, and the server never asks anyone. */
export function unboundServerConf(o: { dir: string; recordsFile: string; controlSocket: string }): string {
  const server = [
    'interface: 0.0.0.0', 'interface-automatic: yes', 'port: 53', 'do-ip6: no', 'do-daemonize: no', 'username: ""', 'chroot: ""',
    `directory: "${o.dir}"`, 'pidfile: ""', 'use-syslog: no', 'logfile: ""', 'verbosity: 0', 'num-threads: 1',
    'access-control: 0.0.0.0/0 allow', 'module-config: "iterator"', 'outgoing-range: 16', 'outgoing-port-avoid: "0-65535"',
    'outgoing-port-permit: "61000-61015"', 'msg-cache-size: 256k', 'rrset-cache-size: 256k', 'so-reuseport: no',
    'local-zone: "." refuse', `include: "${o.recordsFile}"`,
  ];
  const control = ['control-enable: yes', `control-interface: "${o.controlSocket}"`, 'control-use-cert: no'];
  return ['server:', ...server.map((l) => `  ${l}`), 'remote-control:', ...control.map((l) => `  ${l}`), ''].join('\n');
}

/** The reverse zone of a /16 or /8 network, `43.10.in-addr.arpa` for 10.43.0.0/16 (other prefixes:
 * the enclosing /8 or /16). */
export function reverseZone(cidr: string): string {
  const [ip, len] = cidr.split('/');
  const octets = ip.split('.').slice(0, Number(len) >= 16 ? 2 : 1);
  return `${octets.reverse().join('.')}.in-addr.arpa`;
}

/** How a pod resolves names: `ClusterFirst` (kubelet's resolv.conf, the cluster DNS) or `Default`
 * (the node's resolv.conf — the DNS pods themselves, as CoreDNS's Deployment asks). */
export function dnsPolicyOf(meta: Pick<PodMeta, 'namespace' | 'labels'>): 'ClusterFirst' | 'Default' {
  return meta.namespace === 'kube-system' && meta.labels['k8s-app'] === 'kube-dns' ? 'Default' : 'ClusterFirst';
}

/** The resolv.conf kubelet writes for a pod of `namespace` (dnsPolicy ClusterFirst). */
export function resolvConf(namespace: string, nameserver: string, domain = CLUSTER_DOMAIN): string {
  return `search ${namespace}.svc.${domain} svc.${domain} ${domain}\nnameserver ${nameserver}\noptions ndots:${DNS_NDOTS}\n`;
}
