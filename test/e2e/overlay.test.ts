// Many nodes from the command line: `lab up --nodes 3 --pods 6` spreads the pods, `get nodes -o wide`
// shows each node's IP, pod CIDR and VTEP MAC as the kernel has them, `node add`/`node delete` grow
// and shrink the lab, and a bad --store or --nodes is one line that changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ipJson, labNetns, readState } from '../kernel/helpers.js';
import { T, labName, newStateDir, oneErrorLine, podnet, show, table, tearDown, type CliResult } from './cli.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('a three-node lab from the CLI', () => {
  const L = labName();
  let stateDir = '';
  const cli = (args: string[]) => podnet(args, { stateDir });

  before(async () => {
    stateDir = await newStateDir('overlay');
    const r = await cli(['lab', 'up', '--name', L, '--nodes', '3', '--pods', '6']);
    ok(r);
    assert.match(r.stderr, new RegExp(`^lab "${L}" is up: 3 node\\(s\\), 6 pod\\(s\\) \\(and 1 in kube-system: the DNS pod, see get pods -A\\) in \\d+ ms\\n$`));
  });
  after(() => tearDown([{ lab: L, stateDir }], [stateDir]));

  test('get nodes -o wide: server, agent1, agent2 with IP, pod CIDR and VTEP MAC from the kernel', T, async () => {
    const r = await cli(['get', 'nodes', '--name', L, '-o', 'wide']);
    ok(r);
    const nodes = table(r.stdout);
    assert.deepEqual(nodes.map((n) => n.NAME), ['server', 'agent1', 'agent2']);
    const state = readState(stateDir, L);
    for (const [i, n] of nodes.entries()) {
      assert.equal(n['INTERNAL-IP'], `198.51.100.${2 + i}`);
      assert.equal(n['POD-CIDR'], `10.42.${i}.0/24`);
      assert.equal(n['VTEP-MAC'], ipJson(state.plan.nodes[i].netns, ['link', 'show', 'flannel.1'])[0].address);
    }
    const pods = table((await cli(['get', 'pods', '--name', L, '-o', 'wide'])).stdout);
    assert.deepEqual(pods.map((p) => p.NODE), ['server', 'agent1', 'agent2', 'server', 'agent1', 'agent2'], 'spread over the nodes');
  });

  test('node add, run a pod on it, exec a ping across nodes; node delete', T, async () => {
    const add = await cli(['node', 'add', 'agent3', '--name', L]);
    ok(add);
    assert.match(add.stderr, /^node\/agent3 added: 198\.51\.100\.5, pod CIDR 10\.42\.3\.0\/24, VTEP [0-9a-f:]{17}; all nodes converged in \d+ ms\n$/);
    ok(await cli(['run', 'pod7', '--node', 'agent3', '--name', L]));
    const pod7 = readState(stateDir, L).pods.find((p) => p.name === 'pod7')!;
    const ping = await cli(['exec', 'pod1', '--name', L, '--', 'ping', '-c', '1', '-W', '2', pod7.ip!.split('/')[0]]);
    ok(ping);
    assert.match(ping.stdout, /ttl=62/);
    const del = await cli(['node', 'delete', 'agent3', '--name', L]);
    ok(del);
    assert.equal(del.stderr, 'node/agent3 deleted\n');
    assert.ok(!labNetns(L).includes(`podnet-${L}-agent3`));
  });

  test('bad input is one line and changes nothing', T, async () => {
    const before = readState(stateDir, L);
    assert.match(oneErrorLine(await cli(['node', 'add', 'server', '--name', L])), /node "server" already exists/);
    assert.match(oneErrorLine(await cli(['node', 'delete', 'ghost', '--name', L])), /unknown node "ghost" \(nodes: server, agent1, agent2\)/);
    assert.match(oneErrorLine(await cli(['lab', 'up', '--name', labName(), '--store', 'consul'])), /--store consul: use "file" \(the default\), "etcd" \(the lab runs its own\) or etcd:\/\/HOST:PORT/);
    assert.match(oneErrorLine(await cli(['lab', 'up', '--name', labName(), '--store', 'etcd://nope'])), /--store etcd:\/\/nope: "nope" is not HOST:PORT/);
    assert.match(oneErrorLine(await cli(['lab', 'up', '--name', labName(), '--nodes', '999'])), /--nodes: "999" is not a number of nodes between 1 and 250/);
    assert.deepEqual(readState(stateDir, L), before);
  });
});
