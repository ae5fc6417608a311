// `podnet node add|delete NAME`: grow or shrink a running lab, the way nodes join and leave a K3s
// cluster — a lease for the newcomer, every other node programmed with it (or rid of it).
import type { Command } from 'commander';
import { nodeAdd, nodeDelete, requireRoot } from '../lab/lab.js';
import { DEFAULT_LAB, labDeps, out, say, type GlobalOptions, labName } from './context.js';

/** Registers `node add` and `node delete`. */
export function nodeCommands(program: Command, global: () => GlobalOptions): void {
  const node = program.command('node').description('add nodes to a running lab, or delete them');
  node.command('add <node>')
    .description('add a node: a namespace on the underlay, a subnet lease, flannel.1, and every node told about it')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExamples:\n  podnet node add agent3\n  podnet run pod9 --node agent3')
    .action(async (name: string, o: { name: string; dryRun?: boolean }) => {
      if (!o.dryRun) requireRoot('node add');
      const { deps, recorder } = labDeps({ ...global(), dryRun: o.dryRun });
      const t = performance.now();
      const n = await nodeAdd(deps, o.name, name);
      if (recorder) out(`${recorder.script()}\n`);
      else say(`node/${n.name} added: ${n.ip.split('/')[0]}, pod CIDR ${n.podCIDR}, VTEP ${n.vtepMac}; all nodes converged in ${Math.round(performance.now() - t)} ms`);
    });
  node.command('delete <node>').alias('rm')
    .description('delete a node: its pods, its agent, its lease and namespace; the other nodes drop their routes, FDB and neighbour entries for it')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExample:\n  podnet node delete agent2')
    .action(async (name: string, o: { name: string }) => {
      requireRoot('node delete');
      const { deps } = labDeps(global());
      await nodeDelete(deps, o.name, name);
      say(`node/${name} deleted`);
    });
}
