// What a newcomer hit following the blog with podnet, each as a user runs it: a lab named and not up
// is an error (never a silent switch to this host); the --dry-run script replays with `bash -e` and
// `lab down` then removes what it made without a state file; Ctrl-C during `lab up` unwinds; `graph`
// of a lab of several nodes draws the cluster; tables fit the terminal; the small sharp edges.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { childrenOf, labNetns, labProcesses, run, runStatus, waitFor, within } from '../kernel/helpers.js';
import { BIN, ROOT, T, hasStateDir, labName, newStateDir, oneErrorLine, podnet, show, table, tearDown } from './cli.js';

describe('a lab named and not up: one line and a non-zero exit, never this host instead', () => {
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('nope'); });
  after(() => tearDown([], [stateDir]));

  for (const args of [['inspect'], ['inspect', 'fdb'], ['graph'], ['trace', 'pod1', 'pod2'], ['lab', 'status'], ['ui']]) {
    test(`podnet ${args.join(' ')} --name nope`, T, async () => {
      const line = oneErrorLine(await podnet([...args, '--name', 'nope'], { stateDir }));
      assert.match(line, /lab "nope" is not up/);
    });
  }
});

describe('lab up --dry-run is a script that replays with bash -e; lab down removes it without state', () => {
  const L = labName();
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('replay'); });
  after(() => tearDown([{ lab: L, stateDir }], [stateDir]));

  test('the script runs clean start to end and builds a lab whose pods ping; lab down leaves nothing', T, async () => {
    const dry = await podnet(['lab', 'up', '--dry-run', '--name', L, '--pods', '3'], { stateDir });
    assert.equal(dry.code, 0, show(dry));
    const script = join(stateDir, 'up.sh');
    await writeFile(script, dry.stdout);
    const replay = runStatus(['bash', '-e', script], 60_000);
    assert.equal(replay.status, 0, `bash -e replay failed:\n${replay.stderr}`);
    const pods = labNetns(L).filter((n) => n.includes('-cni-'));
    assert.equal(pods.length, 4, 'three pod namespaces and the DNS pod\'s (lab up runs the cluster DNS unless --no-dns)');
    assert.equal(hasStateDir(stateDir, L), false, 'the script writes no state');
    const other = pods.map((p) => JSON.parse(run(['ip', '-n', p, '-json', 'addr', 'show', 'eth0']))[0].addr_info[0].local as string);
    run(['ip', 'netns', 'exec', pods[0], 'ping', '-c', '1', '-W', '2', other[2]]);
    assert.ok(labProcesses(L).length >= 3, 'the pause processes the script started');
    const down = await podnet(['lab', 'down', '--name', L], { stateDir });
    assert.equal(down.code, 0, show(down));
    assert.equal(down.stderr, `lab "${L}" is down\n`);
    assert.deepEqual(labNetns(L), [], 'every namespace named for the lab is gone, node and underlay too');
    assert.ok(await waitFor(() => labProcesses(L).length === 0, 3000), 'every process marked for the lab is gone');
  });
});

