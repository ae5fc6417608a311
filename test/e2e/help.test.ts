// Every verb explains itself with an example, and `npx podnet --version` works from the project dir.
// Nothing here touches the kernel (help and version never need root), but each run still gets a
// private state dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, T, newStateDir, podnet, runCli, show } from './cli.js';

const VERBS = [
  ['demo'], ['lab', 'up'], ['lab', 'down'], ['lab', 'status'], ['lab', 'list'], ['get', 'pods'], ['get', 'nodes'],
  ['run'], ['delete', 'pod'], ['exec'], ['clean'], ['node', 'add'], ['node', 'delete'], ['agent'], ['ui'],
];

describe('help and version', () => {
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('help'); });
  after(() => rm(stateDir, { recursive: true, force: true }));

  for (const verb of VERBS) {
    test(`podnet ${verb.join(' ')} --help: exit 0, usage and an Example`, T, async () => {
      const r = await podnet([...verb, '--help'], { stateDir });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, new RegExp(`^Usage: podnet ${verb.join(' ')}(\\|\\S+)? `), r.stdout);
      assert.match(r.stdout, /\nExamples?:\n {2}(sudo )?podnet /, r.stdout);
      assert.equal(r.stderr, '');
    });
  }

  test('podnet --help: exit 0, lists the verbs and where to start', T, async () => {
    const r = await podnet(['--help'], { stateDir });
    assert.equal(r.code, 0, show(r));
    for (const verb of ['demo', 'lab', 'get', 'run', 'delete', 'exec', 'clean']) assert.match(r.stdout, new RegExp(`\\n {2}${verb}\\b`), `lists ${verb}`);
    assert.match(r.stdout, /\nStart with:\n {2}podnet demo/);
  });

  test('npx --no-install podnet --version prints package.json\'s version', T, async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['npx', '--no-install', 'podnet', '--version'], { stateDir, cwd: ROOT });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `${version}\n`);
  });
});
