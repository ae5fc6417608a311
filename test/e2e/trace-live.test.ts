// `podnet trace --count N` and `--watch` as a user runs them: the CLI in one process, a ping inside
// pod1 in another (the blog's other terminal); N journeys and exit 0; Ctrl-C (SIGINT) or SIGTERM
// stops it with one line and 130/143; -v prints each point's tcpdump as a user would type it; a pod
// watched to itself is one line. Nothing of the trace is left behind: no process carrying
// PODNET_LAB=podnet-trace inside the lab's namespaces (read from /proc).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { BIN, T, labName, newStateDir, podnet, show, tearDown, type CliResult } from './cli.js';
import { WatchedChild, labNetns, netInodeOf, readState, waitFor } from '../kernel/helpers.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('trace --watch / --count on a lab', () => {
  const X = labName();
  let stateDir = '';
  const children: WatchedChild[] = [];

  /** `podnet trace ARGS… --name X` as a child whose stdout lines the test reads as they come. */
  const start = (args: string[], env: Record<string, string> = {}) => {
    const c = new WatchedChild(['env', `PODNET_STATE_DIR=${stateDir}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, BIN, 'trace', ...args, '--name', X]);
    children.push(c);
    return c;
  };
  /** PIDs of trace processes inside this lab's namespaces. */
  const traceProcesses = () => {
    const inodes = new Set(labNetns(X).map((n) => statSync(`/run/netns/${n}`).ino));
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((e) => e.startsWith('PODNET_LAB=podnet-trace-')) && inodes.has(netInodeOf(pid) ?? -1);
      } catch {
        return false;
      }
    });
  };
  /** `ping -c N -i 0.2` from inside pod1 (bounded). */
  const ping = (n: number) => {
    const netns = readState(stateDir, X).pods.find((p) => p.name === 'pod1')!.netns;
    return spawnSync('nsenter', [`--net=/run/netns/${netns}`, 'ping', '-c', String(n), '-i', '0.2', '-W', '1', '10.42.0.3'], { encoding: 'utf8', timeout: 15_000 });
  };
  const header = (lines: readonly string[]) => lines.some((l) => l.startsWith('watching pod1 (10.42.0.2) <-> pod2 (10.42.0.3)'));

  before(async () => {
    stateDir = await newStateDir('trace-live');
    ok(await podnet(['lab', 'up', '--name', X], { stateDir }));
  });
  after(async () => {
    for (const c of children) await c.kill();
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  test('--count 3 while pod1 pings pod2: three journeys in causal order, exit 0, no tcpdump left', T, async () => {
    const c = start(['pod1', 'pod2', '--count', '3'], { COLUMNS: '100' });
    assert.ok(await c.waitLines(header, 20_000), `the header, once every point captures: ${c.lines.join('\n')}${c.stderr.join('')}`);
    assert.equal(traceProcesses().length, 5, 'one tcpdump per point');
    assert.equal(ping(5).status, 0, 'the ping is answered');
    assert.equal(await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]), 0, c.stderr.join(''));
    const journeys = c.lines.filter((l) => /^journey \d+ at \d\d:\d\d:\d\d\.\d{3}: /.test(l));
    assert.deepEqual(journeys.map((l) => Number(/^journey (\d+)/.exec(l)![1])), [1, 2, 3], c.lines.join('\n'));
    assert.ok(c.lines.some((l) => /^journey \d+ .*: pod1 -> pod2, ICMP echo request$/.test(l)));
    assert.ok(c.lines.filter((l) => /^reply from 10\.42\.0\.3 in \d+\.\d{3} ms$/.test(l)).length >= 1);
    for (const l of c.lines) assert.ok(l.length <= 100, `${l.length}: ${l}`);
    const cni0 = c.lines.findIndex((l) => /server\/cni0 +→ +″$/.test(l) || /server\/cni0 +→ +ICMP/.test(l));
    const egress = c.lines.findIndex((l, i) => i > 0 && /server\/veth[0-9a-f]{8} +→ +″$/.test(l) && /towards pod2/.test(c.lines[i + 1] ?? ''));
    assert.ok(cni0 >= 0 && cni0 < egress, 'the bridge before the port it forwards to');
    assert.ok(await waitFor(() => traceProcesses().length === 0, 3000), `left: ${traceProcesses().join(', ')}`);
  });

  test('--watch -v: the per-point tcpdump commands; SIGINT stops it with one line and exit 130, no tcpdump left', T, async () => {
    const c = start(['pod1', 'pod2', '--watch'], {});
    const v = start(['pod1', 'pod2', '--watch', '--tcp', '8080'], {});
    assert.ok(await c.waitLines(header, 20_000), c.stderr.join(''));
    assert.ok(await v.waitLines((l) => l.some((x) => x.startsWith('watching pod1 (10.42.0.2) <-> pod2 (10.42.0.3): tcp port 8080 and ARP on 5 capture points; Ctrl-C stops')), 20_000));
    assert.equal(ping(2).status, 0);
    assert.ok(await c.waitLines((l) => l.some((x) => x.startsWith('journey 2 ')), 10_000), c.lines.join('\n'));
    process.kill(c.pid, 'SIGINT');
    process.kill(v.pid, 'SIGTERM');
    assert.equal(await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]), 130);
    assert.equal(await Promise.race([v.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]), 143);
    assert.match(c.stderr.join(''), /^SIGINT: stopped watching after \d+ journeys?; every tcpdump it started is stopped\n$/);
    assert.match(v.stderr.join(''), /^SIGTERM: stopped watching after \d+ journeys?; every tcpdump it started is stopped\n$/);
    assert.ok(!v.lines.some((l) => /ICMP echo/.test(l)), 'TCP only: the pings are not its journeys');
    assert.ok(await waitFor(() => traceProcesses().length === 0, 3000), `left: ${traceProcesses().join(', ')}`);
    const verbose = start(['pod1', 'pod2', '--count', '1', '-v'], {});
    assert.ok(await verbose.waitLines(header, 20_000));
    assert.ok(await waitFor(() => verbose.stderr.join('').includes('the same by hand'), 5000));
    ping(1);
    assert.equal(await Promise.race([verbose.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]), 0);
    const hand = verbose.stderr.join('').split('\n').filter((l) => / tcpdump -i /.test(l));
    assert.equal(hand.length, 5, verbose.stderr.join(''));
    assert.match(hand[2], new RegExp(`^ip netns exec podnet-${X}-server tcpdump -i cni0 -nn -e '\\(host 10\\.42\\.0\\.2 and host 10\\.42\\.0\\.3\\) or \\(arp and \\(host 10\\.42\\.0\\.2 or host 10\\.42\\.0\\.3\\)\\)'$`));
    assert.match(hand[0], /^ip netns exec podnet-.*-cni-[0-9a-f-]+ tcpdump -i eth0 -nn -e /);
  });

  test('trace pod1 pod1 --watch: one line, exit 0, nothing started', T, async () => {
    const r = await podnet(['trace', 'pod1', 'pod1', '--watch', '--name', X], { stateDir });
    ok(r);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1);
    assert.match(r.stdout, /stays on lo inside pod1/);
    assert.deepEqual(traceProcesses(), []);
  });
});
