// Lab faults on the real kernel: a second `up`, IPAM exhaustion, pods added and removed on a running
// lab, an injected failure in the middle of `up` (it must unwind), and a `lab up` process killed
// half-way (SIGKILL) whose leftovers `lab down` — and, in a private mount namespace where it cannot
// touch anyone else's lab, `podnet clean` — must remove. Every lab here has its own name and state root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labUp } from '../../../src/lab/lifecycle.js';
import { labDown } from '../../../src/lab/down.js';
import { podDelete, podRun } from '../../../src/lab/pods.js';
import { type LabDeps } from '../../../src/lab/deps.js';
import { UserError } from '../../../src/model/errors.js';
import { Host } from '../../../src/host/host.js';
import { ExecRunner, type Command, type Runner } from '../../../src/host/runner.js';
import { defaultTopology, parseTopology } from '../../../src/model/topology.js';
import {
  WatchedChild, alive, distModules, forceRemoveLab, inet, labDeps, labNetns, labProcesses, link, netInodeOf, readState, run,
  statInode, tearDownLabs, tempDir, sleep, uniqueName, waitFor, within, withLab,
} from '../helpers.js';

const T = { timeout: 60_000 };
/** Every lab a test below makes itself (the running lab is withLab's), with its deps and state root, for the final tear-down. */
const made: { lab: string; deps: LabDeps; root: string }[] = [];
let scripts = '';

async function newLab(label: string): Promise<{ lab: string; deps: LabDeps; root: string }> {
  const root = await tempDir(`faults-${label}`);
  const entry = { lab: uniqueName('kt'), deps: labDeps(root), root };
  made.push(entry);
  return entry;
}

const ipFile = (root: string, lab: string, ip: string) => join(root, lab, 'nodes', 'server', 'cni', 'networks', 'cbr0', ip);

/** Everything a lab has on the machine, read from the kernel and /proc (for "nothing changed"). */
function footprint(lab: string): { netns: string[]; pids: number[] } {
  return { netns: labNetns(lab), pids: labProcesses(lab).sort((a, b) => a - b) };
}

/** Asserts lab `lab` left nothing: no namespace, no marked process, no state dir. */
async function assertGone(lab: string, root: string): Promise<void> {
  assert.deepEqual(labNetns(lab), [], 'no podnet-<lab>- namespace is left');
  assert.ok(await waitFor(() => labProcesses(lab).length === 0, 3000), `no PODNET_LAB=${lab} process is left: ${labProcesses(lab).join(', ')}`);
  assert.equal(existsSync(join(root, lab)), false, `no state dir is left: ${existsSync(join(root, lab)) ? filesUnder(join(root, lab)).join(', ') : ''}`);
}

/** The files under `dir`, relative to it (for failure messages). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath ?? d.path, d.name).slice(dir.length + 1));
}

/** The child that runs `lab up` (and is killed half-way): reports each pause process started and each
 * finished host-side bridge batch on stdout, so the test can kill it at a known point. */
function upChildSource(): string {
  const m = distModules();
  return `
import { labUp } from ${JSON.stringify(m.lifecycle)};
import { Host } from ${JSON.stringify(m.host)};
import { ExecRunner } from ${JSON.stringify(m.runner)};
import { defaultTopology, parseTopology } from ${JSON.stringify(m.topology)};
import { randomBytes } from 'node:crypto';
const [stateRoot, lab, pods, fault] = process.argv.slice(2);
const say = (line) => process.stdout.write(line + '\\n');
const inner = new ExecRunner();
let starts = 0;
const runner = {
  async run(cmd) {
    const r = await inner.run(cmd);
    if (cmd.input && cmd.input.includes('master cni0')) say('bridge-batch');
    return r;
  },
  async start(cmd) {
    if (fault === 'start' && starts++ === 0) throw new Error('injected: cannot start the pause process');
    const pid = await inner.start(cmd);
    say('start ' + pid);
    return pid;
  },
  signal: (pid, sig) => inner.signal(pid, sig),
};
try {
  await labUp({ host: new Host(runner), stateRoot, random: (n) => new Uint8Array(randomBytes(n)) }, lab, parseTopology(defaultTopology(Number(pods))));
  say('up');
} catch (e) {
  say('rejected ' + e.message);
  process.exitCode = 2;
}
`;
}

