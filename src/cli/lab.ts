// `podnet lab up|down|status|list`: bring a lab up from a topology, take it down, show it.
import type { Command } from 'commander';
import { labDown, labUp, requireRoot } from '../lab/lab.js';
import { LabDir, listLabDirs, type LabState } from '../lab/state.js';
import { parseStoreChoice } from '../lab/cluster.js';
import { renderTable } from '../render/table.js';
import { renderData } from '../render/output.js';
import { TopologyError } from '../model/topology.js';
import { DEFAULT_LAB, labDeps, loadTopology, out, positiveInt, say, type GlobalOptions, labName, outputFormat } from './context.js';
import { showPods } from './get.js';

/** Where a lab's leases live, for people: `file`, `etcd (the lab's, 198.51.100.254:2379)`, `etcd://H:P`. */
function storeOf(s: LabState): string {
  const o = s.overlay;
  if (!o || o.store === 'file') return 'file';
  return o.etcd ? `etcd (the lab's, ${o.endpoint?.slice('etcd://'.length)})` : o.endpoint ?? 'etcd';
}

/** Registers the `lab` verbs. */
export function labCommand(program: Command, global: () => GlobalOptions): void {
  const lab = program.command('lab').description('bring labs up and down');

  lab.command('up')
    .description('bring a lab up: nodes, pods and the underlay as network namespaces, wired by podnet\'s CNI plugins')
    .option('-f, --file <file>', 'topology file (YAML); default: the blog\'s node "server" with pod1 and pod2')
    .option('--name <name>', 'lab name (default: the file\'s name:, else "demo")', labName)
    .option('--pods <n>', 'pods pod1…podN instead of the file\'s (spread over the nodes)', positiveInt('--pods'))
    .option('--nodes <n>', 'nodes server, agent1…agentN-1 instead of the file\'s, joined by flannel\'s VXLAN', positiveInt('--nodes', 250, 'nodes'))
    .option('--store <store>', 'where node subnet leases live: file (default), etcd (the lab runs its own, with one agent process per node) or etcd://HOST:PORT', 'file')
    .option('--lease-ttl <seconds>', 'lease TTL of the agents with etcd (flannel: 86400)', positiveInt('--lease-ttl', 10_000_000, 'seconds'))
    .option('--dry-run', 'print the commands that would run, in order, and change nothing')
    .addHelpText('after', '\nExamples:\n  podnet lab up\n  podnet lab up --pods 10 --name big\n  podnet lab up --nodes 3 --pods 6\n  podnet lab up --nodes 3 --pods 6 --store etcd\n  podnet lab up -f lab.yaml --dry-run')
    .action(async (o: { file?: string; name?: string; pods?: number; nodes?: number; store: string; leaseTtl?: number; dryRun?: boolean }) => {
      const opts = { ...global(), dryRun: o.dryRun };
      const store = parseStoreChoice(o.store);
      const topology = await loadTopology(o.file, o.pods, o.nodes);
      const name = o.name ?? topology.name ?? DEFAULT_LAB;
      if (!opts.dryRun) requireRoot('lab up');
      const { deps, recorder } = labDeps(opts);
      const t = performance.now();
      const state = await labUp(deps, name, topology, { store, ...(o.leaseTtl ? { leaseTtl: o.leaseTtl } : {}) }).catch((e: unknown) => {
        // Checks against the machine (its routes) run in labUp: name the file as loadTopology does.
        if (e instanceof TopologyError && o.file) throw new TopologyError('', `${o.file}: ${e.message}`);
        throw e;
      });
      if (recorder) {
        out(`# podnet lab up --name ${name} (dry run): these commands would run, in this order\n${recorder.script()}\n`);
        return;
      }
      say(`lab "${name}" is up: ${state.plan.nodes.length} node(s), ${state.pods.length} pod(s) in ${Math.round(performance.now() - t)} ms`);
      await showPods(deps, name, 'wide');
    });

  lab.command('down')
    .description('take a lab down: its processes, namespaces, IPAM state and files')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExamples:\n  podnet lab down\n  podnet lab down --name big')
    .action(async (o: { name: string; dryRun?: boolean }) => {
      const opts = { ...global(), dryRun: o.dryRun };
      if (!opts.dryRun) requireRoot('lab down');
      const { deps, recorder } = labDeps(opts);
      const removed = await labDown(deps, o.name);
      if (recorder) out(`${recorder.script()}\n`);
      else say(removed ? `lab "${o.name}" is down` : `lab "${o.name}" is not up: nothing to remove`);
    });

  lab.command('status')
    .description('show a lab\'s nodes and pods as the kernel has them')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-o, --output <format>', 'wide | json | yaml', 'wide')
    .addHelpText('after', '\nExample:\n  podnet lab status -o yaml')
    .action(async (o: { name: string; output: string }) => {
      const format = outputFormat(o.output, ['wide', 'json', 'yaml'] as const);
      requireRoot('lab status');
      const { deps } = labDeps(global());
      const state = await new LabDir(deps.stateRoot, o.name).read();
      if (!state) {
        say(`lab "${o.name}" is not up: run \`podnet lab up${o.name === DEFAULT_LAB ? '' : ` --name ${o.name}`}\``);
        return;
      }
      if (format === 'json' || format === 'yaml') {
        out(renderData(state, format));
        return;
      }
      out(`lab ${state.lab}: ${state.status}, ${state.plan.nodes.length} node(s), ${state.pods.length} pod(s), underlay ${state.plan.underlay.cidr}, cluster ${state.plan.clusterCIDR}, leases in ${storeOf(state)}\n\n`);
      await showPods(deps, o.name, 'wide');
    });

  lab.command('list')
    .description('list the labs on this machine')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .addHelpText('after', '\nExample:\n  podnet lab list')
    .action(async (o: { output: string }) => {
      const format = outputFormat(o.output, ['table', 'json', 'yaml'] as const);
      const { deps } = labDeps(global());
      const states = (await Promise.all((await listLabDirs(deps.stateRoot)).map((n) => new LabDir(deps.stateRoot, n).read()))).filter((s) => s !== undefined);
      const rows = states.map((s) => ({ name: s.lab, status: s.status, nodes: s.plan.nodes.length, pods: s.pods.length, store: storeOf(s), created: s.createdAt }));
      if (format === 'json' || format === 'yaml') out(renderData(rows, format));
      else out(renderTable(rows, [
        { header: 'NAME', cell: (r) => r.name }, { header: 'STATUS', cell: (r) => r.status },
        { header: 'NODES', cell: (r) => r.nodes }, { header: 'PODS', cell: (r) => r.pods }, { header: 'STORE', cell: (r) => r.store }, { header: 'CREATED', cell: (r) => r.created },
      ], 'No labs found.'));
    });
}
