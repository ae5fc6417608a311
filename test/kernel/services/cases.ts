// The Service cases both kube-proxy modes must pass, on a real two-node lab (nodes server and agent1,
// flannel between them): web has three endpoints running `busybox httpd` (w1, w3 on server, w2 on
// agent1), solo one (s1 on server), empty none. Clients are real: busybox wget from pods, and from
// the underlay switch namespace (198.51.100.1, outside the pods) for NodePorts. Rules are read back
// with plain iptables-save / nft -j, never through podnet's readers. One lab per mode, shared.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podDelete, podRun } from '../../../src/lab/pods.js';
import { applyManifests } from '../../../src/lab/services.js';
import type { ServiceManifest } from '../../../src/model/manifest.js';
import type { ProxyMode } from '../../../src/model/kube-proxy/mode.js';
import { nsSysctl, run, runStatus, withLab } from '../helpers.js';

const TOPOLOGY = { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [] };
const WEB = { w1: 'server', w2: 'agent1', w3: 'server' } as const;

const service = (name: string, extra: Partial<ServiceManifest> = {}): ServiceManifest => ({
  kind: 'Service', name, namespace: 'default', type: 'ClusterIP', selector: { app: name }, externalTrafficPolicy: 'Cluster', sessionAffinity: 'None',
  ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }], ...extra,
});

/** What the cases share: the lab, its pods' addresses and the Services' ClusterIPs (set in `before`). */
interface Ctx {
  mode: ProxyMode;
  fx: ReturnType<typeof withLab>;
  ip: Record<string, string>;
  node: (n: string) => string;
  podNs: (name: string) => string;
  get: (ns: string, url: string, seconds?: number) => { status: number; stdout: string; stderr: string };
  answers: (ns: string, url: string, n: number) => string[];
}

/** The Service cases, on a lab of their own in `mode`. */
export function serviceCases(mode: ProxyMode): void {
  describe(`Services in kube-proxy's ${mode} mode`, () => {
    const fx = withLab(`svc-${mode}`, TOPOLOGY, { prefix: 'ks', up: { proxyMode: mode } });
    let www = '';
    const get = (ns: string, url: string, seconds = 3) => runStatus(['nsenter', `--net=/run/netns/${ns}`, 'timeout', String(seconds), 'busybox', 'wget', '-qO-', url], (seconds + 2) * 1000);
    const c: Ctx = {
      mode, fx, ip: {}, get,
      node: (n) => `podnet-${fx.lab}-${n}`,
      podNs: (name) => fx.state().pods.find((p) => p.name === name)!.netns,
      // One GET each, bounded by `timeout` (busybox wget's own -T crashes on Debian's 1.35).
      answers: (ns, url, n) => Array.from({ length: n }, () => get(ns, url).stdout.trim()).filter(Boolean),
    };
    before(async () => { www = await setUp(c); });
    after(async () => { if (www) await rm(www, { recursive: true, force: true }); });
    dataPathCases(c);
    ruleCases(c);
  });
}

/** The pods (busybox httpd serving their own name) and the Services; resolves with the pages' dir. */
async function setUp(c: Ctx): Promise<string> {
  const { fx, ip } = c;
  await fx.ready();
  const www = await mkdtemp(join(tmpdir(), 'podnet-kernel-www-'));
  const runPod = async (name: string, nodeName: string, app: string) => {
    await mkdir(join(www, name));
    await writeFile(join(www, name, 'index.html'), `${name}\n`);
    const p = await podRun(fx.deps, fx.lab, name, nodeName, { labels: { app }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], commands: [['busybox', 'httpd', '-f', '-p', '8080', '-h', join(www, name)]] });
    ip[name] = p.ip!;
  };
  for (const [name, n] of Object.entries(WEB)) await runPod(name, n, 'web');
  await runPod('s1', 'server', 'solo');
  await applyManifests(fx.deps, fx.lab, [service('web', { type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }] }), service('solo'), service('empty')]);
  const svcIP = (n: string) => fx.state().services!.find((s) => s.name === n)!.clusterIP;
  Object.assign(ip, { web: svcIP('web'), solo: svcIP('solo'), empty: svcIP('empty') });
  return www;
}

/** Real clients through the Service: across nodes, NodePort from outside, hairpin, no endpoints. */
function dataPathCases(c: Ctx): void {
  const { fx, ip, node, podNs, answers } = c;
  test('a pod on agent1 reaches every endpoint of a ClusterIP, across nodes', () => {
    const seen = new Set(answers(podNs('w2'), `http://${ip.web}/`, 30));
    assert.deepEqual([...seen].sort(), ['w1', 'w2', 'w3']);
  });

  test('a NodePort answers on every node for a client outside the pods (the underlay switch, 198.51.100.1)', () => {
    for (const n of fx.state().plan.nodes) {
      const seen = new Set(answers(`podnet-${fx.lab}-underlay`, `http://${n.ip.split('/')[0]}:30080/`, 24));
      assert.ok(seen.size >= 2 && [...seen].every((s) => s in WEB), `node ${n.name}: ${[...seen].join(',')}`);
    }
  });

  test('hairpin: a pod reaches itself through its own Service (masqueraded: it sees cni0\'s address)', () => {
    const seen = answers(podNs('w1'), `http://${ip.web}/`, 30);
    assert.ok(seen.includes('w1'), `w1 reached itself among ${seen.join(',')}`);
    const ct = run(['nsenter', `--net=/run/netns/${node('server')}`, 'conntrack', '-L', '-p', 'tcp', '--orig-src', ip.w1, '--orig-dst', ip.web], 5000);
    const gw = fx.state().plan.nodes.find((n) => n.name === 'server')!.bridgeIP.split('/')[0];
    assert.match(ct, new RegExp(`src=${ip.w1} dst=${ip.web} sport=\\d+ dport=80 src=${ip.w1} dst=${gw} `), 'DNAT to itself, source masqueraded to cni0\'s address');
  });

  test('a Service without endpoints is refused at once (REJECT), not left to time out', () => {
    const t0 = Date.now();
    const r = runStatus(['nsenter', `--net=/run/netns/${podNs('w1')}`, 'timeout', '5', 'busybox', 'nc', '-w', '4', ip.empty, '80'], 8000);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Connection refused/);
    assert.ok(Date.now() - t0 < 3500, `refused after ${Date.now() - t0} ms (a timeout would take 4 s)`);
  });
}

