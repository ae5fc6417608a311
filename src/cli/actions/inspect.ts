// The work of `podnet inspect …` and `podnet graph` (loaded only when the verb runs): one scan of
// the resolved target, a view of it, the chosen format.
import type { Command } from 'commander';
import { labDeps } from '../context.js';
import { resolveTarget, type Target } from '../../lab/target.js';
import { inspectCluster, inspectLab, inspectTarget } from '../../inspect/inspect.js';
import type { LabDeps } from '../../lab/deps.js';
import { clusterModel, type ClusterModel } from '../../views/cluster.js';
import type { GraphModel } from '../../views/graph.js';
import { renderClusterDot, renderClusterMermaid } from '../../render/inspect/cluster.js';
import type { Snapshot } from '../../model/snapshot.js';
import { UserError } from '../../model/errors.js';
import { renderTable, type Column } from '../../render/table.js';
import { renderData } from '../../render/output.js';
import {
  fdbColumns, fdbWideColumns, linkColumns, neighColumns, overlayColumns, overlayWideColumns, podColumns, podWideColumns, renderGraphDot, renderGraphMermaid,
  renderGraphSvg, routeColumns, routeWideColumns,
} from '../../render/inspect/index.js';
import { findNamespace, graphModel, inspectFdb, inspectLinks, inspectNeigh, inspectOverlay, inspectPods, inspectRoutes, type OverlayViewRow } from '../../views/index.js';
import { labChoice, out, outputFormat, requireRoot, terminalWidth, type GlobalOptions } from '../flags.js';

/** The flags that choose what to inspect. */
export interface TargetOptions {
  host?: boolean;
  netns?: string;
  name: string;
  output: string;
}

/** Resolves the target the flags name (state read once) and the dependencies of a scan. */
async function target(g: GlobalOptions, node: string | undefined, o: TargetOptions, cmd: Command) {
  requireRoot('inspect', 'reads every network namespace');
  // Reads are half waiting (each `ip -n` sets up a mount namespace): more shells keep both cores busy.
  const { deps } = labDeps(g, 8);
  const t = await resolveTarget(deps.stateRoot, { ...labChoice(cmd, o.name), ...(node !== undefined ? { node } : {}), host: o.host, netns: o.netns });
  return { deps, t };
}

async function scan(g: GlobalOptions, node: string | undefined, o: TargetOptions, cmd: Command, podsOnly = false): Promise<Snapshot> {
  const { deps, t } = await target(g, node, o, cmd);
  return inspectTarget(deps.host, t, deps.stateRoot, { podsOnly });
}

/** Prints rows in the chosen format: `kind` names the list in JSON/YAML. */
function show<T>(kind: string, rows: T[], format: string, columns: Column<T>[], wide: Column<T>[] = columns): void {
  const f = outputFormat(format, ['table', 'wide', 'json', 'yaml'] as const);
  if (f === 'json' || f === 'yaml') out(renderData({ kind, items: rows }, f));
  else out(renderTable(rows, f === 'wide' ? wide : columns, 'No entries found.', f === 'table' ? terminalWidth() : undefined));
}

/** The options of `inspect` itself: its subcommands' flags live on the parent. */
const parentOpts = (cmd: Command): TargetOptions => (cmd.parent ?? cmd).opts<TargetOptions>();

/** `podnet inspect [NODE]`: each pod's interface joined to its host veth and bridge port. */
export async function inspectPodsVerb(g: GlobalOptions, node: string | undefined, o: TargetOptions, cmd: Command): Promise<void> {
  outputFormat(o.output, ['table', 'wide', 'json', 'yaml'] as const);
  show('InspectPodList', inspectPods(await scan(g, node, o, cmd, true)), o.output, podColumns, podWideColumns);
}

/** `podnet inspect fdb [NODE]`: every entry, or one bridge's, with or without group MACs. */
export async function inspectFdbVerb(g: GlobalOptions, node: string | undefined, f: { bridge?: string; multicast: boolean }, cmd: Command): Promise<void> {
  const o = parentOpts(cmd);
  const rows = fdbRows(await scan(g, node, o, cmd.parent!), f);
  show('FdbList', rows, o.output, fdbColumns, fdbWideColumns);
}

/** The FDB rows `podnet inspect fdb` prints with these filters. */
export function fdbRows(s: Snapshot, f: { bridge?: string; multicast?: boolean }) {
  return inspectFdb(s).filter((r) => (f.bridge === undefined || r.bridge === f.bridge) && (f.multicast !== false || !r.multicast));
}

/** `podnet inspect neigh [NODE]`. */
export async function inspectNeighVerb(g: GlobalOptions, node: string | undefined, _o: unknown, cmd: Command): Promise<void> {
  const o = parentOpts(cmd);
  show('NeighList', inspectNeigh(await scan(g, node, o, cmd.parent!)), o.output, neighColumns);
}

