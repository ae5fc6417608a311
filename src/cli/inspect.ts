// `podnet inspect` (pods, fdb, neigh, routes, links, overlay) and `podnet graph`: one scan of a lab
// node, this host or another namespace, joined and drawn; `inspect overlay` without a node scans every
// node of the lab. Works with no lab at all.
import type { Command } from 'commander';
import { requireRoot } from '../lab/lab.js';
import { LabError } from '../lab/errors.js';
import { inspectLab, inspectTarget, type InspectTarget } from '../inspect/inspect.js';
import { LabDir } from '../lab/state.js';
import type { Snapshot } from '../model/snapshot.js';
import { renderTable, type Column } from '../render/table.js';
import { renderData } from '../render/output.js';
import {
  findNamespace, fdbColumns, fdbWideColumns, graphModel, inspectFdb, inspectLinks, inspectNeigh, inspectOverlay, inspectPods, inspectRoutes,
  linkColumns, neighColumns, overlayColumns, overlayWideColumns, podColumns, podWideColumns, renderGraphDot, renderGraphMermaid, renderGraphSvg,
  routeColumns, routeWideColumns, type OverlayViewRow,
} from '../render/inspect/index.js';
import { DEFAULT_LAB, labDeps, labName, out, outputFormat, type GlobalOptions } from './context.js';

interface TargetOptions {
  host?: boolean;
  netns?: string;
  name: string;
  output: string;
}

/** Adds the flags that choose what to inspect. */
function targetOptions(cmd: Command): Command {
  return cmd
    .option('--host', 'inspect the namespace podnet runs in (run under `ip netns exec NODE` or `nsenter --net=…` to inspect that node)')
    .option('--netns <name|path>', 'inspect another namespace as the host: a name under /run/netns or a path such as /proc/PID/ns/net')
    .option('--name <lab>', 'the lab whose node to inspect', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'table | wide | json | yaml', 'table');
}

/** Checks the target flags and makes the dependencies of a scan. */
function scanDeps(global: GlobalOptions, node: string | undefined, o: TargetOptions) {
  requireRoot('inspect');
  if ([node !== undefined, !!o.host, !!o.netns].filter(Boolean).length > 1) {
    throw new LabError('give one of NODE, --host or --netns');
  }
  // Reads are half waiting (each `ip -n` sets up a mount namespace): more shells keep both cores busy.
  return labDeps(global, 8).deps;
}

async function scan(global: GlobalOptions, node: string | undefined, o: TargetOptions): Promise<Snapshot> {
  const deps = scanDeps(global, node, o);
  const target: InspectTarget = { lab: o.name, ...(node ? { node } : {}), ...(o.host ? { host: true } : {}), ...(o.netns ? { netns: o.netns } : {}) };
  return (await inspectTarget(deps.host.runner, target, deps.stateRoot)).snapshot;
}

/** The overlay rows of one node, this host or another namespace; of every node of the lab when none is given and the lab is up. */
async function overlayRows(global: GlobalOptions, node: string | undefined, o: TargetOptions): Promise<OverlayViewRow[]> {
  const deps = scanDeps(global, node, o);
  if (node === undefined && !o.host && !o.netns && await new LabDir(deps.stateRoot, o.name).read()) {
    return (await inspectLab(deps.host.runner, o.name, deps.stateRoot)).nodes.flatMap((n) => inspectOverlay(n.snapshot));
  }
  return inspectOverlay(await scan(global, node, o));
}

/** Prints rows in the chosen format: `kind` names the list in JSON/YAML. */
function show<T>(kind: string, rows: T[], format: string, columns: Column<T>[], wide: Column<T>[] = columns): void {
  const f = outputFormat(format, ['table', 'wide', 'json', 'yaml'] as const);
  if (f === 'json' || f === 'yaml') out(renderData({ kind, items: rows }, f));
  else out(renderTable(rows, f === 'wide' ? wide : columns, 'No entries found.'));
}

