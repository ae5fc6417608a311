// `podnet demo`, as the issue describes it: the pods like `kubectl get pods -o wide`, a ping pod1 →
// pod2 from inside pod1 with its replies, each pod's eth0@ifN matched to its host veth (`podnet
// inspect`), what cni0 learned (`podnet inspect fdb`), the topology as a Mermaid diagram shaped like
// the blog's (`podnet graph`), and how to go on — each output under the command that prints it, which
// retyped prints the same. A second `demo` says the lab is up.
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
import { join } from 'node:path';
import { ROOT, T, hasStateDir, newStateDir, podnet, show, type CliResult } from './cli.js';
import { blockUnder, firstUnmatched } from './readme.js';

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

  test('exits 0 and shows the pods, a ping, each veth matched to the kernel, the FDB, the diagram and how to go on', T, async () => {
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

    // Each pod's eth0@ifN matched to its host veth: @ifN is the peer's ifindex in the kernel, both ways.
    const veths = table(section(r.stdout, 'each pod\'s eth0@ifN'));
    const kernel = ipJsonIn('podnet-demo-server', ['link', 'show']);
    assert.deepEqual(veths.map((v) => v.POD).sort(), ['pod1', 'pod2']);
    for (const v of veths) {
      const m = /^eth0@if(\d+)$/.exec(v.IFACE);
      assert.ok(m, `${v.POD}'s IFACE is eth0@ifN: "${v.IFACE}"`);
      const k = kernel.find((l) => l.ifname === v['HOST VETH'].split('@')[0]);
      assert.ok(k, `${v['HOST VETH']} exists in podnet-demo-server`);
      assert.equal(Number(m[1]), k.ifindex, `${v.POD}: eth0@if${m[1]} is the ifindex of ${v['HOST VETH']}`);
      assert.equal(v.BRIDGE, 'cni0');
      const [podEth0] = ipJsonIn(v.NETNS, ['link', 'show', 'eth0']);
      assert.equal(v['HOST VETH'], `${String(k.ifname)}@if${String(podEth0.ifindex)}`, 'vethX@ifN names the pod end\'s ifindex');
      assert.equal(podEth0.link_index, k.ifindex, `${v.POD}'s eth0 is the peer of ${v['HOST VETH']}`);
      assert.equal(v.IP, podRows.find((p) => p.NAME === v.POD)?.IP);
    }

    // What cni0 learned from the ping: each pod's MAC, learned on its own host veth.
    const fdb = table(section(r.stdout, 'what cni0 learned'));
    for (const v of veths) {
      const entry = fdb.find((e) => e.MAC === v.MAC);
      assert.ok(entry, `cni0 learned ${v.POD}'s MAC ${v.MAC}`);
      assert.deepEqual([entry.PORT, entry.KIND, entry.OWNER], [v['HOST VETH'].split('@')[0], 'learned', `${v.POD}:eth0`]);
    }

    // The diagram, shaped like the blog's, with flannel.1 as podnet graph draws it.
    assert.match(r.stdout, /\ngraph TB\n/);
    assert.match(r.stdout, /\n\s*subgraph \S+\["pod1 Network Namespace"\]/);
    assert.ok(r.stdout.includes('cni0 Bridge 10.42.0.1/24'), 'the bridge node');
    assert.ok(r.stdout.includes('flannel.1 VXLAN'), 'flannel.1, as podnet graph draws it');

    // Every output sits under the command that prints it: retyped, each prints the same (AGE aside).
    const commands = [...r.stdout.matchAll(/^== ([^\n]+)\n {3}\$ (podnet [^\n]+)$/gm)].map((m) => ({ title: m[1], argv: m[2].split(' ').slice(1) }));
    assert.deepEqual(commands.map((c) => c.argv[0]), ['get', 'exec', 'inspect', 'inspect', 'graph']);
    for (const c of commands.filter((x) => x.argv[0] !== 'exec')) {
      const again = await demo(c.argv);
      assert.equal(again.code, 0, show(again));
      const shown = section(r.stdout, c.title.slice(0, 20)).filter((l) => !/^ {3}(learned|permanent):/.test(l));
      const noAge = (l: string) => l.replace(/ \d+s /, ' Ns ');
      assert.deepEqual(again.stdout.split('\n').filter((l) => l.trim() !== '').map(noAge), shown.map(noAge), `podnet ${c.argv.join(' ')} prints what the demo showed`);
    }

    // How to go on.
    const goOn = section(r.stdout, 'go on').join('\n');
    assert.match(goOn, /podnet exec pod1 -- /);
    assert.match(goOn, /podnet lab down\s/);
  });

  test('the README\'s demo sample is what the demo prints: its sections, commands and lines, in order', () => {
    assert.ok(first, 'the demo ran');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const sample = blockUnder(readme, 'A short tour').lines;
    assert.ok(sample.filter((l) => l.startsWith('== ')).length >= 5, 'the README shows the demo\'s sections');
    const missing = firstUnmatched(sample, first.stdout.split('\n'));
    assert.equal(missing, undefined, `this README line has no line of its shape in the demo's output:\n${missing}\n--- the demo printed:\n${first.stdout}`);
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
