// kubelet's resolv.conf through the CLI: `podnet exec POD -- cat /etc/resolv.conf` shows the pod's file
// (its Kubernetes namespace first in the search path), a pod's own command (`podnet run … -- CMD`) sees
// the same, the exit code still passes through, and the machine's /etc/resolv.conf is byte-identical
// with no mount of it left in podnet's mount namespace; lab down leaves no resolv.conf file behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmdline, readState, waitFor } from '../kernel/helpers.js';
import { T, labName, newStateDir, podnet, show, tearDown, type CliResult } from './cli.js';

const kubelet = (ns: string) => `search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n`;
const machine = () => createHash('sha256').update(readFileSync('/etc/resolv.conf')).digest('hex');
const resolvMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === '/etc/resolv.conf');
const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe("kubelet's resolv.conf in pods, through the CLI", () => {
  const L = labName();
  let stateDir = '';
  const cli = (args: string[]) => podnet(args, { stateDir });
  const before0 = { hash: machine(), mounts: resolvMounts() };

  before(async () => {
    stateDir = await newStateDir('dns');
    ok(await cli(['lab', 'up', '--name', L]));
  });

  after(() => tearDown([{ lab: L, stateDir }], [stateDir]));

  test('podnet exec pod1 -- cat /etc/resolv.conf: the pod\'s file, not the machine\'s', T, async () => {
    const r = await cli(['exec', 'pod1', '--name', L, '--', 'cat', '/etc/resolv.conf']);
    ok(r);
    assert.equal(r.stdout, kubelet('default'));
    assert.equal(machine(), before0.hash, "the machine's /etc/resolv.conf is unchanged");
    assert.deepEqual(resolvMounts(), before0.mounts, 'no mount of /etc/resolv.conf is left in podnet\'s mount namespace');
  });

  test('exec keeps the exit code, stdin and stdout through the mount namespace wrapper', T, async () => {
    const r = await cli(['exec', 'pod1', '--name', L, '--', 'sh', '-c', 'cat /etc/resolv.conf >/dev/null; exit 3']);
    assert.equal(r.code, 3, show(r));
    const echo = await podnet(['exec', 'pod1', '--name', L, '--', 'cat'], { stateDir, input: 'through\n' });
    ok(echo);
    assert.equal(echo.stdout, 'through\n');
  });

  test('a pod of namespace shop running its own command sees shop first in the search path', T, async () => {
    ok(await cli(['run', 'shop1', '--name', L, '-n', 'shop', '--', 'busybox', 'sleep', '600']));
    const pod = readState(stateDir, L).pods.find((p) => p.name === 'shop1');
    assert.ok(pod?.pid, 'shop1 runs');
    // The bind mount is made by the process itself just before it execs its command.
    assert.ok(await waitFor(() => cmdline(pod.pid ?? 0)?.[0] === 'busybox', 5000), 'shop1 execs its command');
    assert.equal(readFileSync(`/proc/${pod.pid}/root/etc/resolv.conf`, 'utf8'), kubelet('shop'), "what the pod's process sees on /etc/resolv.conf");
    const r = await cli(['exec', 'shop1', '--name', L, '--', 'cat', '/etc/resolv.conf']);
    assert.equal(r.stdout, kubelet('shop'), show(r));
  });

  test('lab down: no resolv.conf file left; the machine\'s file byte-identical, no mount of it left', T, async () => {
    assert.ok(existsSync(join(stateDir, L, 'dns', 'resolv', 'pod1.conf')), 'pod1 has its file while the lab is up');
    ok(await cli(['lab', 'down', '--name', L]));
    assert.equal(existsSync(join(stateDir, L)), false);
    assert.equal(machine(), before0.hash);
    assert.deepEqual(resolvMounts(), before0.mounts);
  });
});
