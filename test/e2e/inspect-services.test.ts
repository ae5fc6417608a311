// `podnet inspect services` as a user runs it, in both proxy modes on a two-node lab: a NodePort
// Service with three endpoints on two nodes and a Service whose selector matches nothing. What it
// prints is held to the kernel's own rules read independently (iptables-save, nft -j), to the pods'
// IPs and to real requests (the DNAT rules' counters grow). Then --netns/--host on a namespace this
// test makes and fills with kube-proxy-shaped rules by iptables-restore itself, as on a real node.
// Also the DNS pod a lab brings up by default: in kube-system, left out of `get pods` without -A, and
// the Service reached by name and by ClusterIP from a pod, every endpoint answering, in both modes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BIN, T, labName, newStateDir, podnet, show, table, tearDown, type CliResult } from './cli.js';
import { run } from '../kernel/helpers.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

interface Row { node: string; mode: string; service: string; clusterIP: string; nodePort: string; chain: string; endpoint: string; endpointChain: string; pick: string; counters?: { packets: number }; pod: string }

const EMPTY = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: empty\nspec:\n  selector:\n    app: nothing\n  ports:\n  - port: 81\n';

for (const mode of ['iptables', 'nftables'] as const) {
  describe(`inspect services, ${mode} mode`, () => {
    const X = labName();
    let stateDir = '';
    const dir = mkdtempSync(join(tmpdir(), 'podnet-e2e-isvc-'));
    const cli = (args: string[]) => {
      const at = args.includes('--') ? args.indexOf('--') : args.length;
      return podnet([...args.slice(0, at), '--name', X, ...args.slice(at)], { stateDir });
    };
    after(() => tearDown(stateDir ? [{ lab: X, stateDir }] : [], [stateDir, dir].filter(Boolean)));

    test('each Service port → its chain → every endpoint → the pod, as the kernel holds them', T, async () => {
      stateDir = await newStateDir('isvc');
      ok(await cli(['lab', 'up', '--nodes', '2', '--pods', '1', '--proxy-mode', mode]));
      const ipOf = new Map<string, string>();
      for (const [pod, node] of [['w1', 'server'], ['w2', 'agent1'], ['w3', 'agent1']]) {
        mkdirSync(join(dir, pod));
        writeFileSync(join(dir, pod, 'index.html'), `${pod}\n`);
        const made = await cli(['run', pod, '--node', node, '--labels', 'app=web', '--', 'busybox', 'httpd', '-f', '-p', '8080', '-h', join(dir, pod)]);
        ok(made);
        ipOf.set(pod, /: (\d+\.\d+\.\d+\.\d+) /.exec(made.stdout + made.stderr)?.[1] ?? '?');
      }
      ok(await cli(['expose', 'pod', 'w1', '--port', '80', '--target-port', '8080', '--type', 'NodePort', '--node-port', '30091', '--service', 'web']));
      writeFileSync(join(dir, 'empty.yaml'), EMPTY);
      ok(await cli(['apply', '-f', join(dir, 'empty.yaml')]));

      const pods = table((await cli(['get', 'pods'])).stdout);
      assert.deepEqual(pods.map((p) => p.NAME).sort(), ['pod1', 'w1', 'w2', 'w3'], 'get pods: the default namespace only, as kubectl');
      const all = table((await cli(['get', 'pods', '-A'])).stdout);
      assert.ok(all.some((p) => p.NAMESPACE === 'kube-system' && p.NAME === 'kube-dns'), 'get pods -A: the DNS pod lab up made, in kube-system');

      const r = await cli(['inspect', 'services', '-o', 'json']);
      ok(r);
      const rows = (JSON.parse(r.stdout) as { items: Row[] }).items;
      for (const node of ['server', 'agent1']) {
        const web = rows.filter((x) => x.node === node && x.service === 'default/web');
        assert.deepEqual(web.map((x) => x.pod).sort(), ['default/w1', 'default/w2', 'default/w3'], `${node}: every endpoint, named by its pod`);
        assert.deepEqual(web.map((x) => x.endpoint).sort(), ['w1', 'w2', 'w3'].map((p) => `${ipOf.get(p)}:8080`).sort());
        assert.ok(web.every((x) => x.nodePort === '30091' && x.mode === mode));
        assert.deepEqual(web.map((x) => x.pick).sort(), mode === 'iptables' ? ['p=0.33333', 'p=0.50000', 'rest'] : ['numgen 0/3', 'numgen 1/3', 'numgen 2/3']);
        const empty = rows.filter((x) => x.node === node && x.service.startsWith('default/empty'));
        assert.equal(empty.length, 1, `${node}: the Service without endpoints has one row`);
        assert.equal(empty[0].endpoint, '<none>');
        assert.equal(empty[0].endpointChain, mode === 'iptables' ? 'REJECT' : 'reject-chain');

        // The chain names, held to the kernel's rules read without podnet.
        const ns = `podnet-${X}-${node}`;
        if (mode === 'iptables') {
          const nat = run(['ip', 'netns', 'exec', ns, 'iptables-save', '-t', 'nat']);
          for (const x of web) {
            assert.match(nat, new RegExp(`-A KUBE-SERVICES -d ${x.clusterIP.split(':')[0]}/32 .*-j ${x.chain}\\n`));
            assert.match(nat, new RegExp(`-A ${x.chain} .*-j ${x.endpointChain}\\n`));
            assert.match(nat, new RegExp(`-A ${x.endpointChain} .*-j DNAT --to-destination ${x.endpoint.replace(/\./g, '\\.')}\\n`));
          }
        } else {
          const nft = JSON.parse(run(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'ip', 'kube-proxy'])) as { nftables: Record<string, { name?: string; chain?: string }>[] };
          const chains = new Set(nft.nftables.filter((o) => o.chain?.name).map((o) => o.chain!.name));
          for (const x of web) assert.ok(chains.has(x.chain) && chains.has(x.endpointChain), `${x.chain} and ${x.endpointChain} are chains of table ip kube-proxy`);
        }
      }

      // By name (resolv.conf, the DNS pod, kube-proxy) and by ClusterIP: every endpoint answers.
      const clusterIP = rows.find((x) => x.service === 'default/web')!.clusterIP.split(':')[0];
      for (const url of ['http://web/', `http://${clusterIP}/`]) {
        const r = await cli(['exec', 'pod1', '--', 'sh', '-c', `for i in $(seq 30); do timeout 3 busybox wget -qO- ${url}; done`]);
        assert.deepEqual([...new Set(r.stdout.split('\n').filter(Boolean))].sort(), ['w1', 'w2', 'w3'], `${url}: ${show(r)}`);
      }

      if (mode === 'iptables') {
        const before = rows.filter((x) => x.node === 'server' && x.service === 'default/web').reduce((s, x) => s + (x.counters?.packets ?? 0), 0);
        ok(await cli(['exec', 'pod1', '--', 'sh', '-c', 'for i in 1 2 3 4 5 6; do timeout 3 busybox wget -qO- http://web/ >/dev/null; done']));
        const again = (JSON.parse((await cli(['inspect', 'services', 'server', '-o', 'json'])).stdout) as { items: Row[] }).items;
        const now = again.filter((x) => x.service === 'default/web').reduce((s, x) => s + (x.counters?.packets ?? 0), 0);
        assert.ok(now >= before + 6, `the DNAT rules counted the six connections (before ${before}, after ${now})`);
      }
      const text = (await cli(['inspect', 'services', 'agent1'])).stdout;
      assert.match(text, /^NODE +SERVICE +FRONTEND +CHAIN +PICK +ENDPOINT +PKTS +POD/);
      assert.doesNotMatch(text, /^server /m, 'a node given: only its rows');
    });
  });
}

