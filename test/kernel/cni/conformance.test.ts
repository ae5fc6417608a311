// CNI conformance: every case of conformance-cases.ts runs against podnet's plugins and the reference
// plugins (Debian's containernetworking-plugins 1.1.1), each on its own fresh world, exec'd as a
// runtime execs them. The normalised results, exit and error codes and the kernel state afterwards
// must be equal, field by field, except for the known differences listed (with their reasons) in
// KNOWN_DIFFERENCES and docs/cni-conformance.md. podnet's plugins are served by `podnet cni serve`
// (started and stopped here); one pair runs them one-shot.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsWithPrefix, runStatus } from '../helpers.js';
import { CASES as BRIDGE_CASES, KNOWN_DIFFERENCES as BRIDGE_DIFFERENCES, NETWORK, SUBNET, type Case, type CaseRunView } from './conformance-cases.js';
import { PORTMAP_CASES, PORTMAP_DIFFERENCES } from './conformance-portmap.js';
import {
  Daemon, diff, execPlugin, findInPath, flatten, implementations, installPodnet, Normalizer, runPrefix, snapshot, World,
  type FieldDiff, type Impl, type ImplId, type Snapshot,
} from './conformance-world.js';

/** The bridge and host-local cases, then the portmap cases; their known differences together. */
const CASES = [...BRIDGE_CASES, ...PORTMAP_CASES];
const KNOWN_DIFFERENCES = [...BRIDGE_DIFFERENCES, ...PORTMAP_DIFFERENCES];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const prefix = runPrefix();
let tmp = '';
let impls: Record<ImplId, Impl>;
let daemon: Daemon | undefined;
let worldSeq = 0;
const t0 = Date.now();

/** One step as recorded: exit, error code and message, the normalised result. */
interface StepRecord {
  cmd: string;
  exit: number;
  code?: unknown;
  msg?: string;
  details?: string;
  result?: unknown;
  /** stdout that is not JSON (normalised), e.g. the reference's empty answer. */
  stdout?: string;
  stderr?: string;
}

/** One implementation's run of one case. */
interface CaseRun {
  impl: ImplId;
  steps: StepRecord[];
  /** Raw parsed stdout per step (for prevResult and podnet-only checks). */
  raw: (Record<string, unknown> | undefined)[];
  after: Record<string, Snapshot>;
  kernel: Snapshot;
  ms: number;
}

/** The config (stdin) of one step for one implementation and world. */
function stdinFor(c: Case, i: number, impl: Impl, w: World, prev?: unknown): string {
  const s = c.steps[i];
  if (s.stdin !== undefined) return s.stdin;
  const ipam = { type: impl.ipamType, ranges: [[{ subnet: SUBNET }]], dataDir: w.dataDir, ...c.ipam, ...s.ipam };
  const version = s.version ?? c.version ?? '1.0.0';
  if (s.plugin === 'portmap') {
    const pm: Record<string, unknown> = { cniVersion: version, name: NETWORK, type: impl.portmapType, ...c.portmap, ...s.net };
    if (prev !== undefined || s.prevJson !== undefined) pm.prevResult = prev ?? s.prevJson;
    return JSON.stringify(pm);
  }
  const conf: Record<string, unknown> = s.plugin === 'ipam'
    ? { cniVersion: version, name: NETWORK, type: impl.ipamType, ipam, ...c.net, ...s.net }
    : { cniVersion: version, name: NETWORK, type: impl.bridgeType, bridge: 'cni0', isGateway: true, ...c.net, ...s.net, ipam };
  if (s.plugin === 'ipam') delete conf.isGateway;
  if (prev !== undefined) conf.prevResult = prev;
  return JSON.stringify(conf).split('@world/').join(`${w.dir}/`);
}

