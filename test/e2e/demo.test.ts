// `podnet demo`, as the issue describes it: the pods like `kubectl get pods -o wide`, a ping pod1 →
// pod2 from inside pod1 with its replies, the node's interfaces the way the blog lists them (cni0,
// vethXXXXXXXX, the node's eth0) with each pod's eth0@ifN matched to its host veth, the topology as a
// Mermaid diagram shaped like the blog's, and how to go on. A second `demo` says the lab is up.
//
// `demo` always uses the lab "demo", whose namespaces are named podnet-demo-*. Anyone else's demo
// lab on this machine (another session, another test run — one came and went while this file was
// written) lives in the root mount namespace's /run/netns, so a check-then-run there would race with
// it in both directions. The demo therefore runs with a private tmpfs on /run/netns (a private mount
// namespace, as the kernel tier's clean test does): its podnet-demo-* namespaces are invisible to
// everyone else and theirs to it; the kernel objects are real. Everything else is as a user runs it:
// `node bin/podnet.js demo` with its own PODNET_STATE_DIR. The precondition "no podnet-demo-
// namespace exists" is asserted where the demo will look (inside that mount namespace).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { WatchedChild, run, runStatus, waitFor } from '../kernel/helpers.js';
import { T, hasStateDir, newStateDir, podnet, show, type CliResult } from './cli.js';

type Json = Record<string, unknown>;

/** The rows of a kubectl-style table, split on its column gaps, keyed by header. */
function table(lines: readonly string[]): Record<string, string>[] {
  const [head, ...rows] = lines;
  const headers = head.split(/ {3,}/);
  return rows.map((r) => Object.fromEntries(r.split(/ {3,}/).map((v, i) => [headers[i], v])));
}

/** The body of the `== title` section of demo's output (without its heading and `$ command` line). */
function section(out: string, title: string): string[] {
  const parts = out.split(/^== /m);
  const part = parts.find((p) => p.startsWith(title));
  assert.ok(part, `a section "== ${title}…" in:\n${out}`);
  return part.split('\n').slice(1).filter((l) => l.trim() !== '' && !/^ {3}\$ /.test(l));
}

