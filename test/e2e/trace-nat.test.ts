// `podnet trace` through NAT, in both kube-proxy modes, as a user runs it: a Service with endpoints on
// two nodes (by name and by ClusterIP:port), a NodePort from the lab's outside host (DNAT and
// masquerade), a pod's request out of the cluster (flannel's masquerade), a Service without
// endpoints (kube-proxy's REJECT). Each NAT hop names the rule that rewrote the packet and the chosen
// endpoint; the conntrack entry the trace shows is checked against `conntrack -L` read independently;
// replies are shown un-NATed; nothing of the tracing is left in the lab's namespaces afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, labName, newStateDir, podnet, show, tearDown, type CliResult } from './cli.js';
import { runStatus } from '../kernel/helpers.js';
import { traceLeftovers } from '../kernel/trace/leftovers.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

interface Hop { point: string; explanation?: string; addrs?: string }
interface Doc {
  answered: boolean; verdict: string; cause?: string;
  addressed?: { service: string; ip: string; port: number; chosen?: string };
  packets: { kind: string; direction: string; label?: string; hops: Hop[] }[];
  evidence?: { conntrack: { node: string; original: string; reply: string; nat?: string }[]; rules: { chain: string }[]; notes: string[] };
}

const explanations = (d: Doc, dir: string) => d.packets.filter((p) => p.direction === dir).flatMap((p) => p.hops.map((h) => h.explanation ?? ''));