/** The child that runs `podnet clean` (cleanAll) over a state root and prints what it removed. */
function cleanChildSource(): string {
  const m = distModules();
  return `
import { cleanAll } from ${JSON.stringify(m.clean)};
import { Host } from ${JSON.stringify(m.host)};
import { ExecRunner } from ${JSON.stringify(m.runner)};
import { randomBytes } from 'node:crypto';
const r = await cleanAll({ host: new Host(new ExecRunner()), stateRoot: process.argv[2], random: (n) => new Uint8Array(randomBytes(n)) });
process.stdout.write(JSON.stringify(r) + '\\n');
`;
}

before(async () => {
  scripts = await tempDir('faults-scripts');
  await writeFile(join(scripts, 'up-child.mjs'), upChildSource());
  await writeFile(join(scripts, 'clean-child.mjs'), cleanChildSource());
});

after(async () => {
  const problems: string[] = [];
  for (const m of made) {
    try {
      await tearDownLabs(m.deps, [m.lab], [m.root]);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  await tearDownLabs(labDeps(scripts), [], [scripts]);
  if (problems.length) throw new Error(problems.join('; '));
});

describe('a running lab', () => {
  const main = withLab('faults-main', 2);

  test('lab up of a lab that is up → UserError "already up", nothing changed', T, async () => {
    const before = footprint(main.lab);
    const stateBefore = readFileSync(join(main.root, main.lab, 'state.json'), 'utf8');
    assert.equal(before.netns.length, 5, `underlay, server, outside, 2 pods: ${before.netns.join(', ')}`);
    assert.equal(before.pids.length, 3, '2 pods and the outside host\'s web server');
    await assert.rejects(labUp(main.deps, main.lab, parseTopology(defaultTopology(2))), (e: unknown) => {
      assert.ok(e instanceof UserError, `a UserError, got ${String(e)}`);
      assert.match(e.message, new RegExp(`lab "${main.lab}" is already up`));
      return true;
    });
    assert.deepEqual(footprint(main.lab), before);
    assert.equal(readFileSync(join(main.root, main.lab, 'state.json'), 'utf8'), stateBefore);
  });

  test('pod run adds pod3 with the next IP (10.42.0.4); pod delete removes its namespace, process and IP file', T, async () => {
    const pod3 = await podRun(main.deps, main.lab, 'pod3');
    assert.equal(pod3.ip, '10.42.0.4', 'the state records the bare address');
    assert.deepEqual(inet(pod3.netns, 'eth0'), ['10.42.0.4/24'], 'the kernel holds the address');
    assert.ok(pod3.pid && alive(pod3.pid), 'pod3 has a pause process');
    assert.equal(netInodeOf(pod3.pid), statInode(`/run/netns/${pod3.netns}`));
    const peer = link(pod3.netns, 'eth0')?.link_index;
    assert.ok(labNetns(main.lab).includes(pod3.netns));
    const file = ipFile(main.root, main.lab, '10.42.0.4');
    assert.equal(readFileSync(file, 'utf8').split(/\r?\n/)[0], pod3.containerId);

    await podDelete(main.deps, main.lab, 'pod3');
    assert.equal(labNetns(main.lab).includes(pod3.netns), false, 'the namespace is gone');
    assert.ok(await waitFor(() => !existsSync(`/proc/${pod3.pid}`), 3000), 'the pause process is gone');
    assert.equal(existsSync(file), false, 'the IP file is gone');
    const node = `podnet-${main.lab}-server`;
    assert.equal(JSON.parse(run(['ip', '-n', node, '-json', 'link', 'show'])).some((l: { ifindex: number }) => l.ifindex === peer), false, 'the host veth is gone');
    assert.deepEqual(readState(main.root, main.lab).pods.map((p) => p.name), ['pod1', 'pod2']);
  });

  test('host-local is round robin: the next pod gets 10.42.0.5, not the freed 10.42.0.4', T, async () => {
    const pod4 = await podRun(main.deps, main.lab, 'pod4');
    assert.equal(pod4.ip, '10.42.0.5');
    assert.deepEqual(inet(pod4.netns, 'eth0'), ['10.42.0.5/24']);
    await podDelete(main.deps, main.lab, 'pod4');
    assert.equal(labNetns(main.lab).includes(pod4.netns), false);
  });

  test('pod delete of an unknown pod → UserError naming the known pods', T, async () => {
    await assert.rejects(podDelete(main.deps, main.lab, 'nope'), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, `unknown pod "nope" in lab "${main.lab}" (pods: pod1, pod2)`);
      return true;
    });
  });
});

