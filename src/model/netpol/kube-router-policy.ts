// One policy as kube-router's controller writes it (pkg/controllers/netpol/policy.go): a chain
// KUBE-NWPLCY-<hash> whose rules match the rule's peers by ipset (the selected pods in KUBE-DST-/
// KUBE-SRC-, peers per rule, ipBlocks as hash:net with `nomatch` exceptions, named ports resolved to
// the pods that declare them) and the ports with `-p PROTO --dport P[:END]`; each match is two rules:
// set mark 0x10000, then RETURN when it is set. The chain and sets exist on every node, whichever
// pods are local. Pure.
import { quoteIptablesWord } from '../netfilter-iptables.js';
import type { IpsetSpec } from '../ipset.js';
import { selectorMatches } from './selector.js';
import { podsOfPolicy } from './semantics.js';
import { MARK_ALLOWED, namedPortSet, policyChain, policyTargetSet, rulePeerSet } from './names.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, PolicyPod, PolicyWorld } from './types.js';

/** A port of a rule as kube-router matches it: protocol, and a port or a range (none: any port). */
interface PortMatch {
  protocol: string;
  port?: string;
  endPort?: string;
}

/** A named port resolved: the pods that declare it at `port`. */
interface NamedPortEndpoints extends PortMatch {
  ips: string[];
}

/** The sets of one sync, by name: a set's type is fixed by the first rule that makes it (kube-router's RefreshSet). */
export class SetBook {
  readonly sets = new Map<string, IpsetSpec>();
  /** The names put since the last take(). */
  private recent: string[] = [];

  /** Records set `name` with `entries` (its type stays what it was made with). */
  put(name: string, type: 'hash:ip' | 'hash:net', entries: string[][]): string {
    const old = this.sets.get(name);
    this.sets.set(name, { name, type: old?.type ?? type, options: ['timeout', '0'], entries });
    if (!this.recent.includes(name)) this.recent.push(name);
    return name;
  }

  /** The names put since the last call. */
  take(): string[] {
    return this.recent.splice(0);
  }
}

/** The IPs of pods (only those with one), each once, as set members `IP timeout 0`. */
const members = (pods: readonly PolicyPod[]): string[][] => [...new Set(pods.flatMap((p) => (p.ip ? [p.ip] : [])))].map((ip) => [ip, 'timeout', '0']);

/** The pods a peer of `policy` selects (namespaceSelector: pods of the namespaces it picks; podSelector
 * alone: the policy's namespace), with addresses. */
function peerPods(world: PolicyWorld, policy: NetworkPolicy, peer: NetworkPolicyPeer): PolicyPod[] {
  if (peer.ipBlock) return [];
  return world.pods.filter((p) => p.ip && (peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, world.namespaces.get(p.namespace) ?? {}) : p.namespace === policy.namespace)
    && (peer.podSelector === undefined || selectorMatches(peer.podSelector, p.labels)));
}

/** The hash:net members of a rule's ipBlocks: each cidr (a /0 as two /1s), each exception `nomatch`. */
function ipBlockMembers(peers: readonly NetworkPolicyPeer[]): string[][] {
  const out: string[][] = [];
  const split = (c: string) => (c.endsWith('/0') ? ['0.0.0.0/1', '128.0.0.0/1'] : [c]);
  for (const p of peers) {
    if (!p.ipBlock || p.podSelector || p.namespaceSelector) continue;
    for (const c of split(p.ipBlock.cidr)) out.push([c, 'timeout', '0']);
    for (const e of p.ipBlock.except ?? []) for (const c of split(e)) out.push([c, 'timeout', '0', 'nomatch']);
  }
  return out;
}

/** A rule's ports split as kube-router does: numeric (or protocol-only) ones, and named ones resolved
 * through `pods`' container ports (of the same protocol), one entry per distinct port number. */
