// The lab's outside host on the real kernel: its namespace on the underlay switch (198.51.100.253/24,
// no route beyond the underlay), its web server (a marked lab process), a pod's egress to it
// masqueraded by flannel to the node's address (seen by the server itself: its CGI and its log),
// `lab down` removing namespace and process, and `podnet clean` finding both from kernel state (run
// against a recording runner: a real clean would remove every podnet namespace of the machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Host } from '../../../src/host/host.js';
import { RecordingRunner, emptyAnswer, type Command } from '../../../src/host/runner.js';
import { labDown } from '../../../src/lab/down.js';
import { cleanAll } from '../../../src/lab/clean.js';
import { outsideDir } from '../../../src/lab/outside.js';
import { LabDir } from '../../../src/lab/state.js';
import { alive, inet, ipJson, labNetns, labProcesses, netInodeOf, runStatus, statInode, tempDir, waitFor, withLab } from '../helpers.js';

const T = { timeout: 60_000 };
const fx = withLab('outside', 1);
const outsideNs = () => `podnet-${fx.lab}-outside`;

/** `wget -qO- URL` inside a namespace: the body, or undefined when it failed. */
function wget(ns: string, url: string): string | undefined {
  const r = runStatus(['nsenter', `--net=/run/netns/${ns}`, 'wget', '-qO-', '-T', '3', url], 10_000);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The outside host's web server: the lab's process whose namespace is the outside namespace. */
const serverPid = () => labProcesses(fx.lab).find((p) => netInodeOf(p) === statInode(`/run/netns/${outsideNs()}`));

test('the outside namespace is on the underlay switch with 198.51.100.253/24 and no route beyond it', T, () => {
  assert.ok(labNetns(fx.lab).includes(outsideNs()));
  assert.deepEqual(inet(outsideNs(), 'eth0'), ['198.51.100.253/24']);
  assert.deepEqual(ipJson(outsideNs(), ['-4', 'route', 'show']).map((r) => r.dst), ['198.51.100.0/24'], 'the underlay only: no default route');
  const port = ipJson(fx.state().plan.underlay.netns, ['link', 'show', 'outside'])[0];
  assert.equal(port?.master, 'sw0');
  assert.ok(serverPid(), 'its web server runs as a process of the lab');
});

test('a pod reaches the outside host by its IP; the server sees the node\'s address (flannel\'s masquerade)', T, async () => {
  const pod = fx.state().pods[0];
  assert.match(wget(pod.netns, 'http://198.51.100.253/') ?? '', new RegExp(`^podnet outside host 198\\.51\\.100\\.253 \\(lab ${fx.lab}\\)`));
  assert.equal(wget(pod.netns, 'http://198.51.100.253/cgi-bin/ip'), '198.51.100.2', 'the source is the node, not the pod');
  const log = join(outsideDir(new LabDir(fx.root, fx.lab)), 'httpd.log');
  assert.ok(await waitFor(() => /^198\.51\.100\.2:\d+: url:\/cgi-bin\/ip$/m.test(readFileSync(log, 'utf8')), 3000), 'the server logged the node as the peer');
  assert.doesNotMatch(readFileSync(log, 'utf8'), /10\.42\./, 'no pod address ever reached it');
});

test('podnet clean finds the outside namespace and its server from kernel state (recorded, not run)', T, async () => {
  const mine = labNetns(fx.lab);
  const recorder = new RecordingRunner((cmd: Command) => (cmd.argv.join(' ') === 'ip -json netns list'
    ? { stdout: JSON.stringify(mine.map((name) => ({ name }))), stderr: '', exitCode: 0 } : emptyAnswer(cmd)));
  const emptyRoot = await tempDir('outside-clean');
  fx.cleanup(() => rm(emptyRoot, { recursive: true, force: true }));
  await cleanAll({ host: new Host(recorder), stateRoot: emptyRoot, random: (n) => new Uint8Array(randomBytes(n)) });
  const script = recorder.script();
  assert.match(script, new RegExp(`netns del ${outsideNs()}\\b`));
  assert.match(script, new RegExp(`kill -TERM ${serverPid()}\\b`));
  assert.ok(serverPid() && alive(serverPid()!), 'nothing was really stopped');
});

test('lab down removes the outside namespace and stops its server', T, async () => {
  const pid = serverPid();
  assert.ok(pid);
  await labDown(fx.deps, fx.lab);
  assert.equal(labNetns(fx.lab).includes(outsideNs()), false);
  assert.ok(await waitFor(() => !alive(pid!), 3000), 'the web server has stopped');
});