test('IPAM exhaustion: a /29 node with 6 pods → the reference message, nothing left behind', T, async () => {
  const { lab, deps, root } = await newLab('exhaust');
  const topo = parseTopology({ nodes: [{ name: 'server', podCIDR: '10.42.0.0/29' }], pods: Array.from({ length: 6 }, (_, i) => ({ name: `pod${i + 1}` })) });
  await assert.rejects(labUp(deps, lab, topo), (e: unknown) => {
    assert.match((e as Error).message, /no IP addresses available in range set: 10\.42\.0\.1-10\.42\.0\.6$/);
    return true;
  });
  await assertGone(lab, root);
});

/** Where a failure is injected: the `nth` command of that kind answers "Error: injected fault". */
const INJECTION_POINTS: { label: string; nth: number; matches: (cmd: Command) => boolean }[] = [
  { label: 'the loopback ADD of pod 5 (lo up in its namespace)', nth: 5, matches: (cmd) => cmd.argv.includes('-batch') && cmd.argv.some((a) => a.includes('-cni-')) && cmd.input?.trim() === 'link set lo up' },
  { label: 'the host side of the first bridge ADD (node batch with the veth)', nth: 1, matches: (cmd) => cmd.input?.includes('master cni0') === true },
  { label: 'the pod side of the bridge ADD of pod 5 (nsenter … sh -c … ip -batch)', nth: 5, matches: (cmd) => cmd.argv[0] === 'nsenter' && cmd.argv[1]?.includes('-cni-') === true && cmd.argv.includes('sh') },
];

/** A runner that fails the `nth` command `matches` selects. With `lateMs`, every other command of that
 * kind still runs at once but answers `lateMs` later (a slow machine: work in flight when up gives up). */
class FaultRunner implements Runner {
  private seen = 0;
  failed = false;
  constructor(private readonly inner: Runner, private readonly matches: (cmd: Command) => boolean, private readonly nth: number, private readonly lateMs = 0) {}
  async run(cmd: Command) {
    if (!this.matches(cmd)) return this.inner.run(cmd);
    if (!this.failed && ++this.seen === this.nth) {
      this.failed = true;
      return { stdout: '', stderr: 'Error: injected fault', exitCode: 1 };
    }
    const r = await this.inner.run(cmd);
    if (this.lateMs) await sleep(this.lateMs);
    return r;
  }
  start(cmd: Command) { return this.inner.start(cmd); }
  signal(pid: number, sig: NodeJS.Signals) { return this.inner.signal(pid, sig); }
}

