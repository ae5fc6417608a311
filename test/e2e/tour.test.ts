// `podnet tour` as a learner and as CI take it. `tour --check` runs every step of every chapter on the
// real kernel and verifies each step's invariant (the test that the tour's claims are true of the
// kernel); a chapter whose claim is false is caught and named; a chapter file with a mistake is
// refused with one line, changing nothing; and a real terminal (tmux: send-keys, capture-pane) takes
// chapters 1 and 3, answering a question wrong and then right with the answer read from the kernel
// independently (ip -json), and the screen shows the hint, the evidence and the summary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ipJson } from '../kernel/helpers.js';
import { BIN, ROOT, labName, newStateDir, oneErrorLine, podnet, show, tearDown } from './cli.js';

const CHAPTERS = readdirSync(join(ROOT, 'tour')).filter((f) => f.endsWith('.yaml')).length;
const LONG = { timeout: 300_000 };

describe('podnet tour', () => {
  let stateDir = '';
  let xdg = '';
  const lab = labName();
  const cli = (args: string[], timeoutMs = 60_000) => podnet(args, { stateDir, env: { XDG_STATE_HOME: xdg }, timeoutMs });

  before(async () => {
    stateDir = await newStateDir('tour');
    xdg = join(stateDir, 'xdg');
  });
  after(() => tearDown([{ lab, stateDir }], [stateDir]));

  test('tour --check: every step of every chapter holds on the kernel; the lab is left up', LONG, async () => {
    const r = await cli(['tour', '--check', '--name', lab], 280_000);
    assert.equal(r.code, 0, show(r));
    const ok = r.stdout.split('\n').filter((l) => l.startsWith('ok '));
    const chapters = new Set(ok.map((l) => /^ok\s+(\d+)\./.exec(l)![1]));
    assert.equal(chapters.size, CHAPTERS, r.stdout);
    assert.match(r.stdout, new RegExp(`tour --check: ${ok.length} steps of ${CHAPTERS} chapter\\(s\\) hold on lab "${lab}"`));
    assert.ok(ipJson(`podnet-${lab}-server`, ['link', 'show', 'cni0']).length === 1, 'the lab is left up for the learner');
  });

  test('a chapter whose claim the kernel contradicts fails --check, naming the chapter, step and claim', LONG, async () => {
    const dir = join(stateDir, 'lie');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '01-lie.yaml'), `title: A lie\nintro: x\nsteps:\n  - kind: run\n    title: Gateway\n    explain: x\n    command: nsenter -t {pod1.pid} -n ip route\n  - kind: run\n    title: The wrong gateway\n    explain: x\n    command: nsenter -t {pod1.pid} -n ip route\n    question:\n      ask: gateway?\n      check: { kind: gateway, pod: pod1 }\n      hint: h\n      expect: '^10\\.42\\.0\\.99$'\nsummary: [x]\n`);
    const r = await cli(['tour', '--check', '--dir', dir, '--name', lab], 120_000);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^ok {4}1\.1 {2}Gateway/m);
    assert.match(r.stderr, new RegExp(`^error: tour --check: chapter 1 step 2 \\(${dir.replace(/[/.]/g, '\\$&')}/01-lie\\.yaml: "The wrong gateway"\\): question "gateway\\?": the kernel answers 10\\.42\\.0\\.1, which does not match /\\^10\\\\\\.42\\\\\\.0\\\\\\.99\\$/$`, 'm'));
  });

  test('a chapter file with a mistake is refused with one line naming the file and field; nothing is made', async (t) => {
    const dir = join(stateDir, 'bad');
    await mkdir(dir, { recursive: true });
    const file = join(dir, '01-bad.yaml');
    const other = newStateDir('tour-bad');
    t.after(async () => { await rm(await other, { recursive: true, force: true }); });
    const cases: [string, RegExp][] = [
      ['steps:\n  - kind: shell\n    title: s\n    explain: x\n', /: steps\[0\]\.kind: unknown step kind "shell" \(use run or read\)$/],
      ['steps:\n  - kind: read\n    title: s\n    explain: x\n    question:\n      ask: q\n      hint: h\n      check: { kind: fdb-port, pod: pod3 }\n', /: steps\[0\]\.question\.check\.pod: "pod3" is not in this chapter's lab \(pod1, pod2\), so the check cannot be evaluated$/],
      ['steps:\n  - kind: read\n    title: s\n    explain: x\n    question:\n      ask: q\n      hint: h\n      check: { kind: telepathy }\n', /: steps\[0\]\.question\.check\.kind: unknown check "telepathy" \(one of /],
    ];
    for (const [steps, message] of cases) {
      await writeFile(file, `title: T\nintro: x\n${steps}summary: [x]\n`);
      const r = await podnet(['tour', '--check', '--dir', dir, '--name', 'nolab'], { stateDir: await other, env: { XDG_STATE_HOME: xdg } });
      const line = oneErrorLine(r);
      assert.ok(line.startsWith(`${file}: `), line);
      assert.match(line, message);
      assert.ok(!existsSync(join(await other, 'nolab')), 'no lab was made');
    }
  });

  test('a terminal session (tmux) takes chapters 1 and 3: a wrong answer gets the hint, any answer the evidence', LONG, async (t) => {
    const sock = `podnet-e2e-${lab}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8', timeout: 10_000 });
    t.after(() => { try { tmux('kill-server'); } catch { /* already gone */ } });
    const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-400', '-t', 'tour');
    const waitFor = async (re: RegExp, what: string) => {
      for (let i = 0; i < 300; i++) {
        const s = screen();
        if (re.test(s)) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`the screen never showed ${what}:\n${screen()}`);
    };
    const type = (keys: string) => tmux('send-keys', '-t', 'tour', keys, 'Enter');
    const take = async (chapter: number, wrong: string, right: () => string, hint: RegExp, evidence: RegExp) => {
      tmux('new-session', '-d', '-s', 'tour', '-x', '200', '-y', '50',
        `env PODNET_STATE_DIR=${stateDir} XDG_STATE_HOME=${xdg} ${process.execPath} ${BIN} tour ${chapter} --restart --name ${lab}; echo TOUR-EXIT=$?; sleep 120`);
      await waitFor(/answer \(Enter: show me, q: quit\) >/, 'the first question');
      type(wrong);
      const afterWrong = await waitFor(/hint: /, 'a hint');
      assert.match(afterWrong, new RegExp(`✗ not ${wrong.replace(/\./g, '\\.')}\\. hint: `));
      assert.match(afterWrong, hint);
      assert.doesNotMatch(afterWrong, /evidence:/, 'no evidence before the question is answered');
      type(right());
      const afterRight = await waitFor(/evidence: /, 'the evidence');
      assert.match(afterRight, new RegExp(`✓ right: ${right().replace(/\./g, '\\.')}`));
      assert.match(afterRight, evidence);
      for (let i = 0; i < 40 && !/TOUR-EXIT=/.test(screen()); i++) {
        type('');
        await new Promise((r) => setTimeout(r, 250));
      }
      const end = await waitFor(/TOUR-EXIT=\d+/, 'the end of the chapter');
      assert.match(end, /TOUR-EXIT=0/, end);
      assert.match(end, new RegExp(`── Chapter ${chapter} done: `));
      assert.match(end, /questions right at the first try: 0\/\d+/);
      tmux('kill-session', '-t', 'tour');
    };
    const statePods = async () => (JSON.parse(await readFile(join(stateDir, lab, 'state.json'), 'utf8')) as { pods: { name: string; netns: string }[] }).pods;
    // Chapter 1 asks pod2's IP first: read it from pod2's namespace, not from podnet's output.
    const pod2Ip = async () => {
      const ns = (await statePods()).find((p) => p.name === 'pod2')!.netns;
      return ((ipJson(ns, ['addr', 'show', 'eth0'])[0].addr_info as { family: string; local: string }[]).find((a) => a.family === 'inet'))!.local;
    };
    // The chapter's lab first (as --check leaves it), so the kernel can be read before the session asks.
    const prep = await cli(['tour', '--check', '1', '--name', lab], 120_000);
    assert.equal(prep.code, 0, show(prep));
    const ip2 = await pod2Ip();
    await take(1, '10.42.0.250', () => ip2, /hint: it is in the IP column of pod2's row/, /evidence: pod2 eth0@if\d+ inet 10\.42\.0\.\d+\/24/);
    // Chapter 3 asks cni0's address first: read it from the node's namespace.
    const cni0 = ((ipJson(`podnet-${lab}-server`, ['addr', 'show', 'cni0'])[0].addr_info as { family: string; local: string }[]).find((a) => a.family === 'inet'))!.local;
    await take(3, '10.42.0.254', () => cni0, /hint: the inet line of cni0/, new RegExp(`evidence: pod2: default via ${cni0.replace(/\./g, '\\.')} dev eth0`));
    const list = await cli(['tour', '--name', lab]);
    assert.match(list.stdout, /^ +1\. A pod is a network namespace +1 node +done$/m, list.stdout);
    assert.match(list.stdout, /^ +3\. cni0, the node's switch +1 node +done$/m, list.stdout);
    assert.match(list.stdout, /^next: sudo podnet tour 2$/m);
  });
});
