// The cluster DNS of a lab, as kubelet and CoreDNS give it to pods: unbound in a DNS pod
// (kube-system, k8s-app=kube-dns, behind the kube-dns Service) answering from records podnet writes
// into <lab>/dns/records.conf and reloads after every change of pods or Services (the syncer below);
// and kubelet's resolv.conf, one file per pod in <lab>/dns/resolv/, bind-mounted on /etc/resolv.conf
// in a mount namespace of the pod's processes' own (the wrapper below) — never on the machine's.
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../host/dirs.js';
import { withResolvConf } from '../host/process.js';
import { unboundReload } from '../host/unbound.js';
import { UserError } from '../model/errors.js';
import { SERVICE_DEFAULTS, serviceIP, type ContainerPort, type ServicePortEndpoints } from '../model/k8s.js';
import { dnsPolicyOf, resolvConf, reverseZone, unboundLocalData, unboundServerConf, zoneRecords } from '../model/dns.js';
import type { LabDeps } from './deps.js';
import type { LabDir, LabState, PodState } from './state.js';
// Types only from ./sync.js: it lists this module's syncer and wrapper, so a value import back would
// make the two modules' evaluation order matter.
import type { ArgvWrapper, ServiceSyncer } from './sync.js';

/** The DNS pod's name (kube-system; K3s calls its pod coredns-…, but the server here is unbound). */
export const DNS_POD = 'kube-dns';
/** The DNS pod's Kubernetes namespace. */
export const DNS_NAMESPACE = 'kube-system';
/** The DNS pod's container ports (9153, the metrics port of the kube-dns Service, has no listener). */
export const DNS_PORTS: ContainerPort[] = [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }];

/** Where a lab's DNS files are. */
export function dnsFiles(dir: LabDir): { dir: string; conf: string; records: string; control: string; resolvDir: string } {
  const d = join(dir.dir, 'dns');
  return { dir: d, conf: join(d, 'unbound.conf'), records: join(d, 'records.conf'), control: join(d, 'control.sock'), resolvDir: join(d, 'resolv') };
}

/** The argv of the DNS pod's process: unbound in the foreground. */
export const dnsServerArgv = (dir: LabDir): string[] => ['unbound', '-d', '-c', dnsFiles(dir).conf];

/** The cluster DNS address kubelet writes into every resolv.conf (the tenth of the Service CIDR). */
export const clusterDnsIP = (state: LabState): string => serviceIP(state.plan.serviceCIDR, SERVICE_DEFAULTS.dnsIndex);

/** True when `pod`'s processes see kubelet's resolv.conf (dnsPolicy ClusterFirst: all but the DNS pod). */
export const usesClusterDns = (pod: PodState): boolean => dnsPolicyOf({ namespace: pod.namespace ?? 'default', labels: pod.labels ?? {} }) === 'ClusterFirst';

/** True when the lab runs a DNS pod. */
export const hasDnsPod = (state: LabState): boolean => state.pods.some((p) => p.name === DNS_POD && !usesClusterDns(p));

/** Writes `text` to `file` atomically unless it holds it already; true when it changed. */
async function writeIfChanged(file: string, text: string, mode = 0o600): Promise<boolean> {
  if ((await readFile(file, 'utf8').catch(() => undefined)) === text) return false;
  await writeFile(`${file}.tmp`, text, { mode });
  await rename(`${file}.tmp`, file);
  return true;
}

/** The records file for the lab as it is now, with the serial after the one in `previous`. */
function recordsText(state: LabState, endpoints: readonly ServicePortEndpoints[], previous: string | undefined): { text: string; same: boolean } {
  const render = (serial: number) => unboundLocalData(zoneRecords({
    services: state.services ?? [], endpoints, dnsIP: clusterDnsIP(state), serial,
    pods: state.pods.map((p) => ({ namespace: p.namespace ?? 'default', ...(p.ip ? { ip: p.ip } : {}) })),
  }), reverseZone(state.plan.serviceCIDR));
  const old = Number(/ IN SOA \S+ \S+ (\d+) /.exec(previous ?? '')?.[1] ?? 0);
  if (previous !== undefined && render(old) === previous) return { text: previous, same: true };
  return { text: render(Math.max(old + 1, Math.floor(Date.now() / 1000))), same: false };
}

/** Writes the DNS server's configuration and first records (before its pod starts). Refuses a state
 * directory whose path cannot be a Unix socket's or be quoted in unbound's configuration. */
export async function writeDnsConfig(dir: LabDir, state: LabState): Promise<void> {
  const f = dnsFiles(dir);
  if (Buffer.byteLength(f.control) > 107 || /["\n\\]/.test(f.dir)) throw new UserError('usage', `the state directory ${dir.root} is too long (or holds a quote) for the DNS server's control socket: set PODNET_STATE_DIR to a shorter path`);
  await ensureDir(f.dir);
  await writeIfChanged(f.records, recordsText(state, [], undefined).text);
  await writeIfChanged(f.conf, unboundServerConf({ dir: f.dir, recordsFile: f.records, controlSocket: f.control }));
}

/** Brings the DNS records to the lab's Services, endpoints and pods and makes the server reload them
 * (when the lab runs one); removes the resolv.conf of pods that are gone. */
async function syncDns(deps: LabDeps, dir: LabDir, state: LabState, endpoints: readonly ServicePortEndpoints[]): Promise<void> {
  if (deps.host.dryRun) return;
  const f = dnsFiles(dir);
  const keep = new Set(state.pods.map((p) => `${p.name}.conf`));
  for (const name of await readdir(f.resolvDir).catch(() => [] as string[])) if (!keep.has(name)) await rm(join(f.resolvDir, name), { force: true });
  if (!hasDnsPod(state)) return;
  const next = recordsText(state, endpoints, await readFile(f.records, 'utf8').catch(() => undefined));
  if (next.same) return;
  await writeIfChanged(f.records, next.text);
  const r = await unboundReload(deps.host.runner, f.conf, undefined, f.control);
  if (r.exitCode !== 0) deps.warn?.(`the DNS server of lab "${state.lab}" did not reload its records: ${(r.stderr || r.stdout).trim()}`);
}

/** The cluster DNS as a part that follows the Services and their endpoints. */
export const dnsSyncer: ServiceSyncer = { name: 'dns', sync: syncDns };

/** Writes the resolv.conf kubelet gives `pod` (unless it is there already) and returns its path. */
export async function podResolvConf(dir: LabDir, state: LabState, pod: PodState): Promise<string> {
  const f = dnsFiles(dir);
  const file = join(f.resolvDir, `${pod.name}.conf`);
  await ensureDir(f.resolvDir);
  // 0644 as kubelet's: a container process that is not root reads it through the bind mount.
  await writeIfChanged(file, resolvConf(pod.namespace ?? 'default', clusterDnsIP(state)), 0o644);
  return file;
}

/** The argv of a pod's container process, run where /etc/resolv.conf is the pod's kubelet file. A
 * pause process (a pod without commands) resolves nothing and is left as it is, and so are the DNS
 * pods (dnsPolicy Default). A dry run writes no file, so its script runs the command as it is (a
 * bind mount of a file that is not there would fail the replay). */
export const resolvConfWrapper: ArgvWrapper = async (deps, dir, state, pod, argv) => {
  if (deps.host.dryRun || !pod.commands?.length || !usesClusterDns(pod)) return [...argv];
  return withResolvConf(await podResolvConf(dir, state, pod), argv);
};