for (const point of INJECTION_POINTS) {
  test(`a failure in the middle of lab up (30 pods; ${point.label}) unwinds everything`, T, async () => {
    const { lab, root } = await newLab('inject');
    const runner = new FaultRunner(new ExecRunner(), point.matches, point.nth);
    const deps: LabDeps = { ...labDeps(root), host: new Host(runner) };
    await assert.rejects(labUp(deps, lab, parseTopology(defaultTopology(30))), /injected fault/);
    assert.equal(runner.failed, true, 'the fault was injected');
    await assertGone(lab, root);
    // Work still in flight when up gave up must not bring back a namespace, a process or the state.
    // (Work still in flight when the first ADD fails is awaited before the unwind: see the race cases below.)
    await sleep(500);
    assert.deepEqual(labNetns(lab), []);
    assert.deepEqual(labProcesses(lab), []);
    assert.equal(existsSync(join(root, lab, 'state.json')), false);
  });
}

/** What makes the rollback race deterministic: the fault, and the other commands of the same kind answering late. */
const RACES = [
  { label: "other pods' loopback ADDs finish after the rollback", point: INJECTION_POINTS[0], expectFiles: /cni\/results\/cni-loopback-/ },
  { label: "other pods' bridge ADDs finish after the rollback", point: INJECTION_POINTS[2], expectFiles: /cni\/(results\/cbr0-|networks\/cbr0\/)/ },
];
for (const race of RACES) {
  test(`a failed lab up leaves no files behind even when ${race.label}`, {
    ...T,
  }, async () => {
    const { lab, root } = await newLab('race');
    const runner = new FaultRunner(new ExecRunner(), race.point.matches, race.point.nth, 400);
    const deps: LabDeps = { ...labDeps(root), host: new Host(runner) };
    await assert.rejects(labUp(deps, lab, parseTopology(defaultTopology(30))), /injected fault/);
    await sleep(1500);
    const left = existsSync(join(root, lab)) ? filesUnder(join(root, lab)) : [];
    assert.deepEqual(left, [], `files left under the lab dir after a failed up (${left.filter((f) => race.expectFiles.test(f)).length} match the race)`);
    assert.deepEqual(labNetns(lab), []);
    assert.equal(await labDown(deps, lab), false, 'nothing left for lab down');
  });
}

test('a pause process that cannot start makes lab up reject and unwind (no crash)', {
  ...T,
}, async () => {
  const { lab, deps, root } = await newLab('nostart');
  const child = new WatchedChild([process.execPath, join(scripts, 'up-child.mjs'), root, lab, '4', 'start']);
  const code = await within(child.exited, 30_000, 'timeout');
  await child.kill();
  try {
    const error = child.stderr.join('').split('\n').find((l) => /^\w*Error: /.test(l)) ?? '';
    const seen = {
      rejected: child.lines.some((l) => l.startsWith('rejected ') && l.includes('cannot start the pause process')),
      netnsLeft: labNetns(lab).length,
      processesLeft: labProcesses(lab).length,
    };
    assert.deepEqual(seen, { rejected: true, netnsLeft: 0, processesLeft: 0 },
      `labUp should reject with the start error and unwind (child exit ${String(code)}, stderr: ${error})`);
    await assertGone(lab, root);
  } finally {
    await labDown(deps, lab).catch(() => undefined);
  }
});

for (const point of [
  { label: 'after 5 pause processes started', trigger: (l: readonly string[]) => l.filter((x) => x.startsWith('start ')).length >= 5 },
  { label: 'after the first bridge ADD reached the kernel', trigger: (l: readonly string[]) => l.includes('bridge-batch') },
]) {
  test(`lab up SIGKILLed ${point.label} (30 pods): lab down removes every leftover`, T, async () => {
    const { lab, deps, root } = await newLab('killed');
    const child = new WatchedChild([process.execPath, join(scripts, 'up-child.mjs'), root, lab, '30']);
    const reached = await child.waitLines(point.trigger, 20_000);
    await child.kill();
    assert.ok(reached, `the kill point was reached (stdout: ${child.lines.slice(-3).join(' | ')}; stderr: ${child.stderr.join('').slice(0, 300)})`);
    assert.equal(child.lines.includes('up'), false, 'the child was killed before up finished');
    const state = readState(root, lab);
    assert.equal(state.status, 'creating', 'the state file says the up was interrupted');
    assert.ok(labNetns(lab).length > 0, 'the kill left namespaces');
    assert.ok(labProcesses(lab).length > 0, 'the kill left pause processes');
    await assert.rejects(labUp(deps, lab, parseTopology(defaultTopology(30))), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /was interrupted while coming up: run `podnet lab down --name kt[0-9a-f]{6}` to remove what is left/);
      return true;
    });

    assert.equal(await labDown(deps, lab), true);
    await assertGone(lab, root);
  });
}

