// The work of `podnet get netpol`, `delete netpol`, `inspect policies` and `label pod` (loaded only
// when the verb runs).
import type { Command } from 'commander';
import { labDeps } from '../context.js';
import { inspectPolicies } from '../../inspect/policies.js';
import { labelPod, parseLabelChanges, policyDelete } from '../../lab/netpol.js';
import { policyWorldOf } from '../../lab/policy-world.js';
import { LabDir, requireUp, type LabState } from '../../lab/state.js';
import { UserError } from '../../model/errors.js';
import { evaluatePolicyFlow, type FlowEndpoint, type PolicyFlow } from '../../model/netpol/semantics.js';
import { netpolObject, netpolRows, type NetpolRow, type PodPolicyRow } from '../../views/netpol.js';
import { renderTable, type Column } from '../../render/table.js';
import { renderData } from '../../render/output.js';
import { out, outputFormat, requireRoot, say, terminalWidth, type GlobalOptions } from '../flags.js';

const NETPOL: Column<NetpolRow>[] = [
  { header: 'NAMESPACE', cell: (r) => r.namespace }, { header: 'NAME', cell: (r) => r.name },
  { header: 'POD-SELECTOR', cell: (r) => r.podSelector, elastic: true }, { header: 'AGE', cell: (r) => r.age },
];
const NETPOL_WIDE: Column<NetpolRow>[] = [...NETPOL, { header: 'POLICY-TYPES', cell: (r) => r.policyTypes }, { header: 'PODS', cell: (r) => r.pods }];

async function labState(g: GlobalOptions, lab: string, verb: string) {
  requireRoot(verb, 'reads every network namespace');
  const { deps } = labDeps(g);
  return { deps, state: await requireUp(new LabDir(deps.stateRoot, lab), lab) };
}

/** `podnet get netpol [NAME]`. */
export async function getNetpolVerb(g: GlobalOptions, policy: string | undefined, o: { name: string; namespace?: string; output: string }): Promise<void> {
  const f = outputFormat(o.output, ['table', 'wide', 'json', 'yaml'] as const);
  const { state } = await labState(g, o.name, 'get netpol');
  const world = policyWorldOf(state);
  const pick = (p: { namespace: string; name: string }) => (!o.namespace || p.namespace === o.namespace) && (!policy || p.name === policy);
  if (policy && !world.policies.some(pick)) throw new UserError('not-found', `networkpolicy "${policy}" not found in lab "${o.name}"${o.namespace ? ` namespace ${o.namespace}` : ''}`);
  if (f === 'json' || f === 'yaml') {
    const items = world.policies.filter(pick).map(netpolObject);
    out(renderData(policy && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items }, f));
  } else {
    out(renderTable(netpolRows(world, new Date()).filter(pick), f === 'wide' ? NETPOL_WIDE : NETPOL, 'No resources found.', f === 'table' ? terminalWidth() : undefined));
  }
}

/** `podnet delete netpol NAME`. */
export async function deleteNetpolVerb(g: GlobalOptions, policy: string, o: { name: string; namespace: string }, cmd: Command): Promise<void> {
  requireRoot('delete netpol', 'changes a network namespace');
  const { deps } = labDeps(g);
  // `delete` has a --name of its own (for -f): commander gives it a --name written after the kind.
  const lab = cmd.parent?.getOptionValueSource('name') === 'cli' ? cmd.parent.opts<{ name: string }>().name : o.name;
  await policyDelete(deps, lab, o.namespace, policy);
  say(`networkpolicy "${policy}" deleted`);
}

const POLICIES: Column<PodPolicyRow>[] = [
  { header: 'NODE', cell: (r) => r.node }, { header: 'NAMESPACE', cell: (r) => r.namespace, optional: true }, { header: 'POD', cell: (r) => r.pod },
  { header: 'IP', cell: (r) => r.ip }, { header: 'INGRESS', cell: (r) => r.ingress }, { header: 'EGRESS', cell: (r) => r.egress },
  { header: 'POLICIES', cell: (r) => r.policies, elastic: true }, { header: 'CHAIN', cell: (r) => `${r.chain}${r.present || r.chain === '-' ? '' : ' (missing)'}`, optional: true },
  { header: 'REJECTED', cell: (r) => r.rejected },
];
const POLICIES_WIDE: Column<PodPolicyRow>[] = [...POLICIES, { header: 'ACCEPTED', cell: (r) => r.accepted },
  { header: 'POLICY-CHAINS', cell: (r) => r.enforcement.map((e) => `${e.chain}${e.allowed ? `[${e.allowed.packets}]` : ' (missing)'}`).join(',') || '<none>' },
  { header: 'IPSETS', cell: (r) => [...new Set(r.enforcement.flatMap((e) => e.sets.map((s) => `${s.name}{${s.members.join(',')}}`)))].join(' ') || '<none>' }];

