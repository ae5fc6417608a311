// A live watch on a lab of this file's own: tcpdump streams from every point while a ping runs inside
// pod1; three journeys come out, each in causal order along the path, and the watch stops by itself;
// aborted (what Ctrl-C does), it stops too. Either way no tcpdump of the trace is left in the lab's
// namespaces (read from /proc: PODNET_LAB=podnet-trace and the process's network namespace).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { Host } from '../../../src/host/host.js';
import { labUp } from '../../../src/lab/lifecycle.js';
import { defaultTopology, parseTopology } from '../../../src/model/topology.js';
import { watchTrace, type Journey } from '../../../src/trace/watch.js';
import { labDeps, labNetns, labTarget, netInodeOf, readState, tearDownLabs, tempDir, uniqueName, waitFor, within } from '../helpers.js';

const T = { timeout: 60_000 };
let root = '';
let lab = '';
const shells = new ShellRunner(4);
const host = new Host(shells);

before(async () => {
  root = await tempDir('trace-watch');
  lab = uniqueName('kw');
  await labUp(labDeps(root), lab, parseTopology(defaultTopology(2)));
});
after(async () => {
  shells.close();
  await tearDownLabs(labDeps(root), [lab], [root]);
});

/** PIDs of trace processes (PODNET_LAB=podnet-trace) inside this lab's namespaces. */
function traceProcesses(): number[] {
  const inodes = new Set(labNetns(lab).map((n) => statSync(`/run/netns/${n}`).ino));
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((e) => e.startsWith('PODNET_LAB=podnet-trace-')) && inodes.has(netInodeOf(pid) ?? -1);
    } catch {
      return false;
    }
  });
}

/** Runs ping inside pod1's namespace (bounded), resolving with its exit code. */
function ping(count: number): Promise<number | null> {
  const netns = readState(root, lab).pods.find((p) => p.name === 'pod1')!.netns;
  return new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', '10.42.0.3'], { stdio: 'ignore', timeout: 15_000 });
    child.on('close', (code) => resolve(code));
  });
}

test('--count 3 while pod1 pings: three journeys, in causal order, then every tcpdump is gone', T, async () => {
  const journeys: Journey[] = [];
  let pinging: Promise<number | null> | undefined;
  let commands: string[] = [];
  const end = await within(watchTrace(host, {
    target: await labTarget(root, lab, 'server'), stateRoot: root, src: 'pod1', dst: 'pod2', count: 3, bounds: { quietMs: 150, maxMs: 2000, maxEvents: 5000 },
  }, {
    started: (_path, c) => {
      commands = c;
      assert.equal(traceProcesses().length, 5, 'one tcpdump per point while it watches');
      pinging = ping(5);
    },
    journey: (j) => journeys.push(j),
  }), 30_000, 'timeout' as const);
  assert.notEqual(end, 'timeout');
  assert.deepEqual(end, { journeys: 3, reason: 'count' });
  assert.equal(await pinging, 0, 'the ping was answered');
  assert.equal(journeys.length, 3);
  const points = journeys[0].result.path.points.map((p) => p.id);
  for (const j of journeys) {
    for (const p of j.result.packets.filter((x) => x.kind === 'icmp')) {
      assert.deepEqual(p.hops.filter((h) => !h.reflected).map((h) => h.point), p.direction === 'request' ? points : [...points].reverse());
    }
    if (j.kind === 'icmp') assert.match(j.result.verdict, /^reply from 10\.42\.0\.3 in \d+\.\d{3} ms$/);
  }
  assert.ok(journeys.some((j) => j.kind === 'icmp'), journeys.map((j) => j.kind).join(','));
  assert.equal(commands.length, 5);
  assert.match(commands[1], new RegExp(`^ip netns exec podnet-${lab}-server tcpdump -i veth[0-9a-f]{8} -nn -e '\\(host 10\\.42\\.0\\.2 and host 10\\.42\\.0\\.3\\) or `));
  assert.ok(await waitFor(() => traceProcesses().length === 0, 3000), `left: ${traceProcesses().join(', ')}`);
});

test('aborted (Ctrl-C): the watch stops, says so, and leaves no tcpdump', T, async () => {
  const controller = new AbortController();
  const end = await within(watchTrace(host, {
    target: await labTarget(root, lab, 'server'), stateRoot: root, src: 'pod1', dst: 'pod2', protocol: 'icmp', signal: controller.signal,
  }, {
    started: () => setTimeout(() => controller.abort(), 100),
    journey: () => undefined,
  }), 20_000, 'timeout' as const);
  assert.notEqual(end, 'timeout');
  assert.equal(end !== 'timeout' && end.reason, 'signal');
  assert.deepEqual(traceProcesses(), []);
});
