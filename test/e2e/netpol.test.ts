// NetworkPolicy through the CLI as a user runs it, on a two-node lab with the DNS pod: bad manifests
// get one line naming the field and its fix, exit 1, and change nothing (each node's filter table and
// ipsets read back with iptables-save and `ipset save` inside its namespace, `get netpol` — all the
// same before and after); then the docs' worked example: deny-all makes busybox nc from a pod fail
// and trace name the policy, `get netpol -o yaml` round-trips through `apply`, allowing DNS and one
// Service makes nslookup and nc work again, and `delete netpol` of the last policy takes every
// kube-router chain, jump and set away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { T, labName, newStateDir, oneErrorLine, podnet, show, table, tearDown } from './cli.js';
import { runStatus } from '../kernel/helpers.js';

const np = (spec: string, meta = '{name: bad}') => `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: ${meta}\nspec:\n${spec}`;
const BAD: [string, string, RegExp][] = [
  ['types', np('  podSelector: {}\n  policyTypes: [Ingres]\n'), /: spec\.policyTypes\[0\]: Ingress or Egress$/],
  ['port', np('  podSelector: {}\n  ingress: [{ports: [{port: 70000}]}]\n'), /: spec\.ingress\[0\]\.ports\[0\]\.port: a port from 1 to 65535$/],
  ['endport-below', np('  podSelector: {}\n  ingress: [{ports: [{port: 8080, endPort: 80}]}]\n'), /: spec\.ingress\[0\]\.ports\[0\]\.endPort: 80 is below port 8080: endPort ends the range port starts$/],
  ['endport-alone', np('  podSelector: {}\n  egress: [{ports: [{endPort: 80}]}]\n'), /: spec\.egress\[0\]\.ports\[0\]\.endPort: endPort needs a port: give the start of the range in port$/],
  ['endport-named', np('  podSelector: {}\n  ingress: [{ports: [{port: http, endPort: 90}]}]\n'), /: spec\.ingress\[0\]\.ports\[0\]\.endPort: endPort goes with a numeric port, not a named one$/],
  ['cidr', np('  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n'), /: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: "10\.0\.0\.0\/33" has a prefix length over 32/],
  ['except', np('  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]\n'), /: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.except\[0\]: 10\.1\.0\.0\/24 must be a strict subset of cidr 10\.0\.0\.0\/16$/],
  ['operator', np('  podSelector: {matchExpressions: [{key: app, operator: Maybe, values: [x]}]}\n'), /: spec\.podSelector\.matchExpressions\[0\]\.operator: In, NotIn, Exists or DoesNotExist$/],
  ['name', np('  podSelector: {}\n', '{namespace: default}'), /: metadata\.name: is required$/],
];

const DENY_ALL = np('  podSelector: {}\n  policyTypes: [Ingress, Egress]\n', '{name: deny-all, namespace: default}');
const ALLOW = [
  np('  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n', '{name: allow-dns}'),
  np('  podSelector: {matchLabels: {role: client}}\n  policyTypes: [Egress]\n  egress: [{to: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: http}]}]\n', '{name: client-to-web}'),
  np('  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n  ingress: [{from: [{podSelector: {matchLabels: {role: client}}}], ports: [{port: http}]}]\n', '{name: web-from-client}'),
].join('---\n');

