// `ip -json netns list` as podnet answers it from its own process (src/host/netns.ts) against ip's own
// answer, on namespaces this test makes; and the command that -v shows for it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsList } from '../../../src/host/netns.js';
import { ExecRunner, RecordingRunner, type Command } from '../../../src/host/runner.js';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { run, uniqueName } from '../helpers.js';

const T = { timeout: 30_000 };
const owner = uniqueName('pnxn');
const names = ['a', 'b', 'c'].map((s) => `podnet-${owner}-${s}`);

before(() => {
  for (const ns of names) run(['ip', 'netns', 'add', ns]);
});

after(() => {
  for (const ns of names) run(['ip', 'netns', 'del', ns]);
});

test('the names podnet lists are the names ip lists, with both real runners', T, async () => {
  const ip = (JSON.parse(run(['ip', '-json', 'netns', 'list']) || '[]') as { name: string }[]).map((e) => e.name).sort();
  const shell = new ShellRunner(1);
  try {
    for (const runner of [new ExecRunner(), shell]) {
      const ours = (await netnsList(runner)).sort();
      assert.deepEqual(ours, ip);
      for (const ns of names) assert.ok(ours.includes(ns), `${ns} is listed`);
    }
  } finally {
    await shell.stop();
  }
});

test('-v and --dry-run see the ip command it stands for', T, async () => {
  const seen: Command[] = [];
  await netnsList(new RecordingRunner((cmd) => { seen.push(cmd); return { stdout: '[{"name":"x"}]', stderr: '', exitCode: 0 }; }));
  assert.deepEqual(seen.map((c) => c.argv.join(' ')), ['ip -json netns list']);
});