for (const mode of ['iptables', 'nftables'] as const) {
  describe(`trace through NAT (kube-proxy ${mode} mode)`, () => {
    const X = labName();
    let stateDir = '';
    let www = '';
    /** The CLI with `--name X` (before `--`: what follows is a pod's command). */
    const cli = (args: string[]) => {
      const dd = args.indexOf('--');
      return podnet(dd < 0 ? [...args, '--name', X] : [...args.slice(0, dd), '--name', X, ...args.slice(dd)], { stateDir });
    };
    const trace = async (...args: string[]): Promise<Doc> => {
      const r = await cli(['trace', ...args, '-o', 'json']);
      assert.ok(r.code === 0 || r.code === 1, show(r)); // 1: not answered
      const d = JSON.parse(r.stdout) as Doc;
      assert.equal(r.code, d.answered ? 0 : 1);
      return d;
    };
    /** The rule names the mode's DNAT hop must show: iptables' KUBE-SEP chain, nftables' endpoint chain. */
    const sepRe = mode === 'iptables' ? /KUBE-SEP-[A-Z0-9]{16} \(default\/web/ : /endpoint-[A-Z0-9]{8}-default\/web\/tcp\//;

    before(async () => {
      stateDir = await newStateDir(`trace-nat-${mode}`);
      www = mkdtempSync(join(tmpdir(), 'podnet-e2e-www-'));
      writeFileSync(join(www, 'index.html'), 'web\n');
      ok(await cli(['lab', 'up', '--nodes', '2', '--pods', '0', '--proxy-mode', mode]));
      ok(await cli(['run', 'pod1', '--node', 'server']));
      const httpd = ['--', 'busybox', 'httpd', '-f', '-p', '8080', '-h', www];
      ok(await cli(['run', 'web1', '--node', 'server', '-l', 'app=web', ...httpd]));
      ok(await cli(['run', 'web2', '--node', 'agent1', '-l', 'app=web', ...httpd]));
      ok(await cli(['expose', 'pod', 'web1', '--service', 'web', '--port', '80', '--target-port', '8080', '--type', 'NodePort', '--node-port', '30080']));
      const empty = ['apiVersion: v1', 'kind: Service', 'metadata: {name: empty}', 'spec:', '  selector: {app: none}', '  ports:', '    - {port: 80, targetPort: 8080}', ''].join('\n');
      ok(await podnet(['apply', '-f', '-', '--name', X], { stateDir, input: empty }));
    });
    after(async () => {
      rmSync(www, { recursive: true, force: true });
      await tearDown([{ lab: X, stateDir }], [stateDir]);
    });

    test('pod1 → web (by name): reaches both endpoints over repeated traces; the DNAT hop names the rule, the endpoint and the conntrack entry', T, async () => {
      const chosen = new Set<string>();
      for (let i = 0; i < 12 && chosen.size < 2; i++) {
        const d = await trace('pod1', 'web', '--tcp', '80');
        assert.ok(d.answered, d.verdict);
        assert.match(d.addressed?.chosen ?? '', /^10\.42\.\d+\.\d+:8080 \(web[12] on (server|agent1)\)$/);
        chosen.add(d.addressed!.chosen!);
        const dnat = explanations(d, 'request').find((e) => /^DNAT 10\.43\.\d+\.\d+:80 → 10\.42/.test(e));
        assert.ok(dnat, JSON.stringify(explanations(d, 'request')));
        assert.match(dnat, sepRe);
        const endpoint = d.addressed!.chosen!.split(' ')[0];
        assert.ok(dnat.includes(`→ ${endpoint}`), dnat);
        assert.ok(explanations(d, 'reply').some((e) => e.includes(`source ${endpoint} → ${d.addressed!.ip}:80 (the DNAT undone)`)), 'the reply is shown un-NATed');
        const ct = d.evidence?.conntrack.find((c) => c.node === 'server' && c.original.endsWith(`→ ${d.addressed!.ip}:80`));
        assert.ok(ct, JSON.stringify(d.evidence?.conntrack));
        assert.ok(ct.reply.startsWith(`${endpoint} →`), ct.reply);
        // the same entry, read with conntrack itself
        const sport = ct.original.split(' ')[0].split(':')[1];
        const real = runStatus(['ip', 'netns', 'exec', `podnet-${X}-server`, 'conntrack', '-L', '-p', 'tcp', '--orig-port-src', sport]).stdout;
        assert.match(real, new RegExp(`dst=${d.addressed!.ip.replace(/\./g, '\\.')} .*src=${endpoint.split(':')[0].replace(/\./g, '\\.')} `), real);
      }
      assert.equal(chosen.size, 2, `both endpoints in 12 traces: ${[...chosen].join(', ')}`);
      assert.deepEqual(traceLeftovers(X, stateDir), []);
    });

    test('pod1 → CLUSTERIP:80 and the text output', T, async () => {
      const svc = await cli(['get', 'svc', '-o', 'json']);
      ok(svc);
      const ip = /"clusterIP":\s*"(10\.43\.\d+\.\d+)"[^}]*?"name":\s*"web"|"name":\s*"web"[\s\S]*?"clusterIP":\s*"(10\.43\.\d+\.\d+)"/.exec(svc.stdout);
      const clusterIP = ip?.[1] ?? ip?.[2];
      assert.ok(clusterIP, svc.stdout);
      const r = await cli(['trace', 'pod1', `${clusterIP}:80`]);
      ok(r);
      assert.match(r.stdout, new RegExp(`-> default/web ${clusterIP.replace(/\./g, '\\.')}:80 → web[12] \\(10\\.42`));
      assert.match(r.stdout, /^reply from 10\.42\.\d+\.\d+ in /m);
      assert.match(r.stdout, new RegExp(`^conntrack on server: tcp 10\\.42\\.0\\.\\d+:\\d+ → ${clusterIP.replace(/\./g, '\\.')}:80, reply 10\\.42`, 'm'));
    });

    test('outside → NODEIP:30080: DNAT and masquerade on the node, the reply un-NATed back to the outside host', T, async () => {
      const d = await trace('outside', '198.51.100.2:30080', '--tcp');
      assert.ok(d.answered, d.verdict);
      const nat = explanations(d, 'request').find((e) => e.startsWith('DNAT 198.51.100.2:30080 → 10.42.'));
      assert.ok(nat, JSON.stringify(explanations(d, 'request')));
      assert.match(nat, /SNAT 198\.51\.100\.253:\d+ → /);
      assert.match(nat, mode === 'iptables' ? /KUBE-NODEPORTS/ : /external-[A-Z0-9]{8}-default\/web/);
      assert.match(nat, /MASQUERADE/);
      const ct = d.evidence?.conntrack.find((c) => c.node === 'server' && c.original.endsWith('→ 198.51.100.2:30080'));
      assert.ok(ct?.nat?.includes('DNAT') && ct.nat.includes('SNAT'), JSON.stringify(d.evidence?.conntrack));
      assert.ok(explanations(d, 'reply').some((e) => /destination .* → 198\.51\.100\.253:\d+ \(the SNAT undone\)/.test(e)));
    });

    test('pod1 → outside: flannel\'s masquerade names its rule, the outside host sees the node', T, async () => {
      const d = await trace('pod1', 'outside', '--tcp', '80');
      assert.ok(d.answered, d.verdict);
      const snat = explanations(d, 'request').find((e) => /^SNAT 10\.42\.0\.\d+:\d+ → 198\.51\.100\.2:\d+ by server \(/.test(e));
      assert.ok(snat, JSON.stringify(explanations(d, 'request')));
      assert.match(snat, /FLANNEL-POSTRTG: MASQUERADE/);
      assert.ok(d.evidence?.conntrack.some((c) => c.nat?.startsWith('SNAT 10.42.0.')), JSON.stringify(d.evidence?.conntrack));
    });

    test('pod1 → a Service without endpoints: rejected by kube-proxy\'s rule, named', T, async () => {
      const d = await trace('pod1', 'empty', '--tcp', '80');
      assert.equal(d.answered, false);
      assert.match(d.verdict, /ICMP port unreachable/);
      assert.match(d.cause ?? '', mode === 'iptables' ? /dropped by filter KUBE-SERVICES rule \d+ .*default\/empty has no endpoints.*REJECT/ : /dropped by .*reject/i);
      assert.deepEqual(traceLeftovers(X, stateDir), []);
    });
  });
}
