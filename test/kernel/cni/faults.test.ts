// Faults for podnet's CNI executables, driven exactly as a runtime drives them: the installed
// `podnet-bridge` (a Perl client written by `podnet cni install`) exec'd inside a host namespace H with
// `nsenter --net=/run/netns/H DIR/podnet-bridge`, the CNI environment and the config on stdin — once
// handing the request to a `podnet cni serve` daemon, once with no daemon (the client execs the one-shot
// Node plugin). Covers 50 parallel ADDs on a fresh node, kill -9 in the middle of ADD then DEL and GC,
// the IPAM data dir deleted under a running node, the node's subnet changing under cni0 (flannel#1850),
// and DEL of a container never added. Every namespace carries this file's unique prefix and is removed
// after each test (also on failure) and again in `after`; the daemon is stopped by its PID.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnClient, type Exit, type Started } from './client-world.js';
import { inet, kindOf, link, links, netnsWithPrefix, processGroup, run, sleep, tempDir, uniqueName, waitFor, within } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const T = { timeout: 180_000 };
const prefix = `${uniqueName('kf')}-`;
type Mode = 'daemon' | 'one-shot';
const MODES: Mode[] = ['daemon', 'one-shot'];

let tmp = '';
let bin = '';
let socket = '';
let daemon: { pid: number; exited: Promise<unknown> } | undefined;
let seq = 0;

/** Starts `DIR/exe` inside namespace `h` with the CNI environment and `stdin`; with `mode` one-shot the
 * client finds no daemon (PODNET_CNI_SOCKET names a socket that does not exist) and execs Node. */
function start(mode: Mode, h: string, exe: string, cni: Record<string, string>, stdin: string): Started {
  // The client falls back to one-shot when it cannot connect: make sure daemon mode means the daemon.
  if (mode === 'daemon') assert.ok(daemon && existsSync(`/proc/${daemon.pid}`) && existsSync(socket), 'podnet cni serve is running');
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', PODNET_CNI_SOCKET: mode === 'daemon' ? socket : join(tmp, 'no-daemon.sock'), ...cni };
  return spawnClient(h, join(bin, exe), env, stdin, 90_000);
}

/** One attachment: the pod namespace and container ID a runtime would pass. */
interface Pod { ns: string; cid: string }