/** True when process `pid` has a handler for `sig` (its SigCgt mask in /proc/PID/status). */
describe('Ctrl-C during lab up', () => {
  const L = labName();
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('sigint'); });
  after(() => tearDown([{ lab: L, stateDir }], [stateDir]));

  for (const [sig, ms] of [['SIGINT', 150], ['SIGINT', 400], ['SIGTERM', 300]] as const) {
    test(`${sig} after ${ms} ms: one line, exit ${sig === 'SIGINT' ? 130 : 143}, nothing left`, T, async () => {
      const child = spawn(process.execPath, [BIN, 'lab', 'up', '--name', L, '--pods', '40'], { cwd: ROOT, env: { ...process.env, PODNET_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Counted from when podnet handles the signal (before that, Node itself is still starting and
      // dies by the signal, as any program would): once lab up has started its first child (the
      // launcher, once its action runs, after podnet's handlers; /proc/PID/status's SigCgt cannot
      // tell: Node catches SIGINT and SIGTERM from its first instant, to reset the terminal).
      assert.ok(await waitFor(() => childrenOf(child.pid!).length > 0, 20_000, 5), 'lab up is running its action, its signal handlers in place');
      await new Promise((r) => setTimeout(r, ms));
      child.kill(sig);
      const code = await within(exited, 30_000, 'timeout');
      if (code === 'timeout') child.kill('SIGKILL');
      const up = /lab "\S+" is up/.test(stderr);
      if (!up) {
        assert.equal(code, sig === 'SIGINT' ? 130 : 143, stderr);
        // Early (while podnet starts) the signal ends it before anything is made; later, lab up unwinds.
        const early = `${sig}: stopped\n`;
        const unwound = `${sig}: stopping lab up of "${L}" and removing what it made (again to stop now)\nlab up of "${L}": interrupted; what it made was removed\n`;
        assert.ok(stderr === early || stderr === unwound, `one line saying what happened, got:\n${stderr}`);
      }
      const down = up ? await podnet(['lab', 'down', '--name', L], { stateDir }) : undefined;
      assert.ok(!down || down.code === 0);
      assert.deepEqual(labNetns(L), []);
      assert.ok(await waitFor(() => labProcesses(L).length === 0, 3000), 'no process of the lab');
      assert.equal(hasStateDir(stateDir, L), false, 'no state left');
    });
  }
});

describe('a lab of two nodes: the cluster drawn, tables that fit the terminal, sharp edges', () => {
  const L = labName();
  let stateDir = '';
  const cli = (args: string[], env?: Record<string, string>) => podnet(args, { stateDir, ...(env ? { env } : {}) });
  before(async () => {
    stateDir = await newStateDir('two');
    const r = await cli(['lab', 'up', '--name', L, '--nodes', '2', '--pods', '3']);
    assert.equal(r.code, 0, show(r));
  });
  after(() => tearDown([{ lab: L, stateDir }], [stateDir]));

  test('graph draws both nodes, the underlay switch and the flannel.1 tunnels; graph NODE one node', T, async () => {
    const all = await cli(['graph', '--name', L]);
    assert.equal(all.code, 0, show(all));
    assert.match(all.stdout, /%% node server\n/);
    assert.match(all.stdout, /%% node agent1\n/);
    assert.match(all.stdout, /subgraph underlay\["\S+ Underlay Switch"\]/);
    assert.match(all.stdout, /server_flannel_1 -\.-\|"VXLAN to VTEP [0-9a-f:]{17}"\| agent1_flannel_1/);
    assert.match(all.stdout, /_underlay_agent1 === agent1_eth0/);
    const one = await cli(['graph', 'agent1', '--name', L]);
    assert.equal(one.code, 0, show(one));
    assert.doesNotMatch(one.stdout, /%% node server\n/);
    const json = JSON.parse((await cli(['graph', '--name', L, '-o', 'json'])).stdout) as { nodes: { node: string }[]; tunnels: unknown[] };
    assert.deepEqual(json.nodes.map((n) => n.node), ['server', 'agent1']);
    assert.equal(json.tunnels.length, 2, 'each node sends to the other');
    const dot = await cli(['graph', '--name', L, '-o', 'dot']);
    const png = runStatus(['sh', '-c', `timeout 20 dot -Tpng >/dev/null <<'EOF'\n${dot.stdout}EOF`]);
    assert.equal(png.status, 0, `dot renders the cluster: ${png.stderr}`);
  });

  test('at COLUMNS=100 no table line is longer than 100 characters; -o wide keeps every value whole', T, async () => {
    for (const args of [['inspect'], ['inspect', 'fdb'], ['inspect', 'links'], ['inspect', 'neigh'], ['inspect', 'routes'], ['inspect', 'overlay'], ['get', 'pods'], ['get', 'nodes']]) {
      const r = await cli([...args, '--name', L], { COLUMNS: '100' });
      assert.equal(r.code, 0, show(r));
      const long = r.stdout.split('\n').filter((l) => [...l].length > 100);
      assert.deepEqual(long, [], `podnet ${args.join(' ')}`);
    }
    const wide = await cli(['inspect', '-o', 'wide', '--name', L], { COLUMNS: '100' });
    assert.ok(table(wide.stdout).every((r) => /^podnet-\S+-cni-[0-9a-f-]{36}$/.test(r.NETNS) || r.KIND !== 'pod'), 'wide: the namespace whole');
  });

  test('get pods -A, delete pods NAME, get nodes ages, exec without -- and flags that disagree', T, async () => {
    assert.equal((await cli(['get', 'pods', '-A', '--name', L])).code, 0, 'kubectl\'s --all-namespaces is accepted');
    const added = await cli(['run', 'pod9', '--name', L]);
    assert.equal(added.code, 0, show(added));
    const del = await cli(['delete', 'pods', 'pod9', '--name', L]);
    assert.equal(del.code, 0, show(del));
    assert.equal(del.stderr, 'pod "pod9" deleted\n');
    const hint = oneErrorLine(await cli(['exec', 'pod1', 'ip', '-br', 'addr', '--name', L]));
    assert.match(hint, /put the command after --, like podnet exec pod1 --name \S+ -- ip -br addr$/);
    assert.match(oneErrorLine(await cli(['lab', 'up', '--name', labName(), '--nodes', '0'])), /--nodes: "0" is not a number of nodes between 1 and 250/);
    const mtu = join(stateDir, 'mtu.yaml');
    await writeFile(mtu, 'mtu: 1500\n');
    assert.match(oneErrorLine(await cli(['lab', 'up', '-f', mtu, '--name', labName()])), /mtu: the pod MTU must be at most 1450: flannel's VXLAN/);
  });

  test('a node added later has its own age in get nodes', T, async () => {
    const r = await cli(['node', 'add', 'agent2', '--name', L]);
    assert.equal(r.code, 0, show(r));
    const rows = table((await cli(['get', 'nodes', '--name', L])).stdout);
    const age = (name: string) => Number(/^(\d+)s$/.exec(rows.find((x) => x.NAME === name)?.AGE ?? '')?.[1] ?? NaN);
    assert.ok(age('agent2') <= age('server'), `agent2 (${age('agent2')}s) is not older than the lab (${age('server')}s)`);
    assert.equal((await cli(['node', 'delete', 'agent2', '--name', L])).code, 0);
  });
});

describe('without root: the message says what the verb needs it for', () => {
  let stateDir = '';
  before(async () => { stateDir = await newStateDir('noroot2'); });
  after(() => tearDown([], [stateDir]));

  test('a reading verb does not claim to create namespaces', T, async (t) => {
    const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
    if (runStatus([...asNobody, 'test', '-r', BIN]).status !== 0) {
      t.skip('nobody cannot read the CLI here');
      return;
    }
    const r = await podnet(['get', 'pods'], { stateDir, wrap: asNobody, cwd: '/' });
    assert.equal(oneErrorLine(r), 'podnet get pods needs root (it reads every network namespace): run it with sudo');
  });
});
