// Bad input through the CLI, as a user meets it: every case exits 1 with exactly one stderr line
// `error: …` naming the field and the fix, and creates nothing (no `podnet-<lab>-` namespace, no
// marked process, no state dir). Also `lab up --dry-run` (a script, nothing made) and running
// without root. None of these cases brings a lab up, except IPAM exhaustion's refused attempt.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { labNetns, labProcesses, runStatus } from '../kernel/helpers.js';
import { BIN, ROOT, T, hasStateDir, labName, newStateDir, oneErrorLine, podnet, show, tearDown } from './cli.js';

describe('bad input: one line, exit 1, nothing created', () => {
  let stateDir = '';
  let files = '';
  const labs: string[] = [];
  /** A fresh lab name, remembered for the tear-down (which must find nothing to remove). */
  const fresh = () => {
    const l = labName();
    labs.push(l);
    return l;
  };
  const file = async (name: string, text: string) => {
    const p = join(files, name);
    await writeFile(p, text);
    return p;
  };
  /** Runs `lab up ARGS… --name L` and returns the error line, after checking nothing of L exists. */
  const refusedUp = async (args: string[], lab = fresh()) => {
    const line = oneErrorLine(await podnet(['lab', 'up', ...args, '--name', lab], { stateDir }));
    assert.deepEqual(labNetns(lab), [], `no podnet-${lab}- namespace was left`);
    assert.deepEqual(labProcesses(lab), [], `no PODNET_LAB=${lab} process was left`);
    assert.equal(hasStateDir(stateDir, lab), false, 'no state dir was left');
    return line;
  };

  before(async () => {
    stateDir = await newStateDir('input');
    files = await newStateDir('input-files');
  });
  after(() => tearDown(labs.map((lab) => ({ lab, stateDir })), [stateDir, files]));

  test('a wrong top-level field (nodez:) names it and lists the known ones', T, async () => {
    const f = await file('nodez.yaml', 'nodez:\n  - name: server\n');
    assert.equal(await refusedUp(['-f', f]), `${f}: unknown field "nodez" (known: name, clusterCIDR, serviceCIDR, underlay, mtu, nodes, pods)`);
  });

  test('a podCIDR outside the cluster CIDR names nodes[0].podCIDR and suggests a subnet', T, async () => {
    const f = await file('cidr.yaml', 'nodes:\n  - name: server\n    podCIDR: 10.99.0.0/24\n');
    assert.equal(await refusedUp(['-f', f]), `${f}: nodes[0].podCIDR: 10.99.0.0/24 is not inside clusterCIDR 10.42.0.0/16: pick a subnet of it (like 10.42.0.0/24)`);
  });

  test('a node name over 15 characters names nodes[0].name, the limit and the fix', T, async () => {
    const f = await file('long.yaml', 'nodes:\n  - name: averyveryverylongname\n');
    const line = await refusedUp(['-f', f]);
    assert.match(line, /nodes\[0\]\.name: .*at most 15 characters: use a shorter name$/);
  });

  test('underlay 192.0.2.0/24 overlapping this machine\'s own route names underlay, the route and the fix', T, async (t) => {
    const routes = JSON.parse(execFileSync('ip', ['-json', 'route', 'show'], { encoding: 'utf8' })) as { dst: string; dev?: string }[];
    const own = routes.find((r) => r.dst === '192.0.2.0/24');
    if (!own) {
      t.skip('this machine has no 192.0.2.0/24 route, so 192.0.2.0/24 does not overlap anything here');
      return;
    }
    const f = await file('underlay.yaml', 'underlay: 192.0.2.0/24\n');
    const line = await refusedUp(['-f', f]);
    assert.equal(line, `${f}: underlay: 192.0.2.0/24 overlaps this machine's route 192.0.2.0/24 (dev ${own.dev}): pick a range the machine does not use`);
  });

  test('a YAML syntax error names the file, says it is not YAML and where', T, async () => {
    const f = await file('broken.yaml', 'nodes: [\n  - name: x\n');
    const line = await refusedUp(['-f', f]);
    assert.match(line, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid YAML \\(.*line 2, column 3\\): fix the line it names$`));
  });

  test('a missing file names the file and says it cannot be read', T, async () => {
    const f = join(files, 'missing.yaml');
    assert.equal(await refusedUp(['-f', f]), `${f}: no such file (check the path given to -f)`);
  });

  test('--pods abc names the flag and the range', T, async () => {
    assert.equal(await refusedUp(['--pods', 'abc']), '--pods: "abc" is not a number of pods between 0 and 1000');
  });

  test('IPAM exhaustion (a /29 and 6 pods): host-local\'s message, nothing left behind', T, async () => {
    const f = await file('small.yaml', 'nodes: [{name: server, podCIDR: 10.42.0.0/29}]\n');
    const line = await refusedUp(['-f', f, '--pods', '6']);
    assert.match(line, /no IP addresses available in range set: 10\.42\.0\.1-10\.42\.0\.6/);
  });

  test('lab down of a lab that is not up: exit 0, says so', T, async () => {
    const lab = fresh();
    const r = await podnet(['lab', 'down', '--name', lab], { stateDir });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr, `lab "${lab}" is not up: nothing to remove\n`);
    assert.equal(hasStateDir(stateDir, lab), false);
  });

  test('a pod named kube-dns in a lab with the cluster DNS names pods[1].name and the two ways out', T, async () => {
    const f = await file('dns-name.yaml', 'pods:\n  - name: web\n  - name: kube-dns\n');
    assert.equal(await refusedUp(['-f', f]), `${f}: pods[1].name: "kube-dns" is the cluster DNS pod's name (kube-system): rename the pod, or bring the lab up with --no-dns`);
  });

  test('get pods of a lab that is not up: one line naming the command that brings it up', T, async () => {
    const lab = fresh();
    const line = oneErrorLine(await podnet(['get', 'pods', '--name', lab], { stateDir }));
    assert.equal(line, `lab "${lab}" is not up: run \`podnet lab up --name ${lab}\``);
  });
});

describe('a full node: run refuses, the lab unchanged', () => {
  const F = labName();
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('full'); });
  after(() => tearDown([{ lab: F, stateDir }], [stateDir]));

  test('run pod6 on a /29 holding 5 pods: host-local\'s message, no new namespace, the 5 pods unchanged', T, async () => {
    const f = join(stateDir, 'small.yaml');
    await writeFile(f, 'nodes: [{name: server, podCIDR: 10.42.0.0/29}]\n');
    const up = await podnet(['lab', 'up', '-f', f, '--pods', '5', '--no-dns', '--name', F], { stateDir }); // a bare lab: the DNS pod would not fit either
    assert.equal(up.code, 0, show(up));
    const before0 = { netns: labNetns(F), procs: labProcesses(F).sort((a, b) => a - b), pods: (await podnet(['get', 'pods', '-o', 'wide', '--name', F], { stateDir })).stdout.replace(/ \d+s /g, ' ') };
    assert.equal(before0.netns.length, 8, 'underlay, server, outside, 5 pods');
    const line = oneErrorLine(await podnet(['run', 'pod6', '--name', F], { stateDir }));
    assert.match(line, /no IP addresses available in range set: 10\.42\.0\.1-10\.42\.0\.6/);
    const after0 = { netns: labNetns(F), procs: labProcesses(F).sort((a, b) => a - b), pods: (await podnet(['get', 'pods', '-o', 'wide', '--name', F], { stateDir })).stdout.replace(/ \d+s /g, ' ') };
    assert.deepEqual(after0, before0);
  });
});