/** Registers `inspect` and `graph`. */
export function inspectCommand(program: Command, global: () => GlobalOptions): void {
  const inspect = targetOptions(program.command('inspect')
    .description('map a host\'s pod network: each pod\'s netns, eth0@ifN, host veth, bridge, MAC, hairpin, state')
    .argument('[node]', 'a node of the lab (default: the lab\'s first node if it is up, else this host)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nThe options above also go with fdb, neigh, routes, links and overlay (podnet inspect fdb --host -o json).\n\nExamples:\n  podnet inspect                 the demo lab\'s node\n  podnet inspect --host -o wide   this machine (a K3s node, say)\n  podnet inspect fdb              what cni0 learned, joined to pods\n  ip netns exec NODE podnet inspect --host'))
    .action(async (node: string | undefined, o: TargetOptions) => {
      show('InspectPodList', inspectPods(await scan(global(), node, o)), o.output, podColumns, podWideColumns);
    });

  (inspect.command('fdb')
    .description('the bridges\' forwarding database: each MAC, its port, the pod that owns it, learned/permanent/self')
    .argument('[node]', 'a node of the lab')
    .addHelpText('after', '\nExample:\n  podnet inspect fdb -o wide'))
    .action(async (node: string | undefined) => {
      const o = inspect.opts<TargetOptions>();
      show('FdbList', inspectFdb(await scan(global(), node, o)), o.output, fdbColumns, fdbWideColumns);
    });

  (inspect.command('neigh')
    .description('the neighbour (ARP) tables of every namespace, each MAC joined to its owner')
    .argument('[node]', 'a node of the lab')
    .addHelpText('after', '\nExample:\n  podnet inspect neigh'))
    .action(async (node: string | undefined) => {
      const o = inspect.opts<TargetOptions>();
      show('NeighList', inspectNeigh(await scan(global(), node, o)), o.output, neighColumns);
    });

  (inspect.command('routes')
    .description('routes of one pod or node (or of every namespace)')
    .argument('[pod|node]', 'a pod or node name, a pinned netns name, or ino:INODE')
    .addHelpText('after', '\nExamples:\n  podnet inspect routes pod1\n  podnet inspect routes --host'))
    .action(async (which: string | undefined) => {
      const o = inspect.opts<TargetOptions>();
      const s = await scan(global(), undefined, o);
      let id: string | undefined;
      if (which) {
        const ns = findNamespace(s, which);
        if (!ns) throw new LabError(`no pod, node or namespace named "${which}" here (see podnet inspect links)`);
        id = ns.id;
      }
      show('RouteList', inspectRoutes(s, id), o.output, routeColumns, routeWideColumns);
    });

  (inspect.command('links')
    .description('every link of every namespace: kind, master, MAC, MTU, state, addresses, and the veth peer')
    .argument('[node]', 'a node of the lab')
    .addHelpText('after', '\nExample:\n  podnet inspect links -o json'))
    .action(async (node: string | undefined) => {
      const o = inspect.opts<TargetOptions>();
      show('LinkList', inspectLinks(await scan(global(), node, o)), o.output, linkColumns);
    });

  (inspect.command('overlay')
    .description('the VXLAN overlay: flannel.1 (VNI, local IP, port, learning, MTU) and, per remote node, its route, neighbour and FDB entry, joined to the node')
    .argument('[node]', 'a node of the lab (default: every node of the lab)')
    .addHelpText('after', '\nExamples:\n  podnet inspect overlay            every node of the demo lab\n  podnet inspect overlay agent1 -o wide\n  podnet inspect overlay --host     this machine (a K3s node: remote nodes by IP)'))
    .action(async (node: string | undefined) => {
      const o = inspect.opts<TargetOptions>();
      show('OverlayList', await overlayRows(global(), node, o), o.output, overlayColumns, overlayWideColumns);
    });

  program.command('graph')
    .description('draw the topology: host interface, cni0, the veths, each pod namespace with eth0 and IP')
    .argument('[node]', 'a node of the lab')
    .option('--host', 'draw the namespace podnet runs in')
    .option('--netns <name|path>', 'draw another namespace as the host')
    .option('--name <lab>', 'the lab whose node to draw', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'mermaid | dot | svg | json', 'mermaid')
    .addHelpText('after', '\nExamples:\n  podnet graph                       Mermaid, shaped like the blog\'s diagram\n  podnet graph -o svg > node.svg     drawn without a browser\n  podnet graph -o dot | dot -Tpng > node.png')
    .action(async (node: string | undefined, o: TargetOptions) => {
      const f = outputFormat(o.output, ['mermaid', 'dot', 'svg', 'json'] as const);
      const model = graphModel(await scan(global(), node, { ...o, output: 'table' }));
      if (f === 'json') out(renderData(model, 'json'));
      else out(f === 'mermaid' ? renderGraphMermaid(model) : f === 'dot' ? renderGraphDot(model) : renderGraphSvg(model));
    });
}
