// Fuzz: thousands of generated requests to `invokePlugin` (the entry every podnet plugin executable
// runs) for bridge, host-local and loopback, with a fake PluginContext — no root, nothing real runs.
// Inputs: valid requests mutated — env maps with missing/odd CNI_* values, long and invalid ifnames and
// container IDs, CNI_ARGS garbage; configs with wrong types at every known field, deep nesting, huge
// numbers, unicode, truncated or broken JSON. Contexts: well-behaved (IPAM in process on a MemoryStore,
// a runner that succeeds or fails like iproute2) and hostile (runner and delegates that throw anything,
// an IPAM plugin that answers garbage). Every input must end as a valid result (exit 0, JSON on stdout) or the
// spec's error JSON `{cniVersion, code, msg}` with a numeric code and a non-zero exit: never a throw,
// never a stack trace. Unless a fake throws, no JavaScript engine error (TypeError, RangeError…)
// may surface as the message either. Deterministic: FUZZ_SEED (default below) fixes every input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../src/host/host.js';
import { HostError } from '../../../src/host/errors.js';
import { CURRENT_NETNS } from '../../../src/host/netns.js';
import type { Command, RunResult, Runner } from '../../../src/host/runner.js';
import { defaultRegistry, envVars } from '../../../src/cni/context.js';
import { MemoryStore } from '../../../src/cni/ipam/memory-store.js';
import { invokePlugin, type InvokeOutcome, type PluginContext } from '../../../src/cni/plugin.js';
import { CniError, ErrorCode, type CniEnv, type CniResult } from '../../../src/cni/spec.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const CASES = Number(process.env.FUZZ_CASES ?? 4000);
const registry = defaultRegistry();

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly r: () => number) {}
  int(lo: number, hi: number): number { return lo + Math.floor(this.r() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.r() < p; }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.r() * xs.length)]; }
  /** A random string of `n` characters from a mix of alphabets (ASCII, control, unicode, surrogates). */
  str(n = this.int(0, 24)): string {
    const alphabets = [
      'abcdefghijklmnopqrstuvwxyz0123456789', 'ABCXYZ_.-', ' \t\n\r;=:/\\"\'{}[],', '\u0000\u0001\u001f\u007f',
      'äöüßΩЖ中文日本語', '\u202e\u200b\ufeff\ufffd', '😀🚀', '\ud800\udfff',
    ];
    let s = '';
    for (let i = 0; i < n; i++) { const a = this.pick(alphabets); s += a[this.int(0, a.length - 1)]; }
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// The fake context.

type RunnerMode = 'ok' | 'iproute-fails' | 'throws';
type DelegateMode = 'in-process' | 'throws' | 'garbage';
/** Contexts that throw nothing themselves: the strict check (no engine error as the message) applies. */
const wellBehaved = (runner: RunnerMode, delegate: DelegateMode) => runner !== 'throws' && delegate !== 'throws';

/** What the runner answers: success with nothing printed, realistic iproute2 failures, or throws. */
class FakeRunner implements Runner {
  readonly calls: Command[] = [];
  constructor(private readonly mode: RunnerMode, private readonly g: Gen) {}
  async run(cmd: Command): Promise<RunResult> {
    this.calls.push(cmd);
    if (this.mode === 'throws') throw this.g.pick(thrown)();
    if (this.mode === 'iproute-fails' && this.g.chance(0.5)) {
      return this.g.pick<RunResult>([
        { exitCode: 1, stdout: '', stderr: 'RTNETLINK answers: File exists\nCommand failed -:1\n' },
        { exitCode: 1, stdout: '', stderr: 'Cannot find device "eth0"\nCommand failed -:2\n' },
        { exitCode: 1, stdout: '', stderr: 'Cannot open network namespace "x": No such file or directory\n' },
        { exitCode: 255, stdout: '', stderr: 'Error: argument "garbage" is wrong\n' },
        { exitCode: 3, stdout: '', stderr: 'sysctl: cannot write net/ipv4/conf/eth0/arp_notify\n' },
        { exitCode: 1, stdout: '[{"ifname":', stderr: '' },
        { exitCode: 0, stdout: '[{"ifname":"cni0","link_type":"ether","linkinfo":{"info_kind":"veth"}}]\n', stderr: '' },
        { exitCode: 0, stdout: 'not json\n', stderr: '' },
      ]);
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  async start(): Promise<number> { return 4242; }
  async signal(): Promise<void> {}
}

/** What hostile fakes throw: podnet's own errors and anything else JavaScript can throw. */
const thrown: (() => unknown)[] = [
  () => new HostError({ kind: 'failed', argv: ['ip', '-batch', '-'], exitCode: 1, stderr: 'fake: RTNETLINK answers: Operation not permitted' }),
  () => new HostError({ kind: 'not-found', argv: ['nsenter'], exitCode: 1, stderr: 'fake: No such file or directory' }),
  () => new CniError(ErrorCode.TryAgainLater, 'fake: try again'),
  () => new CniError(ErrorCode.IoFailure, 'fake: io'),
  () => new Error('fake: plain error'),
  () => new TypeError('fake: type error'),
  () => new RangeError('fake: range error'),
  () => 'fake: a string',
  () => undefined,
  () => null,
  () => 42,
  () => ({ fake: 'an object' }),
  () => Object.assign(new Error('fake: with a code'), { code: 'EACCES' }),
];

/** What a misbehaving IPAM plugin answers. */
const garbageResults: unknown[] = [
  undefined, null, {}, { ips: [] }, { ips: 'x' }, { ips: [null] }, { ips: [{}] }, { ips: [{ address: 'garbage' }] },
  { ips: [{ address: '10.42.0.5/24' }], routes: 'x' }, { ips: [{ address: '10.42.0.5/24', gateway: 7 }] },
  { ips: [{ address: '::1/128' }] }, { ips: [{ address: '10.42.0.5/24' }], dns: 'x' }, 'a string', 12,
];

function fakeContext(g: Gen, runner: RunnerMode, delegate: DelegateMode, dryRun: boolean, stores: Map<string, MemoryStore>): PluginContext {
  const ctx: PluginContext = {
    host: new Host(new FakeRunner(runner, g), dryRun),
    hostNetns: CURRENT_NETNS,
    random: (n) => Uint8Array.from({ length: n }, () => g.int(0, 255)),
    sleep: async () => undefined,
    ipamStore(dataDir: string, network: string) {
      const key = `${dataDir}\0${network}`;
      let s = stores.get(key);
      if (!s) stores.set(key, (s = new MemoryStore()));
      return s;
    },
    async delegate(type: string, env: CniEnv, stdin: string): Promise<CniResult | undefined> {
      if (delegate === 'throws') throw g.pick(thrown)();
      if (delegate === 'garbage') return g.pick(garbageResults) as CniResult;
      const out = await invokePlugin(registry.get(type.replace(/^podnet-/, '')), envVars(env), stdin, ctx);
      if (out.error) throw out.error;
      return out.result;
    },
  };
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

type Plugin = 'bridge' | 'host-local' | 'loopback';
const COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'];
const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

function validEnv(g: Gen, plugin: Plugin): Record<string, string | undefined> {
  return {
    CNI_COMMAND: g.pick(COMMANDS),
    CNI_CONTAINERID: `c${g.int(0, 5)}`,
    CNI_NETNS: g.pick(['/run/netns/fuzz-pod', '/var/run/netns/cni-1234', '/proc/self/ns/net']),
    CNI_IFNAME: plugin === 'loopback' ? 'lo' : g.pick(['eth0', 'eth1', 'net1']),
    CNI_ARGS: g.pick(['', 'IgnoreUnknown=1', 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod1;K8S_POD_INFRA_CONTAINER_ID=abc', 'K8S_POD_NAME=p']),
    CNI_PATH: '/opt/cni/bin',
  };
}

const oddEnvValues = (g: Gen, key: string): (string | undefined)[] => {
  const common = [undefined, '', ' ', g.str(), g.str(300), 'x'.repeat(100_000), '\u0000', '🚀'.repeat(8), '__proto__', 'constructor'];
  switch (key) {
    case 'CNI_COMMAND': return [...common, 'add', ' ADD', 'ADD\n', 'DELETE', 'toString', 'hasOwnProperty', ...COMMANDS];
    case 'CNI_IFNAME': return [...common, 'a'.repeat(15), 'a'.repeat(16), 'ä'.repeat(8), '.', '..', 'eth 0', 'eth/0', 'eth:0', 'eth0\n', '-eth0', 'lo', 'cni0'];
    case 'CNI_CONTAINERID': return [...common, '-abc', '.abc', 'a b', 'a/b', 'a'.repeat(5000), 'ä', 'abc;rm -rf /', 'ab\ncd', '0'];
    case 'CNI_ARGS': return [...common, ';;;', '=', '=x', 'K', 'K=', 'K=V=W', 'IgnoreUnknown=0;FOO=1', 'IgnoreUnknown=true;FOO=1', 'IgnoreUnknown=1;IP=garbage',
      'IgnoreUnknown=1;IP=10.42.0.5', 'IP=10.42.0.5,10.42.0.6', 'IP=::1', 'MAC=zz:zz', 'MAC=aa:bb:cc:dd:ee:ff', 'MAC=', 'IP=10.42.0.1', 'IP=999.1.1.1', g.str(60)];
    case 'CNI_NETNS': return [...common, 'relative/path', '/nonexistent/ns', '/proc/self/ns/net', `/run/netns/${'n'.repeat(300)}`, '/run/netns/x y'];
    case 'CNI_PATH': return [...common, ':::', '/a:/b', '/'];
    default: return common;
  }
};

function mutateEnv(g: Gen, env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  const n = g.int(0, 3);
  for (let i = 0; i < n; i++) {
    const key = g.pick(['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH', 'CNI_ARGS', 'CNI_IFNAME', 'CNI_CONTAINERID', g.str(6)]);
    if (g.chance(0.15)) delete out[key];
    else out[key] = g.pick(oddEnvValues(g, key));
  }
  return out;
}

function validConfig(g: Gen, plugin: Plugin, command: string | undefined): Record<string, unknown> {
  const cniVersion = command === 'GC' || command === 'STATUS' ? '1.1.0' : g.pick(VERSIONS);
  const ipam = { type: g.pick(['host-local', 'podnet-host-local']), ranges: [[{ subnet: g.pick(['10.42.0.0/24', '10.42.1.0/28', '198.51.100.0/30']) }]], routes: [{ dst: '10.42.0.0/16' }], dataDir: '/fuzz/data' };
  const base: Record<string, unknown> = plugin === 'bridge'
    ? { cniVersion, name: 'cbr0', type: 'bridge', bridge: 'cni0', hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: g.chance(0.3), mtu: 1450, ipam }
    : plugin === 'host-local' ? { cniVersion, name: 'cbr0', type: 'host-local', ipam } : { cniVersion, name: 'lo', type: 'loopback' };
  if (command === 'GC' || g.chance(0.1)) base['cni.dev/valid-attachments'] = [{ containerID: 'c1', ifname: 'eth0' }];
  if (command === 'CHECK' || command === 'DEL' || g.chance(0.1)) {
    base.prevResult = {
      cniVersion, interfaces: [{ name: 'cni0', mac: '0a:58:0a:2a:00:01' }, { name: 'veth1234abcd', mac: '0a:58:0a:2a:00:02' }, { name: 'eth0', mac: '0a:58:0a:2a:00:03', sandbox: '/run/netns/fuzz-pod' }],
      ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1', interface: 2 }], routes: [{ dst: '0.0.0.0/0', gw: '10.42.0.1' }],
    };
  }
  if (g.chance(0.1)) base.args = { cni: { ips: ['10.42.0.9'], mac: '0a:58:0a:2a:00:09' } };
  if (g.chance(0.1)) base.runtimeConfig = { mac: '0a:58:0a:2a:00:0a', ips: ['10.42.0.10/24'] };
  return base;
}

/** Every path of a JSON tree (objects and arrays), as key lists. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = [...at, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(c, p, out);
    }
  }
  return out;
}

/** Known fields, reached even when the base config lacks them. */
const KNOWN: (string | number)[][] = [
  ['cniVersion'], ['name'], ['type'], ['bridge'], ['isGateway'], ['isDefaultGateway'], ['forceAddress'], ['ipMasq'], ['mtu'], ['hairpinMode'], ['promiscMode'], ['vlan'],
  ['ipam'], ['ipam', 'type'], ['ipam', 'ranges'], ['ipam', 'ranges', 0], ['ipam', 'ranges', 0, 0], ['ipam', 'ranges', 0, 0, 'subnet'], ['ipam', 'ranges', 0, 0, 'rangeStart'],
  ['ipam', 'ranges', 0, 0, 'rangeEnd'], ['ipam', 'ranges', 0, 0, 'gateway'], ['ipam', 'ranges', 1], ['ipam', 'subnet'], ['ipam', 'rangeStart'], ['ipam', 'gateway'],
  ['ipam', 'routes'], ['ipam', 'routes', 0], ['ipam', 'routes', 0, 'dst'], ['ipam', 'routes', 0, 'gw'], ['ipam', 'routes', 0, 'mtu'], ['ipam', 'dataDir'], ['ipam', 'resolvConf'],
  ['args'], ['args', 'cni'], ['args', 'cni', 'ips'], ['args', 'cni', 'ips', 0], ['args', 'cni', 'mac'], ['runtimeConfig'], ['runtimeConfig', 'mac'], ['runtimeConfig', 'ips'],
  ['prevResult'], ['prevResult', 'interfaces'], ['prevResult', 'interfaces', 2], ['prevResult', 'interfaces', 2, 'name'], ['prevResult', 'interfaces', 2, 'mac'],
  ['prevResult', 'ips'], ['prevResult', 'ips', 0], ['prevResult', 'ips', 0, 'address'], ['prevResult', 'routes'], ['prevResult', 'routes', 0], ['prevResult', 'routes', 0, 'dst'],
  ['prevResult', 'routes', 0, 'gw'], ['cni.dev/valid-attachments'], ['cni.dev/valid-attachments', 0], ['cni.dev/valid-attachments', 0, 'containerID'],
];

const DEEP = '\u0000deep\u0000';

/** A value of a random type: edge numbers, odd strings, containers, or a marker later replaced by deep nesting. */
function randomValue(g: Gen, depth = 0): unknown {
  switch (g.int(0, 11)) {
    case 0: return null;
    case 1: return g.chance(0.5);
    case 2: return g.pick([0, -1, 1, 1.5, -0.5, 65535, 65536, 4094, 4095, 2 ** 31, 2 ** 53 + 2, 1e21, 1e308, -1e308, Number.MIN_VALUE]);
    case 3: return g.str();
    case 4: return g.pick(['', ' ', '10.42.0.0/24', '10.42.0.1/24', '10.42.0.0/31', '10.42.0.0/32', '10.42.0.0/0', '0.0.0.0/0', '::/64', 'fd00::/120', '300.1.1.1/24',
      '10.42.0.0/24 ', '10.42.0.5', '10.42.9.9', '10.42.0.255', 'cni0', 'a'.repeat(16), '0.3.1', '1.1.0', '2.0.0', '1.0', 'host-local', 'bridge', 'loopback',
      'podnet-host-local', '../../etc', '/', 'aa:bb:cc:dd:ee:ff', 'ff:ff:ff:ff:ff:ff', 'zz', '\ud800', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'x'.repeat(70_000)]);
    case 5: return depth > 3 ? [] : Array.from({ length: g.int(0, 3) }, () => randomValue(g, depth + 1));
    case 6: return depth > 3 ? {} : Object.fromEntries(Array.from({ length: g.int(0, 3) }, () => [g.pick(['subnet', 'type', 'dst', 'address', 'name', g.str(5)]), randomValue(g, depth + 1)]));
    case 7: return DEEP;
    case 8: return [[{ subnet: g.pick(['10.42.0.0/24', '10.42.0.0/16', 'bad']) }], [{ subnet: '10.42.0.0/25' }]];
    case 9: return { __proto__: 'x', constructor: 1, toString: 'y' };
    case 10: return Array.from({ length: g.pick([0, 1, 1000]) }, () => 'x');
    default: return g.pick([{}, [], [[]], [{}], { type: 7 }]);
  }
}

function setPath(root: Record<string, unknown>, path: readonly (string | number)[], value: unknown, remove: boolean): void {
  let cur: unknown = root;
  for (const k of path.slice(0, -1)) {
    const obj = cur as Record<string | number, unknown>;
    if (!obj[k] || typeof obj[k] !== 'object') obj[k] = typeof path[path.indexOf(k) + 1] === 'number' ? [] : {};
    cur = obj[k];
  }
  const last = path[path.length - 1];
  const obj = cur as Record<string | number, unknown>;
  if (remove) {
    if (Array.isArray(obj) && typeof last === 'number') obj.splice(last, 1);
    else delete obj[last];
  } else {
    Object.defineProperty(obj, last, { value, enumerable: true, configurable: true, writable: true });
  }
}

function deepText(g: Gen): string {
  const d = g.pick([64, 2000, 100_000]);
  return g.chance(0.5) ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
}

function mutateConfig(g: Gen, conf: Record<string, unknown>): string {
  const c = structuredClone(conf);
  const n = g.int(0, 4);
  for (let i = 0; i < n; i++) {
    const existing = paths(c);
    const path = g.chance(0.6) ? g.pick(KNOWN) : existing.length ? g.pick(existing) : ['x'];
    if (g.chance(0.15)) setPath(c, path, undefined, true);
    else setPath(c, path, randomValue(g), false);
    if (g.chance(0.05)) c[g.str(8)] = randomValue(g);
  }
  let text = JSON.stringify(c);
  while (text.includes(JSON.stringify(DEEP))) text = text.replace(JSON.stringify(DEEP), deepText(g));
  // Raw damage to the text itself.
  switch (g.chance(0.25) ? g.int(0, 7) : -1) {
    case 0: return text.slice(0, g.int(0, text.length - 1)); // truncated
    case 1: { const at = g.int(0, text.length); return text.slice(0, at) + g.str(g.int(1, 4)) + text.slice(at); }
    case 2: return g.pick(['', ' ', 'null', 'true', '1', '"x"', '[]', '[{}]', '{', '}', '{"cniVersion":', '\ufeff{}', 'NaN', '{"__proto__":{"cniVersion":"1.0.0"}}']);
    case 3: return `\ufeff${text}`;
    case 4: return deepText(g);
    case 5: return `${text}${text}`;
    case 6: return text.replace(/"/g, "'");
    case 7: return Buffer.from(text).subarray(0, g.int(1, Buffer.byteLength(text))).toString('latin1');
    default: return text;
  }
}

// ---------------------------------------------------------------------------------------------
// The check.

/** A message that is a JavaScript engine error: a bug in podnet, not an answer for the runtime. */
const ENGINE_ERROR = /is not a function|Cannot read propert|Cannot set propert|Cannot convert|is not iterable|Maximum call stack|is not defined|Invalid array length|Invalid string length|undefined is not|null is not|is not a constructor|Cannot destructure/;

function checkOutcome(out: InvokeOutcome, command: string | undefined, strict: boolean): void {
  assert.equal(typeof out.exitCode, 'number');
  assert.equal(typeof out.stdout, 'string');
  if (out.exitCode === 0) {
    if (command === 'ADD' || command === 'VERSION') {
      assert.ok(out.stdout.endsWith('\n'), 'a result ends with a newline');
      const r = JSON.parse(out.stdout) as Record<string, unknown>;
      assert.ok(r && typeof r === 'object' && !Array.isArray(r), 'the result is a JSON object');
      assert.equal(typeof r.cniVersion, 'string');
      if (command === 'VERSION') assert.ok(Array.isArray(r.supportedVersions));
      else for (const k of ['interfaces', 'ips', 'routes'] as const) assert.ok(r[k] === undefined || Array.isArray(r[k]), `${k} is a list`);
    } else {
      assert.equal(out.stdout, '', `${command} prints nothing on success`);
    }
    return;
  }
  assert.ok(out.stdout.endsWith('\n') && !out.stdout.slice(0, -1).includes('\n'), `the error is one line: ${out.stdout.slice(0, 200)}`);
  const e = JSON.parse(out.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(e).filter((k) => !['cniVersion', 'code', 'msg', 'details'].includes(k)), [], 'only the spec\'s keys');
  assert.equal(typeof e.cniVersion, 'string');
  assert.ok(typeof e.code === 'number' && Number.isInteger(e.code) && e.code > 0, `numeric code: ${String(e.code)}`);
  assert.equal(typeof e.msg, 'string');
  for (const text of [e.msg, e.details ?? '']) {
    assert.doesNotMatch(String(text), /\n\s+at |\bat (?:async )?\S+ \(?(?:file|node):/, `no stack trace: ${String(text).slice(0, 300)}`);
  }
  if (strict && !/^fake|: fake/.test(String(e.msg))) assert.doesNotMatch(String(e.msg), ENGINE_ERROR, `no JavaScript engine error as the message: ${String(e.msg).slice(0, 300)}`);
}

/** invokePlugin, bounded: a hang is a failure too. */
async function bounded(p: Promise<InvokeOutcome>, ms: number): Promise<InvokeOutcome | 'hang'> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'hang'>((r) => { t = setTimeout(() => r('hang'), ms); })]);
  } finally {
    clearTimeout(t);
  }
}

test(`fuzz: ${CASES} generated requests to invokePlugin (seed ${SEED}) end as a result or the spec's error JSON`, { timeout: 300_000 }, async () => {
  const g = new Gen(prng(SEED));
  const failures: string[] = [];
  const tally = { ok: 0, error: 0, codes: new Map<number, number>() };
  let stores = new Map<string, MemoryStore>();
  for (let i = 0; i < CASES; i++) {
    if (i % 200 === 0) stores = new Map(); // a fresh "node" now and then; state carries over in between
    const plugin = g.pick<Plugin>(['bridge', 'bridge', 'host-local', 'loopback']);
    const clean = g.chance(0.15);
    const env = clean ? validEnv(g, plugin) : mutateEnv(g, validEnv(g, plugin));
    const conf = validConfig(g, plugin, env.CNI_COMMAND);
    const stdin = clean ? JSON.stringify(conf) : mutateConfig(g, conf);
    const runnerMode = g.pick<RunnerMode>(['ok', 'ok', 'iproute-fails', 'throws']);
    const delegateMode = g.pick<DelegateMode>(['in-process', 'in-process', 'in-process', 'throws', 'garbage']);
    const dryRun = g.chance(0.7);
    const ctx = fakeContext(g, runnerMode, delegateMode, dryRun, stores);
    const label = `case ${i} (FUZZ_SEED=${SEED}): ${plugin}, runner ${runnerMode}, delegate ${delegateMode}, dryRun ${dryRun}, env ${JSON.stringify(env).slice(0, 300)}, stdin ${JSON.stringify(stdin.slice(0, 200))}${stdin.length > 200 ? ` … (${stdin.length} chars)` : ''}`;
    let out: InvokeOutcome | 'hang';
    try {
      out = await bounded(invokePlugin(registry.get(plugin), env, stdin, ctx), 5000);
    } catch (e) {
      failures.push(`invokePlugin threw ${String((e as Error)?.stack ?? e)} — ${label}`);
      continue;
    }
    if (out === 'hang') {
      failures.push(`no answer within 5 s — ${label}`);
      continue;
    }
    try {
      checkOutcome(out, typeof env.CNI_COMMAND === 'string' ? env.CNI_COMMAND : undefined, wellBehaved(runnerMode, delegateMode));
      if (out.exitCode === 0) tally.ok++;
      else {
        tally.error++;
        const code = out.error?.code ?? -1;
        tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
      }
    } catch (e) {
      failures.push(`${(e as Error).message.split('\n')[0]} — ${label}`);
    }
    if (failures.length >= 20) break;
  }
  console.log(`# fuzz: ${tally.ok} results, ${tally.error} errors; codes ${JSON.stringify(Object.fromEntries([...tally.codes].sort((a, b) => a[0] - b[0])))}`);
  assert.deepEqual(failures, [], `${failures.length} inputs broke the contract:\n${failures.join('\n')}`);
  // The generator must reach both ends, or it tests nothing.
  assert.ok(tally.ok > CASES / 20, `enough successes (${tally.ok})`);
  assert.ok(tally.codes.size >= 5, `several different error codes (${[...tally.codes.keys()].join(', ')})`);
});
