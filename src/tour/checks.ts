// Each kind of question of src/model/tour/checks.ts answered from the live kernel: the lab scanned
// after the step's command ran (kernel.ts), or a read of its own (`ip route get`, `iptables-save`,
// `nslookup` in the pod). An answer carries what was accepted, the choices to offer, and the evidence
// — the kernel's own words — shown after any answer.
import type { Host } from '../host/host.js';
import { iptablesSaveText } from '../host/iptables.js';
import { labNetns } from '../lab/names.js';
import { fdbKind, type FdbEntry } from '../model/kernel.js';
import { UserError } from '../model/errors.js';
import type { CheckKindName } from '../model/tour/checks.js';
import { fill } from '../model/tour/template.js';
import { hostNs, type LiveLab, type LivePod } from './kernel.js';
import { runCommand } from './command.js';

/** The kernel's answer to a question. */
export interface KernelAnswer {
  /** The answer as shown. */
  answer: string;
  /** Every answer counted as right (the answer itself first). */
  accept: string[];
  /** Choices to offer (the learner may type one or its number; the UI makes them clickable). */
  choices: string[];
  /** Where the answer comes from, in the kernel's words. */
  evidence: string;
}

/** A check whose answer the kernel does not have right now (the step's invariant does not hold). */
export class CheckFailed extends UserError {
  constructor(message: string) {
    super('state', message);
  }
}

type Params = Record<string, string>;
type Evaluate = (host: Host, live: LiveLab, p: Params) => Promise<KernelAnswer> | KernelAnswer;

const one = (answer: string, evidence: string, choices: string[] = [], accept: string[] = []): KernelAnswer => ({ answer, accept: [answer, ...accept], choices, evidence });

function pod(live: LiveLab, name: string): LivePod {
  const p = live.pods.get(name);
  if (!p) throw new CheckFailed(`pod ${name} is not in lab "${live.lab}" as the kernel shows it (podnet inspect --name ${live.lab})`);
  return p;
}

function nodeNs(live: LiveLab, node: string) {
  const ns = hostNs(live.scan.nodes.find((n) => n.name === node)?.snapshot ?? { host: '', namespaces: [], takenAt: '' });
  if (!ns) throw new CheckFailed(`node ${node} of lab "${live.lab}" could not be read`);
  return ns;
}

/** The host veths that are cni0's ports on a node: the choices of a "which port" question. */
const cniPorts = (live: LiveLab, node: string) => nodeNs(live, node).links.filter((l) => l.master === 'cni0').map((l) => l.name).sort();

/** The namespace a check's `in` names: a pod's or a node's. */
function netnsOf(live: LiveLab, name: string) {
  const p = live.pods.get(name);
  if (p) return labNetns(p.row.netns);
  const n = live.state.plan.nodes.find((x) => x.name === name);
  if (!n) throw new CheckFailed(`"${name}" is neither a pod nor a node of lab "${live.lab}"`);
  return labNetns(n.netns);
}

function fdbEntry(live: LiveLab, node: string, pred: (e: FdbEntry) => boolean, what: string): FdbEntry {
  const e = nodeNs(live, node).fdb.find(pred);
  if (!e) throw new CheckFailed(`the forwarding database on ${node} has no entry for ${what} (bridge -n ${live.state.plan.nodes.find((n) => n.name === node)?.netns} fdb show)`);
  return e;
}

const fdbLine = (e: FdbEntry) => [e.mac, 'dev', e.dev, ...(e.dst ? ['dst', e.dst] : []), ...(e.master ? ['master', e.master] : []), ...e.flags, e.state].filter(Boolean).join(' ');