/** The rules as the plain tools read them, how they follow a deleted pod, br_netfilter, the root namespace. */
function ruleCases(c: Ctx): void {
  const { mode, fx, ip, node, podNs, get, answers } = c;
  test('the rules read back with the plain tools hold kube-proxy\'s chains, jumps, marks and DNATs', () => {
    if (mode === 'iptables') {
      const nat = run(['nsenter', `--net=/run/netns/${node('server')}`, 'iptables-save', '-t', 'nat']);
      for (const l of ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000', '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0', '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        '-A KUBE-SERVICES -d 10.43.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y']) assert.ok(nat.includes(l), l);
      for (const w of Object.keys(WEB)) assert.match(nat, new RegExp(`-p tcp -m comment --comment "?default/web:http"? -m tcp -j DNAT --to-destination ${ip[w]}:8080`));
      assert.match(nat, /-m statistic --mode random --probability 0\.33333333349 -j KUBE-SEP-/);
      const filter = run(['nsenter', `--net=/run/netns/${node('server')}`, 'iptables-save', '-t', 'filter']);
      assert.match(filter, new RegExp(`-A KUBE-SERVICES -d ${ip.empty}/32 -p tcp -m comment --comment "default/empty:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`));
    } else {
      const j = JSON.parse(run(['nsenter', `--net=/run/netns/${node('server')}`, 'nft', '-j', 'list', 'table', 'ip', 'kube-proxy'])) as { nftables: Record<string, { name: string; hook?: string; prio?: number }>[] };
      const chains = j.nftables.flatMap((o) => (o.chain ? [o.chain] : []));
      assert.deepEqual(chains.filter((c) => c.hook).map((c) => `${c.name} ${c.hook} ${c.prio}`).sort(), ['filter-forward forward 0', 'filter-input input 0', 'filter-output output 0',
        'filter-output-pre-dnat output -110', 'filter-prerouting-pre-dnat prerouting -110', 'nat-output output -100', 'nat-postrouting postrouting 100', 'nat-prerouting prerouting -100']);
      const text = run(['nsenter', `--net=/run/netns/${node('server')}`, 'nft', 'list', 'table', 'ip', 'kube-proxy']);
      for (const w of Object.keys(WEB)) assert.match(text, new RegExp(`meta l4proto tcp dnat to ${ip[w]}:8080`));
      assert.match(text, /numgen random mod 3 vmap \{ 0 : goto endpoint-\w{8}-default\/web\/tcp\/http__/);
      assert.match(text, /meta mark set meta mark \| 0x00004000/);
      assert.match(text, /elements = \{ 198\.51\.100\.2 \}/);
    }
  });

  test('after an endpoint pod is deleted the rules follow within a second', async () => {
    const pinned = `/run/netns/${podNs('w3')}`;
    let goneAt = 0;
    const watch = setInterval(() => { if (!goneAt && !existsSync(pinned)) goneAt = Date.now(); }, 5);
    try {
      await podDelete(fx.deps, fx.lab, 'w3');
    } finally {
      clearInterval(watch);
    }
    const ms = Date.now() - (goneAt || Date.now());
    const rules = mode === 'iptables' ? run(['nsenter', `--net=/run/netns/${node('agent1')}`, 'iptables-save', '-t', 'nat']) : run(['nsenter', `--net=/run/netns/${node('agent1')}`, 'nft', 'list', 'table', 'ip', 'kube-proxy']);
    assert.ok(!rules.includes(`${ip.w3}:8080`), 'no DNAT to the deleted pod');
    assert.ok(goneAt > 0 && ms < 1000, `rules written ${ms} ms after the pod's namespace went`);
    assert.ok(!answers(podNs('w2'), `http://${ip.web}/`, 12).includes('w3'));
  });

  test('with bridge-nf-call-iptables=0 a same-node ClusterIP request fails (the reply is bridged past conntrack)', () => {
    const ns = node('server');
    assert.equal(nsSysctl(ns, 'net.bridge.bridge-nf-call-iptables'), '1', 'lab up sets it on every node');
    assert.equal(nsSysctl(ns, 'net.ipv4.conf.all.route_localnet'), mode === 'iptables' ? '1' : '0', 'kube-proxy sets route_localnet in iptables mode only');
    assert.equal(get(podNs('w1'), `http://${ip.solo}/`).stdout.trim(), 's1');
    run(['nsenter', `--net=/run/netns/${ns}`, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0']);
    try {
      const r = get(podNs('w1'), `http://${ip.solo}/`, 2);
      assert.notEqual(r.status, 0, 'the reply comes from s1\'s own address, which w1 never asked');
      assert.equal(r.stdout, '');
    } finally {
      run(['nsenter', `--net=/run/netns/${ns}`, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
    }
    assert.equal(get(podNs('w1'), `http://${ip.solo}/`).stdout.trim(), 's1', 'and works again with 1');
  });

  test('the root namespace holds none of it', () => {
    const ruleset = run(['nft', 'list', 'ruleset']);
    assert.ok(!/kube-proxy|KUBE-/.test(ruleset), 'no kube-proxy table or KUBE- chain in the root namespace');
  });
}
