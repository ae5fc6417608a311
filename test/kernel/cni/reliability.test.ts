// The reliability issue's CNI cases, on the real kernel through the installed executables (the Perl
// clients of `podnet cni install`), each driven as a runtime drives it (./client-world.ts):
//
// 1. A plugin client killed mid-ADD never leaves two pods with one IP: rounds of "start an ADD, SIGKILL
//    its client after 5–50 ms, ADD five more containers on a /29", with the daemon and one-shot; after
//    each round every pod namespace is read with `ip -json` and host-local's store is compared with it.
// 5. Names iproute2's batch input cannot carry (CNI_IFNAME `x#y`, `"abc`, `a\b`, `a b`; a bridge with
//    `#` or a quote), and a CNI_NETNS that is a regular file: the spec's error, nothing made — not even
//    for a moment (`ip monitor` runs in the host and the pod namespace meanwhile).
// 6. IPAM ranges that are no pod network (0.0.0.0/0, 127.0.0.0/8, 224.0.0.0/4, a /7): code 7, nothing made.
// 7. A subnetFile that is some other file: the error never quotes it.
// 8. The daemon's bounds: a 20 MB stdin, a client that sends nothing or half a request, 200 idle connections.
//
// Every namespace carries a unique prefix and is removed after each case and in `after` (also on
// failure); the daemons are stopped by their PIDs; the temp dirs are removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Server, type Socket } from 'node:net';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveCni } from '../../../src/cni/serve.js';
import { ExecRunner } from '../../../src/host/runner.js';
import { flannelConflist } from '../../../src/cni/install.js';
import { kindOf, links, sleep, waitFor, within } from '../helpers.js';
import {
  assertOk, bridgeConf, cniEnv, cniError, ClientWorld, duplicates, heldAddrs, ipFiles, nsDel, ResultCache, type Exit, type Mode,
} from './client-world.js';
import { KernelWatch } from './kernel-watch.js';

const MODES: Mode[] = ['daemon', 'one-shot'];
let daemonWorld: ClientWorld;
/** One-shot clients need no daemon: a world without one (its clients find no socket). */
let oneShotWorld: ClientWorld;
const worldOf = (m: Mode) => (m === 'daemon' ? daemonWorld : oneShotWorld);

before(async () => {
  [daemonWorld, oneShotWorld] = await Promise.all([ClientWorld.create('krd', true), ClientWorld.create('kro', false)]);
});

after(async () => {
  const problems = [...(daemonWorld ? await daemonWorld.close() : []), ...(oneShotWorld ? await oneShotWorld.close() : [])];
  assert.deepEqual(problems, [], 'nothing of this file is left');
});

const veths = (ns: string) => links(ns).filter((l) => kindOf(l) === 'veth').map((l) => String(l.ifname));
const linkNames = (ns: string) => links(ns).map((l) => String(l.ifname)).sort();

