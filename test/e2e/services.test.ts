// Services as a user makes and uses them, through the CLI on a two-node lab in K3s's default
// iptables mode: two pods serving HTTP (`podnet run … -- busybox httpd`), `podnet expose` as a
// NodePort, requests from a pod (`podnet exec`) and from outside the pods (the underlay switch),
// then `podnet delete -f` of one pod: its endpoint leaves the rules. kube-proxy's record and last
// transaction are in the lab's state dir. (Both modes' datapath cases: test/kernel/services/.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, labName, newStateDir, podnet, show, table, tearDown, type CliResult } from './cli.js';
import { run } from '../kernel/helpers.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('Services through the CLI', () => {
  const X = labName();
  let stateDir = '';
  let www = '';
  let clusterIP = '';
  /** `podnet ARGS --name X` (before a `--`: what follows it is the pod's command). */
  const cli = (args: string[], input?: string) => {
    const at = args.includes('--') ? args.indexOf('--') : args.length;
    return podnet([...args.slice(0, at), '--name', X, ...args.slice(at)], { stateDir, ...(input !== undefined ? { input } : {}) });
  };
  /** `n` requests to the ClusterIP from inside `pod`, in one `podnet exec`; what answered. */
  const wgetFrom = async (pod: string, n: number) => {
    const r = await cli(['exec', pod, '--', 'sh', '-c', `for i in $(seq ${n}); do timeout 3 busybox wget -qO- http://${clusterIP}/; done`]);
    return r.stdout.split('\n').filter(Boolean);
  };

  before(async () => {
    stateDir = await newStateDir('svc');
    www = mkdtempSync(join(tmpdir(), 'podnet-e2e-www-'));
    ok(await cli(['lab', 'up', '--nodes', '2', '--pods', '0']));
    for (const [pod, node] of [['a1', 'server'], ['a2', 'agent1']]) {
      mkdirSync(join(www, pod));
      writeFileSync(join(www, pod, 'index.html'), `${pod}\n`);
      ok(await cli(['run', pod, '--node', node, '--labels', 'app=web', '--port', 'http=8080', '--', 'busybox', 'httpd', '-f', '-p', '8080', '-h', join(www, pod)]));
    }
    ok(await cli(['expose', 'pod', 'a1', '--port', '80', '--target-port', 'http', '--type', 'NodePort', '--node-port', '30090', '--service', 'web']));
    const svc = table((await cli(['get', 'svc'])).stdout).find((r) => r.NAME === 'web');
    assert.ok(svc, 'get svc lists web');
    clusterIP = svc['CLUSTER-IP'];
  });
  after(async () => {
    rmSync(www, { recursive: true, force: true });
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  test('a pod reaches both endpoints through the ClusterIP, on both nodes', T, async () => {
    assert.deepEqual([...new Set(await wgetFrom('a2', 16))].sort(), ['a1', 'a2']);
  });

  test('the NodePort answers on both nodes for a client outside the pods', T, () => {
    for (const nodeIP of ['198.51.100.2', '198.51.100.3']) {
      const body = run(['nsenter', `--net=/run/netns/podnet-${X}-underlay`, 'timeout', '3', 'busybox', 'wget', '-qO-', `http://${nodeIP}:30090/`], 8000);
      assert.match(body, /^a[12]\n$/);
    }
  });

  test('kube-proxy\'s record and last transaction are kept per node in the state dir', T, () => {
    for (const f of ['kube-proxy.json', 'kube-proxy.iptables']) assert.ok(existsSync(join(stateDir, X, 'nodes', 'agent1', f)), f);
  });

  test('delete -f of a pod: its endpoint leaves every node\'s rules, requests reach the other one only', T, async () => {
    const manifest = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a1\nspec:\n  containers:\n    - name: web\n      image: busybox\n';
    ok(await cli(['delete', '-f', '-'], manifest));
    for (const node of ['server', 'agent1']) {
      const nat = run(['nsenter', `--net=/run/netns/podnet-${X}-${node}`, 'iptables-save', '-t', 'nat']);
      assert.ok(nat.includes('-j DNAT --to-destination 10.42.1.2:8080') && !nat.includes('--to-destination 10.42.0.2:8080'), node);
    }
    assert.deepEqual([...new Set(await wgetFrom('a2', 6))], ['a2']);
  });
});
