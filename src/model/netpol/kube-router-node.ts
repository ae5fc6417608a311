// Everything kube-router's policy controller keeps in one node's filter table (network_policy_
// controller.go and pod.go of kube-router v2.6): KUBE-ROUTER-INPUT/FORWARD/OUTPUT, jumped to first
// from INPUT/FORWARD/OUTPUT; KUBE-NWPLCY-DEFAULT (marks a direction no policy isolates as allowed);
// KUBE-NWPLCY-COMMON (INVALID dropped, ESTABLISHED/RELATED and some ICMP accepted); a chain per policy
// (./kube-router-policy.ts); and a KUBE-POD-FW- chain per pod of this node, reached from the
// top-level chains by the pod's address (routed and, through br_netfilter, bridged), which runs the
// pod through COMMON, its policies or DEFAULT per direction, REJECTs what no policy marked, and marks
// the rest 0x20000 for the top-level chains' final ACCEPT. Pure.
import type { IpsetSpec } from '../ipset.js';
import { quoteIptablesWord } from '../netfilter-iptables.js';
import { policyRules, SetBook, type PolicyRules } from './kube-router-policy.js';
import { COMMON_CHAIN, DEFAULT_CHAIN, MARK_ACCEPT, MARK_ALLOWED, TOP_CHAINS, podFirewallChain, ruleUuid } from './names.js';
import { policyKey, type PolicyPod, type PolicyWorld } from './types.js';
import { lexical, natural } from '../order.js';

/** The node the rules are for, and the settings kube-router takes from K3s. */
export interface KubeRouterNodeInput {
  node: string;
  /** The Service CIDR (kube-router lets traffic to it pass its INPUT chain). */
  serviceCIDR: string;
  /** The NodePort range as kube-router writes it (K3s: 30000:32767). */
  nodePortRange?: string;
  /** The version hashed into chain names (names.ts labSyncVersion). */
  version: string;
}

/** A pod of the node with its chain and the policies that select it per direction. */
export interface PodFirewall {
  pod: PolicyPod;
  chain: string;
  ingress: string[];
  egress: string[];
}

/** One node's rules: the chains kube-router owns with their rules (`-A …` lines, in order), the jumps
 * from the built-in chains, the sets, and what each pod and policy chain stands for. */
export interface NodeRuleset {
  chains: Map<string, string[]>;
  /** `-A INPUT …`-style lines of the jumps, each to be placed first in its built-in chain. */
  jumps: string[];
  sets: IpsetSpec[];
  pods: PodFirewall[];
  policies: PolicyRules[];
}

/** The empty ruleset: what a node holds when the lab has no policy. */
export const EMPTY_RULESET: NodeRuleset = { chains: new Map(), jumps: [], sets: [], pods: [], policies: [] };

type Builtin = keyof typeof TOP_CHAINS;
const q = (words: readonly string[]) => words.map(quoteIptablesWord).join(' ');

/** A rule kube-router places at a fixed position: its comment carries " - <uuid>". */
function positioned(chain: string, words: string[]): string {
  const uuid = ruleUuid(chain, words);
  const i = words.indexOf('--comment');
  return `-A ${chain} ${q(words.map((w, j) => (j === i + 1 ? `${w} - ${uuid}` : w)))}`;
}

/** The jumps from INPUT, FORWARD and OUTPUT to kube-router's chains. */
export function topJumps(): string[] {
  return (Object.keys(TOP_CHAINS) as Builtin[]).map((b) => positioned(b, ['-m', 'comment', '--comment', 'kube-router netpol', '-j', TOP_CHAINS[b]]));
}