describe('lab names given with --name are checked like the file\'s name:', () => {
  // Today `--name` is used unchecked (src/cli/lab.ts, get.ts, pod.ts): it goes into namespace names
  // and into join(PODNET_STATE_DIR, name). The file's `name:` is checked (src/model/topology.ts:
  // dnsLabel('a lab name', 20)); the flag is not.
  let box = '';
  before(async () => { box = await newStateDir('names'); });
  after(() => rm(box, { recursive: true, force: true }));

  test('lab down --name .. must not remove the directory above the state root', {
    ...T,
  }, async () => {
    // A sandbox: the state root is BOX/root/inner; BOX/root/sentinel stands for /var/lib's other files.
    const root = join(box, 'root');
    const stateDir = join(root, 'inner');
    await mkdir(stateDir, { recursive: true });
    await writeFile(join(root, 'sentinel'), 'not podnet\'s\n');
    const r = await podnet(['lab', 'down', '--name', '..'], { stateDir });
    assert.ok(existsSync(join(root, 'sentinel')), `lab down --name .. removed ${root} (the state root's parent): ${show(r)}`);
    assert.match(oneErrorLine(r), /--name|lab name/);
  });

  test('lab up --name with capitals/underscores or over 20 characters: one error line, like name: in a file', {
    ...T,
  }, async () => {
    for (const name of ['Bad_Name', 'abcdefghijklmnopqrstuvwxyz0123']) {
      const r = await podnet(['lab', 'up', '--dry-run', '--name', name], { stateDir: box });
      assert.match(oneErrorLine(r), /lab name/, name);
    }
  });
});

