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
  const ipList = () => (JSON.parse(run(['ip', '-json', 'netns', 'list']) || '[]') as { name: string }[]).map((e) => e.name).sort();
  const shell = new ShellRunner(1);
  try {
    for (const runner of [new ExecRunner(), shell]) {
      // Other test files add and delete namespaces meanwhile (the suite runs two at once): podnet's
      // list must equal ip's taken just before and just after it, in a moment when those two agree
      // (a few tries); if none comes, every name in both is in podnet's and nothing else is.
      let seen: { before: string[]; ours: string[]; after: string[] } | undefined;
      for (let i = 0; i < 10; i++) {
        seen = { before: ipList(), ours: (await netnsList(runner)).sort(), after: ipList() };
        if (seen.before.join() === seen.after.join()) break;
      }
      const { before, ours, after } = seen!;
      if (before.join() === after.join()) assert.deepEqual(ours, before);
      else {
        for (const n of before.filter((x) => after.includes(x))) assert.ok(ours.includes(n), `${n} is listed`);
        for (const n of ours) assert.ok(before.includes(n) || after.includes(n), `${n} is a namespace ip lists`);
      }
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