/** Runs case `c` with implementation `impl` on a fresh world, removed afterwards (also on failure). */
async function runCase(c: Case, impl: Impl): Promise<CaseRun> {
  const started = Date.now();
  const wdir = join(tmp, `w${worldSeq}-${impl.tag}`);
  const w = new World(`${prefix}${worldSeq++}${impl.tag}-`, wdir, c.pods ?? ['p1']);
  await mkdir(wdir, { recursive: true });
  const n = new Normalizer(w, c.keepMacs);
  const run: CaseRun = { impl: impl.id, steps: [], raw: [], after: {}, kernel: { ns: {}, ipam: { exists: false } }, ms: 0 };
  try {
    w.create();
    c.setup?.(w);
    for (const [i, s] of c.steps.entries()) {
      await s.before?.(w);
      const pod = s.pod ?? 'p1';
      const cid = s.cid ?? `ctr-${pod}`;
      const env: Record<string, string | undefined> = {
        CNI_COMMAND: s.cmd, CNI_CONTAINERID: cid, CNI_NETNS: w.netnsPath(pod), CNI_IFNAME: s.ifname ?? 'eth0',
        CNI_ARGS: s.args ?? `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${cid}`,
        CNI_PATH: impl.cniPath.join(':'), ...impl.env,
      };
      for (const [k, v] of Object.entries(s.env?.(w) ?? {})) env[k] = v;
      const type = typeOf(s.plugin, impl);
      const exe = findInPath(type, impl.cniPath);
      assert.ok(exe, `${type} is on ${impl.cniPath.join(':')}`);
      const prev = s.prevResult !== undefined ? run.raw[s.prevResult] : undefined;
      const out = await execPlugin(w.ns.H, exe, env, stdinFor(c, i, impl, w, prev));
      run.raw.push(out.json);
      const rec: StepRecord = { cmd: s.cmd ?? '(unset)', exit: out.exit };
      if (out.json && out.exit !== 0) {
        rec.code = out.json.code;
        rec.msg = n.str(String(out.json.msg ?? ''));
        if (out.json.details) rec.details = n.str(String(out.json.details));
      } else if (out.json) {
        rec.result = n.deep(out.json);
      } else if (out.stdout.trim()) {
        rec.stdout = n.str(out.stdout.trim());
      }
      if (out.stderr.trim()) rec.stderr = n.str(out.stderr.trim());
      run.steps.push(rec);
      if (s.snap) run.after[`s${i + 1}`] = await snapshot(w, NETWORK, n);
    }
    run.kernel = await snapshot(w, NETWORK, n);
  } finally {
    w.destroy();
    await rm(wdir, { recursive: true, force: true });
  }
  run.ms = Date.now() - started;
  return run;
}

/** The comparable fields of a run (messages, stderr and timings are recorded, not compared). */
function fields(r: CaseRun): Map<string, string> {
  const out = new Map<string, string>();
  r.steps.forEach((s, i) => {
    const p = `s${i + 1}.${s.cmd}`;
    flatten({ exit: s.exit, code: s.code, result: s.result, stdout: s.stdout }, p, out);
  });
  for (const [k, snap] of Object.entries(r.after)) flatten(snap, `after.${k}`, out);
  flatten(r.kernel, 'kernel', out);
  for (const [k, v] of [...out]) if (v === '(absent)') out.delete(k);
  return out;
}

/** Which known difference explains a field of a case, if any. */
const explain = (caseId: string, d: FieldDiff) => KNOWN_DIFFERENCES.find((k) => (k.cases === '*' || k.cases.includes(caseId)) && k.field.test(d.field));

/** The plugin type a step calls for an implementation. */
const typeOf = (plugin: Case['steps'][number]['plugin'], impl: Impl) => (plugin === 'ipam' ? impl.ipamType : plugin === 'portmap' ? impl.portmapType : impl.bridgeType);

/** The exit codes a case wants of an implementation: podnet's or the reference's, by the plugin the case calls. */
function wantedExits(c: Case, impl: Impl): number[] {
  const type = typeOf(c.steps.find((s) => s.plugin === 'ipam' || s.plugin === 'portmap')?.plugin, impl);
  return type.startsWith('podnet-') ? c.exits : c.referenceExits ?? c.exits;
}

/** The report: case → pair → field → podnet vs reference (plus both messages of every failed step). */
interface ReportEntry {
  case: string;
  title: string;
  pair: string;
  ms: Record<string, number>;
  diffs: (FieldDiff & { known?: string })[];
  messages: { step: string; a?: string; b?: string }[];
}
const report: ReportEntry[] = [];
const usedKnown = new Set<string>();
const ranCases = new Set<string>();

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'podnet-conformance-'));
  const bin = join(tmp, 'bin');
  const socket = join(tmp, 'cni.sock');
  installPodnet(ROOT, bin, socket);
  impls = implementations(bin, socket, join(tmp, 'no-daemon.sock'));
  daemon = new Daemon(ROOT, socket);
  await daemon.start();
});