describe('NetworkPolicy from the CLI: bad manifests change nothing; deny, allow, delete with real traffic', () => {
  const X = labName();
  let stateDir = '';
  const cli = (args: string[], input?: string) => {
    const at = args.includes('--') ? args.indexOf('--') : args.length;
    return podnet([...args.slice(0, at), '--name', X, ...args.slice(at)], { stateDir, ...(input !== undefined ? { input } : {}) });
  };
  const ok = async (args: string[], input?: string) => {
    const r = await cli(args, input);
    assert.equal(r.code, 0, show(r));
    return r;
  };
  /** What kube-router's controller holds on every node, read independently: filter table and ipsets (counters aside). */
  const kernel = () => ['server', 'agent1'].map((n) => {
    const ns = `podnet-${X}-${n}`;
    const filter = runStatus(['ip', 'netns', 'exec', ns, 'iptables-save', '-t', 'filter']).stdout.replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, '');
    return `${filter}\n${runStatus(['ip', 'netns', 'exec', ns, 'ipset', 'save']).stdout}`;
  }).join('\n');
  /** busybox nc from `pod` to HOST PORT (2 s); true when web1 answered. */
  const reaches = async (pod: string, host: string, port: string) => {
    const r = await cli(['exec', pod, '--', 'busybox', 'nc', '-w', '2', host, port]);
    return r.code === 0 && r.stdout.includes('hello from web1');
  };

  before(async () => {
    stateDir = await newStateDir('netpol');
    await ok(['lab', 'up', '--nodes', '2', '--pods', '0']);
    await ok(['run', 'web1', '--node', 'agent1', '-l', 'app=web', '--port', 'http=8080', '--', 'busybox', 'nc', '-ll', '-p', '8080', '-e', 'echo', 'hello from web1']);
    await ok(['run', 'client', '--node', 'server', '-l', 'role=client']);
    await ok(['expose', 'pod', 'web1', '--port', '80', '--target-port', 'http', '--service', 'web']);
  });
  after(() => tearDown([{ lab: X, stateDir }], [stateDir]));

  test('bad manifests: one line naming the field, exit 1, nothing applied (rules, sets, get netpol)', T, async () => {
    await ok(['apply', '-f', '-'], DENY_ALL);
    const before0 = { kernel: kernel(), list: (await ok(['get', 'netpol'])).stdout.replace(/ +\d+[smh] *$/gm, '') };
    assert.match(before0.kernel, /:KUBE-ROUTER-FORWARD /, 'deny-all is enforced before the bad input');
    for (const [name, text, message] of BAD) {
      const f = join(stateDir, `${name}.yaml`);
      // each bad policy comes second, after a good one: all or nothing, the good one is not applied either
      writeFileSync(f, `${np('  podSelector: {}\n', '{name: good}')}---\n${text}`);
      const r = await cli(['apply', '-f', f]);
      assert.equal(r.code, 1, show(r));
      const line = oneErrorLine(r);
      assert.ok(line.startsWith(`${f}#2: `), line);
      assert.match(line, message);
    }
    assert.deepEqual({ kernel: kernel(), list: (await ok(['get', 'netpol'])).stdout.replace(/ +\d+[smh] *$/gm, '') }, before0);
    await ok(['delete', 'netpol', 'deny-all']);
  });

  test('deny all, then allow DNS and one Service: nc and nslookup as the policies say; trace names the policy; delete takes every rule away', { timeout: 180_000 }, async () => {
    const empty = kernel();
    assert.ok(await reaches('client', 'web', '80'), 'no policy: client reaches web by name');
    const applied = await ok(['apply', '-f', '-'], DENY_ALL);
    assert.match(applied.stdout + applied.stderr, /networkpolicy\/deny-all created: selects (web1, client|client, web1) for ingress and egress/);
    assert.ok(!(await reaches('client', '10.43.0.11', '80')), 'deny-all: the ClusterIP is refused');
    const lookup = await cli(['exec', 'client', '--', 'nslookup', 'web']);
    assert.notEqual(lookup.code, 0, show(lookup));
    const t = await cli(['trace', 'client', 'web', '--tcp', '80']);
    assert.equal(t.code, 1, show(t));
    assert.match(t.stdout.replace(/\n +/g, ' '), /cause: dropped by filter KUBE-POD-FW-[A-Z0-9]{16} rule \d+ .* NetworkPolicy: policy default\/deny-all selects client for egress and no rule allows 10\.42\.0\.\d+ \(client\) to 10\.42\.1\.\d+:TCP\/8080/);
    // get -o yaml round-trips: applied back, it changes nothing
    const yaml = (await ok(['get', 'netpol', 'deny-all', '-o', 'yaml'])).stdout;
    assert.deepEqual(parse(yaml).spec ?? parse(yaml).items?.[0]?.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, yaml);
    const denied = kernel();
    await ok(['apply', '-f', '-'], yaml);
    assert.equal(kernel(), denied, 'the same policy applied again changes no rule or set');

    await ok(['apply', '-f', '-'], ALLOW);
    const names = table((await ok(['get', 'netpol'])).stdout).map((r) => r.NAME);
    assert.deepEqual(names, ['allow-dns', 'client-to-web', 'deny-all', 'web-from-client']);
    const resolved = await cli(['exec', 'client', '--', 'nslookup', 'web']);
    assert.equal(resolved.code, 0, show(resolved));
    assert.match(resolved.stdout, /Address: 10\.43\.0\.11/);
    assert.ok(await reaches('client', 'web', '80'), 'allowed: client → web by name (DNS, then the Service)');
    const back = await cli(['exec', 'web1', '--', 'busybox', 'nc', '-w', '2', '10.42.0.3', '80']);
    assert.notEqual(back.code, 0, 'web1 may not open connections to client');
    const verdict = await ok(['inspect', 'policies', '--from', 'client', '--to', 'web1', '--port', '8080']);
    assert.match(verdict.stdout, /^allowed/);

    for (const p of ['allow-dns', 'client-to-web', 'deny-all', 'web-from-client']) await ok(['delete', 'netpol', p]);
    assert.equal(kernel(), empty, 'the last policy deleted: every kube-router chain, jump and set gone');
    assert.ok(await reaches('client', 'web', '80'));
  });
});
