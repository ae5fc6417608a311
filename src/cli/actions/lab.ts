// The work of `podnet lab up|down|status|list` (loaded only when the verb runs).
import { labDeps } from '../context.js';
import { loadTopology } from '../topology-file.js';
import { labUp } from '../../lab/lifecycle.js';
import { LabDir, listLabDirs, type LabState } from '../../lab/state.js';
import { parseStoreChoice } from '../../lab/cluster.js';
import { labFlag } from '../../lab/names.js';
import { UserError } from '../../model/errors.js';
import { TopologyError } from '../../model/topology.js';
import { renderTable } from '../../render/table.js';
import { renderData } from '../../render/output.js';
import { DEFAULT_LAB, out, outputFormat, requireRoot, say, type GlobalOptions } from '../flags.js';
import { showNodes, showPods } from './get.js';
import { interruptible } from '../interrupt.js';

/** Where a lab's leases live, for people: `file`, `etcd (the lab's, 198.51.100.254:2379)`, `etcd://H:P`. */
function storeOf(s: LabState): string {
  const o = s.overlay;
  if (!o || o.store === 'file') return 'file';
  return o.etcd ? `etcd (the lab's, ${o.endpoint?.slice('etcd://'.length)})` : o.endpoint ?? 'etcd';
}

/** The flags of `lab up`. */
export interface UpFlags {
  file?: string;
  name?: string;
  pods?: number;
  nodes?: number;
  store: string;
  proxyMode: string;
  leaseTtl?: number;
  /** false with --no-dns. */
  dns: boolean;
  dryRun?: boolean;
}

/** `podnet lab up`. */
export async function labUpVerb(g: GlobalOptions, o: UpFlags): Promise<void> {
  const opts = { ...g, dryRun: o.dryRun };
  const store = parseStoreChoice(o.store);
  if (o.proxyMode !== 'iptables' && o.proxyMode !== 'nftables') throw new UserError('usage', `--proxy-mode: "${o.proxyMode}" is not iptables or nftables`);
  const topology = await loadTopology(o.file, o.pods, o.nodes);
  const name = o.name ?? topology.name ?? DEFAULT_LAB;
  if (!opts.dryRun) requireRoot('lab up');
  const { deps, recorder } = labDeps(opts);
  const t = performance.now();
  const state = await interruptible(`lab up of "${name}"`, `podnet lab down${labFlag(name)}`, (signal) => labUp({ ...deps, signal }, name, topology, { store, proxyMode: o.proxyMode as 'iptables' | 'nftables', dns: o.dns !== false, ...(o.leaseTtl ? { leaseTtl: o.leaseTtl } : {}) }).catch((e: unknown) => {
    // Checks against the machine (its routes) run in labUp: name the file as loadTopology does.
    if (e instanceof TopologyError && o.file) throw new TopologyError('', `${o.file}: ${e.message}`);
    throw e;
  }));
  if (!state) return;
  if (recorder) {
    out(`# podnet lab up --name ${name} (dry run): these commands would run, in this order\n${recorder.script()}\n`);
    return;
  }
  const system = state.pods.filter((p) => (p.namespace ?? 'default') !== 'default').length;
  say(`lab "${name}" is up: ${state.plan.nodes.length} node(s), ${state.pods.length - system} pod(s)${system ? ` (and ${system} in kube-system: the DNS pod, see get pods -A)` : ''} in ${Math.round(performance.now() - t)} ms`);
  await showPods(deps, name, 'wide', 'default', state);
}

/** `podnet lab status`: a lab that is not up is an error (exit 1). */
export async function labStatusVerb(g: GlobalOptions, o: { name: string; output: string }): Promise<void> {
  const format = outputFormat(o.output, ['wide', 'json', 'yaml'] as const);
  requireRoot('lab status', 'reads every network namespace');
  const { deps } = labDeps(g);
  const state = await new LabDir(deps.stateRoot, o.name).read();
  if (!state) throw new UserError('state', `lab "${o.name}" is not up: run \`podnet lab up${labFlag(o.name)}\``);
  if (format === 'json' || format === 'yaml') {
    out(renderData(state, format));
    return;
  }
  const system = state.pods.filter((p) => (p.namespace ?? 'default') !== 'default').length;
  out(`lab ${state.lab}: ${state.status}, ${state.plan.nodes.length} node(s), ${state.pods.length - system} pod(s)${system ? ` (and ${system} in kube-system)` : ''}, underlay ${state.plan.underlay.cidr}, cluster ${state.plan.clusterCIDR}, leases in ${storeOf(state)}\n\n`);
  await showNodes(deps, state, 'table');
  out('\n');
  await showPods(deps, o.name, 'wide');
}

/** `podnet lab list`. */
export async function labListVerb(g: GlobalOptions, o: { output: string }): Promise<void> {
  const format = outputFormat(o.output, ['table', 'json', 'yaml'] as const);
  const { deps } = labDeps(g);
  const read = async (n: string) => {
    try {
      return await new LabDir(deps.stateRoot, n).read();
    } catch (e) {
      say(`warning: ${(e as Error).message}`);
      return undefined;
    }
  };
  const states = (await Promise.all((await listLabDirs(deps.stateRoot)).map(read))).filter((s) => s !== undefined);
  const rows = states.map((s) => ({ name: s.lab, status: s.status, nodes: s.plan.nodes.length, pods: s.pods.length, store: storeOf(s), created: s.createdAt }));
  if (format === 'json' || format === 'yaml') out(renderData(rows, format));
  else out(renderTable(rows, [
    { header: 'NAME', cell: (r) => r.name }, { header: 'STATUS', cell: (r) => r.status },
    { header: 'NODES', cell: (r) => r.nodes }, { header: 'PODS', cell: (r) => r.pods }, { header: 'STORE', cell: (r) => r.store }, { header: 'CREATED', cell: (r) => r.created },
  ], 'No labs found.'));
}