describe('inspect services --netns / --host on a real node\'s rules', () => {
  const ns = `podnet-isvc-${process.pid}`;
  after(() => { try { run(['ip', 'netns', 'del', ns]); } catch { /* not made */ } });

  test('names come from kube-proxy\'s comments; no pods to name endpoints', T, async () => {
    run(['ip', 'netns', 'add', ns]);
    const rules = [
      '*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]', ':KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]', ':KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]', ':KUBE-MARK-MASQ - [0:0]',
      '-A KUBE-SERVICES -d 10.43.7.7/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ABCDEFGHIJKLMNOP',
      '-A KUBE-SVC-ABCDEFGHIJKLMNOP -m comment --comment "shop/web:http -> 10.42.3.4:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AAAAAAAAAAAAAAAA',
      '-A KUBE-SVC-ABCDEFGHIJKLMNOP -m comment --comment "shop/web:http -> 10.42.5.6:8080" -j KUBE-SEP-BBBBBBBBBBBBBBBB',
      '-A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.42.3.4:8080',
      '-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.42.5.6:8080',
      'COMMIT', '',
    ].join('\n');
    execFileSync('ip', ['netns', 'exec', ns, 'iptables-restore'], { input: rules, timeout: 20_000 });
    const stateDir = await newStateDir('isvc-host');
    try {
      for (const how of [['--netns', ns], ['--host']]) {
        const wrap = how[0] === '--host' ? ['ip', 'netns', 'exec', ns] : [];
        const r = await podnet(['inspect', 'services', ...how, '-o', 'json'], { stateDir, wrap });
        ok(r);
        const rows = (JSON.parse(r.stdout) as { items: Row[] }).items;
        assert.deepEqual(rows.map((x) => [x.service, x.clusterIP, x.chain, x.pick, x.endpoint, x.endpointChain, x.pod]), [
          ['shop/web:http', '10.43.7.7:80/TCP', 'KUBE-SVC-ABCDEFGHIJKLMNOP', 'p=0.50000', '10.42.3.4:8080', 'KUBE-SEP-AAAAAAAAAAAAAAAA', '-'],
          ['shop/web:http', '10.43.7.7:80/TCP', 'KUBE-SVC-ABCDEFGHIJKLMNOP', 'rest', '10.42.5.6:8080', 'KUBE-SEP-BBBBBBBBBBBBBBBB', '-'],
        ], `${how.join(' ')}: ${BIN}`);
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
