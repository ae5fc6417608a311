// A long randomized run of podnet's CNI executables on one host namespace, as a busy runtime would
// drive them: random ADD / CHECK / DEL / GC over 20 containers (half through podnet-flannel delegating
// to podnet-bridge, half through podnet-bridge directly, one host-local store on a /28 (13 addresses) so addresses
// are reused and the range fills up), several at once, with about one plugin process in ten SIGKILLed
// (its whole process group) at a random moment — with the daemon, and one-shot.
//
// The driver is a runtime in miniature: it caches a successful ADD's result (libcni's cache), CHECKs
// and DELs with it, owes a DEL after an ADD or DEL that failed or was killed, and passes GC every
// attachment it still knows. After every step (a batch of operations run together) the kernel is read
// independently (`ip -json -details addr show` in every pod namespace and the host's): no IPv4 address
// on two interfaces, and every address a pod's interface holds is reserved for that pod in host-local's
// store. At the end, after DEL of every container: no reservation, no veth on the host side, no pod
// interface, no cache entry, no flannel delegate, no plugin process left.
//
// Seeded: PODNET_FUZZ_SEED=<n> replays a run (the seed is printed at the start and in every failure).
// Bounded in operations and in time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flannelConflist } from '../../../src/cni/install.js';
import { kindOf, links, sleep, waitFor } from '../helpers.js';
import {
  bridgeConf, cniEnv, ClientWorld, duplicates, heldAddrs, ipFiles, nsDel, ResultCache, type Exit, type Mode,
} from './client-world.js';

/** Whether the one-shot plugin runs bundled (bin/podnet-cni.js's own check: the bundle's stamp is the
 * tsc build's), as after `npm run build` or `npm test`; after a plain `tsc` it loads dist/src. */
function oneShotBundled(): boolean {
  const dist = fileURLToPath(new URL('../../../../dist/src/', import.meta.url));
  try {
    return readFileSync(join(dist, 'bundle', 'stamp'), 'utf8') === String(statSync(join(dist, 'cli', 'main.js')).mtimeMs) && existsSync(join(dist, 'bundle', 'cni', 'main.cjs'));
  } catch {
    return false;
  }
}

/** Per mode: operations to run (at least half of them must run), and the time after which no new
 * step starts. A one-shot operation pays a Node start-up: bundled ~0.13 s on a quick machine (1,000
 * operations in ~100 s), ~0.2 s on a slow one; from tsc's module graph ~0.25–0.6 s, when 60 keep the
 * one-shot path (killed Node plugins included) in the run. */
const PLAN: Record<Mode, { ops: number; budgetMs: number }> = {
  daemon: { ops: 1000, budgetMs: 65_000 },
  'one-shot': oneShotBundled() ? { ops: 1000, budgetMs: 150_000 } : { ops: 60, budgetMs: 20_000 },
};
const CONTAINERS = 20;
const SUBNET = '10.42.9.0/28';
const KILL_RATE = 0.1;

const seed = process.env.PODNET_FUZZ_SEED ? Number(process.env.PODNET_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);

/** mulberry32: a small seeded PRNG, floats in [0, 1). */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = 'ADD' | 'CHECK' | 'DEL' | 'GC';
/** What the runtime believes of a container: never added or deleted, attached (cached), or owing a DEL. */
type Status = 'absent' | 'attached' | 'dirty';

interface Container { i: number; cid: string; ns: string; flannel: boolean; status: Status }

let world: ClientWorld;
before(async () => {
  world = await ClientWorld.create('kz', true);
});
after(async () => {
  const problems = world ? await world.close() : [];
  assert.deepEqual(problems, [], 'nothing of this file is left');
});

