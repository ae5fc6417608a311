// Unknown options are errors, before anything runs: `podnet run web1 --image busybox -- busybox httpd
// -f -p 8080 -h /srv` (an option run does not know, and a -h after --) is one line and exit 1 — no help
// text, no pod; `podnet exec pod1 ip -br addr` gives the line to type (with --, podnet's own options
// kept on its side) and that line works; and no verb, found by
// walking every command `--help` lists, exits 0 on `--bogus`. Every run uses a private state dir; the
// `--bogus` runs also get a private /run/netns (a mount namespace of their own), so even a verb that
// wrongly went ahead could not touch anyone's namespaces.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { labNetns, readState } from '../kernel/helpers.js';
import { T, labName, newStateDir, oneErrorLine, podnet, show, tearDown, type CliResult } from './cli.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

/** The commands `podnet … --help` lists under "Commands:" (names only, `help` left out). */
function commandsOf(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at < 0) return [];
  const block = help.slice(at + '\nCommands:\n'.length).split('\n\n')[0];
  return block.split('\n').map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1]).filter((c): c is string => c !== undefined && c !== 'help');
}

describe('unknown options', () => {
  const L = labName();
  let stateDir = '';
  const cli = (args: string[]) => podnet(args, { stateDir });

  before(async () => {
    stateDir = await newStateDir('options');
    ok(await cli(['lab', 'up', '--name', L]));
  });
  after(() => tearDown([{ lab: L, stateDir }], [stateDir]));

  test('run with an option it does not know, and -h after --: one line, exit 1, no help, nothing made', T, async () => {
    const before = { netns: labNetns(L), pods: readState(stateDir, L).pods.map((p) => p.name) };
    const r = await cli(['run', 'web1', '--image', 'busybox', '--name', L, '--', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/srv']);
    // The command is already after --: the option is run's own, misspelt — no "put the command after --".
    assert.equal(oneErrorLine(r), 'unknown option \'--image\' for podnet run (see its --help)');
    assert.doesNotMatch(r.stdout + r.stderr, /Usage:/, 'no help text');
    // Without --: the hint is the line to type, and it says --image is no option of run's.
    const r2 = await cli(['run', 'web1', '--image', 'busybox', '--name', L]);
    assert.match(oneErrorLine(r2), /^unknown option '--image': put the command after --, like podnet run web1 --name \S+ -- --image busybox$/);
    assert.deepEqual({ netns: labNetns(L), pods: readState(stateDir, L).pods.map((p) => p.name) }, before, 'no pod, no namespace');
  });

  test('exec pod1 ip -br addr: one line giving the line to type, which works', T, async () => {
    for (const args of [['exec', 'pod1', '--name', L, 'ip', '-br', 'addr'], ['exec', 'pod1', 'ip', '-br', 'addr', '--name', L]]) {
      const line = oneErrorLine(await cli(args));
      assert.equal(line, `unknown option '-br': put the command after --, like podnet exec pod1 --name ${L} -- ip -br addr`, `podnet ${args.join(' ')}`);
      // The hint keeps --name on podnet's side: typed as given, it runs in this lab's pod1.
      const typed = line.slice(line.indexOf('like podnet ') + 'like podnet '.length).split(' ');
      const r = await cli(typed);
      ok(r);
      assert.match(r.stdout, /^eth0@if\d+ +UP +10\.42\.0\.\d+\/24/m);
    }
  });

  test('every command --help lists: --bogus is an error (exit 1, one line, no help), never exit 0', { timeout: 180_000 }, async () => {
    // A private /run/netns for these runs: a verb that went ahead despite --bogus would find no namespace to touch.
    const wrap = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs podnet-e2e-options /run/netns && exec "$@"', 'sh'];
    const found: string[][] = [];
    let level: string[][] = [[]];
    for (let depth = 0; depth < 4 && level.length; depth++) {
      const helps = await Promise.all(level.map((path) => cli([...path, '--help'])));
      const next: string[][] = [];
      helps.forEach((help, k) => {
        assert.equal(help.code, 0, `podnet ${level[k].join(' ')} --help: ${show(help)}`);
        for (const c of commandsOf(help.stdout)) next.push([...level[k], c]);
      });
      found.push(...next);
      level = next;
    }
    for (const v of ['demo', 'lab', 'get', 'run', 'exec', 'node', 'cni', 'clean']) assert.ok(found.some((f) => f[0] === v), `found ${v}`);
    assert.ok(found.length >= 25, `found ${found.length} commands: ${found.map((f) => f.join(' ')).join(', ')}`);
    const bad: string[] = [];
    const all = [[], ...found];
    for (let k = 0; k < all.length; k += 4) {
      await Promise.all(all.slice(k, k + 4).map(async (cmd) => {
        const r = await podnet([...cmd, '--bogus'], { stateDir, wrap });
        const good = r.code === 1 && r.stdout === '' && /^error: unknown option '--bogus'[^\n]*\n$/.test(r.stderr);
        if (!good) bad.push(`podnet ${[...cmd, '--bogus'].join(' ')}: ${show(r)}`);
      }));
    }
    console.log(`# --bogus refused by all ${all.length} commands: ${found.map((f) => f.join(' ')).join(', ')}`);
    assert.deepEqual(bad, [], `${all.length} commands checked`);
  });
});