function cniEnv(command: string, pod: Pod | { cid: string; netns: string }): Record<string, string> {
  const netns = 'ns' in pod ? `/run/netns/${pod.ns}` : pod.netns;
  return { CNI_COMMAND: command, CNI_CONTAINERID: pod.cid, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: bin, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.cid}` };
}

/** Runs the bridge plugin for `pod` to completion. */
function bridge(mode: Mode, h: string, command: 'ADD' | 'DEL' | 'GC', pod: Pod | { cid: string; netns: string }, conf: Record<string, unknown>): Promise<Exit> {
  return start(mode, h, 'podnet-bridge', cniEnv(command, pod), JSON.stringify(conf)).done;
}

/** K3s's bridge delegate (docs/facts.md#k3s) for podnet's executables, data in `dataDir`. */
function conf(dataDir: string, over: Record<string, unknown> = {}, subnet = '10.42.0.0/24'): Record<string, unknown> {
  return {
    cniVersion: '1.0.0', name: 'cbr0', type: 'podnet-bridge', bridge: 'cni0', hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: 1450,
    ipam: { type: 'podnet-host-local', ranges: [[{ subnet }]], routes: [{ dst: '10.42.0.0/16' }], dataDir },
    ...over,
  };
}

/** The same network as GC sees it: CNI 1.1.0 and the attachments to keep (none). */
const gcConf = (c: Record<string, unknown>) => ({ ...c, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [] });

/** Creates namespaces `<prefix><name>` in one `ip -batch`; returns the full names. */
function nsAdd(names: readonly string[]): string[] {
  const full = names.map((n) => `${prefix}${n}`);
  execFileSync('ip', ['-batch', '-'], { input: full.map((n) => `netns add ${n}\n`).join(''), stdio: ['pipe', 'ignore', 'pipe'], timeout: 20_000 });
  return full;
}

/** Deletes namespaces (those already gone are fine). */
function nsDel(names: readonly string[]): void {
  if (names.length === 0) return;
  try {
    execFileSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join(''), stdio: ['pipe', 'ignore', 'ignore'], timeout: 20_000 });
  } catch { /* some were gone */ }
}

/** A fresh world: host namespace H (a fresh node: no cni0 yet), `n` pod namespaces, a data dir. */
function world(label: string, n: number): { h: string; pods: Pod[]; dataDir: string; all: string[] } {
  const id = seq++;
  const names = [`${label}${id}-H`, ...Array.from({ length: n }, (_, i) => `${label}${id}-p${i}`)];
  const all = nsAdd(names);
  return { h: all[0], pods: all.slice(1).map((ns, i) => ({ ns, cid: `${label}${id}c${i}${uniqueName('x')}` })), dataDir: join(tmp, `data-${label}${id}`), all };
}

/** Runs `body` on a world and removes its namespaces afterwards, whatever happened. */
async function inWorld(label: string, n: number, body: (w: ReturnType<typeof world>) => Promise<void>): Promise<void> {
  const w = world(label, n);
  try {
    await body(w);
  } finally {
    nsDel(w.all);
  }
}

/** host-local's reservation files in `<dataDir>/cbr0`, IP → container ID. */
function ipFiles(dataDir: string): Map<string, string> {
  const dir = join(dataDir, 'cbr0');
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x)).sort()) {
    try {
      out.set(f, readFileSync(join(dir, f), 'utf8').split(/\r?\n/)[0]);
    } catch { /* released meanwhile */ }
  }
  return out;
}

const veths = (ns: string) => links(ns).filter((l) => kindOf(l) === 'veth');
const vethNames = (ns: string) => veths(ns).map((l) => String(l.ifname)).sort();
/** The nat table's `CNI-…` chains and rules in `ns`. */
const natCni = (ns: string) => run(['nsenter', `--net=/run/netns/${ns}`, 'iptables', '-w', '-t', 'nat', '-S']).split('\n').filter((l) => l.includes('CNI-')).sort();

/** The spec's error JSON on stdout with a non-zero exit (never a stack trace). */
function assertCniError(e: Exit, msg?: string): { code: number; msg: string } {
  assert.notEqual(e.code, 0, `non-zero exit: ${e.stdout}`);
  const err = JSON.parse(e.stdout) as { cniVersion: unknown; code: unknown; msg: unknown };
  assert.equal(typeof err.cniVersion, 'string');
  assert.equal(typeof err.code, 'number');
  assert.equal(typeof err.msg, 'string');
  assert.doesNotMatch(String(err.msg), /\n\s+at /, 'no stack trace');
  if (msg !== undefined) assert.equal(err.msg, msg);
  return err as { code: number; msg: string };
}

function assertOk(e: Exit, what: string): void {
  assert.equal(e.code, 0, `${what}: exit ${e.code ?? e.signal}: ${e.stdout}${e.stderr}`);
}

/** Direct children of `pid` (read from /proc/N/stat). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

before(async () => {
  tmp = await tempDir('cni-faults');
  bin = join(tmp, 'bin');
  socket = join(tmp, 'cni.sock');
  run([process.execPath, join(ROOT, 'bin/podnet.js'), 'cni', 'install', '--dir', bin, '--socket', socket]);
  const child = spawn(process.execPath, [join(ROOT, 'bin/podnet.js'), 'cni', 'serve', '--socket', socket], { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  daemon = { pid: child.pid ?? 0, exited: new Promise((r) => child.on('exit', r)) };
  assert.ok(await waitFor(() => existsSync(socket), 15_000), 'podnet cni serve listens');
});

after(async () => {
  if (daemon) {
    // Its shells (ShellRunner) are its children; they end when it does.
    const kids = childrenOf(daemon.pid);
    try { process.kill(daemon.pid, 'SIGTERM'); } catch { /* gone */ }
    if ((await within(daemon.exited, 5000, 'timeout')) === 'timeout') {
      try { process.kill(daemon.pid, 'SIGKILL'); } catch { /* gone */ }
      await within(daemon.exited, 5000, 'timeout');
    }
    const gone = (k: number) => { try { return readFileSync(`/proc/${k}/stat`, 'latin1').includes(') Z'); } catch { return true; } };
    assert.ok(await waitFor(() => kids.every(gone), 5000), `the daemon's shells ended with it: ${kids.filter((k) => !gone(k)).join(', ')}`);
  }
  nsDel(netnsWithPrefix(prefix));
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(netnsWithPrefix(prefix), [], 'every namespace of this file is gone');
});

