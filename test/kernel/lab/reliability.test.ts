// The reliability issue's lab cases, with the CLI as a user runs it (test/e2e/cli.ts) and the kernel
// read independently (`ip -json`, /proc):
//
// 2. state.json trusted as-is: `{}`, `[]`, wrong types, another version, a pod's or the underlay's
//    netns pointed at a namespace outside the lab (a decoy `podnet-kt…-decoy`, named for no lab):
//    `lab status`, `inspect`, `get pods` answer one line naming the field and what to run (exit 1);
//    `lab down` removes what the kernel holds for the lab (with a warning) and never the decoy.
// 4. A dead agent is visible: an etcd lab's agent SIGKILLed → `get nodes` and `lab status` show its
//    node NotReady, and a `node add` that cannot converge names it.
// 3. node add / node delete with the lease store down (the lab's etcd SIGKILLed by its recorded PID):
//    one line, exit 69 (EX_UNAVAILABLE), nothing changed (namespaces, state, `get nodes`, pods reachable).
//
// Each lab has a unique name and the file's own state dir; `after` takes every lab down through the
// CLI, checks from the kernel that nothing is left, and removes the decoy and the temp dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labUp } from '../../../src/lab/lifecycle.js';
import { parseTopology } from '../../../src/model/topology.js';
import { alive, labDeps, labNetns, labProcesses, links, readState, run, runStatus, tempDir, uniqueName, waitFor } from '../helpers.js';
import { podnet, show, table, tearDown, type CliResult } from '../../e2e/cli.js';

let stateDir = '';
const labs: string[] = [];
/** A namespace named like a lab's but for no lab: state edited to point at it must not make podnet touch it. */
const decoy = `podnet-${uniqueName('kt')}-decoy`;

before(async () => {
  stateDir = await tempDir('lab-reliability');
  run(['ip', 'netns', 'add', decoy]);
  run(['ip', '-n', decoy, 'link', 'add', 'decoybr', 'type', 'bridge']);
});

after(async () => {
  const decoyWhole = links(decoy).some((l) => l.ifname === 'decoybr');
  runStatus(['ip', 'netns', 'del', decoy]);
  await tearDown(labs.map((lab) => ({ lab, stateDir })), [stateDir]);
  assert.ok(decoyWhole, 'the decoy namespace and its bridge were never touched');
});

const cli = (args: string[], timeoutMs?: number) => podnet(args, { stateDir, ...(timeoutMs ? { timeoutMs } : {}) });
const stateFile = (lab: string) => join(stateDir, lab, 'state.json');
const decoyIntact = () => links(decoy).some((l) => l.ifname === 'decoybr');

/** Exit `code`, nothing on stdout, exactly one `error: …` line on stderr; returns the line. */
function oneLine(r: CliResult, code: number): string {
  assert.ok(r.code === code && !r.timedOut && r.stdout === '' && /^error: [^\n]+\n$/.test(r.stderr), `expected exit ${code}, empty stdout and one "error: …" line; got ${show(r)}`);
  return r.stderr.slice('error: '.length, -1);
}

