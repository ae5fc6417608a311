// The exact conntrack commands podnet runs (recorded, not run) and how it reads their answers: a
// golden test of argv per wrapper, filters turned into conntrack's options, and the forgiving delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingRunner, type Command, type RunResult } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { HostError } from '../../../src/host/errors.js';
import { conntrackCount, conntrackDelete, conntrackFilterArgs, conntrackFlush, conntrackList, conntrackStats } from '../../../src/host/conntrack.js';

const ns = netnsNamed('podnet-x-srv');
const ok = (stdout: string, stderr = ''): RunResult => ({ stdout, stderr, exitCode: 0 });

/** A runner that answers every command with `answer` and keeps the argv it was asked to run. */
function answering(answer: (cmd: Command) => RunResult): { runner: RecordingRunner; seen: string[][] } {
  const seen: string[][] = [];
  const runner = new RecordingRunner((cmd) => { seen.push([...cmd.argv]); return answer(cmd); });
  return { runner, seen };
}

test('filters become conntrack options; ports and states need a protocol', () => {
  assert.deepEqual(conntrackFilterArgs({ proto: 'tcp', dst: '10.43.0.10', dport: 53, replySrc: '10.42.0.5', state: 'ESTABLISHED', zone: 0 }),
    ['-p', 'tcp', '--orig-dst', '10.43.0.10', '--orig-port-dst', '53', '--reply-src', '10.42.0.5', '--state', 'ESTABLISHED', '--zone', '0']);
  assert.deepEqual(conntrackFilterArgs({ family: 'ipv6', mark: 16, status: 'ASSURED' }), ['-f', 'ipv6', '--mark', '16', '--status', 'ASSURED']);
  assert.deepEqual(conntrackFilterArgs(), []);
  assert.throws(() => conntrackFilterArgs({ dport: 53, state: 'ESTABLISHED' }), (e: unknown) => e instanceof HostError && e.kind === 'invalid' && /dport, state needs proto/.test(e.message));
});

test('reads run conntrack inside the namespace with nsenter and parse its answer', async () => {
  const { runner, seen } = answering((cmd) => {
    if (cmd.argv.includes('-S')) return ok('cpu=0   \tfound=0 invalid=5 \ncpu=1   \tfound=0 invalid=1 \n');
    if (cmd.argv.includes('sh')) return ok('3\n262144\n');
    return ok('ipv4     2 tcp      6 119 TIME_WAIT src=203.0.113.1 dst=203.0.113.2 sport=36354 dport=8080 src=203.0.113.2 dst=203.0.113.1 sport=9090 dport=36354 [ASSURED] mark=0 use=1 id=1775307639\n',
      'conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n');
  });
  const [e] = await conntrackList(runner, ns, { proto: 'tcp', dport: 8080 });
  assert.equal(e.reply.sport, 9090);
  assert.equal((await conntrackStats(runner, ns)).total.invalid, 6);
  assert.deepEqual(await conntrackCount(runner, ns), { count: 3, max: 262144 });
  assert.deepEqual(seen, [
    ['nsenter', '--net=/run/netns/podnet-x-srv', '--', 'conntrack', '-L', '-o', 'extended,id', '-p', 'tcp', '--orig-port-dst', '8080'],
    ['nsenter', '--net=/run/netns/podnet-x-srv', '--', 'conntrack', '-S'],
    ['nsenter', '--net=/run/netns/podnet-x-srv', '--', 'sh', '-c', 'conntrack -C && exec cat /proc/sys/net/netfilter/nf_conntrack_max'],
  ]);
  assert.deepEqual(runner.lines, [], 'reads change nothing, so a dry run records none of them');
});

test('flush and delete are recorded for a dry run; delete needs a filter', async () => {
  const runner = new RecordingRunner();
  await conntrackFlush(runner, ns);
  await conntrackDelete(runner, ns, { proto: 'udp', dport: 53 });
  assert.deepEqual(runner.lines, [
    'nsenter --net=/run/netns/podnet-x-srv -- conntrack -F',
    'nsenter --net=/run/netns/podnet-x-srv -- conntrack -D -p udp --orig-port-dst 53',
  ]);
  await assert.rejects(conntrackDelete(runner, ns, {}), /needs a filter/);
});

test('a delete that matched nothing is fine; another failure is an error', async () => {
  const runner = { run: async (): Promise<RunResult> => ({ stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n', exitCode: 1 }),
    start: async () => 0, signal: async () => undefined };
  assert.deepEqual(await conntrackDelete(runner, ns, { proto: 'udp', dport: 53 }), []);
  runner.run = async () => ({ stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted\n', exitCode: 1 });
  await assert.rejects(conntrackDelete(runner, ns, { proto: 'udp', dport: 53 }), (e: unknown) => e instanceof HostError && e.kind === 'permission');
});
