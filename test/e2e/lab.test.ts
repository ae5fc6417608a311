// The CLI on a running lab, as a user drives it: `lab up`, the kubectl-style views (get pods/nodes in
// table, wide, JSON and YAML), `lab status`, `lab list`, `exec` (exit code, stdin, the pod's eth0),
// `run`/`delete pod`, the errors a running lab must answer without changing (unknown pod, -o bogus, a
// second `lab up`), `-v`, and `lab down` twice. Two labs: X (shared by the read-only tests) and Y.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { ipJson, inet, labNetns, labProcesses, readState, waitFor } from '../kernel/helpers.js';
import { BIN, T, hasStateDir, labName, newStateDir, oneErrorLine, podnet, runCli, show, table, tearDown, type CliResult } from './cli.js';

interface PodItem { name: string; ready: string; status: string; ip: string; node: string; netns: string; iface: string; hostVeth: string }


/** `ifN` of `eth0@ifN` (or `vethX@ifN`). */
const ifN = (s: string) => Number(/@if(\d+)$/.exec(s)?.[1] ?? NaN);

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('a running lab: views, exec, run/delete, errors that change nothing', () => {
  const X = labName();
  let stateDir = '';
  let upTable = '';
  const cli = (args: string[], input?: string) => podnet(args, { stateDir, input });

  before(async () => {
    stateDir = await newStateDir('lab');
    assert.deepEqual(labNetns(X), [], `lab ${X} is free`);
    const r = await cli(['lab', 'up', '--name', X]);
    ok(r);
    assert.match(r.stderr, new RegExp(`^lab "${X}" is up: 1 node\\(s\\), 2 pod\\(s\\) \\(and 1 in kube-system: the DNS pod, see get pods -A\\) in \\d+ ms\\n$`));
    assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+IFACE\s+HOST VETH\s+PID\s+NETNS\n/);
    upTable = r.stdout;
  });

  after(() => tearDown([{ lab: X, stateDir }], [stateDir]));

  test('get pods -o wide: pod1/pod2 Running with the planned IPs, each iface/host veth as the kernel pairs them', T, async () => {
    const r = await cli(['get', 'pods', '-o', 'wide', '--name', X]);
    ok(r);
    assert.equal(r.stderr, '');
    const rows = table(r.stdout);
    assert.deepEqual(rows.map((p) => [p.NAME, p.READY, p.STATUS, p.IP, p.NODE]),
      [['pod1', '1/1', 'Running', '10.42.0.2', 'server'], ['pod2', '1/1', 'Running', '10.42.0.3', 'server']]);
    const node = ipJson(`podnet-${X}-server`, ['link', 'show']);
    for (const p of rows) {
      assert.match(p.NETNS, new RegExp(`^podnet-${X}-cni-`));
      assert.match(p['HOST VETH'], /^veth[0-9a-f]{8}@if\d+$/);
      const hostVeth = node.find((l) => l.ifname === p['HOST VETH'].split('@')[0]);
      assert.ok(hostVeth, `${p['HOST VETH']} exists in the node namespace`);
      assert.equal(ifN(p.IFACE), hostVeth.ifindex, `${p.NAME}: IFACE ${p.IFACE} names the host veth's ifindex`);
      const [eth0] = ipJson(p.NETNS, ['link', 'show', 'eth0']);
      assert.equal(ifN(p['HOST VETH']), eth0.ifindex, `${p.NAME}: HOST VETH ${p['HOST VETH']} names the pod eth0's ifindex`);
    }
  });

  test('lab up\'s table (its pods as it made them) is what get pods -o wide reads from the kernel', T, async () => {
    const r = await cli(['get', 'pods', '-o', 'wide', '--name', X]);
    ok(r);
    const rows = (text: string) => table(text).map(({ AGE: _age, ...rest }) => rest);
    assert.deepEqual(rows(upTable), rows(r.stdout));
  });

  test('get pods (no -o): kubectl\'s five columns', T, async () => {
    const r = await cli(['get', 'pods', '--name', X]);
    ok(r);
    assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\npod1\s+1\/1\s+Running\s+0\s+\S+\npod2\s+1\/1\s+Running\s+0\s+\S+\n$/);
  });

  test('get pods -o json: a PodList whose items match the kernel (IP on eth0, eth0@ifN ↔ host veth)', T, async () => {
    const r = await cli(['get', 'pods', '-o', 'json', '--name', X]);
    ok(r);
    const list = JSON.parse(r.stdout) as { kind: string; lab: string; items: PodItem[] };
    assert.equal(list.kind, 'PodList');
    assert.equal(list.lab, X);
    assert.deepEqual(list.items.map((p) => [p.name, p.ip, p.node, p.status]), [['pod1', '10.42.0.2', 'server', 'Running'], ['pod2', '10.42.0.3', 'server', 'Running']]);
    const node = ipJson(`podnet-${X}-server`, ['link', 'show']);
    for (const p of list.items) {
      assert.match(p.iface, /^eth0@if\d+$/);
      assert.match(p.hostVeth, /^veth[0-9a-f]{8}@if\d+$/);
      const veth = node.find((l) => l.ifname === p.hostVeth.split('@')[0]);
      assert.equal(veth?.ifindex, ifN(p.iface), `${p.name}: ${p.iface} is the host veth ${p.hostVeth}`);
      assert.deepEqual(inet(p.netns, 'eth0'), [`${p.ip}/24`], `${p.name}: the kernel has ${p.ip}/24 on eth0`);
    }
  });

  test('get pods -o yaml: parses to the same PodList as -o json', T, async () => {
    const [y, j] = await Promise.all([cli(['get', 'pods', '-o', 'yaml', '--name', X]), cli(['get', 'pods', '-o', 'json', '--name', X])]);
    ok(y);
    ok(j);
    const doc = YAML.parse(y.stdout) as { kind: string; items: PodItem[] };
    const strip = (items: PodItem[]) => items.map(({ name, ip, node, iface, hostVeth, netns }) => ({ name, ip, node, iface, hostVeth, netns }));
    assert.equal(doc.kind, 'PodList');
    assert.deepEqual(strip(doc.items), strip((JSON.parse(j.stdout) as { items: PodItem[] }).items));
  });

  test('get nodes -o wide: server Ready, INTERNAL-IP 198.51.100.2 (as on its eth0), POD-CIDR 10.42.0.0/24', T, async () => {
    const r = await cli(['get', 'nodes', '-o', 'wide', '--name', X]);
    ok(r);
    const [row, ...more] = table(r.stdout);
    assert.equal(more.length, 0, r.stdout);
    assert.equal(row.NAME, 'server');
    assert.equal(row.STATUS, 'Ready');
    assert.equal(row['INTERNAL-IP'], '198.51.100.2');
    assert.equal(row['POD-CIDR'], '10.42.0.0/24');
    assert.deepEqual(inet(`podnet-${X}-server`, 'eth0'), ['198.51.100.2/24']);
  });

  test('lab status: the summary line, then the pods', T, async () => {
    const r = await cli(['lab', 'status', '--name', X]);
    ok(r);
    assert.match(r.stdout, new RegExp(`^lab ${X}: up, 1 node\\(s\\), 2 pod\\(s\\) \\(and 1 in kube-system\\), underlay 198\\.51\\.100\\.0/24, cluster 10\\.42\\.0\\.0/16, leases in file\\n\\nNAME `));
    assert.match(r.stdout, /\npod1\s+1\/1\s+Running\s.*10\.42\.0\.2\s+server\s/);
  });

  test('lab list: shows the lab as up with 1 node and 3 pods (pod1, pod2 and the DNS pod)', T, async () => {
    const r = await cli(['lab', 'list']);
    ok(r);
    const rows = table(r.stdout);
    const mine = rows.find((x) => x.NAME === X);
    assert.ok(mine, r.stdout);
    assert.deepEqual([mine.STATUS, mine.NODES, mine.PODS, mine.STORE], ['up', '1', '3', 'file']);
  });

  test('exec keeps the exit code: sh -c "exit 7" exits 7', T, async () => {
    const r = await cli(['exec', 'pod1', '--name', X, '--', 'sh', '-c', 'exit 7']);
    assert.equal(r.code, 7, show(r));
    assert.equal(r.stderr, '');
  });

  test('exec passes stdin through: echo hello | podnet exec pod1 -- cat', T, async () => {
    const r = await cli(['exec', 'pod1', '--name', X, '--', 'cat'], 'hello\n');
    ok(r);
    assert.equal(r.stdout, 'hello\n');
  });

  test('exec runs inside the pod: ip -json addr show eth0 has 10.42.0.2/24', T, async () => {
    const r = await cli(['exec', 'pod1', '--name', X, '--', 'ip', '-json', 'addr', 'show', 'eth0']);
    ok(r);
    const [eth0] = JSON.parse(r.stdout) as { ifname: string; mtu: number; addr_info: { family: string; local: string; prefixlen: number }[] }[];
    assert.equal(eth0.ifname, 'eth0');
    assert.equal(eth0.mtu, 1450);
    assert.deepEqual(eth0.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), ['10.42.0.2/24']);
  });

  test('run pod3 → 10.42.0.5 (the DNS pod has .4) in get pods and on its eth0; delete pod pod3 → gone, with its namespace', T, async () => {
    const run = await cli(['run', 'pod3', '--name', X]);
    ok(run);
    assert.match(run.stderr, /^pod\/pod3 created on server: 10\.42\.0\.5 \(veth[0-9a-f]{8}\)\n$/);
    const after1 = JSON.parse((await cli(['get', 'pods', '-o', 'json', '--name', X])).stdout) as { items: PodItem[] };
    const pod3 = after1.items.find((p) => p.name === 'pod3');
    assert.ok(pod3, 'pod3 is listed');
    assert.equal(pod3.ip, '10.42.0.5');
    assert.equal(pod3.status, 'Running');
    assert.ok(labNetns(X).includes(pod3.netns), `${pod3.netns} exists`);
    assert.deepEqual(inet(pod3.netns, 'eth0'), ['10.42.0.5/24']);

    const del = await cli(['delete', 'pod', 'pod3', '--name', X]);
    ok(del);
    assert.equal(del.stderr, 'pod "pod3" deleted\n');
    const after2 = JSON.parse((await cli(['get', 'pods', '-o', 'json', '--name', X])).stdout) as { items: PodItem[] };
    assert.deepEqual(after2.items.map((p) => p.name), ['pod1', 'pod2']);
    assert.equal(labNetns(X).includes(pod3.netns), false, `${pod3.netns} is gone`);
    assert.equal(ipJson(`podnet-${X}-server`, ['link', 'show']).some((l) => l.ifname === pod3.hostVeth.split('@')[0]), false, 'its host veth is gone');
  });

  test('exec reports a command killed by a signal as 128+N, as a shell does (SIGKILL → 137, SIGINT → 130)', {
    ...T,
  }, async () => {
    const kill = await cli(['exec', 'pod1', '--name', X, '--', 'sh', '-c', 'kill -KILL $$']);
    const int = await cli(['exec', 'pod1', '--name', X, '--', 'sh', '-c', 'kill -INT $$']);
    assert.deepEqual([kill.code, int.code], [137, 130], `${show(kill)}\n${show(int)}`);
  });

  test('lab status | head -1: the reader closing the pipe early is not an error (no EPIPE stack trace)', {
    ...T,
  }, async () => {
    const r = await runCli(['sh', '-c', '"$0" "$1" lab status --name "$2" | head -1', process.execPath, BIN, X], { stateDir });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^lab ${X}: up, `));
    assert.equal(r.stderr, '', 'nothing on stderr');
  });

  test('lab status -o bogus and lab list -o bogus: one error line, like get pods -o bogus', {
    ...T,
  }, async () => {
    assert.match(oneErrorLine(await cli(['lab', 'status', '-o', 'bogus', '--name', X])), /^-o: "bogus" is not an output format here \(use wide, json, yaml\)$/);
    assert.match(oneErrorLine(await cli(['lab', 'list', '-o', 'bogus'])), /^-o: "bogus" is not an output format here \(use table, json, yaml\)$/);
  });

  describe('errors on a running lab: one line, exit 1, the lab unchanged', () => {
    let before0: { netns: string[]; procs: number[]; pods: string[] };
    const footprint = () => ({
      netns: labNetns(X),
      procs: labProcesses(X).sort((a, b) => a - b),
      pods: readState(stateDir, X).pods.map((p) => `${p.name} ${p.netns} ${p.ip ?? ''} ${p.hostVeth ?? ''} ${p.pid ?? ''}`),
    });
    before(() => { before0 = footprint(); });

    test('exec nope: names the pod and the pods there are', T, async () => {
      const line = oneErrorLine(await cli(['exec', 'nope', '--name', X, '--', 'true']));
      assert.equal(line, `unknown pod "nope" in lab "${X}" (pods: pod1, pod2, kube-dns)`);
      assert.deepEqual(footprint(), before0);
    });

    test('delete pod nope: names the pod and the pods there are', T, async () => {
      const line = oneErrorLine(await cli(['delete', 'pod', 'nope', '--name', X]));
      assert.equal(line, `unknown pod "nope" in lab "${X}" (pods: pod1, pod2, kube-dns)`);
      assert.deepEqual(footprint(), before0);
    });

    test('get pods -o bogus: names the flag and the formats', T, async () => {
      const line = oneErrorLine(await cli(['get', 'pods', '-o', 'bogus', '--name', X]));
      assert.equal(line, '-o: "bogus" is not an output format here (use table, wide, json, yaml)');
    });

    test('get nodes -o bogus: names the flag and the formats', T, async () => {
      const line = oneErrorLine(await cli(['get', 'nodes', '-o', 'bogus', '--name', X]));
      assert.equal(line, '-o: "bogus" is not an output format here (use table, wide, json, yaml)');
    });

    test('lab up of a name already up: says so and how to go on; same namespaces, processes and pods after', T, async () => {
      const line = oneErrorLine(await cli(['lab', 'up', '--name', X]));
      assert.equal(line, `lab "${X}" is already up: use it, or run \`podnet lab down --name ${X}\` first`);
      assert.deepEqual(footprint(), before0);
      assert.ok((await waitFor(() => labProcesses(X).length === 4, 1000)), 'both pause processes, the DNS server and the outside host\'s web server still run');
    });
  });
});

