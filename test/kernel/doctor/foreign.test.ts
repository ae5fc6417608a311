// doctor on networks podnet did not build, read as a namespace (--netns) and as "this host" (podnet run
// inside the namespace with --host): a host namespace H wired by Debian's reference plugins (bridge,
// host-local, loopback from /usr/lib/cni, K3s's cbr0 delegate config), and a namespace P where podman
// 4.3 (CNI backend, reference plugins) runs a busybox container. Sensible answers (nothing wrong on a
// healthy network; a problem made by hand is found and named), no crash, and the kernel byte-identical
// before and after (read independently). podman is driven as test/kernel/inspect/podman.test.ts does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host } from '../../../src/host/host.js';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { doctor } from '../../../src/inspect/doctor/index.js';
import type { DoctorReport } from '../../../src/model/doctor/types.js';
import { alive, run, runStatus, uniqueName, waitFor } from '../helpers.js';
import { busyboxRootfs, cniExec, containerId, deleteNetnsWithPrefix, missing, mountsUnder } from '../inspect/foreign.js';
import { firstDifference, kernelState, settled } from './kernel-state.js';

const prefix = `${uniqueName('pndr')}-`;
const BIN = new URL('../../../../bin/podnet.js', import.meta.url).pathname;
let tmp = '';

before(async () => { tmp = await mkdtemp(join(tmpdir(), 'podnet-kernel-doctor-foreign-')); });
after(async () => {
  const left = deleteNetnsWithPrefix(prefix);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  if (left.length) throw new Error(`namespaces left: ${left.join(', ')}`);
});

/** doctor on namespace `ns` through the library (--netns). */
const onNetns = (ns: string): Promise<DoctorReport> => doctor(new Host(new ExecRunner()), { kind: 'netns', netns: netnsNamed(ns), label: ns }, join(tmp, 'state'));
/** `podnet doctor --host -o json` run inside `ns`, as a user on that machine would: its report and exit code. */
function asHost(ns: string): { code: number; report: DoctorReport } {
  const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, process.execPath, BIN, 'doctor', '--host', '-o', 'json'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PODNET_STATE_DIR: join(tmp, 'state') } });
  return { code: r.status ?? -1, report: JSON.parse(r.stdout) as DoctorReport };
}
/** Runs `fn` and checks that the namespaces are exactly as before. */
async function readOnly<T>(nss: readonly string[], fn: () => Promise<T> | T): Promise<T> {
  const paths = nss.map((n) => `/run/netns/${n}`);
  assert.ok(await settled(paths), 'IPv6 duplicate address detection ended');
  const before = kernelState(paths);
  const out = await fn();
  kernelState(paths).forEach((a, i) => assert.equal(firstDifference(before[i], a), undefined, `${paths[i]} changed under doctor`));
  return out;
}

describe('the Debian reference plugins (K3s\'s cbr0 delegate config)', () => {
  const skip = missing({ '/usr/lib/cni/bridge': 'containernetworking-plugins', '/usr/lib/cni/host-local': 'containernetworking-plugins', '/usr/lib/cni/loopback': 'containernetworking-plugins' });
  const T = { timeout: 60_000, ...(skip ? { skip } : {}) };
  const H = `${prefix}h`;
  const pods = [1, 2, 3].map((n) => ({ ns: `${prefix}p${n}`, cid: containerId() }));
  before(() => {
    if (skip) return;
    run(['ip', 'netns', 'add', H]);
    run(['ip', '-n', H, 'link', 'set', 'lo', 'up']);
    const conf = { cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, hairpinMode: true, ipMasq: false, mtu: 1450,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '10.42.0.0/16' }], dataDir: join(tmp, 'host-local') } };
    for (const p of pods) {
      run(['ip', 'netns', 'add', p.ns]);
      const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: p.cid, CNI_NETNS: `/run/netns/${p.ns}`, CNI_IFNAME: 'eth0' };
      cniExec(H, 'loopback', { ...env, CNI_IFNAME: 'lo' }, { cniVersion: '1.0.0', name: 'cbr0', type: 'loopback' });
      cniExec(H, 'bridge', env, conf);
    }
  });

  test('--netns H: nothing wrong, its three pods seen, the kernel untouched', T, async () => {
    const r = await readOnly([H, ...pods.map((p) => p.ns)], () => onNetns(H));
    assert.deepEqual(r.findings, []);
    assert.equal(r.target, H);
  });

  test('--host inside H (podnet run under nsenter): the same answer, exit 0, untouched', T, async () => {
    const { code, report } = await readOnly([H, ...pods.map((p) => p.ns)], () => asHost(H));
    assert.equal(code, 0);
    assert.equal(report.target, 'this host');
    assert.deepEqual(report.findings, []);
  });

  test('problems made by hand are found: forwarding off, one pod\'s MTU off its veth', T, async () => {
    run(['nsenter', `--net=/run/netns/${H}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    run(['ip', '-n', pods[0].ns, 'link', 'set', 'eth0', 'mtu', '1400']);
    try {
      const r = await onNetns(H);
      assert.deepEqual(r.findings.map((f) => f.id), ['ip-forward-off', 'pod-mtu']);
      assert.ok(r.findings[1].fix.includes(`ip -n ${pods[0].ns} link set eth0 mtu 1450`), r.findings[1].fix.join('\n'));
    } finally {
      run(['nsenter', `--net=/run/netns/${H}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      run(['ip', '-n', pods[0].ns, 'link', 'set', 'eth0', 'mtu', '1450']);
    }
    assert.deepEqual((await onNetns(H)).findings, []);
  });
});