for (const mode of ['daemon', 'one-shot'] as Mode[]) {
  test(`${mode}: ${PLAN[mode].ops} random ADD/CHECK/DEL/GC over ${CONTAINERS} containers, ~${KILL_RATE * 100}% killed: never one IP on two interfaces; nothing left`, { timeout: PLAN[mode].budgetMs + 120_000 }, async (t) => {
    const modeSeed = seed + (mode === 'daemon' ? 0 : 1);
    const rand = prng(modeSeed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const say = (m: string) => `[PODNET_FUZZ_SEED=${seed}, ${mode}] ${m}`;
    t.diagnostic(`PODNET_FUZZ_SEED=${seed}`);
    console.log(`# fuzz ${mode}: PODNET_FUZZ_SEED=${seed}`);

    const w = world;
    const label = w.next(mode === 'daemon' ? 'd' : 'o');
    const all = w.nsAdd([`${label}-H`, ...Array.from({ length: CONTAINERS }, (_, i) => `${label}-p${i}`)]);
    const [h, ...podNs] = all;
    const dir = join(w.tmp, label);
    mkdirSync(dir, { recursive: true });
    const ipamDir = join(dir, 'ipam');
    const flannelDir = join(dir, 'flannel');
    const subnetFile = join(dir, 'subnet.env');
    writeFileSync(subnetFile, `FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=${SUBNET.replace('.0/', '.1/')}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`);
    const cache = new ResultCache(join(dir, 'results'));
    const [flannelPlugin] = flannelConflist({ subnetFile, dataDir: flannelDir, ipamDataDir: ipamDir }).plugins;
    const confOf = (c: { flannel: boolean }, version = '1.0.0') => (c.flannel
      ? { cniVersion: version, name: 'cbr0', ...flannelPlugin }
      : { ...bridgeConf(ipamDir, SUBNET), cniVersion: version });
    const containers: Container[] = podNs.map((ns, i) => ({ i, cid: `${label}c${i}`, ns, flannel: i % 2 === 0, status: 'absent' }));
    const exeOf = (c: { flannel: boolean }) => (c.flannel ? 'podnet-flannel' : 'podnet-bridge');

    /** The last operations of each container, for failure messages. */
    const history = new Map<string, string[]>();
    const remember = (c: Container | undefined, line: string) => {
      const key = c?.cid ?? 'GC';
      history.set(key, [...(history.get(key) ?? []), `step ${tally.steps}: ${line}`].slice(-6));
    };
    const historyOf = (text: string) => [...history].filter(([cid]) => new RegExp(`\\b${cid}\\b`).test(text) || cid === 'GC').map(([cid, h]) => `${cid}: ${h.join('; ')}`).join('\n');
    const tally = { ops: 0, steps: 0, killed: 0, kills: 0, checkMs: 0, byOp: { ADD: 0, CHECK: 0, DEL: 0, GC: 0 } as Record<Op, number>, exhausted: 0, checks: 0 };
    /** Typical durations, for where a kill lands (measured in the warm-up, per op). */
    const typical: Record<Op, number> = { ADD: 0, CHECK: 0, DEL: 0, GC: 0 };

    /** Runs one operation; returns its exit and whether this run killed it. */
    const runOp = async (op: Op, c: Container | undefined, kill: boolean): Promise<{ exit: Exit; killed: boolean }> => {
      let exe: string;
      let conf: Record<string, unknown>;
      let env: Record<string, string>;
      if (op === 'GC') {
        const useFlannel = rand() < 0.5;
        const valid = containers.filter((x) => x.status !== 'absent').map((x) => ({ containerID: x.cid, ifname: 'eth0' }));
        exe = useFlannel ? 'podnet-flannel' : 'podnet-bridge';
        conf = { ...confOf({ flannel: useFlannel }, '1.1.0'), 'cni.dev/valid-attachments': valid };
        env = cniEnv('GC', 'gc', '', w.bin);
      } else {
        exe = exeOf(c!);
        conf = confOf(c!);
        if (op === 'CHECK') conf = { ...conf, prevResult: cache.get(c!.cid) };
        env = cniEnv(op, c!.cid, `/run/netns/${c!.ns}`, w.bin);
      }
      const started = w.start(mode, h, exe, env, JSON.stringify(conf));
      let killed = false;
      if (kill) {
        tally.kills++;
        const at = Math.floor(rand() * 1.3 * typical[op]);
        void sleep(at).then(() => { killed = true; started.kill(); });
      }
      const exit = await started.done;
      return { exit, killed: killed && exit.signal === 'SIGKILL' };
    };

    /** Applies the outcome to the runtime's beliefs; returns a problem if the plugin failed where it must not. */
    const settle = (op: Op, c: Container | undefined, r: { exit: Exit; killed: boolean }): string | undefined => {
      const { exit, killed } = r;
      remember(c, `${op} ${killed ? 'killed' : `exit ${exit.code ?? exit.signal}`}${exit.code === 0 && op === 'ADD' ? ` ${/"address":"([^"]+)"/.exec(exit.stdout)?.[1] ?? ''}` : ''}${exit.code !== 0 && !killed ? ` ${exit.stdout.trim().slice(0, 120)}` : ''}`);
      if (killed) tally.killed++;
      const ok = exit.code === 0;
      const fail = () => `${op} ${c?.cid ?? ''} failed (exit ${exit.code ?? exit.signal}): ${exit.stdout.trim()}${exit.stderr.trim()}`;
      if (op === 'GC') return ok || killed ? undefined : fail();
      const ct = c!;
      if (op === 'ADD') {
        if (ok) {
          cache.put(ct.cid, exit.stdout);
          ct.status = 'attached';
          return undefined;
        }
        ct.status = 'dirty'; // the runtime owes it a DEL, as after any failed ADD
        if (killed) return undefined;
        if (/no IP addresses available in range set/.test(exit.stdout)) {
          tally.exhausted++;
          return undefined;
        }
        return fail();
      }
      if (op === 'DEL') {
        if (ok) {
          cache.drop(ct.cid);
          ct.status = 'absent';
          return undefined;
        }
        ct.status = 'dirty';
        return killed ? undefined : fail();
      }
      // CHECK of an attached container must pass.
      return ok || killed ? undefined : fail();
    };

    /** The invariants after a step, read from the kernel and the store. */
    const problems = (): string[] => {
      tally.checks++;
      const c0 = performance.now();
      // One instant: the daemon (which may still run a killed client's request) is frozen while both are read.
      const [held, files] = w.frozen(() => [heldAddrs(all), ipFiles(ipamDir)] as const);
      tally.checkMs += performance.now() - c0;
      const cidOf = new Map(containers.map((c) => [c.ns, c.cid]));
      const named = (where: string) => { const ns = where.split('/')[0]; return cidOf.has(ns) ? `${where} (${cidOf.get(ns)})` : where; };
      const out = [...duplicates(held)].map(([ip, on]) => `${ip} is on ${on.map(named).join(' and ')}`);
      for (const a of held) {
        if (a.ns === h) continue;
        if (files.get(a.ip) !== cidOf.get(a.ns)) out.push(`${named(`${a.ns}/${a.dev}`)} holds ${a.ip}, which the store gives to ${files.get(a.ip) ?? 'nobody'}`);
      }
      return out;
    };

    /** Exactly one operation in each block of 1/KILL_RATE (10) is killed, at a random place in the block. */
    const slots = new Map<number, number>();
    const killSchedule = (i: number) => {
      const block = Math.floor(i * KILL_RATE);
      if (!slots.has(block)) slots.set(block, Math.floor(rand() / KILL_RATE));
      return i % Math.round(1 / KILL_RATE) === slots.get(block);
    };

    const t0 = Date.now();
    try {
      // Warm-up (not counted): ADD, CHECK, DEL through each plugin and a GC, timing them for the kill
      // points (the fastest run of each: a slow outlier would put most kills after the end).
      const timed = async (op: Op, c: Container | undefined) => {
        const s = performance.now();
        const r = await runOp(op, c, false);
        typical[op] = typical[op] ? Math.min(typical[op], performance.now() - s) : performance.now() - s;
        assert.equal(settle(op, c, r), undefined, say(`warm-up ${op}`));
      };
      for (const c of [containers[0], containers[1]]) for (const op of ['ADD', 'CHECK', 'DEL'] as Op[]) await timed(op, c);
      await timed('GC', undefined);

      const deadline = Date.now() + PLAN[mode].budgetMs;
      while (tally.ops < PLAN[mode].ops && Date.now() < deadline) {
        tally.steps++;
        let batch: { op: Op; c?: Container }[];
        if (rand() < 0.08) {
          batch = [{ op: 'GC' }]; // a runtime's GC runs on its own
        } else {
          const n = 3 + Math.floor(rand() * 7);
          // Like containerd, the runtime DELs an attachment as soon as its ADD (or DEL) failed: the
          // containers owing a DEL come first, then random others.
          const chosen = new Set<Container>(containers.filter((c) => c.status === 'dirty').slice(0, n));
          for (let k = 0; k < n * 3 && chosen.size < n; k++) chosen.add(pick(containers));
          batch = [...chosen].map((c) => {
            if (c.status === 'dirty') return { op: 'DEL' as Op, c };
            const x = rand();
            if (c.status === 'absent') return { op: (x < 0.85 ? 'ADD' : 'DEL') as Op, c };
            return { op: (x < 0.45 ? 'CHECK' : 'DEL') as Op, c };
          });
        }
        const results = await Promise.all(batch.map((b, k) => runOp(b.op, b.c, killSchedule(tally.ops + k))));
        const failures = batch.map((b, k) => settle(b.op, b.c, results[k])).filter((x): x is string => x !== undefined);
        tally.ops += batch.length;
        for (const b of batch) tally.byOp[b.op]++;
        assert.deepEqual(failures, [], say(`step ${tally.steps}: an operation failed where it must not`));
        const p = problems();
        if (p.length) {
          const log = w.serve ? w.serve.child.stderr.join('').trim().split('\n').slice(-8).join('\n') : '';
          assert.fail(say(`step ${tally.steps} (${batch.map((b) => `${b.op} ${b.c?.cid ?? ''}`).join(', ')}):\n${p.join('\n')}\nhistory:\n${historyOf(p.join(' '))}${log ? `\ndaemon log:\n${log}` : ''}`));
        }
      }
      const ran = Date.now() - t0;

      // The end: DEL of every container, as a runtime tearing the node down (no kills now).
      for (let round = 0; round < 5 && containers.some((c) => c.status !== 'absent' || cache.get(c.cid)); round++) {
        const dels = await Promise.all(containers.map((c) => runOp('DEL', c, false)));
        containers.forEach((c, k) => settle('DEL', c, dels[k]));
      }
      const undeleted = containers.filter((c) => c.status !== 'absent').map((c) => c.cid);
      assert.deepEqual(undeleted, [], say('every container deleted'));
      // Daemon: a killed client's request may still be finishing; its undo leaves nothing either.
      const clean = () => ipFiles(ipamDir).size === 0 && heldAddrs(podNs).length === 0 && links(h).every((l) => kindOf(l) !== 'veth');
      await waitFor(clean, 10_000, 100);
      await sleep(500);
      assert.deepEqual([...ipFiles(ipamDir)], [], say('no reservation left'));
      assert.deepEqual(links(h).filter((l) => kindOf(l) === 'veth').map((l) => l.ifname), [], say('no veth left on the host side'));
      assert.deepEqual(heldAddrs(podNs), [], say('no pod interface holds an address'));
      assert.deepEqual(podNs.flatMap((ns) => links(ns).filter((l) => l.ifname !== 'lo').map((l) => `${ns}/${String(l.ifname)}`)), [], say('no pod interface left'));
      assert.deepEqual(cache.entries(), [], say('no cache entry left'));
      assert.deepEqual(existsSync(flannelDir) ? readdirSync(flannelDir) : [], [], say('no flannel delegate left'));
      assert.ok(await waitFor(() => w.leftoverProcesses().length === 0, 10_000), say(`no plugin process left: ${w.leftoverProcesses().join(', ')}`));
      assert.equal(problems().length, 0);
      console.log(`# fuzz ${mode}: ${tally.ops} operations (ADD ${tally.byOp.ADD}, CHECK ${tally.byOp.CHECK}, DEL ${tally.byOp.DEL}, GC ${tally.byOp.GC}) in ${tally.steps} steps, SIGKILL sent to ${tally.kills} (${tally.killed} still running), ${tally.exhausted} ADDs found the range full, ${tally.checks} kernel checks (${Math.round(tally.checkMs / 1000)} s), ${Math.round(ran / 100) / 10} s (+ ${Math.round((Date.now() - t0 - ran) / 100) / 10} s to delete everything); typical ADD ${Math.round(typical.ADD)} ms`);
      // The budget bounds the run; a machine half as fast as the one the plan was sized on (a busy
      // shared 2-core VM) still gets through half of it, and that many operations still say something.
      assert.ok(tally.ops >= PLAN[mode].ops / 2, say(`ran ${tally.ops} of ${PLAN[mode].ops} operations within ${PLAN[mode].budgetMs / 1000} s`));
      assert.ok(tally.killed >= tally.kills / 3, say(`SIGKILL sent to ${tally.kills} plugin processes (of ${tally.ops}), ${tally.killed} of them still running`));
    } finally {
      nsDel(all);
    }
  });
}
