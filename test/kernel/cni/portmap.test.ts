// podnet-portmap on the real kernel, with real clients: a host namespace H (the node) with a bridge
// network run in process through CniRuntime (bridge → portmap, capability portMappings, as a runtime
// runs K3s's chain), two pods, and a client namespace C on a link of H's own (203.0.113.0/24). Pod p1
// serves HTTP (busybox httpd; /cgi-bin/ip answers with the peer address it sees). The host port is
// reached from C, from H itself (its address and 127.0.0.1), from the other pod and from p1 itself
// (hairpin) — each with the source the reference's rules give it. Everything is this file's (unique
// prefix), removed in `after`, also on failure; the servers are stopped by their PIDs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Host } from '../../../src/host/host.js';
import { ExecRunner } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { defaultRegistry, inProcessContext } from '../../../src/cni/context.js';
import { CniRuntime, type Attachment, type NetworkConfigList } from '../../../src/cni/runtime.js';
import { alive, netnsWithPrefix, run, runStatus, tempDir, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 60_000 };
const prefix = `${uniqueName('kpm')}-`;
const ns = { H: `${prefix}h`, C: `${prefix}c`, p1: `${prefix}p1`, p2: `${prefix}p2` };
const H_IP = '203.0.113.1';
const C_IP = '203.0.113.2';
let tmp = '';
let rt: CniRuntime;
let net: NetworkConfigList;
const servers: number[] = [];
const MAPPINGS = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] };
const att = (pod: 'p1' | 'p2', mapped = false): Attachment => ({ containerId: `ctr-${pod}`, netns: `/run/netns/${ns[pod]}`, ifname: 'eth0', ...(mapped ? { capabilityArgs: MAPPINGS } : {}) });

/** `wget -qO- URL` inside a namespace (3 s timeout): the body, or undefined when it failed. */
function wget(where: string, url: string): string | undefined {
  const r = runStatus(['nsenter', `--net=/run/netns/${where}`, 'wget', '-qO-', '-T', '3', url], 10_000);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const nat = () => run(['nsenter', `--net=/run/netns/${ns.H}`, 'iptables-save', '-t', 'nat']);

before(async () => {
  tmp = await tempDir('portmap');
  for (const n of Object.values(ns)) run(['ip', 'netns', 'add', n]);
  for (const pod of [ns.p1, ns.p2]) run(['ip', '-n', pod, 'link', 'set', 'lo', 'up']);
  run(['ip', '-n', ns.H, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.C]);
  for (const [where, dev, ip] of [[ns.H, 'up0', H_IP], [ns.C, 'eth0', C_IP]]) {
    run(['ip', '-n', where, 'addr', 'add', `${ip}/24`, 'dev', dev]);
    run(['ip', '-n', where, 'link', 'set', dev, 'up']);
    run(['ip', '-n', where, 'link', 'set', 'lo', 'up']);
  }
  net = {
    cniVersion: '1.0.0', name: 'kpm', plugins: [
      { type: 'bridge', bridge: 'cni0', isDefaultGateway: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.22.0.0/24' }]], dataDir: join(tmp, 'ipam') } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  rt = new CniRuntime(defaultRegistry(), inProcessContext({ host: new Host(new ExecRunner()), hostNetns: netnsNamed(ns.H) }), join(tmp, 'results'));
  const www = join(tmp, 'www');
  mkdirSync(join(www, 'cgi-bin'), { recursive: true });
  writeFileSync(join(www, 'index.html'), 'pod p1\n');
  writeFileSync(join(www, 'cgi-bin', 'ip'), '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\n%s\\n\' "$REMOTE_ADDR"\n');
  chmodSync(join(www, 'cgi-bin', 'ip'), 0o755);
  const httpd = spawn('nsenter', [`--net=/run/netns/${ns.p1}`, 'busybox', 'httpd', '-f', '-p', '0.0.0.0:80', '-h', www], { stdio: 'ignore' });
  servers.push(httpd.pid ?? 0);
  await rt.add(net, att('p1', true));
  await rt.add(net, att('p2'));
  assert.ok(await waitFor(() => wget(ns.p1, 'http://127.0.0.1/') === 'pod p1', 5000), 'the pod\'s server answers');
});

after(async () => {
  for (const pid of servers) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor(() => servers.every((p) => !alive(p)), 3000);
  for (const n of netnsWithPrefix(prefix)) runStatus(['ip', 'netns', 'del', n]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  assert.deepEqual(netnsWithPrefix(prefix), [], 'every namespace of this file is gone');
  assert.ok(servers.every((p) => !alive(p)), 'the pod\'s server has stopped');
});

test('from a client outside the node: H_IP:8080 answers from the pod, which sees the client\'s own address', T, () => {
  assert.equal(wget(ns.C, `http://${H_IP}:8080/`), 'pod p1');
  assert.equal(wget(ns.C, `http://${H_IP}:8080/cgi-bin/ip`), C_IP, 'no masquerade from outside');
});

test('from the node itself: its address (OUTPUT) and 127.0.0.1 (route_localnet, masqueraded to cni0\'s address)', T, () => {
  assert.equal(wget(ns.H, `http://${H_IP}:8080/`), 'pod p1');
  assert.equal(wget(ns.H, 'http://127.0.0.1:8080/cgi-bin/ip'), '10.22.0.1');
  assert.equal(run(['nsenter', `--net=/run/netns/${ns.H}`, 'sysctl', '-n', 'net.ipv4.conf.cni0.route_localnet']).trim(), '1');
});

test('from pods: another pod and the pod itself (hairpin) are masqueraded (CNI-HOSTPORT-SETMARK, mark 0x2000)', T, () => {
  assert.equal(wget(ns.p2, `http://${H_IP}:8080/cgi-bin/ip`), '10.22.0.1');
  assert.equal(wget(ns.p1, `http://${H_IP}:8080/cgi-bin/ip`), '10.22.0.1');
  assert.match(nat(), /-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000\/0x2000 -j MASQUERADE/);
});

test('CHECK passes; DEL closes the port and leaves the shared chains, as the reference does', T, async () => {
  await rt.check(net, att('p1', true));
  await rt.del(net, att('p1', true));
  assert.equal(wget(ns.C, `http://${H_IP}:8080/`), undefined, 'the port is closed');
  assert.doesNotMatch(nat(), /CNI-DN-/);
  assert.match(nat(), /-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT/);
});

test('a failed ADD (a mark chain that does not exist) leaves no chain of the container', T, async () => {
  const broken: NetworkConfigList = { ...net, plugins: [net.plugins[0], { ...net.plugins[1], externalSetMarkChain: 'KPM-NO-SUCH-CHAIN' }] };
  await assert.rejects(rt.add(broken, att('p1', true)), /could not map ports 8080\/tcp/);
  assert.doesNotMatch(nat(), /CNI-DN-/);
  await rt.add(net, att('p1', true));
  assert.equal(wget(ns.C, `http://${H_IP}:8080/`), 'pod p1', 'and the next ADD works');
});