after(async () => {
  const killed = (await daemon?.stop()) ?? [];
  const leftNs = netnsWithPrefix(prefix);
  for (const ns of leftNs) runStatus(['ip', 'netns', 'del', ns]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  if (process.env.PODNET_CONFORMANCE_REPORT) await writeFile(process.env.PODNET_CONFORMANCE_REPORT, `${JSON.stringify(report, null, 2)}\n`);
  assert.deepEqual(leftNs, [], 'every world removed its namespaces');
  assert.deepEqual(killed, [], 'the daemon\'s processes ended with it');
  if (daemon?.pid) assert.throws(() => process.kill(daemon!.pid!, 0), 'the daemon has exited');
});

describe('CNI conformance: podnet vs the reference plugins 1.1.1', () => {
  for (const c of CASES) {
    if (c.only) {
      test(`${c.id}: ${c.title} [podnet only]`, { timeout: 60_000 }, async (t) => {
        t.diagnostic(`reference skipped: ${c.only!.skip}`);
        const r = await runCase(c, impls.podnet);
        assert.deepEqual(r.steps.map((s) => s.exit), c.exits, `exit codes: ${JSON.stringify(r.steps)}`);
        const view: CaseRunView = {
          steps: r.raw.map((j, i) => ({ exit: r.steps[i].exit, json: j, msg: r.steps[i].msg })),
          ipamFiles: Object.keys(r.kernel.ipam.files ?? {}),
          nat: r.kernel.ns.H?.iptables?.nat ?? [],
        };
        c.only!.expect(view);
        ranCases.add(c.id);
      });
      continue;
    }
    test(`${c.id}: ${c.title}`, { timeout: 60_000 }, async (t) => {
      ranCases.add(c.id);
      const problems: string[] = [];
      for (const [aId, bId] of c.pairs ?? [['podnet', 'reference']]) {
        const [a, b] = await Promise.all([runCase(c, impls[aId]), runCase(c, impls[bId])]);
        for (const r of [a, b]) {
          const exits = r.steps.map((s) => s.exit);
          const want = wantedExits(c, impls[r.impl]);
          if (JSON.stringify(exits) !== JSON.stringify(want)) problems.push(`${r.impl}: exit codes ${JSON.stringify(exits)}, the case wants ${JSON.stringify(want)} (${JSON.stringify(r.steps.map((s) => s.msg ?? s.stdout ?? ''))})`);
        }
        const diffs = diff(fields(a), fields(b)).map((d): FieldDiff & { known?: string } => {
          const k = explain(c.id, d);
          if (k) usedKnown.add(k.id);
          return k ? { ...d, known: k.id } : d;
        });
        const said = (s?: StepRecord) => s && (s.msg ?? s.stdout ?? (s.stderr ? `(stderr) ${s.stderr}` : undefined));
        const messages = a.steps.map((s, i) => ({ step: `s${i + 1}.${s.cmd}`, a: said(s), b: said(b.steps[i]) }))
          .filter((m) => m.a !== undefined || m.b !== undefined);
        report.push({ case: c.id, title: c.title, pair: `${aId} vs ${bId}`, ms: { [aId]: a.ms, [bId]: b.ms }, diffs, messages });
        const known = new Map<string, number>();
        for (const d of diffs) if (d.known) known.set(d.known, (known.get(d.known) ?? 0) + 1);
        if (known.size) t.diagnostic(`${aId} vs ${bId}: known differences ${[...known].map(([id, n]) => `${id} (${n} field${n > 1 ? 's' : ''})`).join(', ')}`);
        for (const d of diffs.filter((x) => !x.known)) t.diagnostic(`${aId} vs ${bId} ${d.field}: ${d.a} | ${d.b} (UNEXPLAINED)`);
        for (const m of messages) t.diagnostic(`${m.step} messages: ${aId}: ${m.a ?? '-'} | ${bId}: ${m.b ?? '-'}`);
        const unknown = diffs.filter((d) => !d.known);
        if (unknown.length) problems.push(`${aId} vs ${bId}: ${unknown.length} unexplained difference(s):\n${unknown.map((d) => `  ${d.field}: ${aId} ${d.a} | ${bId} ${d.b}`).join('\n')}`);
      }
      assert.equal(problems.length, 0, problems.join('\n'));
    });
  }

  test('every known difference still occurs (the table does not lie)', () => {
    const stale = KNOWN_DIFFERENCES.filter((k) => (k.cases === '*' ? ranCases.size === CASES.length : k.cases.every((id) => ranCases.has(id))) && !usedKnown.has(k.id));
    assert.deepEqual(stale.map((k) => k.id), [], 'known differences that no case showed: remove them or fix the case');
    console.log(`conformance: ${ranCases.size} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
