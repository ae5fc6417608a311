// Real connections for the policy tests: busybox wget from inside a pod's namespace (bounded by
// `timeout`; busybox's own -T crashes on Debian's 1.35), run asynchronously so a case's probes go side
// by side; and the pods every policy lab runs (busybox httpd on their ports, pages naming the pod).
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { podRun } from '../../../src/lab/pods.js';
import type { LabDeps } from '../../../src/lab/deps.js';
import type { ContainerPort } from '../../../src/model/k8s.js';

/** What a connection did: answered (any HTTP answer), refused (a REJECT or no listener), or nothing. */
export type Outcome = 'ok' | 'refused' | 'timeout' | 'error';

/** Runs argv and resolves with its exit code and output (never rejects); killed after `ms`. */
export function exec(argv: readonly string[], ms = 8000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: ms, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** An HTTP GET from inside namespace `ns` to ip:port. */
export async function httpProbe(ns: string, ip: string, port: number, seconds = 3): Promise<Outcome> {
  const r = await exec(['nsenter', `--net=/run/netns/${ns}`, 'timeout', String(seconds), 'busybox', 'wget', '-qO-', `http://${ip}:${port}/`], (seconds + 3) * 1000);
  if (r.code === 0 || /server returned error/.test(r.stderr)) return 'ok';
  if (/Connection refused/.test(r.stderr)) return 'refused';
  return r.code === 124 ? 'timeout' : 'error';
}

/** Lifts the nodes' ICMP rate limit (net.ipv4.icmp_ratelimit, per namespace: 1 s per destination after
 * a burst of 6). A REJECTed SYN needs two ICMP errors here (the first arrives while connect() still
 * holds the socket and only counts as a soft error), so a case's parallel probes from one client would
 * run out of them and wait for TCP's retransmissions instead of being refused. */
export function unlimitIcmp(lab: string, nodes: readonly string[] = ['server', 'agent1']): void {
  for (const n of nodes) execFileSync('nsenter', [`--net=/run/netns/podnet-${lab}-${n}`, 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0'], { timeout: 5000 });
}

/** A pod of a policy lab. */
export interface LabPod {
  name: string;
  node: string;
  namespace?: string;
  labels: Record<string, string>;
  /** Ports served (busybox httpd each); the first ones may carry names. */
  serve: number[];
  named?: Record<string, number>;
}

/** The pods of the policy labs (./table.ts describes them). */
export const POLICY_PODS: LabPod[] = [
  { name: 'web1', node: 'server', labels: { app: 'web' }, serve: [8080, 8081, 9000], named: { http: 8080 } },
  { name: 'client1', node: 'server', labels: { role: 'client' }, serve: [8080] },
  { name: 'other1', node: 'server', labels: { role: 'other' }, serve: [8080] },
  { name: 'web2', node: 'agent1', labels: { app: 'web', tier: 'canary' }, serve: [8080, 8081, 9000], named: { http: 8081 } },
  { name: 'client2', node: 'agent1', labels: { role: 'client' }, serve: [8080] },
  { name: 'a1', node: 'agent1', namespace: 'team-a', labels: { role: 'client' }, serve: [8080] },
];

/** Runs the pods (each serving a page with its name from `www`); resolves with their addresses. */
export async function runPolicyPods(deps: LabDeps, lab: string, www: string, pods: readonly LabPod[] = POLICY_PODS): Promise<Record<string, string>> {
  const ip: Record<string, string> = {};
  for (const p of pods) {
    await mkdir(join(www, p.name), { recursive: true });
    await writeFile(join(www, p.name, 'index.html'), `${p.name}\n`);
    const ports: ContainerPort[] = Object.entries(p.named ?? {}).map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' }));
    const commands = p.serve.map((port) => ['busybox', 'httpd', '-f', '-p', String(port), '-h', join(www, p.name)]);
    const s = await podRun(deps, lab, p.name, p.node, { labels: p.labels, ...(p.namespace ? { namespace: p.namespace } : {}), ports, commands });
    ip[p.name] = s.ip!;
  }
  return ip;
}
