// `podnet doctor`, `podnet lab break` and `podnet lab heal` as a user runs them, on a two-node lab of
// this file's own: exit 0 and an empty JSON report when healthy, exit 1 with the finding (and one
// `error:` line) once a fault is injected, 0 again after heal; the table fits the terminal; the fault
// list; every bad input one line naming the flag and the fix, changing nothing; --help with examples.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nsSysctl } from '../kernel/helpers.js';
import { T, labName, newStateDir, oneErrorLine, podnet, show, tearDown } from './cli.js';

describe('podnet doctor, lab break, lab heal', () => {
  let stateDir = '';
  const lab = labName();
  const cli = (args: string[], env?: Record<string, string>) => podnet(args, { stateDir, ...(env ? { env } : {}) });
  const report = (stdout: string) => JSON.parse(stdout) as { kind: string; target: string; nodes: string[]; findings: { id: string; node: string; fix: string[] }[] };

  before(async () => {
    stateDir = await newStateDir('doctor');
    const r = await cli(['lab', 'up', '--nodes', '2', '--pods', '2', '--name', lab]);
    assert.equal(r.code, 0, show(r));
  });
  after(() => tearDown([{ lab, stateDir }], [stateDir]));

  test('healthy: `doctor -o json` exits 0 with no findings; the only lab up is the default', T, async () => {
    const r = await cli(['doctor', '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    const rep = report(r.stdout);
    assert.deepEqual([rep.kind, rep.target, rep.nodes, rep.findings], ['DoctorReport', `lab "${lab}"`, ['server', 'agent1'], []]);
    const t = await cli(['doctor', '--name', lab]);
    assert.equal(t.stdout, `No problems found on lab "${lab}" (2 nodes).\n`);
  });

  test('a fault: doctor exits 1 with it (json, and a table that fits 80 columns); lab heal brings exit 0 back', T, async () => {
    const b = await cli(['lab', 'break', 'ip-forward-off', '--node', 'agent1', '--name', lab]);
    assert.equal(b.code, 0, show(b));
    assert.match(b.stderr, /^fault ip-forward-off injected \(node agent1\)/);
    assert.equal(nsSysctl(`podnet-${lab}-agent1`, 'net.ipv4.ip_forward'), '0');
    const j = await cli(['doctor', '--name', lab, '-o', 'json']);
    assert.equal(j.code, 1, show(j));
    assert.equal(j.stderr, `error: 1 problem found on lab "${lab}"\n`);
    assert.deepEqual(report(j.stdout).findings.map((f) => [f.id, f.node]), [['ip-forward-off', 'agent1']]);
    const t = await cli(['doctor', '--name', lab], { COLUMNS: '80' });
    assert.equal(t.code, 1);
    const tableLines = t.stdout.split('\n\n')[1].split('\n');
    assert.match(tableLines[0], /^#\s+SEVERITY\s+NODE\s+CHECK\s+PROBLEM$/);
    assert.ok(tableLines.every((l) => l.length <= 80), tableLines.join('\n'));
    assert.match(t.stdout, /fix:\n {5}nsenter --net=\/run\/netns\/podnet-\S+-agent1 sysctl -w net\.ipv4\.ip_forward=1\n/);
    const one = await cli(['doctor', 'server', '--name', lab, '-o', 'json']);
    assert.equal(one.code, 0, 'server alone is fine');
    const h = await cli(['lab', 'heal', '--name', lab]);
    assert.equal(h.code, 0, show(h));
    assert.equal(h.stderr, `healed ip-forward-off (agent1) in lab "${lab}"\n`);
    assert.equal((await cli(['doctor', '--name', lab, '-o', 'json'])).code, 0);
    assert.equal((await cli(['lab', 'heal', '--name', lab])).stderr, `lab "${lab}" has no injected fault: nothing to heal\n`);
  });

  test('lab break --list: one line per fault, every name usable', T, async () => {
    const r = await cli(['lab', 'break', '--list']);
    assert.equal(r.code, 0, show(r));
    const names = r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);
    for (const f of ['ip-forward-off', 'bridge-nf-off', 'hairpin-off', 'mtu-mismatch', 'fdb-missing', 'neigh-missing', 'route-missing', 'wrong-vni', 'forward-reject', 'rp-filter-strict', 'conntrack-max', 'vxlan-csum', 'stale-lease', 'duplicate-ip', 'service-target-port', 'service-no-endpoints', 'dns-down', 'netpol-no-dns']) {
      assert.ok(names.includes(f), `${f} listed`);
    }
  });

  test('bad input: one line naming the flag and the fix, nothing changed', T, async () => {
    const cases: [string[], RegExp][] = [
      [['lab', 'break', 'nope', '--name', lab], /^fault "nope": no such fault \(use one of .*podnet lab break --list\)$/],
      [['lab', 'break', 'ip-forward-off', '--node', 'ghost', '--name', lab], /^--node "ghost": no such node in lab "\S+" \(nodes: server, agent1\)$/],
      [['lab', 'break', 'mtu-mismatch', '--on', 'eth9', '--name', lab], /^--on "eth9": use pod, cni0, flannel\.1$/],
      [['lab', 'break', 'hairpin-off', '--pod', 'ghost', '--name', lab], /^--pod "ghost": no such pod on node server \(pods there: /],
      [['lab', 'break', 'fdb-missing', '--node', 'server', '--peer', 'server', '--name', lab], /^--peer "server": is the node itself/],
      [['lab', 'break', 'ip-forward-off', '--peer', 'agent1', '--name', lab], /^--peer: fault "ip-forward-off" takes no --peer/],
      [['lab', 'break', '--name', lab], /^FAULT: name the fault to inject/],
      [['lab', 'break', 'conntrack-max', '--name', lab], /cannot be made here: nf_conntrack_max is machine-wide/],
      [['lab', 'break', 'ip-forward-off', '--name', 'ghostlab'], /^lab "ghostlab" is not up/],
      [['doctor', 'ghost', '--name', lab], /^unknown node "ghost" in lab "\S+" \(nodes: server, agent1\)$/],
      [['doctor', '-o', 'xml', '--name', lab], /^-o: "xml" is not an output format here \(use table, wide, json, yaml\)$/],
      [['doctor', '--name', 'ghostlab'], /^lab "ghostlab" is not up/],
      [['doctor', '--netns', 'no-such-ns-x'], /^--netns no-such-ns-x: no such namespace/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.match(oneErrorLine(r), re, `podnet ${args.join(' ')}`);
    }
    assert.equal(existsSync(join(stateDir, lab, 'faults.json')), false, 'no fault recorded');
    assert.equal(nsSysctl(`podnet-${lab}-agent1`, 'net.ipv4.ip_forward'), '1');
    assert.equal((await cli(['doctor', '--name', lab, '-o', 'json'])).code, 0);
  });

  test('cluster faults (the DNS pod down, a policy without port 53): exit 1 with that one finding, heal brings exit 0 back', T, async () => {
    for (const [fault, id] of [['dns-down', 'service-no-endpoints'], ['netpol-no-dns', 'policy-blocks-dns']]) {
      const b = await cli(['lab', 'break', fault, '--name', lab]);
      assert.equal(b.code, 0, show(b));
      const j = await cli(['doctor', '--name', lab, '-o', 'json']);
      assert.equal(j.code, 1, show(j));
      assert.deepEqual(report(j.stdout).findings.map((f) => [f.id, f.node]), [[id, 'cluster']]);
      assert.equal((await cli(['lab', 'heal', '--name', lab])).code, 0);
      assert.equal((await cli(['doctor', '--name', lab, '-o', 'json'])).code, 0, `clean after healing ${fault}`);
    }
  });

  test('the last: lab down with faults injected leaves nothing behind (namespaces, rules, faults.json)', T, async () => {
    for (const f of [['forward-reject', '--node', 'agent1'], ['stale-lease']]) {
      const b = await cli(['lab', 'break', ...f, '--name', lab]);
      assert.equal(b.code, 0, show(b));
    }
    assert.ok(existsSync(join(stateDir, lab, 'faults.json')));
    const d = await cli(['lab', 'down', '--name', lab]);
    assert.equal(d.code, 0, show(d));
    assert.doesNotMatch(d.stderr, /stays in/, 'the stale lease was undone, not left');
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`podnet-${lab}-`));
    assert.deepEqual(left, [], 'no namespace of the lab is left');
    assert.equal(existsSync(join(stateDir, lab)), false, 'the lab directory, with faults.json, is gone');
    assert.equal((await cli(['lab', 'heal', '--name', lab])).code, 1, 'nothing left to heal: the lab is not up');
  });

  test('--help of doctor, lab break and lab heal: usage and examples', T, async () => {
    for (const verb of [['doctor'], ['lab', 'break'], ['lab', 'heal']]) {
      const r = await cli([...verb, '--help']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, new RegExp(`^Usage: podnet ${verb.join(' ')} `));
      assert.match(r.stdout, /\nExamples?:\n {2}podnet /);
    }
  });
});
