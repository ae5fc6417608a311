// `podnet run`, `podnet delete pod`, `podnet exec`: one pod at a time, as kubectl users expect.
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, lazyUnder, type GlobalOptions } from './flags.js';
import { k8sDeleteCommands } from './k8s.js';
import { netpolDeleteCommands } from './netpol.js';

const actions = () => import('./actions/pod.js');
const collect = (v: string, acc: string[]) => [...acc, v];

/** Registers `run`, `delete pod` and `exec`. */
export function podCommands(program: Command, global: () => GlobalOptions): void {
  program.command('run <pod>')
    .description('add a pod to a running lab (a namespace, its process — the command after --, else a pause — loopback + cbr0 via CNI)')
    .argument('[command...]', 'the pod\'s main process and its arguments, after --')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('--node <node>', 'node to run on (default: the one with the fewest pods)')
    .option('-n, --namespace <ns>', 'the pod\'s Kubernetes namespace', 'default')
    .option('-l, --labels <k=v,…>', 'the pod\'s labels (what a Service selects it by), like app=web,tier=front')
    .option('--port <port>', 'a container port the pod declares (what a Service\'s targetPort may name: NAME=PORT[/UDP])', collect, [])
    .option('--dry-run', 'print the commands that would run and change nothing')
    .addHelpText('after', '\nExamples:\n  podnet run pod3 --node server\n  podnet run web1 --labels app=web -- busybox httpd -f -p 8080 -h /srv')
    .action(lazy(actions, (m) => m.runVerb, global));

  // --name is delete's own (`delete -f F --name L` as `delete pod P --name L`): commander gives a parent
  // every option it declares wherever it is typed, so its subcommands read it from there (lazyUnder).
  const del = program.command('delete').description('delete lab objects: pods, Services, or what a manifest names')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB);
  del.command('pod <pod>').alias('pods').alias('po')
    .description('delete a pod: CNI DEL, its process, its namespace')
    .option('--dry-run', 'print the commands that would run and change nothing')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nExample:\n  podnet delete pod pod3 --name big')
    .action(lazyUnder(actions, (m) => m.deletePodVerb, global));
  k8sDeleteCommands(del, global);
  netpolDeleteCommands(del, global);

  program.command('exec <pod>')
    .description('run a command inside a pod\'s network namespace, or the lab\'s outside host (`outside`) (stdin/stdout pass through, exit code kept)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet exec pod1 -- ip addr\n  podnet exec pod1 -- ping -c 3 10.42.0.3\n  podnet exec outside -- wget -qO- http://198.51.100.2:30080')
    .action(lazy(actions, (m) => m.execVerb, global));
}