describe('50 ADDs in parallel on a fresh node', () => {
  for (const mode of MODES) {
    test(`${mode}: all succeed, 50 different IPs (files and kernel agree), cni0 has only the gateway, no "file exists"`, T, async () => {
      await inWorld(mode === 'daemon' ? 'pd' : 'po', 50, async ({ h, pods, dataDir }) => {
        assert.equal(link(h, 'cni0'), undefined, 'a fresh node has no cni0');
        const c = conf(dataDir);
        const adds = await Promise.all(pods.map((p) => bridge(mode, h, 'ADD', p, c)));
        const fileExists = adds.filter((e) => /file exists/i.test(e.stdout + e.stderr));
        assert.deepEqual(fileExists.map((e) => e.stdout), [], 'no "file exists" failure');
        adds.forEach((e, i) => assertOk(e, `ADD ${pods[i].cid}`));
        const ips = adds.map((e) => (JSON.parse(e.stdout) as { ips: { address: string }[] }).ips[0].address);
        assert.equal(new Set(ips).size, 50, `50 different IPs: ${ips.join(' ')}`);
        // host-local's files: one per pod, each naming its pod.
        const files = ipFiles(dataDir);
        assert.equal(files.size, 50);
        pods.forEach((p, i) => assert.equal(files.get(ips[i].split('/')[0]), p.cid, `file of ${ips[i]} names ${p.cid}`));
        // The kernel: each pod's eth0 holds exactly its result's address.
        pods.forEach((p, i) => assert.deepEqual(inet(p.ns, 'eth0'), [ips[i]], `eth0 of ${p.ns}`));
        assert.deepEqual(inet(h, 'cni0'), ['10.42.0.1/24'], 'cni0 holds the gateway, once');
        const hv = veths(h);
        assert.equal(hv.length, 50);
        assert.ok(hv.every((l) => l.master === 'cni0'), 'every host veth is on cni0');

        const dels = await Promise.all(pods.map((p) => bridge(mode, h, 'DEL', p, c)));
        dels.forEach((e, i) => assertOk(e, `DEL ${pods[i].cid}`));
        assert.equal(ipFiles(dataDir).size, 0, 'every IP released');
        assert.deepEqual(vethNames(h), [], 'no veth left');
      });
    });
  }
});

