// `podnet run`, `podnet delete pod`, `podnet exec`: one pod at a time, as kubectl users expect.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, type GlobalOptions } from './flags.js';

const actions = () => import('./actions/pod.js');

/** Registers `run`, `delete pod` and `exec`. */
export function podCommands(program: Command, global: () => GlobalOptions): void {
  program.command('run <pod>')
    .description('add a pod to a running lab (a namespace, its process, loopback + cbr0 via CNI)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--node <node>', 'node to run on (default: the one with the fewest pods)')
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExample:\n  podnet run pod3 --node server')
    .action(lazy(actions, (m) => m.runVerb, global));

  const del = program.command('delete').description('delete lab objects');
  del.command('pod <pod>').alias('pods').alias('po')
    .description('delete a pod: CNI DEL, its process, its namespace')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExample:\n  podnet delete pod pod3')
    .action(lazy(actions, (m) => m.deletePodVerb, global));

  program.command('exec <pod>')
    .description('run a command inside a pod\'s network namespace (stdin/stdout pass through, exit code kept)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet exec pod1 -- ip addr\n  podnet exec pod1 -- ping -c 3 10.42.0.3')
    .action(lazy(actions, (m) => m.execVerb, global));
}
