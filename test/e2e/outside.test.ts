// hostPort and the way out, as a user drives them: `podnet apply -f` of a pod declaring
// `hostPort: 8081`, then `podnet exec outside -- wget` of the node's address on that port (the
// request crosses the underlay from the lab's outside host and portmap's DNAT takes it to the pod);
// the pod's own request to the outside host, which sees the node's address (flannel's masquerade);
// a NodePort from outside when kube-proxy's rules are in the lab; `delete pod` unmaps the port; `lab
// down` takes the outside host too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, labName, newStateDir, podnet, show, tearDown, type CliResult } from './cli.js';
import { labNetns, run } from '../kernel/helpers.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('hostPort and the outside host through the CLI', () => {
  const X = labName();
  let stateDir = '';
  let www = '';
  const cli = (args: string[], input?: string) => podnet([...args, '--name', X], { stateDir, ...(input !== undefined ? { input } : {}) });
  /** `podnet exec HOST --name X -- wget -qO- URL` (the lab's flag before `--`: what follows is the command's). */
  const wget = (host: string, url: string) => podnet(['exec', host, '--name', X, '--', 'wget', '-qO-', '-T', '3', url], { stateDir });
  const fromOutside = (url: string) => wget('outside', url);

  before(async () => {
    stateDir = await newStateDir('outside');
    www = mkdtempSync(join(tmpdir(), 'podnet-e2e-www-'));
    writeFileSync(join(www, 'index.html'), 'web pod\n');
    ok(await cli(['lab', 'up', '--pods', '0']));
    const pod = ['apiVersion: v1', 'kind: Pod', 'metadata:', '  name: web', '  labels: {app: web}', 'spec:', '  containers:', '    - name: web', '      image: busybox',
      `      command: [busybox, httpd, -f, -p, "80", -h, ${JSON.stringify(www)}]`, '      ports:', '        - containerPort: 80', '          hostPort: 8081', ''].join('\n');
    ok(await cli(['apply', '-f', '-'], pod));
  });
  after(async () => {
    rmSync(www, { recursive: true, force: true });
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  test('podnet exec outside -- wget http://198.51.100.2:8081 answers from the pod (hostPort through portmap)', T, async () => {
    const r = await fromOutside('http://198.51.100.2:8081/');
    ok(r);
    assert.equal(r.stdout, 'web pod\n');
  });

  test('the pod reaches the outside host by its IP, which sees the node\'s address', T, async () => {
    const r = await wget('web', 'http://198.51.100.253/cgi-bin/ip');
    ok(r);
    assert.equal(r.stdout, '198.51.100.2\n');
  });

  test('a NodePort Service answers the outside host', T, async (t) => {
    const svc = ['apiVersion: v1', 'kind: Service', 'metadata: {name: web}', 'spec:', '  type: NodePort', '  selector: {app: web}',
      '  ports:', '    - {port: 80, targetPort: 80, nodePort: 30080}', ''].join('\n');
    ok(await cli(['apply', '-f', '-'], svc));
    const nat = run(['nsenter', `--net=/run/netns/podnet-${X}-server`, 'iptables-save', '-t', 'nat']);
    if (!nat.includes(':KUBE-NODEPORTS')) {
      t.skip('no kube-proxy rules in this lab (src/lab/proxy.ts not syncing): nothing forwards a NodePort');
      return;
    }
    const r = await fromOutside('http://198.51.100.2:30080/');
    ok(r);
    assert.equal(r.stdout, 'web pod\n');
  });

  test('delete -f of the pod: its CNI-DN-… chain leaves the node\'s nat table (portmap DEL with the pod\'s mappings)', T, async () => {
    const nat = () => run(['nsenter', `--net=/run/netns/podnet-${X}-server`, 'iptables-save', '-t', 'nat']);
    assert.match(nat(), /-A CNI-DN-[0-9a-f]{21} -p tcp -m tcp --dport 8081 -j DNAT --to-destination 10\.42\.0\.\d+:80/);
    ok(await cli(['delete', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: web, image: busybox}]\n'));
    assert.doesNotMatch(nat(), /CNI-DN-/);
  });

  test('lab down removes the outside host with the rest', T, async () => {
    assert.ok(labNetns(X).includes(`podnet-${X}-outside`));
    ok(await cli(['lab', 'down']));
    assert.deepEqual(labNetns(X), []);
  });
});