describe('podman 4.3 with its CNI backend', () => {
  const skip = missing({ '/usr/bin/podman': 'podman', '/usr/sbin/runc': 'runc', '/usr/lib/cni/bridge': 'containernetworking-plugins', '/usr/bin/busybox': 'busybox' });
  const T = { timeout: 120_000, ...(skip ? { skip } : {}) };
  const P = `${prefix}pm`;
  const NET = `${prefix}n`.slice(0, 15);
  let dir = '';
  let conf = '';
  const podman = (args: readonly string[]) => spawnSync('nsenter', [`--net=/run/netns/${P}`, '--', 'podman', '--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--runtime', 'runc', ...args],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CONTAINERS_CONF: conf } });
  let sandbox = '';
  before(async () => {
    if (skip) return;
    dir = await mkdtemp(join(tmpdir(), 'pndp-')); // podman refuses a runroot longer than 50 characters
    conf = join(dir, 'containers.conf');
    mkdirSync(join(dir, 'cni.d'), { recursive: true });
    await writeFile(conf, `[engine]\ntmp_dir = "${join(dir, 'libpod-tmp')}"\n[network]\nnetwork_backend = "cni"\ncni_plugin_dirs = ["/usr/lib/cni"]\nnetwork_config_dir = "${join(dir, 'cni.d')}"\n`);
    await writeFile(join(dir, 'cni.d', `${NET}.conflist`), JSON.stringify({ cniVersion: '1.0.0', name: NET, plugins: [{ type: 'bridge', bridge: `cni-${uniqueName('d')}`, isGateway: true, ipMasq: false, hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: `10.89.${1 + (process.pid % 250)}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'host-local') } }] }));
    busyboxRootfs(join(dir, 'rootfs'));
    run(['ip', 'netns', 'add', P]);
    run(['ip', '-n', P, 'link', 'set', 'lo', 'up']);
    const r = podman(['run', '-d', '--name', 'pndoc', '--network', NET, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--rootfs', join(dir, 'rootfs'), '/bin/busybox', 'sleep', '600']);
    if (r.status !== 0) throw new Error(`podman run: ${r.stderr}`);
    sandbox = (JSON.parse(podman(['inspect', 'pndoc']).stdout) as { NetworkSettings: { SandboxKey: string } }[])[0].NetworkSettings.SandboxKey;
  });
  after(async () => {
    if (skip || !dir) return;
    podman(['rm', '-f', '-t', '0', '--all']);
    const ours = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
      try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir) && alive(pid); } catch { return false; }
    });
    await waitFor(() => ours().length === 0, 10_000, 100);
    for (const pid of ours()) runStatus(['kill', '-9', String(pid)]);
    if (sandbox && existsSync(sandbox)) runStatus(['ip', 'netns', 'del', sandbox.split('/').pop()!]);
    for (const f of existsSync('/var/lib/cni/results') ? readdirSync('/var/lib/cni/results') : []) if (f.startsWith(`${NET}-`)) rmSync(join('/var/lib/cni/results', f), { force: true });
    for (const m of mountsUnder(dir)) runStatus(['umount', '-l', m]);
    await rm(dir, { recursive: true, force: true });
  });

  test('--netns P: podman\'s bridge and its container seen, nothing wrong, the kernel untouched', T, async () => {
    const r = await readOnly([P, sandbox.split('/').pop()!], () => onNetns(P));
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.nodes, [P]);
  });

  test('--host inside P: exit 0, untouched', T, async () => {
    const { code, report } = await readOnly([P, sandbox.split('/').pop()!], () => asHost(P));
    assert.equal(code, 0, JSON.stringify(report.findings));
  });
});
