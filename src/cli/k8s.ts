// `podnet apply|delete -f`, `podnet expose pod`, `podnet get svc|endpoints`, `podnet delete svc`:
// Kubernetes objects in a lab, as kubectl users expect them. podnet's `--name` always names the lab;
// the Service `expose` makes is named with `--service` (kubectl's `--name`).
import type { Command } from 'commander';
import { DEFAULT_LAB, labName, lazy, lazyUnder, portNumber, type GlobalOptions } from './flags.js';

const actions = () => import('./actions/k8s.js');

/** Registers `apply`, `expose`, `get svc`, `get endpoints`, `delete svc` and `delete -f`. */
export function k8sCommands(program: Command, global: () => GlobalOptions): void {
  program.command('apply')
    .description('create the Pods, Services, NetworkPolicies and Namespaces of Kubernetes manifests (YAML, several documents) in a lab: all or nothing (an existing NetworkPolicy or Namespace is replaced)')
    .requiredOption('-f, --file <file>', 'the manifest file (- for stdin)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet apply -f web.yaml\n  podnet apply -f deny-all.yaml     a NetworkPolicy (docs/networkpolicy.md)\n  cat web.yaml | podnet apply -f -')
    .action(lazy(actions, (m) => m.applyVerb, global));

  program.command('expose')
    .description('a Service for a pod, like kubectl expose: named after the pod, selecting it by its labels')
    .argument('<kind>', 'pod')
    .argument('<pod>', 'the pod')
    .requiredOption('--port <port>', 'the Service port', portNumber('--port'))
    .option('--target-port <port>', 'the pod\'s port (a number or a container port\'s name; default: --port)')
    .option('--protocol <protocol>', 'TCP or UDP', 'TCP')
    .option('--type <type>', 'ClusterIP or NodePort', 'ClusterIP')
    .option('--node-port <port>', 'with --type NodePort: the node port (default: the first free one of 30000-32767)', portNumber('--node-port'))
    .option('--service <name>', 'the Service\'s name (kubectl\'s --name; podnet\'s --name is the lab)')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .addHelpText('after', '\nExamples:\n  podnet expose pod web1 --port 80 --target-port 8080\n  podnet expose pod web1 --port 80 --target-port 8080 --type NodePort --service web')
    .action(lazy(actions, (m) => m.exposeVerb, global));
}

/** Adds `get svc|services` and `get endpoints|ep` to `get`. */
export function k8sGetCommands(get: Command, global: () => GlobalOptions): void {
  get.command('services').alias('service').alias('svc')
    .description('list the lab\'s Services: type, cluster IP, ports, age, selector')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-n, --namespace <ns>', 'only this Kubernetes namespace (default: every one)')
    .option('-A, --all-namespaces', 'every Kubernetes namespace (the default)')
    .option('-o, --output <format>', 'wide | json | yaml', 'table')
    .addHelpText('after', '\nExamples:\n  podnet get svc -o wide\n  podnet get svc -n kube-system')
    .action(lazy(actions, (m) => m.getServicesVerb, global));
  get.command('endpoints').alias('ep').alias('endpointslices')
    .description('list each Service\'s endpoints: the pods it selects, at the ports its targetPort names')
    .option('--name <name>', 'lab name', labName, DEFAULT_LAB)
    .option('-n, --namespace <ns>', 'only this Kubernetes namespace (default: every one)')
    .option('-A, --all-namespaces', 'every Kubernetes namespace (the default)')
    .option('-o, --output <format>', 'wide | json | yaml', 'table')
    .addHelpText('after', '\nExample:\n  podnet get endpoints')
    .action(lazy(actions, (m) => m.getEndpointsVerb, global));
}

/** Adds `delete svc NAME` and `delete -f FILE` to `delete`. */
export function k8sDeleteCommands(del: Command, global: () => GlobalOptions): void {
  del.option('-f, --file <file>', 'delete the objects a manifest names (- for stdin)')
    .addHelpText('after', '\nExamples:\n  podnet delete pod pod3\n  podnet delete svc web\n  podnet delete -f web.yaml')
    .action(lazy(actions, (m) => m.deleteFileVerb, global));
  del.command('service <service>').alias('services').alias('svc')
    .description('delete a Service: its rules go from every node, its DNS name from the cluster DNS')
    .option('-n, --namespace <ns>', 'its Kubernetes namespace', 'default')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nExample:\n  podnet delete svc web')
    .action(lazyUnder(actions, (m) => m.deleteServiceVerb, global));
}
