// Bad Service input through the CLI: manifests (unknown kind, unknown field, bad type, a port out of
// range in the second document of two, a NodePort outside 30000-32767) and flags (run, expose): one
// line each naming the field, exit 1, and nothing applied — the Services, the pods' namespaces and
// the node's nat table are what they were. The lab is brought up with --no-dns: no DNS pod, and the
// kube-dns Service, without endpoints, is rejected as kube-proxy rejects it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { T, labName, newStateDir, oneErrorLine, podnet, show, table, tearDown } from './cli.js';
import { run } from '../kernel/helpers.js';

const svc = (name: string, spec: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const MANIFESTS: [string, string, RegExp][] = [
  ['kind', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n', /^\S+kind\.yaml: kind: "Deployment" is not a kind podnet applies \(Pod, Service, NetworkPolicy, Namespace\)$/],
  ['field', svc('c', '  bogus: 1\n  ports:\n  - port: 80\n'), /^\S+field\.yaml: spec: unknown field "bogus": podnet does not model it; remove it$/],
  ['type', svc('d', '  type: LoadBalancer\n  ports:\n  - port: 80\n'), /^\S+type\.yaml: spec\.type: ClusterIP or NodePort \(podnet has no load balancer\)$/],
  ['second', `${svc('a', '  selector: {app: a}\n  ports:\n  - port: 80\n')}---\n${svc('b', '  ports:\n  - port: 99999\n')}`, /^\S+second\.yaml#2: spec\.ports\[0\]\.port: a port from 1 to 65535$/],
  ['nodeport', svc('e', '  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 80\n'), /nodePort: 80 is outside the NodePort range 30000-32767$/],
];
const FLAGS: [string[], RegExp][] = [
  [['expose', 'pod', 'pod1', '--port', '80'], /^pod "pod1" has no labels to select it by: run it with --labels/],
  [['expose', 'pod', 'pod1', '--port', 'abc'], /^--port: "abc" is not a port \(1-65535\)$/],
  [['expose', 'svc', 'pod1', '--port', '80'], /^expose svc: podnet exposes pods/],
  [['expose', 'pod', 'nope', '--port', '80'], /^unknown pod "nope" in lab "\S+" \(pods: pod1\)$/],
  [['run', 'w', '-l', 'bad label', '--', 'true'], /^--labels: "bad label" is not KEY=VALUE/],
  [['run', 'w', '--port', 'http=99999'], /^--port: "http=99999" is not \[NAME=\]PORT\[\/UDP\]/],
];

describe('bad Services input: one line each, nothing applied', () => {
  const X = labName();
  let stateDir = '';
  const cli = (args: string[]) => {
    const at = args.includes('--') ? args.indexOf('--') : args.length;
    return podnet([...args.slice(0, at), '--name', X, ...args.slice(at)], { stateDir });
  };
  const nat = () => run(['ip', 'netns', 'exec', `podnet-${X}-server`, 'iptables-save', '-t', 'nat']).replace(/^#.*\n/gm, '');
  const world = async () => ({ svc: (await cli(['get', 'svc'])).stdout.replace(/ +\d+[smh] *$/gm, ''), pods: (await cli(['get', 'pods', '-A'])).stdout.replace(/ +\d+[smh] *$/gm, ''), nat: nat() });

  before(async () => {
    stateDir = await newStateDir('svc-input');
    const up = await cli(['lab', 'up', '--pods', '1', '--no-dns']);
    assert.equal(up.code, 0, show(up));
  });
  after(() => tearDown([{ lab: X, stateDir }], [stateDir]));

  test('lab up --no-dns: no DNS pod, and the kube-dns Service is rejected (it has no endpoints)', T, async () => {
    assert.deepEqual(table((await cli(['get', 'pods', '-A'])).stdout).map((r) => r.NAME), ['pod1']);
    const filter = run(['ip', 'netns', 'exec', `podnet-${X}-server`, 'iptables-save', '-t', 'filter']);
    assert.match(filter, /-A KUBE-SERVICES -d 10\.43\.0\.10\/32 -p udp -m comment --comment "kube-system\/kube-dns:dns has no endpoints" -m udp --dport 53 -j REJECT/);
  });

  test('manifests and flags: one line naming the field, exit 1, the lab unchanged', T, async () => {
    const before0 = await world();
    for (const [name, text, message] of MANIFESTS) {
      const f = join(stateDir, `${name}.yaml`);
      writeFileSync(f, text);
      const r = await cli(['apply', '-f', f]);
      assert.equal(r.code, 1, show(r));
      assert.match(oneErrorLine(r), message);
    }
    for (const [args, message] of FLAGS) {
      const r = await cli(args);
      assert.equal(r.code, 1, show(r));
      assert.match(oneErrorLine(r), message, args.join(' '));
    }
    assert.deepEqual(await world(), before0, 'no Service, pod or rule came or went');
  });
});