/** `podnet inspect routes [POD|NODE]`. */
export async function inspectRoutesVerb(g: GlobalOptions, which: string | undefined, _o: unknown, cmd: Command): Promise<void> {
  const o = parentOpts(cmd);
  const s = await scan(g, undefined, o, cmd.parent!);
  let id: string | undefined;
  if (which) {
    const ns = findNamespace(s, which);
    if (!ns) throw new UserError('not-found', `no pod, node or namespace named "${which}" here (see podnet inspect links)`);
    id = ns.id;
  }
  show('RouteList', inspectRoutes(s, id), o.output, routeColumns, routeWideColumns);
}

/** `podnet inspect links [NODE]`. */
export async function inspectLinksVerb(g: GlobalOptions, node: string | undefined, _o: unknown, cmd: Command): Promise<void> {
  const o = parentOpts(cmd);
  show('LinkList', inspectLinks(await scan(g, node, o, cmd.parent!)), o.output, linkColumns);
}

/** The overlay rows of one node, this host or another namespace; of every node of a lab when none is given. */
async function overlayRows(deps: Awaited<ReturnType<typeof target>>['deps'], t: Target): Promise<OverlayViewRow[]> {
  if (t.kind === 'lab' && t.node === undefined) return (await inspectLab(deps.host, t.state, deps.stateRoot)).nodes.flatMap((n) => inspectOverlay(n.snapshot));
  return inspectOverlay(await inspectTarget(deps.host, t, deps.stateRoot));
}

/** `podnet inspect overlay [NODE]`. */
export async function inspectOverlayVerb(g: GlobalOptions, node: string | undefined, _o: unknown, cmd: Command): Promise<void> {
  const o = parentOpts(cmd);
  const { deps, t } = await target(g, node, o, cmd.parent!);
  show('OverlayList', await overlayRows(deps, t), o.output, overlayColumns, overlayWideColumns);
}

/** The drawing `podnet graph` makes of a target: a lab of several nodes (no NODE given) as a cluster,
 * else the one node (or host) as its graph. */
export async function graphOf(deps: LabDeps, t: Target): Promise<{ cluster: ClusterModel } | { graph: GraphModel }> {
  const services = async (graphs: GraphModel[]) => (t.kind === 'lab' && t.state.services?.length
    ? { services: (await import('../../views/graph-services.js')).graphServices(await (await import('../../lab/sync.js')).labEndpoints(t.state), graphs) } : {});
  if (t.kind === 'lab' && t.node === undefined && t.state.plan.nodes.length > 1) {
    const c = await inspectCluster(deps.host, t.state, deps.stateRoot);
    const cluster = clusterModel(c.nodes, c.underlay);
    return { cluster: { ...cluster, ...(await services(cluster.nodes)) } };
  }
  const graph = graphModel(await inspectTarget(deps.host, t, deps.stateRoot));
  return { graph: { ...graph, ...(await services([graph])) } };
}

/** `podnet graph [NODE]`. */
export async function graphVerb(g: GlobalOptions, node: string | undefined, o: TargetOptions, cmd: Command): Promise<void> {
  const f = outputFormat(o.output, ['mermaid', 'dot', 'svg', 'json'] as const);
  const { deps, t } = await target(g, node, { ...o, output: 'table' }, cmd);
  const d = await graphOf(deps, t);
  if (f === 'json') out(renderData('cluster' in d ? d.cluster : d.graph, 'json'));
  else if ('graph' in d) out(f === 'mermaid' ? renderGraphMermaid(d.graph) : f === 'dot' ? renderGraphDot(d.graph) : renderGraphSvg(d.graph));
  else if (f === 'svg') throw new UserError('usage', `-o svg draws one node: give it (podnet graph ${d.cluster.nodes[0]?.node ?? 'NODE'} -o svg), or draw the cluster with -o dot | dot -Tsvg`);
  else out(f === 'mermaid' ? renderClusterMermaid(d.cluster) : renderClusterDot(d.cluster));
}

/** `podnet inspect services [NODE]`: kube-proxy's rules joined from each Service port to the pods. */
export async function inspectServicesVerb(g: GlobalOptions, node: string | undefined, _o: unknown, cmd: Command): Promise<void> {
  const o = parentOpts(cmd);
  outputFormat(o.output, ['table', 'wide', 'json', 'yaml'] as const);
  const { deps, t } = await target(g, node, o, cmd.parent!);
  const [{ inspectServices }, { serviceRuleColumns, serviceRuleWideColumns }] = await Promise.all([import('../../inspect/services.js'), import('../../render/inspect/services.js')]);
  show('ServiceRuleList', await inspectServices(deps.host, t), o.output, serviceRuleColumns, serviceRuleWideColumns);
}