/** The rules KUBE-ROUTER-INPUT starts with: traffic to Services and to local NodePorts passes. */
function inputHead(serviceCIDR: string, nodePorts: string): string[] {
  const c = TOP_CHAINS.INPUT;
  const nodePort = (p: string) => positioned(c, ['-p', p, '-m', 'comment', '--comment', `allow LOCAL ${p.toUpperCase()} traffic to node ports`, '-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'multiport', '--dports', nodePorts, '-j', 'RETURN']);
  return [positioned(c, ['-m', 'comment', '--comment', 'allow traffic to primary/secondary cluster IP range', '-d', serviceCIDR, '-j', 'RETURN']), nodePort('tcp'), nodePort('udp')];
}

/** KUBE-NWPLCY-COMMON and KUBE-NWPLCY-DEFAULT. */
function fixedChains(): [string, string[]][] {
  const icmp = (type: string, what: string) => `-A ${COMMON_CHAIN} -m comment --comment ${q([`allow icmp ${what}`])} -p icmp --icmp-type ${type} -j ACCEPT`;
  return [
    [DEFAULT_CHAIN, [`-A ${DEFAULT_CHAIN} -m comment --comment "rule to mark traffic matching a network policy" -j MARK --set-xmark ${MARK_ALLOWED}`]],
    [COMMON_CHAIN, [
      `-A ${COMMON_CHAIN} -m comment --comment "rule to drop invalid state for pod" -m conntrack --ctstate INVALID -j DROP`,
      `-A ${COMMON_CHAIN} -m comment --comment "rule for stateful firewall for pod" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      icmp('echo-request', 'echo requests'), icmp('destination-unreachable', 'destination unreachable messages'), icmp('time-exceeded', 'time exceeded messages'),
    ]],
  ];
}

/** A pod's firewall chain (pod.go syncPodFirewallChains/setupPodNetpolRules, in the order the rules end up). */
function podChainRules(fw: PodFirewall, byKey: Map<string, PolicyRules>): string[] {
  const { pod, chain } = fw;
  const ip = pod.ip!;
  const A = (rest: string) => `-A ${chain} ${rest}`;
  const out = [A(`-m comment --comment "common bi-directional traffic policy rules" -j ${COMMON_CHAIN}`),
    A(`-m comment --comment ${q(["rule to permit the traffic traffic to pods when source is the pod's local node"])} -m addrtype --src-type LOCAL -d ${ip} -j ACCEPT`)];
  if (!fw.egress.length) out.push(A(`-s ${ip} -m comment --comment "run through default egress network policy chain" -j ${DEFAULT_CHAIN}`));
  if (!fw.ingress.length) out.push(A(`-d ${ip} -m comment --comment "run through default ingress network policy chain" -j ${DEFAULT_CHAIN}`));
  for (const key of [...new Set([...fw.ingress, ...fw.egress])].sort()) {
    const p = byKey.get(key)!;
    const both = fw.ingress.includes(key) && fw.egress.includes(key);
    const match = both ? '' : fw.ingress.includes(key) ? `-d ${ip} ` : `-s ${ip} `;
    out.push(A(`${match}-m comment --comment ${q([`run through nw policy ${p.policy.name}`])} -j ${p.chain}`));
  }
  const who = `POD name:${pod.name} namespace: ${pod.namespace}`;
  out.push(
    A(`-m comment --comment ${q([`rule to log dropped traffic ${who}`])} -m mark ! --mark ${MARK_ALLOWED} -m limit --limit 10/minute --limit-burst 10 -j NFLOG --nflog-group 100`),
    A(`-m comment --comment ${q([`rule to REJECT traffic destined for ${who}`])} -m mark ! --mark ${MARK_ALLOWED} -j REJECT`),
    A('-j MARK --set-mark 0/0x10000'),
    A(`-m comment --comment "set mark to ACCEPT traffic that comply to network policies" -j MARK --set-mark ${MARK_ACCEPT}`),
  );
  return out;
}

/** The jumps of the top-level chains to the pods' chains (interceptPodInbound/OutboundTraffic). */
function podJumps(pods: readonly PodFirewall[]): Record<Builtin, string[]> {
  const out: Record<Builtin, string[]> = { INPUT: [], FORWARD: [], OUTPUT: [] };
  for (const { pod, chain } of pods) {
    const to = q([`rule to jump traffic destined to POD name:${pod.name} namespace: ${pod.namespace} to chain ${chain}`]);
    const from = q([`rule to jump traffic from POD name:${pod.name} namespace: ${pod.namespace} to chain ${chain}`]);
    const [f, i, o] = [TOP_CHAINS.FORWARD, TOP_CHAINS.INPUT, TOP_CHAINS.OUTPUT];
    out.FORWARD.push(`-A ${f} -m comment --comment ${to} -d ${pod.ip} -j ${chain}`, `-A ${f} -m physdev --physdev-is-bridged -m comment --comment ${to} -d ${pod.ip} -j ${chain}`);
    out.OUTPUT.push(`-A ${o} -m comment --comment ${to} -d ${pod.ip} -j ${chain}`);
    out.INPUT.push(`-A ${i} -m comment --comment ${from} -s ${pod.ip} -j ${chain}`);
    out.FORWARD.push(`-A ${f} -m comment --comment ${from} -s ${pod.ip} -j ${chain}`, `-A ${f} -m physdev --physdev-is-bridged -m comment --comment ${from} -s ${pod.ip} -j ${chain}`);
    out.OUTPUT.push(`-A ${o} -m comment --comment ${from} -s ${pod.ip} -j ${chain}`);
  }
  return out;
}

const byIp = (a: PolicyPod, b: PolicyPod) => natural(a.ip ?? '', b.ip ?? '');

/** One node's ruleset for the world's policies (EMPTY_RULESET when there is none: podnet lays
 * kube-router's rules down only while a policy exists). */
export function nodeRuleset(world: PolicyWorld, input: KubeRouterNodeInput): NodeRuleset {
  if (world.policies.length === 0) return EMPTY_RULESET;
  const book = new SetBook();
  const policies = [...world.policies].sort((a, b) => lexical(policyKey(a), policyKey(b))).map((p) => policyRules(world, p, input.version, book));
  const byKey = new Map(policies.map((p) => [policyKey(p.policy), p]));
  const selecting = (pod: PolicyPod, type: 'Ingress' | 'Egress') => policies.filter((p) => p.policy.spec.policyTypes.includes(type) && p.targets.some((t) => t.name === pod.name && t.namespace === pod.namespace)).map((p) => policyKey(p.policy));
  const pods = world.pods.filter((p) => p.node === input.node && p.ip).sort(byIp)
    .map((pod): PodFirewall => ({ pod, chain: podFirewallChain(pod.namespace, pod.name, input.version), ingress: selecting(pod, 'Ingress'), egress: selecting(pod, 'Egress') }));
  const jumps = podJumps(pods);
  const accept = `-m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark ${MARK_ACCEPT} -j ACCEPT`;
  const chains = new Map<string, string[]>([
    [TOP_CHAINS.INPUT, [...inputHead(input.serviceCIDR, input.nodePortRange ?? '30000:32767'), ...jumps.INPUT, `-A ${TOP_CHAINS.INPUT} ${accept}`]],
    [TOP_CHAINS.FORWARD, [...jumps.FORWARD, `-A ${TOP_CHAINS.FORWARD} ${accept}`]],
    [TOP_CHAINS.OUTPUT, [...jumps.OUTPUT, `-A ${TOP_CHAINS.OUTPUT} ${accept}`]],
    ...fixedChains(),
    ...policies.map((p): [string, string[]] => [p.chain, p.rules]),
    ...pods.map((fw): [string, string[]] => [fw.chain, podChainRules(fw, byKey)]),
  ]);
  return { chains, jumps: topJumps(), sets: [...book.sets.values()], pods, policies };
}