describe('1. a plugin client killed mid-ADD: no IP on two interfaces, no reservation without its interface', () => {
  /** Rounds per mode stop once this much time has gone (each delay runs at least once). */
  const BUDGET_MS: Record<Mode, number> = { daemon: 20_000, 'one-shot': 12_000 };
  const MAX_ROUNDS = 30;
  type KillAt = { ms: number } | { ipFile: true };

  for (const mode of MODES) {
    test(`${mode}: an ADD's client SIGKILLed ${mode === 'daemon' ? 'after 5–50 ms' : 'over the ADD'}, then five more ADDs on a /29; store and kernel agree; DEL leaves nothing`, { timeout: 120_000 }, async () => {
      const w = worldOf(mode);
      const label = w.next(mode === 'daemon' ? 'kd' : 'ko');
      const all = w.nsAdd([`${label}-H`, ...Array.from({ length: 6 }, (_, i) => `${label}-p${i}`)]);
      const [h, ...podNs] = all;
      const dataDir = join(w.tmp, `data-${label}`);
      const cache = new ResultCache(join(w.tmp, `results-${label}`));
      // A /29: the gateway .1 and exactly five pod addresses, .2–.6.
      const conf = JSON.stringify(bridgeConf(dataDir, '10.42.0.0/29'));
      const add = (cid: string, ns: string) => w.start(mode, h, 'podnet-bridge', cniEnv('ADD', cid, `/run/netns/${ns}`, w.bin), conf);
      const del = (cid: string, ns: string) => w.exec(mode, h, 'podnet-bridge', cniEnv('DEL', cid, `/run/netns/${ns}`, w.bin), conf);
      const report: string[] = [];
      try {
        // A node that already has cni0 (one pod came and went), as in the issue; the second ADD times
        // a whole ADD on such a node.
        let fullAdd = 0;
        for (const warm of [`warm${label}a`, `warm${label}b`]) {
          const t0 = performance.now();
          assertOk(await add(warm, podNs[0]).done, 'warm-up ADD');
          fullAdd = performance.now() - t0;
          assertOk(await del(warm, podNs[0]), 'warm-up DEL');
        }
        // Daemon: 5–50 ms after the client starts (the issue: 15–20 ms). One-shot: Node alone takes
        // ~70 ms to start, so the kills spread over the second half of a whole ADD, and every other one
        // lands the instant host-local's reservation file appears.
        const points: KillAt[] = mode === 'daemon'
          ? [5, 10, 15, 20, 30, 50].map((ms) => ({ ms }))
          : [{ ipFile: true }, { ms: Math.round(0.6 * fullAdd) }, { ipFile: true }, { ms: Math.round(0.8 * fullAdd) }, { ipFile: true }, { ms: Math.round(fullAdd) }];
        const deadline = Date.now() + BUDGET_MS[mode];
        const logBefore = w.serve ? w.serve.child.stderr.join('').split('\n').filter((l) => l.includes('left during ADD')).length : 0;
        let midway = 0;
        for (let round = 0; round < MAX_ROUNDS && (round < points.length || Date.now() < deadline); round++) {
          const point = points[round % points.length];
          const delay = 'ms' in point ? `${point.ms} ms` : 'its reservation file';
          const cids = podNs.map((_, i) => `${label}r${round}c${i}`);
          const [killedCid, ...restCids] = cids;
          const victim = add(killedCid, podNs[0]);
          if ('ms' in point) await sleep(point.ms);
          else await waitFor(() => ipFiles(dataDir).size > 0, 20_000, 2);
          victim.kill();
          const vx = await victim.done;
          if (vx.code === 0) cache.put(killedCid, vx.stdout);
          const adds = await Promise.all(restCids.map((cid, i) => add(cid, podNs[i + 1]).done));
          const exhausted: string[] = [];
          adds.forEach((e, i) => {
            if (e.code === 0) {
              cache.put(restCids[i], e.stdout);
              return;
            }
            // The only failure allowed: the /29 is full because the killed ADD kept its address.
            const err = cniError(e);
            assert.match(err.msg, /no IP addresses available in range set/, `ADD ${restCids[i]} (round ${round}, kill at ${delay}): ${err.msg}`);
            exhausted.push(restCids[i]);
          });
          const where = `round ${round} (${mode}, kill at ${delay}, victim ${vx.signal ?? `exit ${vx.code}`})`;

          // The kernel, read independently: no address on two interfaces; every address a pod's
          // interface holds is reserved in host-local's store for that pod. Both read in one instant:
          // the daemon, which may still run the killed client's ADD, is frozen meanwhile.
          const check = (strict: boolean): string[] => {
            const [held, files] = w.frozen(() => [heldAddrs(all), ipFiles(dataDir)] as const);
            const problems = [...duplicates(held)].map(([ip, on]) => `${ip} is on ${on.join(' and ')}`);
            const podOf = new Map(podNs.map((ns, i) => [ns, cids[i]]));
            for (const a of held.filter((x) => x.ns !== h)) {
              if (files.get(a.ip) !== podOf.get(a.ns)) problems.push(`${a.ns}/${a.dev} holds ${a.ip} but the store gives it to ${files.get(a.ip) ?? 'nobody'}`);
            }
            // Every reservation has its interface — but the killed ADD's may be in flight (one-shot:
            // its process died between reserving and making the veth; DEL releases it).
            for (const [ip, cid] of files) {
              const ns = podNs[cids.indexOf(cid)];
              const holds = held.some((x) => x.ns === ns && x.ip === ip);
              if (!holds && (strict || cid !== killedCid)) problems.push(`${ip} is reserved for ${cid} but no interface of it holds it`);
            }
            return problems;
          };
          assert.deepEqual(check(false), [], `${where}: after the five ADDs`);
          if (mode === 'daemon') {
            // The daemon finishes what the killed client asked and undoes it (or never started it):
            // then an address is reserved exactly when an interface holds it.
            await waitFor(() => check(true).length === 0, 10_000, 50);
            assert.deepEqual(check(true), [], `${where}: once the daemon is done with the killed client's ADD`);
          }
          const victimLeft = ipFiles(dataDir).size - adds.filter((e) => e.code === 0).length;
          if (vx.signal === 'SIGKILL' && victimLeft > 0) midway++;
          report.push(`${delay}: victim ${vx.signal ?? `exit ${vx.code}`}${victimLeft > 0 ? ', kept its address' : ''}${exhausted.length ? `, ${exhausted.length} ADD(s) found the /29 full` : ''}`);

          // The runtime's DEL for every container (the killed one too): nothing is left.
          const dels = await Promise.all(cids.map((cid, i) => del(cid, podNs[i])));
          dels.forEach((e, i) => { assertOk(e, `${where}: DEL ${cids[i]}`); cache.drop(cids[i]); });
          assert.deepEqual([...ipFiles(dataDir).keys()], [], `${where}: no reservation after DEL`);
          assert.deepEqual(veths(h), [], `${where}: no veth left on the host side`);
          assert.deepEqual(heldAddrs(podNs), [], `${where}: no pod interface left`);
          assert.deepEqual(cache.entries(), [], `${where}: no cache entry`);
        }
        const undone = w.serve ? w.serve.child.stderr.join('').split('\n').filter((l) => l.includes('left during ADD')).length - logBefore : 0;
        console.log(`# ${mode}: ${report.length} rounds (whole ADD ${Math.round(fullAdd)} ms)${w.serve ? `, the daemon undid ${undone} ADD(s) whose client had died` : ''}\n# ${report.join('\n# ')}`);
        // The rounds must have hit the window the issue is about: a client killed while its ADD ran.
        if (mode === 'daemon') assert.ok(undone >= 2, `at least two kills landed while the daemon ran the ADD (${undone})`);
        else assert.ok(midway >= 2, `at least two kills landed mid-ADD and left a reservation for DEL (${midway})`);
      } finally {
        nsDel(all);
      }
    });
  }
});

