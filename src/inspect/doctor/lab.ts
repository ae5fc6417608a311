// `podnet doctor` on a lab: one scan of the lab's namespaces, the leases from the lab's store, the
// underlay switch's rules, and per node the reads a scan leaves out; expectations from the lab's
// plan, leases, pods and Services (kube-proxy's chains computed as the lab's kube-proxy computes them).
import { join } from 'node:path';
import type { Host } from '../../host/host.js';
import { nftListRuleset } from '../../host/nft.js';
import { processOwner } from '../../host/process.js';
import { openLabStore } from '../../lab/cluster.js';
import { labNetns } from '../../lab/names.js';
import { proxyNode } from '../../lab/proxy.js';
import { LabDir, type LabState } from '../../lab/state.js';
import { policyWorldOf } from '../../lab/policy-world.js';
import { labEndpoints, podMetaOf } from '../../lab/sync.js';
import { flannelRuleset } from '../../overlay/nft.js';
import { selects, type PodEndpointSource, type Service } from '../../model/k8s.js';
import type { PolicyFacts } from '../../model/doctor/check-policy.js';
import { labExpectation } from '../../model/doctor/expect.js';
import type { DoctorInput, NodeInput } from '../../model/doctor/index.js';
import type { LeaseFact } from '../../model/doctor/types.js';
import { inspectLab } from '../inspect.js';
import { observeNode } from './observe.js';

/** The lab's leases, as facts; a store that cannot be read gives the plan's nodes as leases, and the reason. */
async function leasesOf(h: Host, dir: LabDir, state: LabState): Promise<{ leases: LeaseFact[]; store: string; storeError?: string }> {
  const asPlanned = state.plan.nodes.map((n) => ({ subnet: n.podCIDR, publicIP: n.ip.split('/')[0], vtepMac: n.vtepMac, vni: 1 }));
  const where = state.overlay?.store === 'etcd' ? `etcd ${state.overlay.endpoint ?? ''}`.trim() : `file ${join(dir.dir, 'leases.json')}`;
  try {
    const store = await openLabStore({ host: h, stateRoot: dir.root, random: () => new Uint8Array() }, dir, state.overlay);
    try {
      const { leases } = await store.list();
      return { store: store.description, leases: leases.map((l) => ({ subnet: l.subnet, publicIP: l.attrs.PublicIP, vtepMac: l.attrs.BackendData.VtepMAC, vni: l.attrs.BackendData.VNI })) };
    } finally {
      await store.close().catch(() => undefined);
    }
  } catch (e) {
    return { store: where, leases: asPlanned, storeError: (e as Error).message.split('\n')[0] };
  }
}

/** Which of the lab's pods run (their first process is still the lab's). */
async function running(state: LabState): Promise<Set<string>> {
  const alive = await Promise.all(state.pods.map(async (p) => (p.pid !== undefined && p.pid > 0 && (await processOwner(p.pid)) === state.lab ? p.name : '')));
  return new Set(alive.filter(Boolean));
}

/** The lab's policies and pods, which pods run, and the running pods behind kube-dns. */
function policyFacts(state: LabState, dns: Service, sources: readonly PodEndpointSource[]): PolicyFacts {
  const k = (p: PodEndpointSource) => `${p.meta.namespace}/${p.meta.name}`;
  return {
    world: policyWorldOf(state),
    running: new Set(sources.filter((p) => p.ready).map(k)),
    dnsPods: sources.filter((p) => p.ready && p.meta.namespace === dns.namespace && selects(dns.selector, p.meta.labels)).map(k),
  };
}

/** Everything diagnose needs for a lab (or some of its nodes; the cluster-wide checks only for all). */
export async function labDoctorInput(h: Host, state: LabState, stateRoot: string, only?: readonly string[]): Promise<DoctorInput> {
  const dir = new LabDir(stateRoot, state.lab);
  const whole = !only?.length;
  const [scan, { leases, store, storeError }, underlayNft, up] = await Promise.all([
    inspectLab(h, state, stateRoot, only?.length ? { nodes: only } : {}),
    leasesOf(h, dir, state),
    whole ? nftListRuleset(h.runner, labNetns(state.plan.underlay.netns)).catch(() => undefined) : Promise.resolve(undefined),
    running(state),
  ]);
  const plan = state.plan;
  const sources: PodEndpointSource[] = state.pods.map((p) => ({ meta: podMetaOf(p), ...(p.ip ? { ip: p.ip } : {}), node: p.node, ready: up.has(p.name) }));
  const ports = await labEndpoints(state, async (p) => up.has(p.name));
  const nodes = await Promise.all(scan.nodes.map(async (n): Promise<NodeInput> => {
    const node = plan.nodes.find((x) => x.name === n.name)!;
    const exp = labExpectation({
      clusterCIDR: plan.clusterCIDR, mtu: plan.mtu, node, nodes: plan.nodes, leases,
      pods: state.pods.filter((p) => p.node === node.name), flannelRuleset: flannelRuleset(plan.clusterCIDR, node.podCIDR, true),
    });
    const obs = await observeNode(h, n.name, { name: node.netns }, n.snapshot, exp, join(dir.ipamDir(node.name), 'cbr0'));
    return { exp, obs, proxy: { mode: state.proxyMode ?? 'iptables', node: proxyNode(state, node), ports } };
  }));
  const dns = (state.services ?? []).find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  const noDns = dns && !sources.some((p) => p.meta.namespace === 'kube-system' && selects(dns.selector, p.meta.labels));
  return {
    nodes,
    ...(whole ? {
      cluster: { store, leases, ...(storeError ? { storeError } : {}), nodes: plan.nodes.map((n) => ({ name: n.name, ip: n.ip.split('/')[0], podCIDR: n.podCIDR })), underlay: { ns: { name: plan.underlay.netns }, ...(underlayNft ? { nft: underlayNft } : {}) } },
      services: { services: state.services ?? [], pods: sources, ...(noDns ? { skip: new Set(['kube-system/kube-dns']) } : {}) },
      ...(state.policies?.length && dns ? { policy: policyFacts(state, dns, sources) } : {}),
    } : {}),
  };
}
