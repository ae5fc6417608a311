// The DNS pod a lab runs when it is brought up with DNS: `kube-dns` in kube-system on the server node,
// labelled k8s-app=kube-dns (the kube-dns Service's selector), made like any pod (`podnet run`: its
// own namespace, an IP through CNI, its process marked as the lab's), its process unbound reading the
// configuration and records ./dns.ts writes. lab down removes it with the other pods.
import { unboundReload } from '../host/unbound.js';
import { UserError } from '../model/errors.js';
import { DNS_LABELS } from '../model/k8s.js';
import type { LabDeps } from './deps.js';
import { DNS_NAMESPACE, DNS_POD, DNS_PORTS, dnsFiles, dnsServerArgv, writeDnsConfig } from './dns.js';
import { run } from './pods.js';
import type { LabDir, LabState, PodState } from './state.js';

/** Makes the lab's DNS pod on its first (server) node and waits until unbound answers on its control
 * socket (a UserError naming the package when it does not); the caller holds the lab's lock and syncs
 * the Services afterwards (which writes the records and has the server reload them). */
export async function startDnsPod(deps: LabDeps, dir: LabDir, state: LabState): Promise<PodState> {
  if (!deps.host.dryRun) await writeDnsConfig(dir, state);
  const pod = await run(deps, dir, state, DNS_POD, state.plan.nodes[0]?.name, {
    namespace: DNS_NAMESPACE, labels: { ...DNS_LABELS }, ports: DNS_PORTS, commands: [dnsServerArgv(dir)],
  });
  if (deps.host.dryRun) return pod;
  const f = dnsFiles(dir);
  const r = await unboundReload(deps.host.runner, f.conf, 5000, f.control);
  if (r.exitCode !== 0) {
    throw new UserError('unavailable', `the DNS server of lab "${state.lab}" did not start (${(r.stderr || r.stdout).trim().split('\n')[0] || `unbound-control exited ${r.exitCode}`}): is Debian's unbound package installed? (apt-get install unbound; npm run setup installs it)`);
  }
  return pod;
}
