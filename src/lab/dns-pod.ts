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

/** Makes the lab's DNS pod on its first (server) node and resolves with it and `ready`: a promise that
 * resolves once unbound answers on its control socket, or rejects with a UserError naming the package
 * when it does not. The caller holds the lab's lock, awaits `ready`, and syncs the Services (which
 * writes the records and has the server reload them) — meanwhile, if it likes: a reload that comes
 * while the server is starting waits for it. */
export async function createDnsPod(deps: LabDeps, dir: LabDir, state: LabState): Promise<{ pod: PodState; ready: Promise<void> }> {
  if (!deps.host.dryRun) await writeDnsConfig(dir, state);
  const pod = await run(deps, dir, state, DNS_POD, state.plan.nodes[0]?.name, {
    namespace: DNS_NAMESPACE, labels: { ...DNS_LABELS }, ports: DNS_PORTS, commands: [dnsServerArgv(dir)],
  });
  if (deps.host.dryRun) return { pod, ready: Promise.resolve() };
  const f = dnsFiles(dir);
  const ready = unboundReload(deps.host.runner, f.conf, 5000, f.control).then((r) => {
    if (r.exitCode === 0) return;
    throw new UserError('unavailable', `the DNS server of lab "${state.lab}" did not start (${(r.stderr || r.stdout).trim().split('\n')[0] || `unbound-control exited ${r.exitCode}`}): is Debian's unbound package installed? (apt-get install unbound; npm run setup installs it)`);
  });
  ready.catch(() => undefined); // the caller awaits it
  return { pod, ready };
}

/** Makes the lab's DNS pod and waits until unbound answers (createDnsPod, then its `ready`). */
export async function startDnsPod(deps: LabDeps, dir: LabDir, state: LabState): Promise<PodState> {
  const { pod, ready } = await createDnsPod(deps, dir, state);
  await ready;
  return pod;
}
