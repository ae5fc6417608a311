// The cluster DNS of a real lab (`labUp(…, { dns: true })`), asked by real clients from inside a pod:
// busybox nslookup and glibc's getent (search path and ndots:5 at work) run in the mount and network
// namespaces of a pod's own process (`nsenter -t PID -n -m`), so they see what the pod sees. Records
// for ClusterIP and headless Services, SRV, pods, NXDOMAIN, REFUSED outside the cluster; records that
// follow a new Service and a deleted endpoint; the machine's /etc/resolv.conf never touched; lab down
// leaves no DNS process and no file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { labDown } from '../../../src/lab/down.js';
import { podDelete, podRun } from '../../../src/lab/pods.js';
import { applyManifests } from '../../../src/lab/services.js';
import type { ServiceManifest } from '../../../src/model/manifest.js';
import { cmdline, labProcesses, runStatus, waitFor, withLab } from '../helpers.js';
import { runByUnboundSocket } from '../../../src/host/unbound.js';

const T = { timeout: 60_000 };
const machineResolv = () => createHash('sha256').update(readFileSync('/etc/resolv.conf')).digest('hex');
const resolvMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === '/etc/resolv.conf');
const before0 = { hash: machineResolv(), mounts: resolvMounts() };

const k = withLab('dns', 2, { prefix: 'dns', up: { dns: true } });
const svc = (name: string, clusterIP?: string): ServiceManifest => ({
  kind: 'Service', name, namespace: 'default', type: 'ClusterIP', selector: { app: 'web' }, externalTrafficPolicy: 'Cluster', sessionAffinity: 'None',
  ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }], ...(clusterIP ? { clusterIP } : {}),
});
const webSpec = (root: string) => ({ labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' as const }], commands: [['busybox', 'httpd', '-f', '-p', '8080', '-h', join(root, 'www')]] });
let web = { pid: 0, ip: '' };
let web2Ip = '';
let dnsIp = '';

/** Runs argv in the network and mount namespaces of the web pod's process (what its containers see). */
const inPod = (argv: string[], timeoutMs = 10_000) => runStatus(['nsenter', '-t', String(web.pid), '-n', '-m', '--', ...argv], timeoutMs);
/** The addresses busybox nslookup answered (not the server's own `Address: IP:53` line). */
const addresses = (out: string) => [...out.matchAll(/^Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]).sort();
const lookup = (name: string, server?: string) => inPod(['busybox', 'nslookup', name, ...(server ? [server] : [])]).stdout;

before(async () => {
  await k.ready();
  await mkdir(join(k.root, 'www'));
  await writeFile(join(k.root, 'www', 'index.html'), 'hello from web\n');
  const w = await podRun(k.deps, k.lab, 'web', 'server', webSpec(k.root));
  const w2 = await podRun(k.deps, k.lab, 'web2', 'server', webSpec(k.root));
  web = { pid: w.pid ?? 0, ip: w.ip ?? '' };
  web2Ip = w2.ip ?? '';
  // The bind mount is made by the process itself just before it execs httpd.
  for (const pid of [web.pid, w2.pid ?? 0]) assert.ok(await waitFor(() => cmdline(pid)?.[1] === 'httpd', 5000), `pod process ${pid} execs httpd`);
  await applyManifests(k.deps, k.lab, [svc('web'), svc('web-h', 'None')]);
  dnsIp = k.state().pods.find((p) => p.name === 'kube-dns')?.ip ?? '';
});

test('the DNS pod: kube-dns in kube-system on the server node, unbound marked as the lab\'s, on 53/UDP and 53/TCP', T, () => {
  const p = k.state().pods.find((x) => x.name === 'kube-dns');
  assert.ok(p?.pid, 'the lab has a kube-dns pod with a process');
  assert.deepEqual([p.namespace, p.labels, p.node], ['kube-system', { 'k8s-app': 'kube-dns' }, 'server']);
  assert.equal(cmdline(p.pid)?.[0], 'unbound');
  assert.ok(labProcesses(k.lab).includes(p.pid), 'the process carries the lab\'s mark');
  const ss = ['-Hlnu', '-Hlnt'].map((o) => runStatus(['nsenter', `--net=/run/netns/${p.netns}`, 'ss', o]).stdout).join('');
  assert.equal((ss.match(/0\.0\.0\.0:53\s/g) ?? []).length, 2, ss);
});

test("a pod's process sees kubelet's resolv.conf on /etc/resolv.conf; the machine's file is untouched", T, () => {
  assert.equal(readFileSync(`/proc/${web.pid}/root/etc/resolv.conf`, 'utf8'), 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n');
  assert.equal(machineResolv(), before0.hash);
  assert.deepEqual(resolvMounts(), before0.mounts, 'no mount on /etc/resolv.conf in podnet\'s mount namespace');
});

test('A of a ClusterIP Service: short name through the search path (glibc, ndots:5), FQDN straight to the DNS pod and through 10.43.0.10', T, () => {
  const getent = inPod(['getent', 'ahostsv4', 'web']);
  assert.match(getent.stdout, /^10\.43\.0\.\d+\s+STREAM web\.default\.svc\.cluster\.local$/m, `${getent.stdout}${getent.stderr}`);
  const clusterIP = getent.stdout.split(/\s/)[0];
  assert.deepEqual(addresses(lookup('web.default.svc.cluster.local', dnsIp)), [clusterIP], 'from the DNS pod\'s own address');
  assert.deepEqual(addresses(lookup('web.default.svc.cluster.local')), [clusterIP], 'through the kube-dns Service (kube-proxy)');
  const dotted = inPod(['getent', 'ahostsv4', 'web.default']).stdout;
  assert.match(dotted, new RegExp(`^${clusterIP.replace(/\./g, '\\.')}\\s+STREAM web\\.default\\.svc\\.cluster\\.local$`, 'm'), `web.default: 1 dot < ndots:5, the search path completes it: ${dotted}`);
});

test('a headless Service: the ready endpoints\' IPs; SRV of a named port to the Service name, and to endpoint names when headless', T, () => {
  assert.deepEqual(addresses(lookup('web-h.default.svc.cluster.local')), [web.ip, web2Ip].sort());
  const srv = inPod(['busybox', 'nslookup', '-type=SRV', '_http._tcp.web.default.svc.cluster.local']).stdout;
  assert.match(srv, /service = 0 100 80 web\.default\.svc\.cluster\.local$/m, srv);
  const srvH = inPod(['busybox', 'nslookup', '-type=SRV', '_http._tcp.web-h.default.svc.cluster.local']).stdout;
  for (const ip of [web.ip, web2Ip]) assert.match(srvH, new RegExp(`service = 0 50 8080 ${ip.replace(/\./g, '-')}\\.web-h\\.default\\.svc\\.cluster\\.local$`, 'm'), srvH);
});

test('a pod\'s A record; NXDOMAIN for an unknown cluster name; REFUSED at once outside the cluster', T, () => {
  assert.deepEqual(addresses(lookup(`${web.ip.replace(/\./g, '-')}.default.pod.cluster.local`)), [web.ip]);
  assert.match(lookup('nope.default.svc.cluster.local'), /can't find nope\.default\.svc\.cluster\.local: NXDOMAIN/);
  const t0 = Date.now();
  assert.match(lookup('example.com'), /can't find example\.com: REFUSED/);
  assert.ok(Date.now() - t0 < 2000, `answered in ${Date.now() - t0} ms`);
});

test('http://web through the Service by its short name (busybox wget: resolv.conf, DNS, kube-proxy)', T, () => {
  const r = inPod(['busybox', 'wget', '-q', '-O', '-', 'http://web/']);
  assert.equal(r.stdout, 'hello from web\n', r.stderr);
});

/** Polls `name` until `ok(addresses)` or `ms` have passed; resolves with the ms it took, or -1. */
async function until(name: string, ok: (a: string[]) => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  for (let i = 0; i < 200 && Date.now() - t0 < ms; i++) {
    if (ok(addresses(lookup(name)))) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
  return -1;
}

test('records follow a new Service and a deleted endpoint within a second, no query dropped meanwhile', T, async (t) => {
  // A query loop in the pod for as long as both changes take (until the stop file exists; at most 500
  // queries): one line per query, `ok` or `FAIL`, with the time it took.
  const stop = join(k.root, 'stop');
  const loop = `i=0; while [ ! -e "$0" ] && [ $i -lt 500 ]; do a=$(date +%s%N); if busybox nslookup web.default.svc.cluster.local >/dev/null 2>&1; then r=ok; else r=FAIL; fi; echo "$r $(( ($(date +%s%N) - a) / 1000000 ))"; i=$((i+1)); done`;
  const child = spawn('nsenter', ['-t', String(web.pid), '-n', '-m', '--', 'busybox', 'sh', '-c', loop, stop], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  const ended = new Promise((resolve) => child.on('close', resolve));
  try {
    await waitFor(() => out.length > 0, 5000);
    await applyManifests(k.deps, k.lab, [svc('late')]);
    const late = await until('late.default.svc.cluster.local', (a) => a.length === 1, 1000);
    assert.ok(late >= 0, 'late.default.svc.cluster.local answers within a second of the Service');
    await podDelete(k.deps, k.lab, 'web2');
    const gone = await until('web-h.default.svc.cluster.local', (a) => a.length === 1 && a[0] === web.ip, 1000);
    assert.ok(gone >= 0, 'the deleted endpoint leaves web-h within a second');
    assert.equal(existsSync(join(k.root, k.lab, 'dns', 'resolv', 'web2.conf')), false, "the deleted pod's resolv.conf is gone");
    t.diagnostic(`late.default answered ${late} ms after the Service was applied; web-h lost web2 ${gone} ms after its deletion`);
  } finally {
    await writeFile(stop, '');
    await ended;
  }
  const rows = out.trim().split('\n').map((l) => l.split(' '));
  assert.deepEqual(rows.filter(([r]) => r !== 'ok'), [], 'every query of the loop was answered');
  const slowest = Math.max(...rows.map(([, ms]) => Number(ms)));
  assert.ok(slowest < 2000, `the slowest query took ${slowest} ms (busybox resends a lost query after seconds)`);
  t.diagnostic(`${rows.length} queries in a loop across both reloads, none failed, slowest ${slowest} ms`);
});

test('podnet talks to the control socket itself and answers as unbound-control does: output and exit code, for a good command, a bad one, and no server', T, async () => {
  const dir = join(k.root, k.lab, 'dns');
  const conf = join(dir, 'unbound.conf');
  const cases: [string, string[]][] = [[join(dir, 'control.sock'), ['status']], [join(dir, 'control.sock'), ['no_such_command']], [join(k.root, 'no-server.sock'), ['reload']]];
  for (const [socket, args] of cases) {
    const ours = await runByUnboundSocket({ socket, args });
    // The real client, pointed at the same socket (a copy of the configuration naming it).
    const other = join(k.root, 'probe.conf');
    await writeFile(other, readFileSync(conf, 'utf8').replace(/control-interface: .*/, `control-interface: "${socket}"`));
    const real = runStatus(['unbound-control', '-c', other, ...args]);
    assert.equal(ours.exitCode === 0, real.status === 0, `${args[0]} on ${socket}: podnet exits ${ours.exitCode}, unbound-control ${real.status} (${real.stderr.trim()})`);
    if (real.status === 0) assert.equal(ours.stdout.replace(/uptime: \d+/, ''), real.stdout.replace(/uptime: \d+/, ''), `${args[0]}: the same output`);
    else assert.match(ours.stdout + ours.stderr, /^error/, `${args[0]}: an error line as unbound-control prints`);
  }
});

test('lab down: no DNS process, no DNS file, no resolv.conf mount; the machine\'s file byte-identical', T, async () => {
  const dnsPid = k.state().pods.find((p) => p.name === 'kube-dns')?.pid ?? 0;
  assert.equal(await labDown(k.deps, k.lab), true);
  assert.equal(existsSync(`/proc/${dnsPid}`) && cmdline(dnsPid)?.[0] === 'unbound', false, 'unbound is gone');
  const confPath = join(k.root, k.lab, 'dns', 'unbound.conf');
  const left = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => (cmdline(Number(d)) ?? []).includes(confPath));
  assert.deepEqual(left, [], 'no process runs with the lab\'s DNS configuration');
  assert.equal(existsSync(join(k.root, k.lab)), false, 'the lab\'s files are gone');
  assert.equal(machineResolv(), before0.hash);
  assert.deepEqual(resolvMounts(), before0.mounts);
});

after(() => {
  assert.equal(machineResolv(), before0.hash, "the machine's /etc/resolv.conf is byte-identical");
});