const EVALUATE: Record<CheckKindName, Evaluate> = {
  'host-veth': (_h, live, p) => {
    const x = pod(live, p.pod);
    const veth = x.row.hostVeth.replace(/@.*$/, '');
    return one(veth, `${p.pod}: ${x.row.iface} ↔ ${x.row.hostVeth} on ${x.node} (ifindex ${x.row.hostIndex} is ${veth})`, cniPorts(live, x.node), [String(x.row.hostIndex)]);
  },
  'veth-index': (_h, live, p) => { const x = pod(live, p.pod); return one(String(x.row.hostIndex), `${p.pod}'s ${x.row.iface}: its peer is ifindex ${x.row.hostIndex} on ${x.node}, ${x.row.hostVeth}`); },
  'pod-ifindex': (_h, live, p) => { const x = pod(live, p.pod); return one(String(x.row.ifindex), `${x.row.hostVeth} on ${x.node}: its peer is ifindex ${x.row.ifindex} in ${p.pod}, ${x.row.iface}`); },
  'master': (_h, live, p) => { const x = pod(live, p.pod); return one(x.row.bridge, `${x.row.hostVeth} master ${x.row.bridge} state ${x.row.state}`, [...new Set(nodeNs(live, x.node).links.filter((l) => l.kind === 'bridge').map((l) => l.name))]); },
  'port-count': (_h, live, p) => { const ports = cniPorts(live, p.node); return one(String(ports.length), `ip -n ${fill(`{${p.node}.netns}`, live.facts)} link show master cni0: ${ports.join(', ')}`); },
  'mac': (_h, live, p) => { const x = pod(live, p.pod); return one(x.row.mac, `${p.pod} ${x.row.iface} link/ether ${x.row.mac}`); },
  'ip': (_h, live, p) => { const x = pod(live, p.pod); return one(x.row.ips[0]?.replace(/\/\d+$/, '') ?? '', `${p.pod} ${x.row.iface} inet ${x.row.ips.join(', ')}`); },
  'fdb-port': (_h, live, p) => {
    const x = pod(live, p.pod);
    const e = fdbEntry(live, x.node, (f) => f.mac === x.row.mac && f.master === 'cni0' && fdbKind(f) === 'learned', `${p.pod}'s MAC ${x.row.mac} learned on cni0`);
    return one(e.dev, `bridge fdb on ${x.node}: ${fdbLine(e)}  (${p.pod}'s eth0 is ${x.row.mac})`, cniPorts(live, x.node));
  },
  'fdb-kind': (_h, live, p) => {
    const x = pod(live, p.pod);
    const mac = p.entry === 'pod' ? x.row.mac : p.entry === 'veth' ? live.facts[`${p.pod}.vethMac`] : nodeNs(live, x.node).links.find((l) => l.name === 'cni0')?.mac;
    const e = fdbEntry(live, x.node, (f) => f.mac === mac && (f.master === 'cni0' || f.dev === 'cni0') && (p.entry !== 'bridge' || f.dev === 'cni0'), `${mac}`);
    return one(fdbKind(e), `bridge fdb on ${x.node}: ${fdbLine(e)}`, ['learned', 'permanent', 'self']);
  },
  'gateway': (_h, live, p) => {
    const r = pod(live, p.pod).ns?.routes.find((x) => x.dst === 'default');
    if (!r?.gateway) throw new CheckFailed(`${p.pod} has no default route`);
    return one(r.gateway, `${p.pod}: default via ${r.gateway} dev ${r.dev}`);
  },
  'route-dev': async (h, live, p) => { const r = await routeGet(h, live, p); return one(r.dev ?? '', `ip route get ${fill(p.dst, live.facts)} in ${p.in}: dev ${r.dev}${r.gateway ? ` via ${r.gateway}` : ''}`); },
  'route-via': async (h, live, p) => { const r = await routeGet(h, live, p); return one(r.gateway ?? 'none (directly connected)', `ip route get ${fill(p.dst, live.facts)} in ${p.in}: ${r.gateway ? `via ${r.gateway} ` : ''}dev ${r.dev}`, [], r.gateway ? [] : ['none', 'direct']); },
  'neigh-mac': async (h, live, p) => {
    const ip = fill(p.ip, live.facts);
    const n = (await h.net(netnsOf(live, p.in)).neighList({ addr: ip })).find((x) => x.lladdr);
    if (!n?.lladdr) throw new CheckFailed(`${p.in} has no neighbour entry for ${ip}`);
    return one(n.lladdr, `ip neigh in ${p.in}: ${ip} dev ${n.dev} lladdr ${n.lladdr} ${n.state.join(' ')}`);
  },
  'vtep-mac': (_h, live, p) => { const v = nodeNs(live, p.node).links.find((l) => l.kind === 'vxlan'); if (!v) throw new CheckFailed(`${p.node} has no flannel.1`); return one(v.mac, `${p.node}: ${v.name} link/ether ${v.mac}`); },
  'vxlan-dst': (_h, live, p) => {
    const mac = live.facts[`${p.peer}.vtepMac`];
    const e = fdbEntry(live, p.node, (f) => f.mac === mac && !!f.dst, `${p.peer}'s VTEP MAC ${mac} on flannel.1`);
    return one(e.dst!, `bridge fdb on ${p.node}: ${fdbLine(e)}`);
  },
  'vxlan-port': (_h, live, p) => { const v = nodeNs(live, p.node).links.find((l) => l.kind === 'vxlan'); if (v?.kind !== 'vxlan') throw new CheckFailed(`${p.node} has no flannel.1`); return one(String(v.dstport), `${p.node}: ${v.name} vxlan id ${v.vni} dstport ${v.dstport}`); },
  'vni': (_h, live, p) => { const v = nodeNs(live, p.node).links.find((l) => l.kind === 'vxlan'); if (v?.kind !== 'vxlan') throw new CheckFailed(`${p.node} has no flannel.1`); return one(String(v.vni), `${p.node}: ${v.name} vxlan id ${v.vni}`); },
  'service-endpoints': async (h, live, p) => {
    const text = await iptablesSaveText(h.runner, netnsOf(live, p.node), { table: 'nat' });
    const svc = p.service.includes('/') ? p.service : `default/${p.service}`;
    const lines = text.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes(`"${svc}`) && l.includes('--to-destination'));
    const eps = [...new Set(lines.map((l) => /--to-destination (\S+)/.exec(l)![1]))];
    if (!eps.length) throw new CheckFailed(`no KUBE-SEP DNAT rule for ${svc} on ${p.node}`);
    return { answer: eps.join(', '), accept: [...eps, ...eps.map((e) => e.replace(/:\d+$/, ''))], choices: [], evidence: lines.map((l) => l.replace(/^-A /, '')).join('\n') };
  },
  'dns-answer': async (h, live, p) => {
    // Through `podnet exec`: the pod's own mount namespace holds the resolv.conf kubelet would write.
    const name = fill(p.name, live.facts);
    pod(live, p.pod);
    const r = await runCommand(h, `podnet exec ${p.pod} --name ${live.lab} -- nslookup ${name}`, live.lab);
    const addr = /Name:[^\n]*\n(?:Address(?: \d+)?:\s*)(\S+)/.exec(r.output)?.[1];
    if (!addr) throw new CheckFailed(`nslookup ${name} in ${p.pod} gave no address: ${r.output.trim().split('\n').pop()}`);
    return one(addr, `nslookup ${name} in ${p.pod}: ${r.output.trim().split('\n').filter((l) => /^(Server|Name|Address)/.test(l)).join('; ')}`);
  },
};

async function routeGet(h: Host, live: LiveLab, p: Params) {
  const dst = fill(p.dst, live.facts);
  const r = await h.net(netnsOf(live, p.in)).routeGet(dst);
  if (!r) throw new CheckFailed(`${p.in} has no route to ${dst}`);
  return r;
}

/** The kernel's answer to a check (its parameters' placeholders filled from the lab's facts). */
export async function evaluateCheck(host: Host, live: LiveLab, check: { kind: string } & Record<string, unknown>): Promise<KernelAnswer> {
  const params: Params = Object.fromEntries(Object.entries(check).filter(([k]) => k !== 'kind').map(([k, v]) => [k, fill(String(v), live.facts)]));
  const a = await EVALUATE[check.kind as CheckKindName](host, live, params);
  if (!a.answer) throw new CheckFailed(`the kernel gave no answer to check "${check.kind}"`);
  return a;
}