describe('1b. the runtime moves on while the daemon still runs a killed client\'s ADD', () => {
  /** Holds host-local's flock on `path` (as another host-local would) until release() or stop(). */
  async function holdLock(path: string): Promise<{ release(): void; stop(): Promise<void> }> {
    const child = spawn('flock', ['-x', path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    assert.ok(await waitFor(() => out.includes('locked'), 10_000), 'the test holds the lock');
    return {
      release: () => child.stdin.end(),
      stop: async () => {
        child.stdin.end();
        if ((await within(exited, 3000, 'timeout')) === 'timeout') child.kill('SIGKILL');
      },
    };
  }

  for (const follow of ['DEL', 'GC'] as const) {
    test(`daemon: the killed ADD waits for host-local's lock, the runtime's ${follow} comes meanwhile, then a new pod: never one IP on two interfaces`, { timeout: 60_000 }, async () => {
      const w = daemonWorld;
      const label = w.next('mv');
      const all = w.nsAdd([`${label}-H`, `${label}-c`, `${label}-d`]);
      const [h, pc, pd] = all;
      const dataDir = join(w.tmp, `data-${label}`);
      // One address to give (10.42.0.2): whatever C's abandoned ADD holds is what D is offered next.
      const conf = bridgeConf(dataDir, '10.42.0.0/29');
      conf.ipam = { ...(conf.ipam as object), ranges: [[{ subnet: '10.42.0.0/29', rangeStart: '10.42.0.2', rangeEnd: '10.42.0.2' }]] };
      const [c, d] = [`${label}C`, `${label}D`];
      const run = (command: string, cid: string, ns: string, over: Record<string, unknown> = {}) =>
        w.start('daemon', h, 'podnet-bridge', cniEnv(command, cid, ns ? `/run/netns/${ns}` : '', w.bin), JSON.stringify({ ...conf, ...over }));
      let lock: Awaited<ReturnType<typeof holdLock>> | undefined;
      try {
        assertOk(await run('ADD', `${label}W`, pc).done, 'warm-up ADD (cni0, the store and its lock file)');
        assertOk(await run('DEL', `${label}W`, pc).done, 'warm-up DEL');
        lock = await holdLock(join(dataDir, 'cbr0', 'lock'));
        // C's ADD reaches IPAM and waits for the lock; its client is killed (a runtime's timeout).
        const victim = run('ADD', c, pc);
        await sleep(300);
        victim.kill();
        assert.equal((await victim.done).signal, 'SIGKILL');
        // The runtime goes on: DEL of C (as after any failed ADD), or GC without C.
        const follower = follow === 'DEL' ? run('DEL', c, pc) : run('GC', 'gc', '', { cniVersion: '1.1.0', 'cni.dev/valid-attachments': [] });
        await sleep(300);
        lock.release();
        assertOk(await follower.done, follow);
        // ... and starts the next pod at once. Meanwhile the kernel and the store are read, the daemon
        // frozen for each read, until well after D's ADD is done.
        const next = run('ADD', d, pd);
        let dDone = 0;
        void next.done.then(() => { dDone = Date.now(); });
        const seen = new Set<string>();
        for (let i = 0; i < 2000 && (!dDone || Date.now() - dDone < 1000); i++) {
          const [held, files] = w.frozen(() => [heldAddrs(all), ipFiles(dataDir)] as const);
          for (const [ip, on] of duplicates(held)) seen.add(`${ip} is on ${on.join(' and ')}`);
          for (const a of held.filter((x) => x.ns !== h)) {
            const cid = a.ns === pc ? c : d;
            if (files.get(a.ip) !== cid) seen.add(`${a.ns}/${a.dev} (${cid}) holds ${a.ip}, which the store gives to ${files.get(a.ip) ?? 'nobody'}`);
          }
          await sleep(5);
        }
        assertOk(await next.done, 'ADD of the next pod');
        assert.deepEqual([...seen], [], `${follow} while the killed client's ADD was still running: at no moment one IP on two interfaces or held without its reservation`);
        const ip = (JSON.parse((await next.done).stdout) as { ips: { address: string }[] }).ips[0].address;
        assert.deepEqual(heldAddrs([pc, pd]).map((a) => `${a.ns} ${a.ip}`), [`${pd} ${ip.split('/')[0]}`], 'in the end only D holds an address');
        assert.deepEqual([...ipFiles(dataDir)], [[ip.split('/')[0], d]], 'and only D\'s is reserved');
        assertOk(await run('DEL', d, pd).done, 'DEL D');
        assertOk(await run('DEL', c, pc).done, 'DEL C');
        assert.equal(ipFiles(dataDir).size, 0);
        assert.deepEqual(veths(h), []);
      } finally {
        await lock?.stop();
        nsDel(all);
      }
    });
  }
});

/** A fresh host namespace (no cni0 yet) and pod namespace, flannel's subnet.env, and data dirs. */
function nameWorld(w: ClientWorld, label: string) {
  const l = w.next(label);
  const [h, pod] = w.nsAdd([`${l}-H`, `${l}-p`]);
  const dir = join(w.tmp, l);
  const subnetFile = join(dir, 'subnet.env');
  const ipamDir = join(dir, 'ipam');
  const flannelDir = join(dir, 'flannel');
  mkdirSync(dir, { recursive: true });
  return { h, pod, dir, subnetFile, ipamDir, flannelDir, cid: `${l}ctr` };
}

/** podnet-flannel's entry of K3s's chain (`podnet cni conflist --flannel`), as a runtime hands it over. */
function flannelConf(o: { subnetFile: string; flannelDir: string; ipamDir: string }, delegate: Record<string, unknown> = {}): Record<string, unknown> {
  const [plugin] = flannelConflist({ subnetFile: o.subnetFile, dataDir: o.flannelDir, ipamDataDir: o.ipamDir }).plugins;
  return { cniVersion: '1.0.0', name: 'cbr0', ...plugin, delegate: { ...(plugin.delegate as object), ...delegate } };
}

const SUBNET_ENV = 'FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';

/** Runs `body` with `ip monitor` on the host and pod namespaces; asserts the kernel reported no change
 * in either meanwhile (not even a link made and removed again). */
async function unchanged(nw: ReturnType<typeof nameWorld>, what: string, body: () => Promise<void>): Promise<void> {
  const watch = await KernelWatch.start([nw.h, nw.pod]);
  try {
    await body();
  } finally {
    const events = await watch.stop();
    assert.deepEqual(events, [], `${what}: the kernel reported no change in the host or pod namespace`);
  }
}

/** Runs one refused call; asserts the spec's error with `code`, the same links before and after, and
 * no file in the data dirs. (The caller watches the kernel around it: see unchanged.) */
async function refused(w: ClientWorld, mode: Mode, nw: ReturnType<typeof nameWorld>, exe: string, env: Record<string, string>, conf: Record<string, unknown>, code: number, what: string): Promise<string> {
  const before = { host: linkNames(nw.h), pod: linkNames(nw.pod) };
  const e: Exit = await w.exec(mode, nw.h, exe, env, JSON.stringify(conf));
  const err = cniError(e);
  assert.equal(err.code, code, `${what}: code ${code}: ${err.msg}`);
  assert.deepEqual({ host: linkNames(nw.h), pod: linkNames(nw.pod) }, before, `${what}: no link made`);
  for (const d of [nw.ipamDir, nw.flannelDir]) {
    const files = existsSync(d) ? readdirSync(d, { recursive: true }).map(String).filter((f) => /\d+\.\d+\.\d+\.\d+$|ctr$/.test(f)) : [];
    assert.deepEqual(files, [], `${what}: no reservation or saved delegate in ${d}`);
  }
  return err.msg;
}

describe('5. names iproute2\'s batch input cannot carry, and a CNI_NETNS that is not a namespace', () => {
  // Every name with the daemon; one of each kind one-shot (the checks are the same code, reached
  // through another process).
  const IFNAMES: Record<Mode, string[]> = { daemon: ['x#y', '"abc', 'a\\b', 'a b'], 'one-shot': ['x#y'] };
  const BRIDGES: Record<Mode, string[]> = { daemon: ['cni#0', '"br0', "br'0", 'br\\0'], 'one-shot': ['cni#0'] };
  for (const mode of MODES) {
    test(`${mode}: every podnet plugin answers code 4 (env) or 7 (config) and makes nothing, not even for a moment`, { timeout: 120_000 }, async () => {
      const w = worldOf(mode);
      const nw = nameWorld(w, mode === 'daemon' ? 'nd' : 'no');
      try {
        writeFileSync(nw.subnetFile, SUBNET_ENV, { flag: 'w' });
        await unchanged(nw, `${mode}: every refused call`, async () => {
          const plugins: [string, Record<string, unknown>][] = [
            ['podnet-bridge', bridgeConf(nw.ipamDir, '10.42.7.0/24')],
            ['podnet-loopback', { cniVersion: '1.0.0', name: 'lo', type: 'podnet-loopback' }],
            ['podnet-flannel', flannelConf(nw)],
          ];
          for (const [exe, conf] of plugins) {
            for (const ifname of IFNAMES[mode]) {
              const msg = await refused(w, mode, nw, exe, cniEnv('ADD', nw.cid, `/run/netns/${nw.pod}`, w.bin, ifname), conf, 4, `${exe} CNI_IFNAME=${JSON.stringify(ifname)}`);
              assert.ok(msg.startsWith(`CNI_IFNAME "${ifname}" is not a valid interface name`), `${exe}: names the variable: ${msg}`);
            }
            // A regular file as CNI_NETNS: code 5, said in words (not iproute2's raw RTNETLINK text).
            const file = join(w.tmp, `${nw.cid}-not-a-netns`);
            writeFileSync(file, 'just a file\n');
            const msg = await refused(w, mode, nw, exe, cniEnv('ADD', nw.cid, file, w.bin), conf, 5, `${exe} CNI_NETNS=<a regular file>`);
            assert.match(msg, /not a network namespace/, `${exe}: ${msg}`);
            assert.doesNotMatch(msg, /RTNETLINK|Invalid argument/, `${exe}: no raw iproute2 text`);
          }
          for (const bridge of BRIDGES[mode]) {
            const viaBridge = await refused(w, mode, nw, 'podnet-bridge', cniEnv('ADD', nw.cid, `/run/netns/${nw.pod}`, w.bin), bridgeConf(nw.ipamDir, '10.42.7.0/24', { bridge }), 7, `podnet-bridge bridge=${JSON.stringify(bridge)}`);
            assert.match(viaBridge, /^bridge: /, `names the field: ${viaBridge}`);
            const viaFlannel = await refused(w, mode, nw, 'podnet-flannel', cniEnv('ADD', nw.cid, `/run/netns/${nw.pod}`, w.bin), flannelConf(nw, { bridge }), 7, `podnet-flannel delegate bridge=${JSON.stringify(bridge)}`);
            assert.match(viaFlannel, /bridge/, `names the field: ${viaFlannel}`);
          }
        });
      } finally {
        nsDel([nw.h, nw.pod]);
      }
    });
  }
});

describe('6. IPAM ranges that are no pod network', () => {
  const SUBNETS = ['0.0.0.0/0', '127.0.0.0/8', '224.0.0.0/4', '10.0.0.0/7'];
  test('daemon: code 7 naming ipam.ranges[0][0].subnet, nothing made (bridge and host-local)', { timeout: 60_000 }, async () => {
    const w = daemonWorld;
    const nw = nameWorld(w, 'ipam');
    try {
      await unchanged(nw, 'every refused range', async () => {
        for (const subnet of SUBNETS) {
          const conf = bridgeConf(nw.ipamDir, subnet);
          for (const [exe, c] of [['podnet-bridge', conf], ['podnet-host-local', { cniVersion: '1.0.0', name: 'cbr0', type: 'podnet-host-local', ipam: conf.ipam }]] as const) {
            const msg = await refused(w, 'daemon', nw, exe, cniEnv('ADD', nw.cid, `/run/netns/${nw.pod}`, w.bin), c, 7, `${exe} subnet ${subnet}`);
            assert.ok(msg.startsWith(`ipam.ranges[0][0].subnet: ${subnet} is not a pod network`), `${exe}: names the field and the value: ${msg}`);
          }
        }
      });
    } finally {
      nsDel([nw.h, nw.pod]);
    }
  });
});

describe('7. a subnetFile that is some other file', () => {
  test('daemon: ADD, CHECK, DEL and STATUS answer without quoting a line or value of the file', { timeout: 60_000 }, async () => {
    const w = daemonWorld;
    const nw = nameWorld(w, 'sec');
    const SECRETS = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmU', 'hunter2-Sup3rS3cret', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMIK7MDENGbPxRfiCY'];
    const files: Record<string, string> = {
      'a private key': `${SECRETS[0]}\n${SECRETS[1]}\n-----END OPENSSH PRIVATE KEY-----\n`,
      'a secret as a value of a flannel key': `FLANNEL_NETWORK=${SECRETS[2]}\nFLANNEL_SUBNET=10.42.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`,
      'a secret as the MTU': `FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.7.1/24\nFLANNEL_MTU=${SECRETS[3]}\nFLANNEL_IPMASQ=true\n`,
      'a secret as IPMASQ': `FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=${SECRETS[4]}\n`,
      'credentials': `[default]\naws_access_key_id = ${SECRETS[3]}\naws_secret_access_key = ${SECRETS[4]}\n`,
    };
    try {
      for (const [what, text] of Object.entries(files)) {
        writeFileSync(nw.subnetFile, text);
        for (const command of ['ADD', 'CHECK', 'DEL', 'STATUS']) {
          const conf = { ...flannelConf(nw), cniVersion: '1.1.0', ...(command === 'CHECK' ? { prevResult: { cniVersion: '1.1.0', interfaces: [], ips: [] } } : {}) };
          const e = await w.exec('daemon', nw.h, 'podnet-flannel', cniEnv(command, nw.cid, `/run/netns/${nw.pod}`, w.bin), JSON.stringify(conf));
          const out = e.stdout + e.stderr;
          for (const s of SECRETS) assert.ok(!out.includes(s), `${command} with ${what}: the answer quotes the file (${s}): ${out}`);
          if (command === 'ADD') {
            const err = cniError(e);
            assert.equal(err.code, 7, `${what}: code 7: ${err.msg}`);
            assert.ok(err.msg.startsWith(`subnetFile ${nw.subnetFile}: `), `${what}: names the field and the file: ${err.msg}`);
          }
        }
      }
      assert.deepEqual(linkNames(nw.pod), ['lo'], 'nothing made in the pod');
    } finally {
      nsDel([nw.h, nw.pod]);
    }
  });
});

describe('8. the daemon\'s bounds', () => {
  test('a 20 MB stdin is refused at once with the spec\'s error JSON, and nothing is made', { timeout: 60_000 }, async () => {
    const w = daemonWorld;
    const nw = nameWorld(w, 'big');
    try {
      // A valid config with 20 MB of padding: read whole, it would be an ADD.
      const conf = JSON.stringify({ ...bridgeConf(nw.ipamDir, '10.42.7.0/24'), pad: 'x'.repeat(20 * 1024 * 1024) });
      const e = await w.exec('daemon', nw.h, 'podnet-bridge', cniEnv('ADD', nw.cid, `/run/netns/${nw.pod}`, w.bin), conf);
      assert.equal(e.signal, null, `the client ended on its own (not by ${e.signal ?? ''})`);
      const err = cniError(e);
      assert.equal(err.code, 6, err.msg);
      assert.match(err.msg, /at most 1048576|larger than 1048576 bytes/);
      assert.ok(e.ms < 3000, `answered in ${Math.round(e.ms)} ms (not buffered for seconds: the header's length is enough)`);
      assert.deepEqual(ipFiles(nw.ipamDir).size, 0, 'no reservation');
      assert.deepEqual(linkNames(nw.pod), ['lo'], 'no eth0');
      assert.equal(links(nw.h).some((l) => l.ifname === 'cni0'), false, 'no cni0');
      // The daemon is fine afterwards.
      assertOk(await w.exec('daemon', nw.h, 'podnet-bridge', cniEnv('ADD', nw.cid, `/run/netns/${nw.pod}`, w.bin), JSON.stringify(bridgeConf(nw.ipamDir, '10.42.7.0/24'))), 'a normal ADD after it');
      assertOk(await w.exec('daemon', nw.h, 'podnet-bridge', cniEnv('DEL', nw.cid, `/run/netns/${nw.pod}`, w.bin), JSON.stringify(bridgeConf(nw.ipamDir, '10.42.7.0/24'))), 'DEL');
    } finally {
      nsDel([nw.h, nw.pod]);
    }
  });

  test('what runs before the socket is published (the daemon\'s PID file) is done before any client can connect', { timeout: 30_000 }, async () => {
    const path = join(daemonWorld.tmp, 'publish.sock');
    const seen: boolean[] = [];
    const server = await serveCni(new ExecRunner(), path, {
      beforePublish: async () => {
        seen.push(existsSync(path));
        await sleep(200);
        seen.push(existsSync(path));
      },
    });
    try {
      assert.deepEqual(seen, [false, false], 'the socket\'s path was not there while the hook ran');
      assert.equal(existsSync(path), true, 'the socket is there once serveCni resolves');
    } finally {
      await new Promise<void>((r) => { server.close(() => r()); });
    }
  });

  describe('a daemon of the test\'s own (serveCni, 500 ms request timeout, 128 connections)', () => {
    let server: Server | undefined;
    const log: string[] = [];
    const socket = () => join(daemonWorld.tmp, 'own.sock');
    before(async () => {
      server = await serveCni(new ExecRunner(), socket(), { requestTimeoutMs: 500, maxConnections: 128, log: (l) => log.push(l) });
    });
    after(async () => {
      if (server) await new Promise<void>((r) => { server!.close(() => r()); });
    });

    /** Connects; resolves when the daemon closes the connection, with how long it took and what it sent. */
    const open = (send?: string): { sock: Socket; closed: Promise<{ ms: number; data: string }> } => {
      const sock = connect(socket());
      const t0 = performance.now();
      let data = '';
      sock.on('data', (b: Buffer) => { data += b.toString(); });
      sock.on('error', () => undefined);
      if (send !== undefined) sock.write(send);
      return { sock, closed: new Promise((r) => sock.on('close', () => r({ ms: performance.now() - t0, data }))) };
    };

    test('a client that sends nothing, or half a request, is disconnected after the request timeout', { timeout: 30_000 }, async () => {
      const half = 'PODNET-CNI 1\ntype bridge\npid 1\nstart 1\nenv CNI_COMMAND=ADD\nstdin 500\n{"cniVersion": "1.0.0", "na';
      for (const [what, send] of [['nothing', undefined], ['the first line only', 'PODNET-CNI 1\n'], ['half a request', half]] as const) {
        const c = open(send);
        const r = await within(c.closed, 5000, undefined);
        c.sock.destroy();
        assert.ok(r, `${what}: the daemon closed the connection within 5 s`);
        assert.ok(r.ms >= 400 && r.ms < 4000, `${what}: closed after the 500 ms request timeout (${Math.round(r.ms)} ms)`);
        assert.equal(r.data, '', `${what}: nothing was run, nothing answered`);
      }
    });

    test('200 idle connections: those beyond 128 are dropped at once, memory stays bounded, a real ADD is served once they are gone', { timeout: 60_000 }, async () => {
      const w = daemonWorld;
      const nw = nameWorld(w, 'idle');
      const rss0 = process.memoryUsage().rss;
      const idle = Array.from({ length: 200 }, () => open());
      try {
        const closedSoon = (await Promise.all(idle.map((c) => within(c.closed, 300, undefined)))).filter(Boolean).length;
        // Node's maxConnections: a connection beyond the limit is accepted and closed at once.
        assert.equal(closedSoon, 72, `the 72 connections beyond maxConnections were closed at once (${closedSoon})`);
        const conf = JSON.stringify(bridgeConf(nw.ipamDir, '10.42.7.0/24'));
        const env = (c: string) => cniEnv(c, nw.cid, `/run/netns/${nw.pod}`, w.bin);
        // While 128 idle connections are held, a client is turned away: it must say so in the spec's
        // words (code 11, try again later), promptly, and make nothing. Its config is padded to 512 KiB
        // so it is still writing when the daemon closes the connection (a write to a closed socket:
        // SIGPIPE, unless the client ignores it).
        const padded = JSON.stringify({ ...bridgeConf(nw.ipamDir, '10.42.7.0/24'), pad: 'x'.repeat(512 * 1024) });
        const turned = await w.startOn(socket(), nw.h, 'podnet-bridge', env('ADD'), padded).done;
        assert.equal(turned.signal, null, `the turned-away client ended on its own, not by ${turned.signal ?? ''}: ${turned.stdout}`);
        const err = cniError(turned);
        assert.equal(err.code, 11, err.msg);
        assert.ok(turned.ms < 5000, `turned away promptly (${Math.round(turned.ms)} ms)`);
        assert.equal(ipFiles(nw.ipamDir).size, 0, 'nothing reserved');
        // The idle ones are disconnected by the request timeout; then the same ADD is served.
        const all = await within(Promise.all(idle.map((c) => c.closed)), 5000, undefined);
        assert.ok(all, 'every idle connection was closed by the daemon');
        assert.ok(process.memoryUsage().rss - rss0 < 64 * 1024 * 1024, `memory grew by ${Math.round((process.memoryUsage().rss - rss0) / 1048576)} MiB`);
        const ok = await w.startOn(socket(), nw.h, 'podnet-bridge', env('ADD'), conf).done;
        assertOk(ok, 'ADD once the idle connections are gone');
        assert.deepEqual(heldAddrs([nw.pod]).map((a) => a.ip), ['10.42.7.2']);
        assertOk(await w.startOn(socket(), nw.h, 'podnet-bridge', env('DEL'), conf).done, 'DEL');
        assert.equal(ipFiles(nw.ipamDir).size, 0);
      } finally {
        for (const c of idle) c.sock.destroy();
        nsDel([nw.h, nw.pod]);
      }
    });
  });
});