describe('kill -9 in the middle of ADD, then DEL and GC', () => {
  /** What an interrupted ADD left: IP file, host veth, pod eth0, nat rules. */
  const leftovers = (h: string, pod: Pod, dataDir: string) => ({
    // Any reservation file: a kill between creating the file and writing it leaves an empty one.
    ip: ipFiles(dataDir).size > 0,
    veth: vethNames(h).length > 0,
    eth0: link(pod.ns, 'eth0') !== undefined,
    nat: natCni(h).length > 0,
  });

  test('one-shot: the Node plugin killed at several moments; DEL then GC leave no IP file, veth or nat rule', T, async () => {
    await inWorld('k', 0, async ({ h, dataDir }) => {
      const c = conf(dataDir, { ipMasq: true });
      // Calibrate: a whole one-shot ADD (and its DEL), so the kills spread over its length.
      const [calNs] = nsAdd([`k-cal${seq}`]);
      const cal = { ns: calNs, cid: `cal${uniqueName('')}` };
      let full = 0;
      try {
        const t0 = performance.now();
        assertOk(await bridge('one-shot', h, 'ADD', cal, c), 'calibration ADD');
        full = performance.now() - t0;
        assert.ok(natCni(h).length > 0, 'ipMasq made its chain');
        assertOk(await bridge('one-shot', h, 'DEL', cal, c), 'calibration DEL');
      } finally {
        nsDel([calNs]);
      }
      assert.deepEqual(natCni(h), [], 'DEL removed the chain');

      // Kill points: fractions of a whole ADD, and the instant host-local's IP file appears (IPAM done,
      // the veth not yet made).
      const points: ({ at: number } | { onIpFile: true })[] = [0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97].map((f) => ({ at: Math.round(f * full) }));
      points.push({ onIpFile: true }, { onIpFile: true });
      const report: string[] = [];
      let midway = 0;
      for (const [i, point] of points.entries()) {
        const [ns] = nsAdd([`k-a${seq}-${i}`]);
        const pod = { ns, cid: `kill${i}${uniqueName('')}` };
        try {
          let watcher: ReturnType<typeof watch> | undefined;
          const p = start('one-shot', h, 'podnet-bridge', cniEnv('ADD', pod), JSON.stringify(c));
          const kill = () => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } };
          let killedAt = '';
          if ('at' in point) {
            await sleep(point.at);
            killedAt = `${point.at} ms`;
            kill();
          } else {
            const seen = new Promise<void>((resolve) => {
              watcher = watch(join(dataDir, 'cbr0'), (_ev, f) => {
                if (f && /^\d+\.\d+\.\d+\.\d+$/.test(String(f))) { kill(); resolve(); }
              });
            });
            await within(seen, 20_000, undefined);
            watcher?.close();
            killedAt = 'IP file created';
          }
          const exit = await p.done;
          // What the killed process had started (ip, sh, flock: its process group) runs to its end first.
          assert.ok(await waitFor(() => processGroup(p.pid).length === 0, 15_000), 'the killed plugin\'s children finished');
          const left = leftovers(h, pod, dataDir);
          const killed = exit.signal === 'SIGKILL';
          if (killed && (left.ip || left.veth || left.eth0 || left.nat)) midway++;
          report.push(`${killedAt}: ${killed ? 'killed' : `finished (exit ${exit.code})`}, left ${JSON.stringify(left)}`);

          // The runtime's clean-up: DEL (it calls DEL even after a failed ADD), then GC keeping nothing.
          assertOk(await bridge('one-shot', h, 'DEL', pod, c), 'DEL after the kill');
          assertOk(await bridge('one-shot', h, 'GC', { cid: pod.cid, netns: '' }, gcConf(c)), 'GC');
          assert.deepEqual([...ipFiles(dataDir).keys()], [], `no IP file (${report.at(-1)})`);
          assert.deepEqual(vethNames(h), [], `no veth in H (${report.at(-1)})`);
          assert.equal(link(pod.ns, 'eth0'), undefined, 'no eth0 in the pod');
          assert.deepEqual(natCni(h), [], `no nat rule (${report.at(-1)})`);
        } finally {
          nsDel([ns]);
        }
      }
      console.log(`# kill -9 points (whole ADD ${Math.round(full)} ms):\n# ${report.join('\n# ')}`);
      assert.ok(midway >= 2, `at least two kills landed in the middle of ADD (left something for DEL to clean): ${report.join('; ')}`);
    });
  });

  test('daemon: the client killed when the IP is reserved; DEL and GC at once leave nothing once the daemon is done', T, async () => {
    await inWorld('kd', 0, async ({ h, dataDir }) => {
      const c = conf(dataDir, { ipMasq: true });
      const [ns0] = nsAdd([`kd-warm${seq}`]);
      try {
        // Creates the data dir (to watch) and cni0.
        const w = { ns: ns0, cid: `warm${uniqueName('')}` };
        assertOk(await bridge('daemon', h, 'ADD', w, c), 'warm-up ADD');
        assertOk(await bridge('daemon', h, 'DEL', w, c), 'warm-up DEL');
      } finally {
        nsDel([ns0]);
      }
      for (let i = 0; i < 3; i++) {
        const [ns] = nsAdd([`kd-a${seq}-${i}`]);
        const pod = { ns, cid: `dkill${i}${uniqueName('')}` };
        try {
          let watcher: ReturnType<typeof watch> | undefined;
          const p = start('daemon', h, 'podnet-bridge', cniEnv('ADD', pod), JSON.stringify(c));
          const seen = new Promise<void>((resolve) => {
            watcher = watch(join(dataDir, 'cbr0'), (_ev, f) => {
              if (f && /^\d+\.\d+\.\d+\.\d+$/.test(String(f))) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } resolve(); }
            });
          });
          await within(seen, 20_000, undefined);
          watcher?.close();
          const exit = await p.done;
          assert.equal(exit.signal, 'SIGKILL', 'the client was killed before it had its answer');
          assertOk(await bridge('daemon', h, 'DEL', pod, c), 'DEL after the kill');
          assertOk(await bridge('daemon', h, 'GC', { cid: pod.cid, netns: '' }, gcConf(c)), 'GC');
          // The daemon may still be finishing (or undoing) the orphaned ADD: wait for the end state.
          const clean = () => ipFiles(dataDir).size === 0 && vethNames(h).length === 0 && link(pod.ns, 'eth0') === undefined && natCni(h).length === 0;
          await waitFor(clean, 5000, 100);
          await sleep(1000); // and nothing comes back afterwards
          assert.deepEqual([...ipFiles(dataDir).keys()], [], 'no IP file');
          assert.deepEqual(vethNames(h), [], 'no veth in H');
          assert.equal(link(pod.ns, 'eth0'), undefined, 'no eth0 in the pod');
          assert.deepEqual(natCni(h), [], 'no nat rule');
        } finally {
          nsDel([ns]);
        }
      }
    });
  });
});

