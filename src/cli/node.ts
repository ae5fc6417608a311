// `podnet node add|delete NAME`: grow or shrink a running lab, the way nodes join and leave a K3s
// cluster — a lease for the newcomer, every other node programmed with it (or rid of it).
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, type GlobalOptions } from './flags.js';

const actions = () => import('./actions/node.js');

/** Registers `node add` and `node delete`. */
export function nodeCommands(program: Command, global: () => GlobalOptions): void {
  const node = program.command('node').description('add nodes to a running lab, or delete them');
  node.command('add <node>')
    .description('add a node: a namespace on the underlay, a subnet lease, flannel.1, and every node told about it')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExamples:\n  podnet node add agent3\n  podnet run pod9 --node agent3')
    .action(lazy(actions, (m) => m.nodeAddVerb, global));
  node.command('delete <node>').alias('rm')
    .description('delete a node: its pods, its agent, its lease and namespace; the other nodes drop their routes, FDB and neighbour entries for it')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExample:\n  podnet node delete agent2')
    .action(lazy(actions, (m) => m.nodeDeleteVerb, global));
}
