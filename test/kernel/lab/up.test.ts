// `lab up` of the default topology (the blog's K3s node `server`, pods pod1 and pod2), checked
// against what the kernel reports, read independently with `ip -json -details` / `bridge -json`,
// sysctl through nsenter and /proc; then `lab down` removes all of it.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { labDown } from '../../../src/lab/down.js';
import type { LabState, PodState } from '../../../src/lab/state.js';
import {
  alive, bridgeJson, cmdline, inet, ipJson, kindOf, labNetns, labProcesses, link, links, netInodeOf, nsSysctl,
  run, statInode, waitFor, withLab,
} from '../helpers.js';

type Json = Record<string, unknown>;

const { lab, root: stateRoot, deps, state: readLabState, ready } = withLab('up', 2);
const nodeNs = `podnet-${lab}-server`;
const underlayNs = `podnet-${lab}-underlay`;
let state: LabState;
let pods: PodState[] = [];

const slaveData = (l: Json | undefined) => (l?.linkinfo as { info_slave_data?: { hairpin?: boolean } } | undefined)?.info_slave_data;
const pod = (name: string) => {
  const p = pods.find((x) => x.name === name);
  assert.ok(p, `pod ${name} is in the state file`);
  return p;
};

before(async () => {
  await ready();
  state = readLabState();
  pods = state.pods;
});