describe('the IPAM data dir deleted under a running node', () => {
  for (const mode of MODES) {
    test(`${mode}: the next ADD recreates it and succeeds; DEL of the earlier pod succeeds`, T, async () => {
      await inWorld(mode === 'daemon' ? 'dd' : 'do', 2, async ({ h, pods: [p1, p2], dataDir }) => {
        const c = conf(dataDir);
        assertOk(await bridge(mode, h, 'ADD', p1, c), 'ADD pod1');
        assert.deepEqual([...ipFiles(dataDir)], [['10.42.0.2', p1.cid]]);
        await rm(dataDir, { recursive: true, force: true });
        // (With its store gone, host-local hands out 10.42.0.2 again although pod1 still has it: the
        // reference does the same. What must hold: the ADD works and the earlier pod's DEL does too.)
        const a2 = await bridge(mode, h, 'ADD', p2, c);
        assertOk(a2, 'ADD pod2 after the data dir was deleted');
        const ip2 = (JSON.parse(a2.stdout) as { ips: { address: string }[] }).ips[0].address;
        assert.deepEqual([...ipFiles(dataDir)], [[ip2.split('/')[0], p2.cid]], 'the data dir is back with pod2\'s reservation');
        assert.deepEqual(inet(p2.ns, 'eth0'), [ip2]);

        const d1 = await bridge(mode, h, 'DEL', p1, c);
        assertOk(d1, 'DEL pod1 (nothing to release)');
        assert.equal(d1.stdout, '');
        assert.equal(link(p1.ns, 'eth0'), undefined, 'pod1\'s eth0 is gone');
        assert.deepEqual([...ipFiles(dataDir)], [[ip2.split('/')[0], p2.cid]], 'pod2 keeps its reservation');
        assertOk(await bridge(mode, h, 'DEL', p2, c), 'DEL pod2');
        assert.equal(ipFiles(dataDir).size, 0);
        assert.deepEqual(vethNames(h), []);
      });
    });
  }
});