function splitPorts(ports: readonly NetworkPolicyPort[], pods: readonly PolicyPod[]): { numeric: PortMatch[]; named: NamedPortEndpoints[] } {
  const numeric: PortMatch[] = [];
  const named: NamedPortEndpoints[] = [];
  for (const p of ports) {
    if (typeof p.port === 'string') {
      const byPort = new Map<number, string[]>();
      for (const pod of pods) for (const c of pod.ports) if (c.name === p.port && c.protocol === p.protocol && pod.ip) byPort.set(c.containerPort, [...(byPort.get(c.containerPort) ?? []), pod.ip]);
      for (const [n, ips] of [...byPort.entries()].sort(([a], [b]) => a - b)) named.push({ protocol: p.protocol, port: String(n), ips });
    } else {
      numeric.push({ protocol: p.protocol, ...(p.port !== undefined ? { port: String(p.port) } : {}), ...(p.port !== undefined && p.endPort !== undefined && p.endPort >= p.port ? { endPort: String(p.endPort) } : {}) });
    }
  }
  return { numeric, named };
}

/** The two rules of one match: mark it, then return when marked (kube-router's appendRuleToPolicyChain). */
function matchRules(chain: string, comment: string, src: string | undefined, dst: string | undefined, port?: PortMatch): string[] {
  const words = ['-m', 'comment', '--comment', quoteIptablesWord(comment)];
  if (src) words.push('-m', 'set', '--match-set', src, 'src');
  if (dst) words.push('-m', 'set', '--match-set', dst, 'dst');
  if (port?.protocol) words.push('-p', port.protocol);
  if (port?.port) words.push('--dport', port.endPort ? `${port.port}:${port.endPort}` : port.port);
  const head = `-A ${chain} ${words.join(' ')}`;
  return [`${head} -j MARK --set-xmark ${MARK_ALLOWED}`, `${head} -m mark --mark ${MARK_ALLOWED} -j RETURN`];
}

/** A policy's chain name, rules and sets (the sets also go into `book`). */
export interface PolicyRules {
  policy: NetworkPolicy;
  chain: string;
  rules: string[];
  /** The pods the policy selects (with addresses). */
  targets: PolicyPod[];
  /** The sets the policy's rules use, the selected pods' first. */
  sets: string[];
}

/** The chain kube-router writes for `policy`, its sets recorded in `book`. */
export function policyRules(world: PolicyWorld, policy: NetworkPolicy, version: string, book: SetBook): PolicyRules {
  const chain = policyChain(policy.namespace, policy.name, version);
  const targets = podsOfPolicy(world, policy).filter((p) => p.ip);
  const rules: string[] = [];
  book.take();
  const types = policy.spec.policyTypes;
  if (types.includes('Ingress')) {
    const dst = book.put(policyTargetSet(policy.namespace, policy.name, 'ingress'), 'hash:ip', members(targets));
    rules.push(...ingressRules(world, policy, chain, dst, targets, book));
  }
  if (types.includes('Egress')) {
    const src = book.put(policyTargetSet(policy.namespace, policy.name, 'egress'), 'hash:ip', members(targets));
    rules.push(...egressRules(world, policy, chain, src, book));
  }
  return { policy, chain, rules, targets, sets: book.take() };
}