describe('lab up --pods 3 -v, then lab down twice', () => {
  const Y = labName();
  let stateDir = '';
  const cli = (args: string[]) => podnet(args, { stateDir });

  before(async () => { stateDir = await newStateDir('lab3'); });
  after(() => tearDown([{ lab: Y, stateDir }], [stateDir]));

  test('-v lab up --pods 3: pod1..pod3 with 10.42.0.2-4, and every kernel command as "+ ip …" on stderr', T, async () => {
    const r = await cli(['-v', 'lab', 'up', '--pods', '3', '--name', Y]);
    ok(r);
    const plus = r.stderr.split('\n').filter((l) => l.startsWith('+ '));
    assert.ok(plus.some((l) => l === '+ ip -force -batch - <<\'EOF\''), `the namespace batch is shown:\n${r.stderr}`);
    assert.ok(plus.some((l) => /^\+ ip -n podnet-e2e[0-9a-f]{6}-underlay /.test(l)), 'the underlay batch is shown');
    assert.match(r.stderr, new RegExp(`\\nnetns add podnet-${Y}-server\\n`), 'the batch body is shown');
    assert.match(r.stderr, /\nlink add cni0 /, 'the bridge plugin\'s batch is shown');
    assert.match(r.stderr, new RegExp(`\\nlab "${Y}" is up: 1 node\\(s\\), 3 pod\\(s\\) \\(and 1 in kube-system: the DNS pod, see get pods -A\\) in \\d+ ms\\n`));
    assert.ok(r.stderr.split('\n').every((l) => l === '' || !l.startsWith('error')), 'no error on stderr');
    const rows = table(r.stdout);
    assert.deepEqual(rows.map((p) => [p.NAME, p.STATUS, p.IP]), [['pod1', 'Running', '10.42.0.2'], ['pod2', 'Running', '10.42.0.3'], ['pod3', 'Running', '10.42.0.4']]);
    for (const p of rows) assert.deepEqual(inet(p.NETNS, 'eth0'), [`${p.IP}/24`]);
    assert.equal(labNetns(Y).length, 7, 'underlay, server, outside, three pods and the DNS pod');
  });

  test('lab down: removes it; a second lab down exits 0 and says the lab is not up', T, async () => {
    const first = await cli(['lab', 'down', '--name', Y]);
    ok(first);
    assert.equal(first.stderr, `lab "${Y}" is down\n`);
    assert.deepEqual(labNetns(Y), []);
    assert.ok(await waitFor(() => labProcesses(Y).length === 0, 3000), 'no pause process is left');
    assert.equal(hasStateDir(stateDir, Y), false);
    const second = await cli(['lab', 'down', '--name', Y]);
    ok(second);
    assert.equal(second.stdout, '');
    assert.equal(second.stderr, `lab "${Y}" is not up: nothing to remove\n`);
  });
});
