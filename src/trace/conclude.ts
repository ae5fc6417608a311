// After the probe: the evidence turned into the trace's own — drops tied to the trace (attribute.ts),
// the conntrack entries of its flow, the rules it met — and, when the probe failed, the one sentence
// saying why, with the facts it needs read from the kernel only then: the rule's position in its chain
// (iptables-save), ip_forward on the node that would not forward, the NetworkPolicy that denies the
// flow when a policy chain dropped it.
import type { Host } from '../host/host.js';
import { netnsAt } from '../host/netns.js';
import { iptablesSaveText } from '../host/iptables.js';
import { sysctlRead } from '../host/procfs.js';
import { policyWorldOf } from '../lab/policy-world.js';
import { evaluatePolicyFlow, type PolicyFlow } from '../model/netpol/semantics.js';
import type { DropSeen, RuleHit, TraceEvent, TraceResult } from '../model/trace.js';
import { attributeDrops, droppingRule, endingDrop, failureCause, lastSeen, type CauseFacts } from './attribute.js';
import { conntrackOf, type Collected } from './evidence.js';
import { innermost } from './identify.js';
import { strayAnswer } from './verdict.js';
import { flowEntries } from './nat-explain.js';
import type { TracePlan } from './plan.js';

const POLICY_CHAINS = /^KUBE-(POD-FW|NWPLCY|ROUTER)-/;

/** The 1-based position of an iptables rule in its chain, from `iptables-save -t TABLE` (the rule as
 * xtables-monitor prints it: `-4 -t filter -A FORWARD …`). */
export function ruleIndex(save: string, h: RuleHit): number | undefined {
  const spec = (h.rule ?? '').replace(/^-4 -t \S+ /, '').trim();
  const lines = save.split('\n').filter((l) => l.startsWith(`-A ${h.chain} `));
  const i = lines.findIndex((l) => l.trim() === spec);
  return i >= 0 ? i + 1 : undefined;
}

/** The NetworkPolicy verdict for the trace's flow, as one sentence (a lab with policies only). */
function policyOf(plan: TracePlan, r: TraceResult): string | undefined {
  if (!plan.state?.policies?.length) return undefined;
  const pod = (ip: string) => plan.state!.pods.find((p) => p.ip === ip);
  const end = (ip: string) => (pod(ip) ? { pod: pod(ip)!.name, namespace: pod(ip)!.namespace ?? 'default' } : { ip });
  const flow: PolicyFlow = { src: end(r.path.src.ip), dst: end(r.path.dst.ip), protocol: r.protocol === 'icmp' ? 'ICMP' : r.protocol === 'tcp' ? 'TCP' : 'UDP', ...(r.port ? { port: r.path.addressed?.targetPort ?? r.port } : {}) };
  const v = evaluatePolicyFlow(policyWorldOf(plan.state), flow);
  return `NetworkPolicy: ${v.sentence}`;
}

/** The facts a failure's sentence needs, read from the kernel. */
async function factsFor(h: Host, plan: TracePlan, r: TraceResult, drops: readonly DropSeen[], rule: RuleHit | undefined, events: readonly TraceEvent[]): Promise<CauseFacts> {
  const f: CauseFacts = {};
  const nsOf = (node: string) => plan.nodes.find((n) => n.name === node)?.netns;
  for (const d of drops.filter((x) => x.reason === 'IP_INADDRERRORS' && x.node && nsOf(x.node))) {
    const v = await sysctlRead(h.runner, netnsAt(nsOf(d.node!)!), ['net/ipv4/ip_forward']).catch(() => ({} as Record<string, string>));
    if (v['net/ipv4/ip_forward'] !== undefined) f.ipForward = { ...f.ipForward, [d.node!]: v['net/ipv4/ip_forward'] };
  }
  if (r.path.addressed && strayAnswer(r.path, r.packets, r.protocol)) {
    for (const n of plan.nodes) {
      const v = await sysctlRead(h.runner, netnsAt(n.netns), ['net/bridge/bridge-nf-call-iptables']).catch(() => ({} as Record<string, string>));
      if (v['net/bridge/bridge-nf-call-iptables'] !== undefined) f.bridgeNf = { ...f.bridgeNf, [n.name]: v['net/bridge/bridge-nf-call-iptables'] };
    }
  }
  for (const d of drops.filter((x) => x.reason === 'PKT_TOO_BIG' && x.node && nsOf(x.node))) {
    const leg = r.path.overlay?.request;
    const dev = leg && leg.from.node === d.node ? leg.from.device : undefined;
    const link = dev ? await h.net(netnsAt(nsOf(d.node!)!)).linkByName(dev).catch(() => undefined) : undefined;
    const size = events.map((e) => innermost(e.frame).ipv4).filter((x) => x?.src === r.path.src.ip).reduce((m, x) => Math.max(m, x?.totalLength ?? 0), 0);
    if (link && dev) f.tooBig = { node: d.node!, dev, mtu: link.mtu, size };
  }
  const frag = events.map((e) => innermost(e.frame)).find((x) => x.icmp?.type === 3 && x.icmp.code === 4 && x.icmp.mtu !== undefined);
  if (frag?.icmp?.mtu !== undefined && frag.ipv4) f.fragNeeded = { mtu: frag.icmp.mtu, from: frag.ipv4.src };
  if (rule && POLICY_CHAINS.test(rule.chain)) {
    const p = policyOf(plan, r);
    if (p) f.policy = p;
  }
  return f;
}

