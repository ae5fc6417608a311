// The DNS pod a lab runs when it is brought up with DNS: `kube-dns` in kube-system on the server node,
// labelled k8s-app=kube-dns (the kube-dns Service's selector), made like any pod (its own namespace, an
// IP through CNI, its process marked as the lab's), its process unbound reading the configuration and
// records ./dns.ts writes. lab down removes it with the other pods.
//
// `lab up` plans it with the topology's pods (planDnsPod: its namespace in their batch, its address
// the next one on the server node, attached in their pool, unbound started beside their pause
// processes); a DNS pod made again later (`lab break` undone) goes through `podnet run`'s path.
import { unboundReload } from '../host/unbound.js';
import { UserError } from '../model/errors.js';
import { DNS_LABELS } from '../model/k8s.js';
import type { LabDeps } from './deps.js';
import { DNS_NAMESPACE, DNS_POD, DNS_PORTS, dnsFiles, dnsServerArgv, writeDnsConfig } from './dns.js';
import { planPod, type RandomSource } from './plan.js';
import { podSpecState, run, startPodProcesses, type PodSpec } from './pods.js';
import type { LabDir, LabState, PodState } from './state.js';

/** What Kubernetes knows of the DNS pod besides its name. */
const dnsSpec = (dir: LabDir): PodSpec => ({ namespace: DNS_NAMESPACE, labels: { ...DNS_LABELS }, ports: DNS_PORTS, commands: [dnsServerArgv(dir)] });

/** The DNS pod as `lab up` plans it with the other pods: on `node` (the server), not yet started. */
export function planDnsPod(dir: LabDir, lab: string, node: string, random: RandomSource, createdAt: string): PodState {
  return { ...planPod(lab, DNS_POD, node, random), createdAt, ...podSpecState(dnsSpec(dir)) };
}

/** Writes the DNS server's configuration and first records (from `state` as it is) and starts the
 * server in `pod`'s namespace, marked as the lab's. Resolves with its PIDs. */
export async function startDnsServer(deps: LabDeps, dir: LabDir, state: LabState, pod: PodState): Promise<number[]> {
  if (!deps.host.dryRun) await writeDnsConfig(dir, state);
  return startPodProcesses(deps, dir, state, pod);
}

/** Resolves once the lab's DNS server answers on its control socket (it reloads its records), or
 * rejects with a UserError naming the package when it does not within 5 s. */
export function dnsReady(deps: LabDeps, dir: LabDir, state: LabState): Promise<void> {
  if (deps.host.dryRun) return Promise.resolve();
  const f = dnsFiles(dir);
  return unboundReload(deps.host.runner, f.conf, 5000, f.control).then((r) => {
    if (r.exitCode === 0) return;
    throw new UserError('unavailable', `the DNS server of lab "${state.lab}" did not start (${(r.stderr || r.stdout).trim().split('\n')[0] || `unbound-control exited ${r.exitCode}`}): is Debian's unbound package installed? (apt-get install unbound; npm run setup installs it)`);
  });
}

/** Makes the lab's DNS pod on its first (server) node and waits until unbound answers. The caller
 * holds the lab's lock and then syncs the Services (which writes the records and has the server
 * reload them). */
export async function startDnsPod(deps: LabDeps, dir: LabDir, state: LabState): Promise<PodState> {
  if (!deps.host.dryRun) await writeDnsConfig(dir, state);
  const pod = await run(deps, dir, state, DNS_POD, state.plan.nodes[0]?.name, dnsSpec(dir));
  await dnsReady(deps, dir, state);
  return pod;
}
