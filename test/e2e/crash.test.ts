// A `podnet lab up --pods 20` killed (SIGKILL) half-way, then `podnet lab down`: the user's way back
// after a crash must leave no namespace, no pause process and no state.
//
// `podnet clean` is NOT run here: it removes every podnet-* namespace and lab on the machine,
// including the labs other test files (running in parallel) and other people have up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { labNetns, labProcesses, readState, waitFor, within } from '../kernel/helpers.js';
import { BIN, ROOT, T, hasStateDir, labName, newStateDir, podnet, show, tearDown } from './cli.js';

describe('lab up killed half-way, then lab down', () => {
  const C = labName();
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('crash'); });
  after(() => tearDown([{ lab: C, stateDir }], [stateDir]));

  test('SIGKILL once a podnet-C- namespace appears; lab down removes namespaces, processes and state', T, async () => {
    const seen = () => {
      try {
        return readdirSync('/run/netns').some((n) => n.startsWith(`podnet-${C}-`));
      } catch {
        return false;
      }
    };
    const child = spawn(process.execPath, [BIN, 'lab', 'up', '--pods', '20', '--name', C], {
      cwd: ROOT, env: { ...process.env, PODNET_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.stdout.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));

    // Kill at the first sign of the lab in the kernel: an inotify watch on /run/netns (immediate),
    // with a 2 ms poll as a fallback; bounded by 30 s or the child's own exit.
    let watcher: FSWatcher | undefined;
    let poll: NodeJS.Timeout | undefined;
    const appeared = new Promise<boolean>((resolve) => {
      const check = () => { if (seen() || stderr) resolve(true); };
      try {
        watcher = watch('/run/netns', check);
      } catch {
        // no /run/netns yet: the poll finds it
      }
      poll = setInterval(check, 2);
      check();
    });
    const hit = await within(Promise.race([appeared, exited.then(() => false)]), 30_000, false);
    child.kill('SIGKILL');
    watcher?.close();
    clearInterval(poll);
    const end = await within(exited, 10_000, 'timeout' as const);

    assert.ok(hit, `a podnet-${C}- namespace appeared before lab up ended (stderr: ${stderr})`);
    assert.notEqual(end, 'timeout', 'the killed lab up exited');
    assert.equal(end !== 'timeout' && end.signal, 'SIGKILL', `lab up was killed, not finished (${JSON.stringify(end)}, stderr: ${stderr})`);
    assert.equal(readState(stateDir, C).status, 'creating', 'the state says the up was interrupted');
    assert.ok(labNetns(C).length > 0, 'the kill left namespaces behind');

    const down = await podnet(['lab', 'down', '--name', C], { stateDir });
    assert.equal(down.code, 0, show(down));
    assert.equal(down.stderr, `lab "${C}" is down\n`);
    assert.deepEqual(labNetns(C), [], `no podnet-${C}- namespace is left`);
    assert.ok(await waitFor(() => labProcesses(C).length === 0, 3000), `no process with PODNET_LAB=${C} is left: ${labProcesses(C).join(', ')}`);
    assert.equal(hasStateDir(stateDir, C), false, 'no state dir is left');
    assert.equal(existsSync(join(stateDir, C, 'state.json')), false);
  });
});