/** The flags of `inspect policies` (the output and lab flags are the parent `inspect`'s). */
interface InspectPoliciesFlags {
  from?: string;
  to?: string;
  port?: string;
  protocol: string;
}

/** `podnet inspect policies [NODE]`, or with --from/--to one connection's verdict. */
export async function inspectPoliciesVerb(g: GlobalOptions, node: string | undefined, o: InspectPoliciesFlags, cmd: Command): Promise<void> {
  const p = (cmd.parent ?? cmd).opts<{ name: string; output: string; host?: boolean; netns?: string }>();
  const f = outputFormat(p.output, ['table', 'wide', 'json', 'yaml'] as const);
  if (p.host || p.netns) throw new UserError('usage', 'inspect policies reads a lab\'s policies: leave out --host/--netns (on a real node: iptables-save -c -t filter and ipset list, see docs/networkpolicy.md)');
  const { deps, state } = await labState(g, p.name, 'inspect policies');
  if (o.from !== undefined || o.to !== undefined) {
    const v = evaluatePolicyFlow(policyWorldOf(state), flowOf(o, state));
    if (f === 'json' || f === 'yaml') out(renderData({ kind: 'PolicyVerdict', ...v }, f));
    else out(`${v.allowed ? '' : 'denied: '}${v.sentence}\n`);
    return;
  }
  const rows = await inspectPolicies(deps.host, state, node);
  if (f === 'json' || f === 'yaml') out(renderData({ kind: 'PodPolicyList', lab: p.name, items: rows }, f));
  else out(renderTable(rows, f === 'wide' ? POLICIES_WIDE : POLICIES, 'No pods.', f === 'table' ? terminalWidth() : undefined));
  if (f === 'table' && (state.policies ?? []).length === 0) say('no NetworkPolicy in this lab: every pod is open both ways, and kube-router\'s chains are not laid down');
}

/** The flow --from/--to/--port/--protocol describe. */
function flowOf(o: InspectPoliciesFlags, state: LabState): PolicyFlow {
  if (!o.from || !o.to) throw new UserError('usage', '--from and --to go together: podnet inspect policies --from client --to web1 --port 80');
  const end = (v: string, flag: string): FlowEndpoint => {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(v)) return { ip: v };
    const [ns, name] = v.includes('/') ? v.split('/') : [undefined, v];
    if (state.pods.some((p) => p.name === name && (ns === undefined || (p.namespace ?? 'default') === ns))) return { pod: name, ...(ns ? { namespace: ns } : {}) };
    const node = state.plan.nodes.find((n) => n.name === v);
    if (node) return { node: node.name, ip: node.ip.split('/')[0] };
    throw new UserError('not-found', `${flag}: "${v}" is no pod, node or IPv4 address of lab "${state.lab}" (pods: ${state.pods.map((p) => p.name).join(', ') || 'none'})`);
  };
  const protocol = o.protocol.toUpperCase();
  if (!['TCP', 'UDP', 'SCTP', 'ICMP'].includes(protocol)) throw new UserError('usage', `--protocol: "${o.protocol}" is not TCP, UDP, SCTP or ICMP`);
  const port = o.port === undefined ? (protocol === 'ICMP' ? undefined : 80) : Number(o.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new UserError('usage', `--port: "${o.port}" is not a port (1-65535)`);
  return { src: end(o.from, '--from'), dst: end(o.to, '--to'), protocol: protocol as PolicyFlow['protocol'], ...(port !== undefined ? { port } : {}) };
}

/** `podnet label pod NAME key=value… key-…`. */
export async function labelVerb(g: GlobalOptions, kind: string, pod: string, changes: string[], o: { name: string; overwrite?: boolean }): Promise<void> {
  if (!['pod', 'pods', 'po'].includes(kind)) throw new UserError('usage', `label ${kind}: podnet labels pods (podnet label pod ${pod} app=web)`);
  const parsed = parseLabelChanges(changes);
  requireRoot('label', 'changes a network namespace');
  const { deps } = labDeps(g);
  const labels = await labelPod(deps, o.name, pod, parsed, !!o.overwrite);
  say(`pod/${pod} labeled: ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'}`);
}
