// `podnet ui` as a user runs it: it prints one URL with a one-time token on 127.0.0.1, the URL opens a
// session that sees the lab, Ctrl-C stops it cleanly; bad flags get one error line and start nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN, ROOT, T, labName, newStateDir, oneErrorLine, podnet, show, tearDown } from './cli.js';
import { login, request } from '../kernel/web/client.js';
import { within } from '../kernel/helpers.js';
import type { TopologyDoc } from '../../src/web/api.js';

describe('podnet ui', () => {
  let stateDir = '';
  const lab = labName();
  before(async () => {
    stateDir = await newStateDir('ui');
    const up = await podnet(['lab', 'up', '--name', lab], { stateDir });
    assert.equal(up.code, 0, show(up));
  });
  after(() => tearDown([{ lab, stateDir }], [stateDir]));

  test('prints a login URL on 127.0.0.1, serves the lab read-only, stops on Ctrl-C', T, async () => {
    const child = spawn(process.execPath, [BIN, 'ui', '--lab', lab], { cwd: ROOT, env: { ...process.env, PODNET_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = stdout.trim();
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/, `stdout: ${stdout}\nstderr: ${stderr}`);
      assert.match(stderr, new RegExp(`serving lab "${lab}", read-only on 127\\.0\\.0\\.1:\\d+`));
      const cookie = await login(url);
      const port = Number(new URL(url).port);
      const doc = (await request(port, '/api/topology', { cookie })).json as TopologyDoc;
      assert.deepEqual(doc.source, { kind: 'lab', lab, status: 'up' });
      assert.deepEqual(doc.nodes.flatMap((n) => n.graph.pods.map((p) => p.name)).sort(), ['pod1', 'pod2']);
      assert.equal((await request(port, '/api/pods', { cookie, method: 'POST', body: { name: 'pod3' } })).status, 403);
      const page = await request(port, '/', { cookie });
      assert.equal(page.status, 200, 'the built front end is served');
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.doesNotMatch(page.text, /https?:\/\//, 'nothing is loaded from elsewhere');
    } finally {
      child.kill('SIGINT');
      const code = await within(exited, 10_000, 'timeout');
      if (code === 'timeout') child.kill('SIGKILL');
      assert.equal(code, 0, `exit after SIGINT: ${String(code)}\n${stderr}`);
      assert.match(stderr, /podnet ui: stopped\n$/);
    }
  });

  test('bad flags: one error line, nothing served', T, async () => {
    assert.match(oneErrorLine(await podnet(['ui', '--port', '70000'], { stateDir })), /^--port: "70000" is not a port/);
    assert.match(oneErrorLine(await podnet(['ui', '--host', '--allow-changes'], { stateDir })), /^--allow-changes works with labs only/);
    assert.match(oneErrorLine(await podnet(['ui', '--host', '--lab', lab], { stateDir })), /^give one of --lab or --host$/);
    assert.match(oneErrorLine(await podnet(['ui', '--lab', 'Bad_Name'], { stateDir })), /^--lab: "Bad_Name": a lab name must be lowercase/);
  });

  test('--help explains it with examples', T, async () => {
    const r = await podnet(['ui', '--help'], { stateDir });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage: podnet ui /);
    assert.match(r.stdout, /127\.0\.0\.1/);
    assert.match(r.stdout, /\nExamples:\n {2}podnet ui /);
  });
});