describe(`lab up (default topology, 2 pods)`, () => {
  test('the state file says up and names two pods', () => {
    assert.equal(state.status, 'up');
    assert.deepEqual(pods.map((p) => p.name), ['pod1', 'pod2']);
    assert.deepEqual(labNetns(lab), [nodeNs, underlayNs, `podnet-${lab}-outside`, ...pods.map((p) => p.netns)].sort());
  });

  test('node: cni0 is a bridge, UP, MTU 1450, holding exactly 10.42.0.1/24; ip_forward=1', () => {
    const cni0 = link(nodeNs, 'cni0');
    assert.ok(cni0, 'cni0 exists in the node namespace');
    assert.equal(kindOf(cni0), 'bridge');
    assert.ok((cni0.flags as string[]).includes('UP'), `cni0 flags: ${String(cni0.flags)}`);
    assert.equal(cni0.operstate, 'UP');
    assert.equal(cni0.mtu, 1450);
    assert.deepEqual(inet(nodeNs, 'cni0'), ['10.42.0.1/24']);
    assert.equal(nsSysctl(nodeNs, 'net.ipv4.ip_forward'), '1');
  });

  test('node: eth0 holds 198.51.100.2/24 and is a veth whose peer is a port of sw0 in the underlay', () => {
    const eth0 = link(nodeNs, 'eth0');
    assert.ok(eth0, 'eth0 exists in the node namespace');
    assert.equal(kindOf(eth0), 'veth');
    assert.deepEqual(inet(nodeNs, 'eth0'), ['198.51.100.2/24']);
    assert.equal(typeof eth0.link_netnsid, 'number', 'the peer lives in another namespace');
    const peer = links(underlayNs).find((l) => l.ifindex === eth0.link_index);
    assert.ok(peer, `the underlay holds ifindex ${String(eth0.link_index)}`);
    assert.equal(kindOf(peer), 'veth');
    assert.equal(peer.master, 'sw0');
    assert.equal(peer.link_index, eth0.ifindex, 'the underlay end points back at the node eth0');
    assert.equal(kindOf(link(underlayNs, 'sw0')), 'bridge');
  });

  for (const [name, address] of [['pod1', '10.42.0.2/24'], ['pod2', '10.42.0.3/24']] as const) {
    test(`${name}: eth0 is a veth, MTU 1450, ${address}; lo UP; arp_notify=1`, () => {
      const ns = pod(name).netns;
      const eth0 = link(ns, 'eth0');
      assert.ok(eth0, `eth0 exists in ${ns}`);
      assert.equal(kindOf(eth0), 'veth');
      assert.equal(eth0.mtu, 1450);
      assert.deepEqual(inet(ns, 'eth0'), [address]);
      const lo = link(ns, 'lo');
      assert.ok(lo && (lo.flags as string[]).includes('UP'), 'lo is UP');
      assert.equal(nsSysctl(ns, 'net.ipv4.conf.eth0.arp_notify'), '1');
    });

    test(`${name}: routes are exactly default and 10.42.0.0/16 via 10.42.0.1, and the connected /24`, () => {
      const routes = ipJson(pod(name).netns, ['route', 'show'])
        .map((r) => `${String(r.dst)}${r.gateway ? ` via ${String(r.gateway)}` : ''} dev ${String(r.dev)}`).sort();
      assert.deepEqual(routes, ['10.42.0.0/16 via 10.42.0.1 dev eth0', '10.42.0.0/24 dev eth0', 'default via 10.42.0.1 dev eth0']);
    });

    test(`${name}: eth0's peer is a host veth "veth" + 8 hex on cni0, hairpin on, MTU 1450, pointing back`, () => {
      const eth0 = link(pod(name).netns, 'eth0');
      assert.ok(eth0);
      const host = links(nodeNs).find((l) => l.ifindex === eth0.link_index);
      assert.ok(host, `the node namespace holds ifindex ${String(eth0.link_index)}`);
      assert.match(String(host.ifname), /^veth[0-9a-f]{8}$/);
      assert.equal(kindOf(host), 'veth');
      assert.equal(host.master, 'cni0');
      assert.equal(slaveData(host)?.hairpin, true);
      assert.equal(host.mtu, 1450);
      assert.equal(host.link_index, eth0.ifindex, 'the host end points back at the pod eth0');
    });

    test(`${name}: the pause process runs as pause inside the pod namespace, marked as the lab's`, () => {
      const p = pod(name);
      assert.ok(p.pid && p.pid > 0, 'the state records a PID');
      assert.ok(alive(p.pid), `process ${p.pid} exists`);
      assert.equal(netInodeOf(p.pid), statInode(`/run/netns/${p.netns}`));
      assert.equal(readFileSync(`/proc/${p.pid}/comm`, 'latin1').trim(), 'pause');
      assert.deepEqual(cmdline(p.pid), ['pause']);
      assert.ok(labProcesses(lab).includes(p.pid), 'PODNET_LAB marks it');
    });
  }

  test('ping pod1 → pod2 works, and cni0 has learned both MACs on their host veths', () => {
    const p1 = pod('pod1');
    const p2 = pod('pod2');
    run(['nsenter', `--net=/run/netns/${p1.netns}`, 'ping', '-c', '2', '-W', '2', '-i', '0.2', '10.42.0.3'], 15_000);
    const fdb = bridgeJson(nodeNs, ['fdb', 'show', 'br', 'cni0']);
    for (const p of [p1, p2]) {
      const eth0 = link(p.netns, 'eth0');
      assert.ok(eth0);
      const hostVeth = links(nodeNs).find((l) => l.ifindex === eth0.link_index)?.ifname;
      const entry = fdb.find((e) => e.mac === eth0.address && e.ifname === hostVeth);
      assert.ok(entry, `fdb holds ${String(eth0.address)} on ${String(hostVeth)}: ${JSON.stringify(fdb.filter((e) => e.ifname === hostVeth))}`);
      assert.notEqual(entry.state, 'permanent', 'a learned (not permanent) entry');
      assert.equal(entry.master, 'cni0');
    }
  });

  test("host-local's file for 10.42.0.2: mode 0600, first line pod1's containerId", () => {
    const file = join(stateRoot, lab, 'nodes', 'server', 'cni', 'networks', 'cbr0', '10.42.0.2');
    assert.ok(existsSync(file), `${file} exists`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').split(/\r?\n/)[0], pod('pod1').containerId);
  });

  test("the runtime's result cache, as containerd's: cni-loopback-<id>-lo (CNI 0.3.1) and cbr0-<id>-eth0 per pod", () => {
    const dir = join(stateRoot, lab, 'nodes', 'server', 'cni', 'results');
    for (const p of pods) {
      const lo = JSON.parse(readFileSync(join(dir, `cni-loopback-${p.containerId}-lo`), 'utf8')) as Json;
      assert.equal(lo.ifName, 'lo');
      assert.equal(lo.networkName, 'cni-loopback');
      assert.equal((lo.config as Json).cniVersion, '0.3.1');
      assert.equal((lo.result as Json).cniVersion, '0.3.1');
      const eth0 = JSON.parse(readFileSync(join(dir, `cbr0-${p.containerId}-eth0`), 'utf8')) as Json;
      assert.equal(eth0.ifName, 'eth0');
      assert.equal(((eth0.result as Json).ips as Json[])[0].address, `${String(p.ip)}/24`);
    }
    assert.equal(readdirSync(dir).length, 2 * pods.length, 'two results per pod, nothing else');
  });

  test('lab down removes every namespace, both pause processes and the state dir; a second down is false', async () => {
    const pids = pods.map((p) => p.pid ?? 0);
    assert.equal(await labDown(deps, lab), true);
    assert.deepEqual(labNetns(lab), []);
    // A stopped pause process was our own child (spawned detached): allow node a moment to reap it.
    for (const pid of pids) assert.ok(await waitFor(() => !existsSync(`/proc/${pid}`), 3000), `process ${pid} is gone`);
    assert.deepEqual(labProcesses(lab), []);
    assert.equal(existsSync(join(stateRoot, lab)), false);
    assert.equal(await labDown(deps, lab), false);
  });
});