describe('podnet clean after a killed lab up (in a private mount namespace)', () => {
  // cleanAll removes EVERY podnet-* namespace it can see. Other labs (other test files, other people's
  // runs) live in the root mount namespace's /run/netns, so this case runs with a private tmpfs on
  // /run/netns: there it sees only its own namespaces, and nothing of it is visible outside.
  let holder: WatchedChild | undefined;
  let mnt = '';
  let lab = '';
  let root = '';
  const inMnt = (argv: string[]) => ['nsenter', `--mount=${mnt}`, '--', ...argv];
  const mntNetns = () => {
    const out = run(inMnt(['ip', '-json', 'netns', 'list'])).trim();
    return (out ? (JSON.parse(out) as { name: string }[]) : []).map((e) => e.name).filter((n) => n.startsWith(`podnet-${lab}-`));
  };

  before(async () => {
    holder = new WatchedChild(['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      'mkdir -p /run/netns && mount -t tmpfs podnet-kernel-test /run/netns && echo ready && exec sleep 300']);
    assert.ok(await holder.waitLines((l) => l.includes('ready'), 10_000), `the mount namespace is ready: ${holder.stderr.join('')}`);
    mnt = `/proc/${holder.pid}/ns/mnt`;
    root = await tempDir('faults-clean');
    lab = uniqueName('kt');
  });

  after(async () => {
    // Whatever clean missed: its processes by their marker; its namespaces die with the mount namespace.
    const left = lab ? labProcesses(lab) : [];
    if (lab) forceRemoveLab(lab);
    if (holder) {
      await holder.kill();
    }
    await tearDownLabs(labDeps(root), [], [root]);
    if (left.length) throw new Error(`lab ${lab} left processes ${left.join(', ')}`);
  });

  test('lab up SIGKILLed half-way, then cleanAll: no namespace, no process, no state', T, async () => {
    const child = new WatchedChild(inMnt([process.execPath, join(scripts, 'up-child.mjs'), root, lab, '30']));
    const reached = await child.waitLines((l) => l.includes('bridge-batch'), 20_000);
    await child.kill();
    assert.ok(reached, `the kill point was reached (stderr: ${child.stderr.join('').slice(0, 300)})`);
    assert.equal(readState(root, lab).status, 'creating');
    const left = mntNetns();
    assert.ok(left.length > 0, 'the kill left namespaces (in the private mount namespace)');
    assert.deepEqual(labNetns(lab), [], 'none of them is visible in the root mount namespace');
    assert.ok(labProcesses(lab).length > 0, 'the kill left pause processes');

    const r = JSON.parse(run(inMnt([process.execPath, join(scripts, 'clean-child.mjs'), root]), 30_000).trim()) as { netns: string[]; processes: number; labs: string[] };
    assert.deepEqual(r.labs, [lab]);
    assert.deepEqual([...r.netns].sort(), [...left].sort());
    assert.ok(r.processes > 0);
    assert.deepEqual(mntNetns(), []);
    assert.ok(await waitFor(() => labProcesses(lab).length === 0, 3000), `no PODNET_LAB=${lab} process is left`);
    assert.equal(existsSync(join(root, lab)), false);
  });
});
