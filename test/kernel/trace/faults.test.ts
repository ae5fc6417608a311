// `podnet trace` across a path broken by `podnet lab break`: for each fault a trace can cross, the
// trace fails and its cause names where the packet died and the kernel's drop reason (skb:kfree_skb,
// tied to the trace's packets) or the netfilter rule that dropped it, with the configuration that
// made the decision (ip_forward, the VNI, the missing FDB/neighbour/route, the MTU, the sysctl); the
// drop reason is in the JSON evidence too. After `lab heal` the same trace is answered. Runs the CLI
// as a user does (the faults are src/lab/faults.ts's own), one lab for the whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, labName, newStateDir, podnet, show, tearDown, type CliResult } from '../../e2e/cli.js';
import { run, runStatus } from '../helpers.js';
import { traceLeftovers } from './leftovers.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

interface Doc { answered: boolean; verdict: string; cause?: string; evidence?: { drops: { reason: string; location: string }[]; rules: { chain: string }[] } }

/** One fault and the trace across it. */
interface Case {
  fault: string;
  args: string[];
  trace: string[];
  cause: RegExp;
  /** The kernel's drop reason the evidence must hold (when the drop is the kernel's, not a rule's). */
  reason?: string;
  /** Makes the broken path exist (rp_filter needs an asymmetric route), and takes it away. */
  around?: { before: () => void; after: () => void };
}

