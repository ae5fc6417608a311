// `podnet run`, `podnet delete pod`, `podnet exec`: one pod at a time, as kubectl users expect.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { podDelete, podExecArgv, podRun, requireRoot, requireUp } from '../lab/lab.js';
import { LabDir } from '../lab/state.js';
import { DEFAULT_LAB, labDeps, out, say, type GlobalOptions, labName } from './context.js';

/** Registers `run`, `delete pod` and `exec`. */
export function podCommands(program: Command, global: () => GlobalOptions): void {
  program.command('run <pod>')
    .description('add a pod to a running lab (a namespace, its process, loopback + cbr0 via CNI)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--node <node>', 'node to run on (default: the one with the fewest pods)')
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExample:\n  podnet run pod3 --node server')
    .action(async (pod: string, o: { name: string; node?: string; dryRun?: boolean }) => {
      if (!o.dryRun) requireRoot('run');
      const { deps, recorder } = labDeps({ ...global(), dryRun: o.dryRun });
      const p = await podRun(deps, o.name, pod, o.node);
      if (recorder) out(`${recorder.script()}\n`);
      else say(`pod/${p.name} created on ${p.node}: ${p.ip ?? '?'} (${p.hostVeth ?? '?'})`);
    });

  program.command('delete').description('delete lab objects')
    .command('pod <pod>')
    .description('delete a pod: CNI DEL, its process, its namespace')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExample:\n  podnet delete pod pod3')
    .action(async (pod: string, o: { name: string; dryRun?: boolean }) => {
      if (!o.dryRun) requireRoot('delete pod');
      const { deps, recorder } = labDeps({ ...global(), dryRun: o.dryRun });
      await podDelete(deps, o.name, pod);
      if (recorder) out(`${recorder.script()}\n`);
      else say(`pod "${pod}" deleted`);
    });

  program.command('exec <pod>')
    .description('run a command inside a pod\'s network namespace (stdin/stdout pass through, exit code kept)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet exec pod1 -- ip addr\n  podnet exec pod1 -- ping -c 3 10.42.0.3')
    .action(async (pod: string, command: string[], o: { name: string }) => {
      requireRoot('exec');
      const { deps } = labDeps(global());
      const state = await requireUp(new LabDir(deps.stateRoot, o.name), o.name);
      const argv = podExecArgv(state, pod, command);
      if (global().verbose) say(`+ ${argv.join(' ')}`);
      process.exitCode = await new Promise<number>((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
        child.on('error', (e) => { say(`error: ${e.message}`); resolve(127); });
        // A command killed by a signal ends the way a shell reports it: 128 + the signal's number.
        child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 15) : 1)));
      });
    });
}