/** The result with its evidence and, for a failed probe, the sentence on why; the failed hop names its drop. */
export async function concludeEvidence(h: Host, plan: TracePlan, r: TraceResult, c: Collected, events: readonly TraceEvent[], w: { fromNs: bigint; toNs: bigint; pids: ReadonlySet<number> }): Promise<TraceResult> {
  const startNs = r.packets.flatMap((p) => p.hops).reduce<bigint | undefined>((m, x) => (m === undefined || x.tsNs - BigInt(x.sinceStartNs) < m ? x.tsNs - BigInt(x.sinceStartNs) : m), undefined) ?? w.fromNs;
  const drops = attributeDrops(r.path, r.packets, r.protocol, c.drops, { startNs, fromNs: w.fromNs, toNs: w.toNs, pids: w.pids, monoOffsetNs: c.monoOffsetNs });
  const [perNode] = await Promise.all([conntrackOf(h, plan.nodes, r.protocol)]);
  const conntrack = flowEntries(r.packets, perNode);
  const notes = [...c.notes];
  if (!c.notes.some((n) => n.startsWith('drop reasons'))) notes.push('drop reasons: skb:kfree_skb has no namespace: a drop is this trace\'s when the probe\'s task freed it, or by time and the last hop seen');
  let rules = c.rules;
  let cause: string | undefined;
  if (!r.answered) {
    const failed = lastSeen(r.packets, r.protocol)?.packet;
    const rule = droppingRule(rules, failed);
    if (rule && plan.mode === 'iptables') {
      const ns = plan.nodes.find((n) => n.name === rule.node)?.netns;
      const save = ns ? await iptablesSaveText(h.runner, netnsAt(ns), { table: rule.table }).catch(() => '') : '';
      const index = ruleIndex(save, rule);
      if (index !== undefined) rules = rules.map((x) => (x === rule ? { ...x, index } : x));
    }
    const withIndex = rule ? rules.find((x) => x.table === rule.table && x.chain === rule.chain && x.handle === rule.handle && x.ipId === rule.ipId) : undefined;
    cause = failureCause(r.path, r.packets, r.protocol, drops, rules, await factsFor(h, plan, r, drops, withIndex, events));
  }
  const packets = markDrops(r, drops);
  return { ...r, packets, evidence: { rules, conntrack, drops, notes }, ...(cause ? { cause } : {}) };
}

/** The hop where the failed request was last seen names the drop that ended it. */
function markDrops(r: TraceResult, drops: readonly DropSeen[]): TraceResult['packets'] {
  const seen = r.answered || strayAnswer(r.path, r.packets, r.protocol) ? undefined : lastSeen(r.packets, r.protocol);
  const d = endingDrop(drops);
  if (!seen || !d) return r.packets;
  return r.packets.map((p) => (p !== seen.packet ? p : {
    ...p,
    hops: p.hops.map((x) => (x !== seen.hop ? x : { ...x, explanation: `${x.explanation ? `${x.explanation}; ` : ''}then dropped${d.node ? ` by ${d.node}` : ''} → kernel: ${d.reason} (${d.location})` })),
  }));
}
