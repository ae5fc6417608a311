// The README's tour, replayed as a reader would type it: every `$ podnet …` and `$ bridge …` line of
// its blocks runs on a lab of its own (`--name` added; `podnet-demo-` becomes that lab's prefix) and
// must exit 0, and every output line the README prints under a command must have the shape of a line
// the command prints now, in order (test/e2e/readme.ts: numbers, MACs, veth and namespace names and
// column padding aside). A README sample that goes stale fails here. The demo block itself is held to
// `podnet demo`'s output by test/e2e/demo.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, T, labName, newStateDir, podnet, runCli, show, tearDown, type CliResult } from './cli.js';
import { bare, blockUnder, firstUnmatched, samples, type Sample } from './readme.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('the README\'s samples are what the CLI prints', () => {
  let stateDir = '';
  let work = '';
  const labs: string[] = [];

  before(async () => {
    stateDir = await newStateDir('readme');
    work = await mkdtemp(join(tmpdir(), 'podnet-e2e-readme-work-'));
  });
  after(() => tearDown(labs.map((lab) => ({ lab, stateDir })), [stateDir, work]));

  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}\n${show(r)}`);

  /** Runs one sample on `lab` and holds its output to the README's. */
  async function replay(s: Sample, lab: string): Promise<void> {
    const command = bare(s.command);
    let r: CliResult;
    if (command.startsWith('podnet ')) {
      let words = command.split(/\s+/).slice(1);
      const redirect = words.indexOf('>');
      if (redirect >= 0) words = words.slice(0, redirect);
      const named = words.indexOf('--name');
      if (named >= 0) words[named + 1] = `${lab.slice(0, 12)}${words[named + 1]}`.slice(0, 20);
      else if (!words.includes('--host')) {
        const dashes = words.indexOf('--');
        words.splice(dashes >= 0 ? dashes : words.length, 0, '--name', lab);
      }
      r = await podnet(words, { stateDir, cwd: work, env: { COLUMNS: '100' } });
    } else {
      r = await runCli(['bash', '-o', 'pipefail', '-c', command.replaceAll('podnet-demo-', `podnet-${lab}-`)], { stateDir, cwd: work });
    }
    // A command the README marks `# exit N` (a fault shown failing) must exit N; every other one 0.
    const expected = Number(/#.*\bexit (\d+)\b/.exec(s.command)?.[1] ?? 0);
    assert.equal(r.code, expected, `README: $ ${s.command}\n${show(r)}`);
    const missing = firstUnmatched(s.output, `${r.stdout}${r.stderr}`.split('\n'));
    assert.equal(missing, undefined, `README: $ ${s.command}\nthis README line has no line of its shape in what the command prints now:\n${missing}\n--- printed:\n${r.stdout}${r.stderr}`);
  }

  test('the tour after the demo: each command works on a lab like the demo\'s and prints what the README shows', T, async () => {
    const lab = labName();
    labs.push(lab);
    // --no-dns: like the demo's lab (podnet demo runs no DNS pod), so the tour's tables are the demo's pods.
    ok(await podnet(['lab', 'up', '--no-dns', '--name', lab], { stateDir }), 'lab up');
    ok(await podnet(['exec', 'pod1', '--name', lab, '--', 'ping', '-c', '2', '-i', '0.2', '10.42.0.3'], { stateDir }), 'the demo\'s ping');
    const tour = samples(blockUnder(README, 'A short tour', 1));
    assert.ok(tour.length >= 10, `the tour has its commands (${tour.length})`);
    for (const s of tour) await replay(s, lab);
  });

  test('Services, DNS, policies and what broke: a Service by name, its trace, a fault, doctor, heal', { timeout: 180_000 }, async () => {
    const lab = labName();
    labs.push(lab);
    const block = samples(blockUnder(README, 'Services, DNS, policies — and what broke'));
    assert.match(block[0]?.command ?? '', /podnet lab up --nodes 2/);
    assert.ok(block.some((s) => /lab break/.test(s.command)) && block.some((s) => /doctor/.test(s.command)), 'the block breaks the lab and asks doctor');
    for (const s of block) await replay(s, lab);
  });

  test('many nodes: the cluster commands and their samples', { timeout: 120_000 }, async () => {
    const lab = labName();
    labs.push(lab);
    const cluster = samples(blockUnder(README, 'Many nodes'));
    assert.match(cluster[0]?.command ?? '', /podnet lab up --nodes/);
    for (const s of cluster) await replay(s, lab);
  });
});
