// The installed plugin client's Perl (src/cni/client-script.ts) is compiled without `use strict` on
// its common path and its rare paths only when taken, to keep a call short. Here all of it is compiled
// as Perl would if every path were taken, under strict and warnings: a misspelt variable or a syntax
// error in a path the kernel tests seldom reach fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { clientScript } from '../../../src/cni/install.js';

const script = clientScript('bridge', { node: '/usr/bin/node', main: '/opt/podnet/bin/podnet-cni.js', podnet: "/opt/pod'net/bin/podnet.js", autostart: true, socket: '/run/podnet/cni.sock' });

/** `perl -c` with strict and warnings; its stderr. */
function compile(text: string): { status: number | null; stderr: string } {
  const r = spawnSync('perl', ['-Mstrict', '-Mwarnings', '-c', '-'], { input: text, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('the client as installed compiles under strict and warnings', () => {
  const r = compile(script);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '- syntax OK');
});

test('its rare paths (start a daemon, one-shot, retries) compile too, where they are evaluated', () => {
  const m = /^my \$cold = <<'COLD';\n([\s\S]*?)^COLD\n/m.exec(script);
  assert.ok(m, 'the rare paths are a heredoc named COLD');
  assert.match(script, /^if \(!@a\) \{ eval \$cold or die \$@; \}$/m, 'evaluated once no answer came');
  const inlined = script.replace(m[0], '').replace('eval $cold or die $@;', `{\n${m[1]}}`);
  const r = compile(inlined);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '- syntax OK');
});

test('a broken rare path would be caught: the check is not vacuous', () => {
  const broken = script.replace('sub start_daemon {', 'sub start_daemon {\n  $undeclared = 1;');
  const m = /^my \$cold = <<'COLD';\n([\s\S]*?)^COLD\n/m.exec(broken)!;
  const r = compile(broken.replace(m[0], '').replace('eval $cold or die $@;', `{\n${m[1]}}`));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Global symbol "\$undeclared"/);
});