describe('lab up --dry-run: the script, and nothing made', () => {
  const Z = labName();
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('dry'); });
  after(() => tearDown([{ lab: Z, stateDir }], [stateDir]));

  test('prints the commands (ip -force -batch -, netns add, link add cni0) and creates no namespace and no state', T, async () => {
    const r = await podnet(['lab', 'up', '--dry-run', '--name', Z], { stateDir });
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.startsWith(`# podnet lab up --name ${Z} (dry run)`), r.stdout.slice(0, 200));
    assert.ok(r.stdout.includes('ip -force -batch -'), 'the namespace batch');
    assert.ok(r.stdout.includes(`netns add podnet-${Z}-server`), 'the node namespace');
    assert.ok(r.stdout.includes(`netns add podnet-${Z}-underlay`), 'the underlay namespace');
    assert.match(r.stdout, /\nlink add cni0 /, 'the bridge');
    assert.match(r.stdout, /\naddr add 10\.42\.0\.2\/24 dev eth0\n/, 'pod1\'s address');
    assert.match(r.stdout, new RegExp(`PODNET_LAB=${Z} nsenter --net=/run/netns/podnet-${Z}-cni-\\S+ -- busybox sleep 2147483647 </dev/null >/dev/null 2>&1 &`), 'the pause processes');
    assert.equal(r.stderr, '');
    assert.deepEqual(labNetns(Z), [], `no podnet-${Z}- namespace exists`);
    assert.deepEqual(labProcesses(Z), [], 'no pause process was started');
    assert.equal(hasStateDir(stateDir, Z), false, 'no state dir');
    assert.deepEqual(readdirSync(stateDir).filter((n) => !n.startsWith('.')), [], 'nothing in the state root');
  });
});

describe('without root', () => {
  const X = labName();
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('noroot'); });
  after(() => tearDown([{ lab: X, stateDir }], [stateDir]));

  test('lab up as nobody: one line saying it needs root, exit 1, nothing created', T, async (t) => {
    const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
    // The CLI must be readable by nobody: the bin, the compiled CLI and a dependency.
    const unreadable = [BIN, join(ROOT, 'dist', 'src', 'cli', 'main.js'), join(ROOT, 'node_modules', 'commander', 'package.json'), process.execPath]
      .filter((p) => runStatus([...asNobody, 'test', '-r', p]).status !== 0);
    if (unreadable.length) {
      t.skip(`nobody (65534) cannot read ${unreadable.join(', ')}`);
      return;
    }
    const r = await podnet(['lab', 'up', '--name', X], { stateDir, wrap: asNobody, cwd: '/' });
    assert.equal(oneErrorLine(r), 'podnet lab up needs root (it creates network namespaces): run it with sudo');
    assert.deepEqual(labNetns(X), []);
    assert.equal(hasStateDir(stateDir, X), false);
  });
});