describe('podnet demo', () => {
  let stateDir = '';
  let holder: WatchedChild | undefined;
  let mnt = '';
  const inMnt = (argv: string[]) => ['nsenter', `--mount=${mnt}`, '--', ...argv];
  const demoNetns = () => {
    const out = run(inMnt(['ip', '-json', 'netns', 'list'])).trim();
    return (out ? (JSON.parse(out) as { name: string }[]) : []).map((e) => e.name).filter((n) => n.startsWith('podnet-demo-'));
  };
  const ipJsonIn = (ns: string, args: string[]): Json[] => {
    const out = run(inMnt(['ip', '-n', ns, '-json', ...args])).trim();
    return out ? (JSON.parse(out) as Json[]) : [];
  };
  /** PIDs with PODNET_LAB=demo in the private mount namespace (never anyone else's demo). */
  const ourDemoProcesses = () => {
    const ours = readlinkSync(mnt);
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/mnt`) === ours && readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes('PODNET_LAB=demo');
      } catch {
        return false;
      }
    });
  };
  const demo = (args: string[] = ['demo']) => podnet(args, { stateDir, wrap: inMnt([]) });
  let first: CliResult | undefined;

  before(async () => {
    stateDir = await newStateDir('demo');
    holder = new WatchedChild(['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      'mkdir -p /run/netns && mount -t tmpfs podnet-e2e-demo /run/netns && echo ready && exec sleep 300']);
    assert.ok(await holder.waitLines((l) => l.includes('ready'), 10_000), `the private mount namespace is ready: ${holder.stderr.join('')}`);
    mnt = `/proc/${holder.pid}/ns/mnt`;
    assert.deepEqual(demoNetns(), [], 'no podnet-demo- namespace exists where the demo runs');
  });

  after(async () => {
    const problems: string[] = [];
    if (mnt) {
      const down = await demo(['lab', 'down']).catch((e: Error) => e);
      if (down instanceof Error || down.code !== 0) problems.push(`lab down: ${down instanceof Error ? down.message : show(down)}`);
      const ns = demoNetns();
      if (ns.length) problems.push(`lab down left namespaces ${ns.join(', ')}`);
      await waitFor(() => ourDemoProcesses().length === 0, 3000);
      const procs = ourDemoProcesses();
      if (procs.length) {
        problems.push(`lab down left processes ${procs.join(', ')}`);
        for (const pid of procs) runStatus(['kill', '-KILL', String(pid)]);
      }
      if (hasStateDir(stateDir, 'demo')) problems.push('lab down left the state dir');
    }
    // The namespaces, if any were left, go with the mount namespace once its last process ends.
    await holder?.kill();
    if (stateDir) runStatus(['rm', '-rf', stateDir]);
    if (problems.length) throw new Error(problems.join('; '));
  });

  test('exits 0 and shows the pods, a ping, the interfaces matched to the kernel, the diagram and how to go on', T, async () => {
    first = await demo();
    const r = first;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /^lab "demo" is up: node server, pods pod1, pod2 in \d+ ms\n$/);

    // The pods, like kubectl get pods -o wide.
    const pods = section(r.stdout, 'the pods');
    assert.match(pods[0], /^NAME {3}READY {3}STATUS /);
    const podRows = table(pods);
    assert.deepEqual(podRows.map((p) => [p.NAME, p.READY, p.STATUS, p.IP, p.NODE]),
      [['pod1', '1/1', 'Running', '10.42.0.2', 'server'], ['pod2', '1/1', 'Running', '10.42.0.3', 'server']]);

    // The ping from inside pod1, with its replies.
    const ping = section(r.stdout, 'ping pod1 -> pod2').join('\n');
    assert.match(ping, /64 bytes from 10\.42\.0\.3/);
    assert.match(ping, /3 packets transmitted, 3 received, 0% packet loss/);

    // The node's interfaces: cni0, two host veths each matched to its pod's eth0@ifN, the node's eth0.
    const ifaces = table(section(r.stdout, 'the node\'s interfaces'));
    const kernel = ipJsonIn('podnet-demo-server', ['link', 'show']);
    const cni0 = ifaces.find((x) => x.INTERFACE === 'cni0');
    assert.ok(cni0, 'a cni0 row');
    assert.equal(cni0.KIND, 'bridge');
    assert.equal(cni0.ADDRESS, '10.42.0.1/24');
    const eth0 = ifaces.find((x) => x.INTERFACE.startsWith('eth0@if'));
    assert.ok(eth0, 'the node\'s eth0 row');
    assert.equal(eth0.ADDRESS, '198.51.100.2/24');
    const veths = ifaces.filter((x) => /^veth[0-9a-f]{8}@if2$/.test(x.INTERFACE));
    assert.equal(veths.length, 2, `two vethXXXXXXXX@if2 rows:\n${JSON.stringify(ifaces, null, 1)}`);
    const matched = veths.map((v) => {
      assert.equal(v.MASTER, 'cni0');
      const m = /^(pod[12]): eth0@if(\d+) (10\.42\.0\.\d+)\/24$/.exec(v['CONNECTS TO']);
      assert.ok(m, `${v.INTERFACE} names its pod's eth0@ifN: "${v['CONNECTS TO']}"`);
      const k = kernel.find((l) => l.ifname === v.INTERFACE.split('@')[0]);
      assert.ok(k, `${v.INTERFACE} exists in podnet-demo-server`);
      assert.equal(Number(m[2]), k.ifindex, `${m[1]}: eth0@if${m[2]} is the ifindex of ${v.INTERFACE} in the kernel`);
      const pod = podRows.find((p) => p.NAME === m[1]);
      assert.ok(pod);
      assert.equal(m[3], pod.IP);
      const [podEth0] = ipJsonIn(pod.NETNS, ['link', 'show', 'eth0']);
      assert.equal(podEth0.ifindex, 2, `${m[1]}'s eth0 is ifindex 2 (what @if2 names)`);
      assert.equal(podEth0.link_index, k.ifindex, `${m[1]}'s eth0 is the peer of ${v.INTERFACE}`);
      return m[1];
    });
    assert.deepEqual(matched.sort(), ['pod1', 'pod2']);

    // The diagram, shaped like the blog's.
    assert.match(r.stdout, /\ngraph TB\n/);
    assert.match(r.stdout, /\n\s*subgraph \S+\["pod1 Network Namespace"\]/);
    assert.ok(r.stdout.includes('cni0 Bridge 10.42.0.1/24'), 'the bridge node');

    // How to go on.
    const goOn = section(r.stdout, 'go on').join('\n');
    assert.match(goOn, /podnet exec pod1 -- /);
    assert.match(goOn, /podnet lab down\s/);
  });

  test('a second demo says the lab is already up, shows it again and exits 0', T, async () => {
    assert.ok(first?.code === 0, 'the first demo ran');
    const before0 = demoNetns().sort();
    const r = await demo();
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr, 'lab "demo" is already up: showing it (podnet lab down removes it)\n');
    assert.match(r.stdout, /\npod1 +1\/1 +Running .*10\.42\.0\.2/);
    assert.match(r.stdout, /3 received/);
    assert.deepEqual(demoNetns().sort(), before0, 'the lab is unchanged');
  });
});