describe('the subnet changed under an existing cni0 (flannel#1850)', () => {
  for (const mode of MODES) {
    test(`${mode}, forceAddress true: cni0 ends with the new gateway only`, T, async () => {
      await inWorld(mode === 'daemon' ? 'sd' : 'so', 2, async ({ h, pods: [p1, p2], dataDir }) => {
        assertOk(await bridge(mode, h, 'ADD', p1, conf(dataDir)), 'ADD on 10.42.0.0/24');
        assert.deepEqual(inet(h, 'cni0'), ['10.42.0.1/24']);
        const moved = conf(dataDir, {}, '10.42.1.0/24');
        const a2 = await bridge(mode, h, 'ADD', p2, moved);
        assertOk(a2, 'ADD on 10.42.1.0/24');
        assert.deepEqual(inet(h, 'cni0'), ['10.42.1.1/24'], 'only the new gateway');
        assert.deepEqual(inet(p2.ns, 'eth0'), ['10.42.1.2/24']);
        assertOk(await bridge(mode, h, 'DEL', p2, moved), 'DEL pod2');
        assertOk(await bridge(mode, h, 'DEL', p1, conf(dataDir)), 'DEL pod1');
        assert.equal(ipFiles(dataDir).size, 0);
        assert.deepEqual(vethNames(h), []);
      });
    });

    test(`${mode}, forceAddress false: the spec's error, nothing left behind`, T, async () => {
      await inWorld(mode === 'daemon' ? 'nd' : 'no', 2, async ({ h, pods: [p1, p2], dataDir }) => {
        const old = conf(dataDir, { forceAddress: false });
        assertOk(await bridge(mode, h, 'ADD', p1, old), 'ADD on 10.42.0.0/24');
        const before = { files: [...ipFiles(dataDir)], veths: vethNames(h), cni0: inet(h, 'cni0') };
        const moved = conf(dataDir, { forceAddress: false }, '10.42.1.0/24');
        const a2 = await bridge(mode, h, 'ADD', p2, moved);
        assertCniError(a2, '"cni0" already has an IP address different from 10.42.1.1/24');
        assert.deepEqual({ files: [...ipFiles(dataDir)], veths: vethNames(h), cni0: inet(h, 'cni0') }, before, 'no IP file, veth or address added');
        assert.deepEqual(before.cni0, ['10.42.0.1/24']);
        assert.equal(link(p2.ns, 'eth0'), undefined, 'no eth0 in pod2');
        // The runtime's DEL after the failed ADD, then pod1's.
        assertOk(await bridge(mode, h, 'DEL', p2, moved), 'DEL pod2');
        assertOk(await bridge(mode, h, 'DEL', p1, old), 'DEL pod1');
        assert.equal(ipFiles(dataDir).size, 0);
        assert.deepEqual(vethNames(h), []);
      });
    });
  }
});

describe('DEL for a container never added', () => {
  for (const mode of MODES) {
    test(`${mode}: success, nothing changes (netns present, missing, empty)`, T, async () => {
      await inWorld(mode === 'daemon' ? 'ed' : 'eo', 2, async ({ h, pods: [p1, p2], dataDir }) => {
        const c = conf(dataDir, { ipMasq: true });
        assertOk(await bridge(mode, h, 'ADD', p1, c), 'ADD pod1');
        const snapshot = () => ({
          hostLinks: links(h).map((l) => `${String(l.ifname)} ${String(l.master ?? '')} ${String(l.operstate)}`).sort(),
          cni0: inet(h, 'cni0'),
          pod1: inet(p1.ns, 'eth0'),
          pod2: links(p2.ns).map((l) => String(l.ifname)),
          files: [...ipFiles(dataDir)],
          nat: natCni(h),
          dir: readdirSync(join(dataDir, 'cbr0')).sort(),
        });
        const before = snapshot();
        assert.equal(before.nat.length > 0, true, 'pod1 has its masquerade chain');
        const never = `never${uniqueName('')}`;
        for (const netns of [`/run/netns/${p2.ns}`, `/run/netns/${prefix}does-not-exist`, '']) {
          const d = await bridge(mode, h, 'DEL', { cid: never, netns }, c);
          assertOk(d, `DEL with CNI_NETNS="${netns}"`);
          assert.equal(d.stdout, '', 'DEL prints nothing');
          assert.deepEqual(snapshot(), before, `nothing changed (CNI_NETNS="${netns}")`);
        }
        assertOk(await bridge(mode, h, 'DEL', p1, c), 'DEL pod1');
        assert.deepEqual(natCni(h), []);
        assert.equal(ipFiles(dataDir).size, 0);
      });
    });
  }
});