describe('2. a state.json that is damaged or lies', () => {
  /** The damages: what the file becomes, and the field the error must name. */
  const DAMAGES: { what: string; field: string; edit: (s: Record<string, unknown>) => unknown }[] = [
    { what: '{}', field: 'version', edit: () => ({}) },
    { what: '[]', field: 'the top level', edit: () => [] },
    { what: '"nodes": 3', field: 'plan.nodes', edit: (s) => ({ ...s, plan: { ...(s.plan as object), nodes: 3 } }) },
    { what: '"version": 99', field: 'version', edit: (s) => ({ ...s, version: 99 }) },
    { what: 'a pod\'s netns pointed at the decoy', field: 'pods[0].netns', edit: (s) => ({ ...s, pods: (s.pods as Record<string, unknown>[]).map((p, i) => (i === 0 ? { ...p, netns: decoy } : p)) }) },
    { what: 'the underlay\'s netns pointed at the decoy', field: 'plan.underlay.netns', edit: (s) => ({ ...s, plan: { ...(s.plan as Record<string, unknown>), underlay: { ...((s.plan as Record<string, unknown>).underlay as object), netns: decoy } } }) },
  ];
  const damage = (lab: string, d: (typeof DAMAGES)[number]) => {
    const good = JSON.parse(readFileSync(stateFile(lab), 'utf8')) as Record<string, unknown>;
    writeFileSync(stateFile(lab), `${JSON.stringify(d.edit(good), null, 2)}\n`);
  };
  const newLab = async () => {
    const lab = uniqueName('kr');
    labs.push(lab);
    await labUp(labDeps(stateDir), lab, parseTopology({ nodes: [{ name: 'server' }], pods: [{ name: 'pod1' }, { name: 'pod2' }] }));
    return lab;
  };

  test('lab status, inspect and get pods: one line naming the field and `lab down`, exit 1; nothing changes', { timeout: 120_000 }, async () => {
    const lab = await newLab();
    const good = readFileSync(stateFile(lab), 'utf8');
    const kernel = { netns: labNetns(lab), procs: labProcesses(lab).sort() };
    for (const d of DAMAGES) {
      damage(lab, d);
      try {
        for (const args of [['lab', 'status'], ['inspect'], ['get', 'pods']]) {
          const line = oneLine(await cli([...args, '--name', lab]), 1);
          assert.ok(line.startsWith(`${stateFile(lab)} is damaged (${d.field}`), `${args.join(' ')} with ${d.what}: names the file and the field: ${line}`);
          assert.ok(line.endsWith(`run \`podnet lab down --name ${lab}\` to remove what the kernel holds for lab "${lab}"`), `${args.join(' ')} with ${d.what}: says what to run: ${line}`);
        }
      } finally {
        writeFileSync(stateFile(lab), good);
      }
      assert.deepEqual({ netns: labNetns(lab), procs: labProcesses(lab).sort() }, kernel, `${d.what}: nothing of the lab changed`);
      assert.ok(decoyIntact(), `${d.what}: the decoy is whole`);
    }
  });

  test('lab down: a warning, then everything the kernel holds for the lab is gone — and never the decoy', { timeout: 180_000 }, async () => {
    for (const d of DAMAGES) {
      const lab = await newLab();
      assert.ok(labNetns(lab).length >= 3 && labProcesses(lab).length >= 2, 'the lab is up');
      damage(lab, d);
      const r = await cli(['lab', 'down', '--name', lab]);
      assert.equal(r.code, 0, `${d.what}: ${show(r)}`);
      assert.ok(r.stderr.startsWith(`warning: ${stateFile(lab)} is damaged (${d.field}`), `${d.what}: warns first, naming the field: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`removing what the kernel holds for lab "${lab}" instead\\n`));
      assert.ok(r.stderr.endsWith(`lab "${lab}" is down\n`), r.stderr);
      assert.deepEqual(labNetns(lab), [], `${d.what}: no namespace of the lab is left`);
      assert.ok(await waitFor(() => labProcesses(lab).length === 0, 5000), `${d.what}: no process of the lab is left`);
      assert.ok(decoyIntact(), `${d.what}: the decoy namespace (and its bridge) is untouched`);
    }
  });
});

describe('an etcd lab: a dead agent, then a dead lease store', () => {
  const lab = uniqueName('kr');
  const ping = (fromNs: string, ip: string) => runStatus(['nsenter', `--net=/run/netns/${fromNs}`, 'ping', '-c', '1', '-W', '2', ip]).status;
  /** NAME and STATUS of `get nodes` (AGE moves on by itself). */
  const nodes = async () => {
    const r = await cli(['get', 'nodes', '--name', lab]);
    assert.equal(r.code, 0, show(r));
    return table(r.stdout).map((n) => `${n.NAME} ${n.STATUS}`);
  };

  before(async () => {
    labs.push(lab);
    const r = await cli(['lab', 'up', '--nodes', '3', '--pods', '3', '--store', 'etcd', '--name', lab], 90_000);
    assert.equal(r.code, 0, show(r));
  });

  test('4. an agent SIGKILLed: its node is NotReady in get nodes and lab status; node add names it', { timeout: 120_000 }, async () => {
    assert.deepEqual(await nodes(), ['server Ready', 'agent1 Ready', 'agent2 Ready']);
    const agent = readState(stateDir, lab).overlay!.agents.agent2;
    process.kill(agent, 'SIGKILL');
    assert.ok(await waitFor(() => !alive(agent), 5000), 'the agent is gone');
    assert.deepEqual(await nodes(), ['server Ready', 'agent1 Ready', 'agent2 NotReady']);
    const status = await cli(['lab', 'status', '--name', lab]);
    assert.equal(status.code, 0, show(status));
    assert.match(status.stdout, /\nagent2 +NotReady /, `lab status lists agent2 NotReady: ${status.stdout}`);
    const before = { netns: labNetns(lab), state: readState(stateDir, lab).plan.nodes.map((n) => n.name) };
    const add = await cli(['node', 'add', 'agent4', '--name', lab], 90_000);
    const line = oneLine(add, 69);
    assert.match(line, new RegExp(`^node agent2 \\(its agent, pid ${agent}, is not running\\) did not program every other node's lease within \\d+s`), line);
    assert.deepEqual({ netns: labNetns(lab), state: readState(stateDir, lab).plan.nodes.map((n) => n.name) }, before, 'the failed node add was unwound');
  });

  test('3. the lab\'s etcd SIGKILLed: node add and node delete are one line, exit 69, and change nothing', { timeout: 120_000 }, async () => {
    const s = readState(stateDir, lab);
    const etcd = s.overlay!.etcd!.pid;
    const onServer = s.pods.find((p) => p.node === 'server')!;
    const onAgent2 = s.pods.find((p) => p.node === 'agent2')!;
    const target = onAgent2.ip!.split('/')[0];
    assert.equal(ping(onServer.netns, target), 0, 'agent2\'s pod answers before');
    process.kill(etcd, 'SIGKILL');
    assert.ok(await waitFor(() => !alive(etcd), 5000), 'etcd is gone');
    const snapshot = async () => ({ netns: labNetns(lab), state: readFileSync(stateFile(lab), 'utf8'), nodes: await nodes() });
    const before = await snapshot();
    for (const args of [['node', 'add', 'agent4'], ['node', 'delete', 'agent2']]) {
      const r = await cli([...args, '--name', lab], 90_000);
      const line = oneLine(r, 69);
      assert.match(line, new RegExp(`^the lease store of lab "${lab}" is unreachable \\(.+\\): its etcd \\(pid ${etcd}\\) has stopped: run \`podnet lab down --name ${lab}\` and bring the lab up again; nothing was changed$`), `${args.join(' ')}: ${line}`);
      assert.doesNotMatch(line, /Last error|UNAVAILABLE:.*:.*:|\n/, `${args.join(' ')}: no multi-clause gRPC text: ${line}`);
      assert.ok(line.length < 400, `${args.join(' ')}: a line, not a paragraph (${line.length} characters)`);
      assert.deepEqual(await snapshot(), before, `${args.join(' ')}: no namespace, state or node changed`);
      assert.ok(labNetns(lab).includes(onAgent2.netns), 'agent2\'s pod is still there');
      assert.equal(ping(onServer.netns, target), 0, `${args.join(' ')}: agent2's pod still answers across the overlay`);
    }
  });
});