/** The ingress rules of a policy (processIngressRules). */
function ingressRules(world: PolicyWorld, policy: NetworkPolicy, chain: string, targetSet: string, targets: PolicyPod[], book: SetBook): string[] {
  const out: string[] = [];
  const { name, namespace } = policy;
  const c = { pods: `rule to ACCEPT traffic from source pods to dest pods selected by policy name ${name} namespace ${namespace}`,
    all: `rule to ACCEPT traffic from all sources to dest pods selected by policy name: ${name} namespace ${namespace}`,
    blocks: `rule to ACCEPT traffic from specified ipBlocks to dest pods selected by policy name: ${name} namespace ${namespace}` };
  (policy.spec.ingress ?? []).forEach((rule, i) => {
    const from = rule.from ?? [];
    const ports = rule.ports ?? [];
    const { numeric, named } = splitPorts(ports, targets);
    const namedSets = (type: 'hash:ip' | 'hash:net') => named.map((ep, j) => ({ ep, set: book.put(namedPortSet(namespace, name, 'ingress', i, j), type, ep.ips.map((ip) => [ip, 'timeout', '0'])) }));
    const srcPods = from.flatMap((peer) => peerPods(world, policy, peer));
    if (srcPods.length) {
      const src = book.put(rulePeerSet(namespace, name, 'ingress', i, 'pod'), 'hash:ip', members(srcPods));
      for (const p of numeric) out.push(...matchRules(chain, c.pods, src, targetSet, p));
      for (const { ep, set } of namedSets('hash:ip')) out.push(...matchRules(chain, c.pods, src, set, ep));
      // kube-router tests the resolved ports here: a named port no target declares leaves every port open.
      if (!numeric.length && !named.length) out.push(...matchRules(chain, c.pods, src, targetSet));
    }
    if (from.length === 0 && ports.length) {
      for (const p of numeric) out.push(...matchRules(chain, c.all, undefined, targetSet, p));
      for (const { ep, set } of namedSets('hash:ip')) out.push(...matchRules(chain, c.all, undefined, set, ep));
    }
    if (from.length === 0 && !ports.length) out.push(...matchRules(chain, c.all, undefined, targetSet));
    const blocks = ipBlockMembers(from);
    if (blocks.length) {
      const src = book.put(rulePeerSet(namespace, name, 'ingress', i, 'ipblock'), 'hash:net', blocks);
      if (ports.length) {
        for (const p of numeric) out.push(...matchRules(chain, c.blocks, src, targetSet, p));
        for (const { ep, set } of namedSets('hash:net')) out.push(...matchRules(chain, c.blocks, src, set, ep));
      } else out.push(...matchRules(chain, c.blocks, src, targetSet));
    }
  });
  return out;
}

/** The egress rules of a policy (processEgressRules). */
function egressRules(world: PolicyWorld, policy: NetworkPolicy, chain: string, targetSet: string, book: SetBook): string[] {
  const out: string[] = [];
  const { name, namespace } = policy;
  const c = { pods: `rule to ACCEPT traffic from source pods to dest pods selected by policy name ${name} namespace ${namespace}`,
    all: `rule to ACCEPT traffic from source pods to all destinations selected by policy name: ${name} namespace ${namespace}`,
    blocks: `rule to ACCEPT traffic from source pods to specified ipBlocks selected by policy name: ${name} namespace ${namespace}` };
  (policy.spec.egress ?? []).forEach((rule, i) => {
    const to = rule.to ?? [];
    const ports = rule.ports ?? [];
    const dstPods = to.flatMap((peer) => peerPods(world, policy, peer));
    // With no `to`, named ports resolve through every pod of the policy's namespace (kube-router's choice).
    const portPods = to.length ? dstPods : world.pods.filter((p) => p.ip && p.namespace === namespace);
    const { numeric, named } = splitPorts(ports, portPods);
    if (dstPods.length) {
      const dst = book.put(rulePeerSet(namespace, name, 'egress', i, 'pod'), 'hash:ip', members(dstPods));
      for (const p of numeric) out.push(...matchRules(chain, c.pods, targetSet, dst, p));
      named.forEach((ep, j) => out.push(...matchRules(chain, c.pods, targetSet, book.put(namedPortSet(namespace, name, 'egress', i, j), 'hash:ip', ep.ips.map((ip) => [ip, 'timeout', '0'])), ep)));
      if (!numeric.length && !named.length) out.push(...matchRules(chain, c.pods, targetSet, dst));
    }
    if (to.length === 0 && ports.length) for (const p of [...numeric, ...named]) out.push(...matchRules(chain, c.all, targetSet, undefined, p));
    if (to.length === 0 && !ports.length) out.push(...matchRules(chain, c.all, targetSet, undefined));
    const blocks = ipBlockMembers(to);
    if (blocks.length) {
      const dst = book.put(rulePeerSet(namespace, name, 'egress', i, 'ipblock'), 'hash:net', blocks);
      if (ports.length) for (const p of numeric) out.push(...matchRules(chain, c.blocks, targetSet, dst, p));
      else out.push(...matchRules(chain, c.blocks, targetSet, dst));
    }
  });
  return out;
}