describe('trace names the drop point of every fault it can cross', () => {
  const X = labName();
  let stateDir = '';
  let www = '';
  const cli = (args: string[], input?: string) => {
    const dd = args.indexOf('--');
    return podnet(dd < 0 ? [...args, '--name', X] : [...args.slice(0, dd), '--name', X, ...args.slice(dd)], { stateDir, ...(input ? { input } : {}) });
  };
  const trace = async (args: string[]): Promise<Doc> => {
    const r = await cli(['trace', ...args, '-o', 'json']);
    assert.ok(r.code === 0 || r.code === 1, show(r));
    return JSON.parse(r.stdout) as Doc;
  };
  const server = () => `podnet-${X}-server`;

  before(async () => {
    stateDir = await newStateDir('trace-faults');
    www = mkdtempSync(join(tmpdir(), 'podnet-kernel-www-'));
    writeFileSync(join(www, 'index.html'), 'web\n');
    ok(await cli(['lab', 'up', '--nodes', '2', '--pods', '0']));
    const httpd = ['--', 'busybox', 'httpd', '-f', '-p', '8080', '-h', www];
    ok(await cli(['run', 'pod1', '--node', 'server']));
    ok(await cli(['run', 'web1', '--node', 'server', '-l', 'app=local', ...httpd]));
    ok(await cli(['run', 'web2', '--node', 'agent1', '-l', 'app=far', ...httpd]));
    ok(await cli(['expose', 'pod', 'web1', '--service', 'local', '--port', '80', '--target-port', '8080']));
    const empty = ['apiVersion: v1', 'kind: Service', 'metadata: {name: empty}', 'spec:', '  selector: {app: none}', '  ports:', '    - {port: 80, targetPort: 8080}', ''].join('\n');
    ok(await cli(['apply', '-f', '-'], empty));
  });
  after(async () => {
    rmSync(www, { recursive: true, force: true });
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  const across = ['pod1', 'web2', '--tcp', '8080'];
  const web2 = () => JSON.parse(run(['ip', '-n', `podnet-${X}-agent1`, '-json', 'route', 'get', '10.42.1.2'])) as unknown;
  const cases: Case[] = [
    { fault: 'ip-forward-off', args: ['--node', 'server'], trace: across, reason: 'IP_INADDRERRORS', cause: /^dropped at server\/cni0 → kernel: IP_INADDRERRORS \(ip_error\) — net\.ipv4\.ip_forward is 0 on server$/ },
    { fault: 'forward-reject', args: ['--node', 'server'], trace: across, cause: /^dropped by filter FORWARD rule 1 \(.*podnet-fault forward-reject.*-j REJECT.*\) in server → kernel: NETFILTER_DROP/ },
    { fault: 'fdb-missing', args: ['--node', 'server', '--peer', 'agent1'], trace: across, reason: 'NO_TX_TARGET', cause: /^dropped at server\/flannel\.1 → kernel: NO_TX_TARGET \(vxlan_xmit\) — no FDB entry for [0-9a-f:]{17} on server's flannel\.1/ },
    { fault: 'neigh-missing', args: ['--node', 'server', '--peer', 'agent1'], trace: across, reason: 'NO_TX_TARGET', cause: /→ kernel: NO_TX_TARGET \(vxlan_xmit\) — no neighbour entry for 10\.42\.1\.0 on server's flannel\.1/ },
    { fault: 'route-missing', args: ['--node', 'server', '--peer', 'agent1'], trace: across, cause: /^server sends 10\.42\.1\.\d+ \(a pod on agent1\) by its route "default via .* dev eth0", not through the overlay: its route to agent1's pod subnet through the overlay is missing/ },
    { fault: 'wrong-vni', args: ['--node', 'agent1'], trace: across, reason: 'VXLAN_VNI_NOT_FOUND', cause: /^dropped at agent1\/eth0 → kernel: VXLAN_VNI_NOT_FOUND \(vxlan_rcv\) — flannel\.1 on agent1 has VNI 2, server sends VNI 1$/ },
    { fault: 'vxlan-csum', args: ['--node', 'server'], trace: across, reason: 'UDP_CSUM', cause: /^dropped at agent1\/eth0 → kernel: UDP_CSUM \(\S+\) — the VXLAN packet from server reached agent1 with a wrong UDP checksum/ },
    { fault: 'mtu-mismatch', args: ['--node', 'server', '--on', 'flannel.1'], trace: ['pod1', 'web2', '--size', '1400'], reason: 'PKT_TOO_BIG', cause: /^dropped at server\/cni0 → kernel: PKT_TOO_BIG \(ip_forward\) — the packet \(1428 bytes, DF set\) does not fit flannel\.1 on server, whose MTU is \d+/ },
    { fault: 'hairpin-off', args: ['--node', 'server', '--pod', 'web1'], trace: ['web1', 'local', '--tcp', '80'], cause: /^server's cni0 must send the DNATed packet back out veth\w+, the port it came in on, and hairpin mode is off on veth\w+/ },
    { fault: 'bridge-nf-off', args: ['--node', 'server'], trace: ['pod1', 'local', '--tcp', '80'], cause: /^the answer reached pod1 from 10\.42\.0\.\d+:8080, not from 10\.43\.\d+\.\d+:80 — net\.bridge\.bridge-nf-call-iptables is 0 on server/ },
    {
      fault: 'rp-filter-strict', args: ['--node', 'agent1'], trace: across, reason: 'IP_RPFILTER', cause: /a more specific route wins .* → kernel: IP_RPFILTER \(\S+\) — agent1 drops it on arrival: strict reverse-path filtering/,
      around: {
        before: () => run(['ip', '-n', server(), 'route', 'add', '10.42.1.2/32', 'via', '198.51.100.3', 'dev', 'eth0']),
        after: () => { runStatus(['ip', '-n', server(), 'route', 'del', '10.42.1.2/32']); },
      },
    },
  ];

  for (const c of cases) {
    test(`${c.fault}: ${c.trace.join(' ')}`, T, async () => {
      assert.ok(web2());
      ok(await cli(['lab', 'break', c.fault, ...c.args]));
      try {
        c.around?.before();
        try {
          const d = await trace(c.trace);
          assert.equal(d.answered, false, d.verdict);
          assert.match(d.cause ?? '(no cause)', c.cause);
          if (c.reason) assert.ok(d.evidence?.drops.some((x) => x.reason === c.reason), JSON.stringify(d.evidence?.drops));
        } finally {
          c.around?.after();
        }
      } finally {
        ok(await cli(['lab', 'heal']));
      }
      const healed = await trace(c.trace);
      assert.ok(healed.answered, `after lab heal: ${healed.verdict} ${healed.cause ?? ''}`);
      assert.deepEqual(traceLeftovers(X, stateDir), []);
    });
  }

  test('a Service without endpoints: kube-proxy\'s REJECT rule, and the Service named', T, async () => {
    const d = await trace(['pod1', 'empty', '--tcp', '80']);
    assert.equal(d.answered, false);
    assert.match(d.verdict, /ICMP port unreachable/);
    assert.match(d.cause ?? '', /^dropped by filter KUBE-SERVICES rule \d+ \(.*"default\/empty has no endpoints".*-j REJECT.*\) in server → kernel: NETFILTER_DROP \(\S+\) — Service default\/empty has no ready endpoints, so kube-proxy rejects 10\.43\.\d+\.\d+:80$/);
  });

  test('a NetworkPolicy drop names the rule and the policy', T, async () => {
    const deny = ['apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy', 'metadata: {name: deny-all, namespace: default}', 'spec:', '  podSelector: {matchLabels: {app: local}}', '  policyTypes: [Ingress]', ''].join('\n');
    ok(await cli(['apply', '-f', '-'], deny));
    try {
      const d = await trace(['pod1', 'web1', '--tcp', '8080']);
      assert.equal(d.answered, false);
      assert.match(d.cause ?? '', /^dropped by filter KUBE-POD-FW-[A-Z0-9]{16} rule \d+ \(.*REJECT.*\) in server → kernel: NETFILTER_DROP \(\S+\) — NetworkPolicy: policy default\/deny-all selects web1 for ingress and no rule allows 10\.42\.0\.\d+ \(pod1\) to 10\.42\.0\.\d+:TCP\/8080$/);
      // the chain the trace names is kube-router's, in the kernel (read with iptables-save)
      const chain = /KUBE-POD-FW-[A-Z0-9]{16}/.exec(d.cause ?? '')![0];
      assert.match(run(['ip', 'netns', 'exec', server(), 'iptables-save', '-t', 'filter']), new RegExp(`^:${chain} `, 'm'));
    } finally {
      ok(await cli(['delete', '-f', '-'], deny));
    }
    assert.ok((await trace(['pod1', 'web1', '--tcp', '8080'])).answered, 'answered once the policy is gone');
  });
});
