import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingRunner, formatCommand, emptyAnswer } from '../../../src/host/runner.js';
import { batchFailures, classifyStderr, HostError } from '../../../src/host/errors.js';
import { GroupCommit } from '../../../src/host/group-commit.js';
import { NetHandle } from '../../../src/host/iproute.js';
import { addrAdd, linkAddBridge, linkShow } from '../../../src/host/ip-lines.js';
import { netnsNamed, netnsAt, inNetns, CURRENT_NETNS } from '../../../src/host/netns.js';

test('commands print so a user can paste them', () => {
  assert.equal(formatCommand({ argv: ['ip', '-n', 'x', 'link', 'show'], mutates: false }), 'ip -n x link show');
  assert.equal(formatCommand({ argv: ['sh', '-c', "echo 'hi' $x"], mutates: true }), `sh -c 'echo '\\''hi'\\'' $x'`);
  assert.equal(formatCommand({ argv: ['ip', '-batch', '-'], input: 'link set lo up', mutates: true }), "ip -batch - <<'EOF'\nlink set lo up\nEOF");
  assert.equal(formatCommand({ argv: ['busybox', 'sleep', '1'], env: { PODNET_LAB: 'a b' }, mutates: true }, true), "PODNET_LAB='a b' busybox sleep 1 </dev/null >/dev/null 2>&1 &");
});

test('iproute2 messages map to error kinds', () => {
  assert.equal(classifyStderr('RTNETLINK answers: File exists'), 'exists');
  assert.equal(classifyStderr('Error: ipv4: Address already assigned.'), 'exists');
  assert.equal(classifyStderr('Cannot find device "nosuch"'), 'not-found');
  assert.equal(classifyStderr('Cannot open network namespace "x": No such file or directory'), 'not-found');
  assert.equal(classifyStderr('RTNETLINK answers: Operation not permitted'), 'permission');
  assert.equal(classifyStderr('Error: Unknown device type.'), 'invalid');
  assert.deepEqual(batchFailures('RTNETLINK answers: File exists\nCommand failed -:2\nCannot find device "x"\nCommand failed -:3\n'),
    [{ line: 2, message: 'RTNETLINK answers: File exists' }, { line: 3, message: 'Cannot find device "x"' }]);
});

test('namespaces are always named: ip -n for pinned ones, nsenter for paths', () => {
  assert.deepEqual(inNetns(netnsNamed('a'), 'ip', ['link']), ['ip', '-n', 'a', 'link']);
  assert.deepEqual(inNetns(netnsAt('/proc/1/ns/net'), 'ip', ['link']), ['nsenter', '--net=/proc/1/ns/net', '--', 'ip', 'link']);
  assert.deepEqual(inNetns(netnsAt('/var/run/netns/cni-1'), 'bridge', ['fdb']), ['bridge', '-n', 'cni-1', 'fdb']);
  assert.deepEqual(inNetns(CURRENT_NETNS, 'sysctl', ['-n', 'x']), ['sysctl', '-n', 'x']);
});

test('group commit: callers in one turn share one run; later ones wait for the next', async () => {
  const runs: number[][] = [];
  const gc = new GroupCommit<number, number>(async (reqs) => { runs.push(reqs); return reqs.map((r) => (r < 0 ? new Error(`bad ${r}`) : r * 2)); });
  const a = await Promise.allSettled([gc.submit(1), gc.submit(2), gc.submit(-1)]);
  assert.deepEqual(runs, [[1, 2, -1]]);
  assert.deepEqual(a.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [2, 4, 'bad -1']);
  assert.equal(await gc.submit(5), 10);
  assert.equal(runs.length, 2);
});

test('concurrent batches in one namespace run as one ip -batch; failures go to their caller', async () => {
  const rec = new RecordingRunner();
  const calls: string[] = [];
  const runner = {
    run: async (cmd: Parameters<RecordingRunner['run']>[0]) => {
      calls.push(cmd.input ?? '');
      return { stdout: '[{"ifname":"v1","ifindex":7}]\n', stderr: 'RTNETLINK answers: File exists\nCommand failed -:3\n', exitCode: 1 };
    },
    start: rec.start.bind(rec),
    signal: rec.signal.bind(rec),
  };
  const h = new NetHandle(runner, netnsNamed('n'));
  const [a, b] = await Promise.all([h.batch([linkAddBridge('a'), linkShow('v1')]), h.batch([linkAddBridge('cni0'), addrAdd('1.2.3.4/24', 'cni0')])]);
  assert.equal(calls.length, 1);
  assert.equal(calls[0], 'link add a type bridge\nlink show dev v1\nlink add cni0 type bridge\naddr add 1.2.3.4/24 dev cni0\n');
  assert.deepEqual(a.failures, []);
  assert.equal(a.shows[0][0].ifname, 'v1');
  assert.equal(b.failures.length, 1);
  assert.equal(b.failures[0].line, 1);
  assert.equal(b.failures[0].kind, 'exists');
  assert.doesNotThrow(() => b.ok((f) => f.kind === 'exists'));
  assert.throws(() => b.ok(), (e: unknown) => e instanceof HostError && e.kind === 'exists' && /link add cni0/.test(e.message));
});

test('a dry run answers reads as an empty machine and records writes', async () => {
  const rec = new RecordingRunner();
  assert.deepEqual(await rec.run({ argv: ['ip', '-json', 'link', 'show'], mutates: false }), { stdout: '[]', stderr: '', exitCode: 0 });
  assert.equal(emptyAnswer({ argv: ['sysctl', '-n', 'x'], mutates: false }).exitCode, 1);
  await rec.run({ argv: ['ip', 'netns', 'add', 'x'], mutates: true });
  assert.ok((await rec.start({ argv: ['sleep', '1'], mutates: true })) < 0);
  assert.equal(rec.script(), 'ip netns add x\nsleep 1 </dev/null >/dev/null 2>&1 &');
});
