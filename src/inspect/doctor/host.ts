// `podnet doctor --host` / `--netns NS`: a real node (or any namespace) as a K3s node. What it should
// hold comes from what it says about itself: /run/flannel/subnet.env (for --host), the CNI config
// (K3s's conflist, else the first conflist in /etc/cni/net.d), flannel's table when podnet's agent
// runs there; the pods are the namespaces whose veths end on one of its bridges.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Host } from '../../host/host.js';
import { CURRENT_NETNS, type Netns } from '../../host/netns.js';
import { flannelRuleset } from '../../overlay/nft.js';
import { parseSubnetEnv, podSubnet, type SubnetEnv } from '../../model/subnet-env.js';
import { hostExpectation, type ConflistFacts } from '../../model/doctor/expect.js';
import type { DoctorInput } from '../../model/doctor/index.js';
import type { NodeExpectation, NsRef } from '../../model/doctor/types.js';
import { scanHost } from '../scan.js';
import { defaultEvidence, identify } from '../identify.js';
import { SUBNET_ENV } from '../nodes.js';
import { observeNode } from './observe.js';

/** Where K3s keeps its conflist, and where other runtimes keep theirs. */
const K3S_CONFLIST = '/var/lib/rancher/k3s/agent/etc/cni/net.d/10-flannel.conflist';
const CNI_CONF_DIR = '/etc/cni/net.d';
/** host-local's store on a K3s node. */
const HOST_LOCAL = '/var/lib/cni/networks';

async function subnetEnvAt(file: string): Promise<SubnetEnv | undefined> {
  try {
    return parseSubnetEnv(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The bridge name, hairpin mode and network name a conflist gives its pods (flannel's delegate, or a bridge plugin). */
export function conflistFacts(json: unknown): (ConflistFacts & { network?: string }) | undefined {
  const list = json as { name?: string; plugins?: { type?: string; bridge?: string; hairpinMode?: boolean; delegate?: { bridge?: string; hairpinMode?: boolean } }[] } | undefined;
  const first = list?.plugins?.[0];
  if (!first) return undefined;
  const src = first.type === 'flannel' ? { ...first.delegate } : first;
  return { ...(src.bridge ? { bridge: src.bridge } : first.type === 'flannel' ? { bridge: 'cni0' } : {}), ...(src.hairpinMode !== undefined ? { hairpin: src.hairpinMode } : {}), ...(list?.name ? { network: list.name } : {}) };
}

async function readConflist(): Promise<(ConflistFacts & { network?: string }) | undefined> {
  const files = [K3S_CONFLIST, ...(await readdir(CNI_CONF_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.conflist')).sort().map((f) => join(CNI_CONF_DIR, f))];
  for (const f of files) {
    try {
      return conflistFacts(JSON.parse(await readFile(f, 'utf8')));
    } catch { /* next */ }
  }
  return undefined;
}

/** The bridge the node's pods hang on when the expected one is not there: the bridge with most veth ports. */
function podBridge(exp: NodeExpectation, links: { name: string; kind: string; master?: string }[]): string {
  if (links.some((l) => l.name === exp.bridge)) return exp.bridge;
  const count = (b: string) => links.filter((l) => l.kind === 'veth' && l.master === b).length;
  const bridges = links.filter((l) => l.kind === 'bridge').map((l) => l.name).sort((a, b) => count(b) - count(a));
  return bridges[0] && count(bridges[0]) > 0 ? bridges[0] : exp.bridge;
}

/** The pinned names of the namespaces whose veths end on a bridge of `ns` (its pods), or undefined when
 * one of them is not pinned (then every namespace is scanned to find it). One read of the host, one of its nsids. */
async function podNamespaces(h: Host, ns: Netns): Promise<string[] | undefined> {
  const [{ links }, ids] = await Promise.all([h.net(ns).tables(), h.net(ns).nsids()]);
  const peers = links.filter((l) => l.kind === 'veth' && l.master && l.linkNetnsid !== undefined).map((l) => ids.find((i) => i.nsid === l.linkNetnsid)?.name);
  return peers.every((n): n is string => n !== undefined) ? [...new Set(peers)] : undefined;
}

/** Everything diagnose needs for this host (`netns` undefined) or another namespace. */
export async function hostDoctorInput(h: Host, stateRoot: string, target: { netns?: Netns; label: string }): Promise<DoctorInput> {
  const ns = target.netns ?? CURRENT_NETNS;
  const isHost = !target.netns;
  const [env, conflist] = isHost ? await Promise.all([subnetEnvAt(SUBNET_ENV), readConflist()]) : [undefined, undefined];
  const only = await podNamespaces(h, ns).catch(() => undefined);
  const snap = await identify(await scanHost(h, { host: ns, ...(only ? { only } : {}) }), defaultEvidence(stateRoot));
  const node = snap.namespaces.find((n) => n.id === snap.host);
  const vx = node?.links.find((l) => l.name === 'flannel.1') ?? node?.links.find((l) => l.kind === 'vxlan');
  const publicIP = vx?.kind === 'vxlan' ? vx.local : undefined;
  let exp = hostExpectation({ node: target.label, ...(env ? { subnetEnv: env } : {}), ...(conflist ? { conflist } : {}), ...(publicIP ? { publicIP } : {}) });
  exp = { ...exp, bridge: podBridge(exp, node?.links ?? []) };
  const ref: NsRef = isHost ? { current: true } : { ...(ns.name ? { name: ns.name } : { path: ns.path }) };
  const ipam = isHost && conflist?.network ? join(HOST_LOCAL, conflist.network) : undefined;
  const obs = await observeNode(h, target.label, ref, snap, exp, ipam);
  // podnet's own agent writes flannel's rules as nftables table `ip flannel`; flannel itself uses iptables.
  if (env && obs.nft?.tables.some((t) => t.family === 'ip' && t.name === 'flannel')) {
    const text = flannelRuleset(env.network, podSubnet(env), env.ipMasq);
    exp = hostExpectation({ node: target.label, subnetEnv: env, ...(conflist ? { conflist } : {}), ...(publicIP ? { publicIP } : {}), flannelRuleset: text });
  }
  return { nodes: [{ exp, obs }] };
}
