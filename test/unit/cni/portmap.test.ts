// The portmap plugin without a kernel: its config, the container's addresses, the reference's chain
// names (checked against what Debian's portmap 1.1.1 made on this machine), and golden runs through a
// RecordingRunner — the exact iptables-restore input ADD writes on an empty machine, and nothing
// written when the table already holds what the reference itself wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../src/host/host.js';
import { RecordingRunner, emptyAnswer, type Command } from '../../../src/host/runner.js';
import { netnsNamed } from '../../../src/host/netns.js';
import { parseIptablesSave } from '../../../src/model/netfilter.js';
import { inProcessContext } from '../../../src/cni/context.js';
import { invokePlugin } from '../../../src/cni/plugin.js';
import { portmap } from '../../../src/cni/portmap.js';
import { addrOf, containerAddrs, parsePortmapConf } from '../../../src/cni/portmap-config.js';
import { chainsFor, checkChains, dnatChainOf, mappedContainers, planAdd, planDel } from '../../../src/cni/portmap-rules.js';
import type { CniResult } from '../../../src/cni/spec.js';

const PREV: CniResult = {
  cniVersion: '1.0.0', interfaces: [{ name: 'cni0' }, { name: 'vethx' }, { name: 'eth0', sandbox: '/run/netns/x' }],
  ips: [{ address: '10.22.0.2/24', interface: 2, gateway: '10.22.0.1' }],
};
const THREE = [
  { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
  { hostPort: 8443, containerPort: 443, protocol: 'tcp', hostIP: '198.51.100.2' },
  { hostPort: 5353, containerPort: 53, protocol: 'udp' },
];
const CONF = { cniVersion: '1.0.0', name: 'pncf', type: 'podnet-portmap', runtimeConfig: { portMappings: THREE }, prevResult: PREV };

/** What Debian's reference portmap 1.1.1 left in an empty namespace for CONF (iptables-save -t nat). */
const REFERENCE_SAVE = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CNI-DN-bca9d6aca2d82f0874b4a - [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:CNI-HOSTPORT-MASQ - [0:0]
:CNI-HOSTPORT-SETMARK - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
-A CNI-DN-bca9d6aca2d82f0874b4a -s 10.22.0.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-bca9d6aca2d82f0874b4a -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-bca9d6aca2d82f0874b4a -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.22.0.2:80
-A CNI-DN-bca9d6aca2d82f0874b4a -s 10.22.0.0/24 -d 198.51.100.2/32 -p tcp -m tcp --dport 8443 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-bca9d6aca2d82f0874b4a -s 127.0.0.1/32 -d 198.51.100.2/32 -p tcp -m tcp --dport 8443 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-bca9d6aca2d82f0874b4a -d 198.51.100.2/32 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 10.22.0.2:443
-A CNI-DN-bca9d6aca2d82f0874b4a -s 10.22.0.0/24 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-bca9d6aca2d82f0874b4a -s 127.0.0.1/32 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-bca9d6aca2d82f0874b4a -p udp -m udp --dport 5353 -j DNAT --to-destination 10.22.0.2:53
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"pncf\\" id: \\"ctr-p1\\"" -m multiport --dports 8080,8443 -j CNI-DN-bca9d6aca2d82f0874b4a
-A CNI-HOSTPORT-DNAT -p udp -m comment --comment "dnat name: \\"pncf\\" id: \\"ctr-p1\\"" -m multiport --dports 5353 -j CNI-DN-bca9d6aca2d82f0874b4a
-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
COMMIT
`;
const natOf = (text: string) => parseIptablesSave(text).tables.find((t) => t.name === 'nat');

const env = (command: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'ctr-p1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' });

/** A dry-run context whose iptables-save prints `save` (IPv4) and nothing for IPv6. */
function recording(save = '') {
  const runner = new RecordingRunner((cmd: Command) => (cmd.argv.includes('iptables-save') ? { stdout: save, stderr: '', exitCode: 0 } : emptyAnswer(cmd)));
  return { runner, ctx: inProcessContext({ host: new Host(runner, true), hostNetns: netnsNamed('node'), dryRun: true }) };
}

test('chain names are the reference\'s: CNI-DN- + sha512(network + container), 28 characters', () => {
  assert.equal(dnatChainOf('pncf', 'ctr-p1'), 'CNI-DN-bca9d6aca2d82f0874b4a');
});

test('ADD on an empty machine: one iptables-restore with the reference\'s rules, a conntrack flush of the UDP port, prevResult handed on', async () => {
  const { runner, ctx } = recording();
  const out = await invokePlugin(portmap, env('ADD'), JSON.stringify(CONF), ctx);
  assert.equal(out.exitCode, 0, out.stdout);
  assert.deepEqual(out.result?.ips, PREV.ips);
  const restore = runner.lines.find((l) => l.includes('iptables-restore'))!;
  const rules = REFERENCE_SAVE.split('\n').filter((l) => l.startsWith('-A'));
  const body = restore.split('\n').slice(1, -1);
  assert.deepEqual(body.filter((l) => l.startsWith('-N')), ['-N CNI-HOSTPORT-SETMARK', '-N CNI-HOSTPORT-MASQ', '-N CNI-HOSTPORT-DNAT', '-N CNI-DN-bca9d6aca2d82f0874b4a']);
  assert.deepEqual(body.filter((l) => /^-[AI]/.test(l)).map((l) => l.replace(/^-I (\S+) 1 /, '-A $1 ')).sort(), [...rules].sort(), 'every rule the reference made, nothing else');
  assert.ok(body.includes('-I POSTROUTING 1 -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ'), 'the masquerade jump goes first');
  assert.ok(runner.lines.some((l) => /conntrack -D -f ipv4 -p udp --orig-port-dst 5353/.test(l)));
});

test('ADD where the reference already wrote the same rules writes nothing; CHECK finds them all; DEL plans their removal', async () => {
  const { runner, ctx } = recording(REFERENCE_SAVE);
  assert.equal((await invokePlugin(portmap, env('ADD'), JSON.stringify(CONF), ctx)).exitCode, 0);
  assert.equal(runner.lines.filter((l) => l.includes('iptables-restore')).length, 0);
  assert.equal((await invokePlugin(portmap, env('CHECK'), JSON.stringify(CONF), ctx)).exitCode, 0);
  const table = natOf(REFERENCE_SAVE);
  assert.deepEqual(mappedContainers(table, 'pncf'), ['ctr-p1']);
  assert.deepEqual(planDel(table, 'pncf', ['ctr-p1'])?.split('\n'), [
    '*nat',
    '-D CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"pncf\\" id: \\"ctr-p1\\"" -m multiport --dports 8080,8443 -j CNI-DN-bca9d6aca2d82f0874b4a',
    '-D CNI-HOSTPORT-DNAT -p udp -m comment --comment "dnat name: \\"pncf\\" id: \\"ctr-p1\\"" -m multiport --dports 5353 -j CNI-DN-bca9d6aca2d82f0874b4a',
    '-F CNI-DN-bca9d6aca2d82f0874b4a', '-X CNI-DN-bca9d6aca2d82f0874b4a', 'COMMIT', '',
  ]);
  assert.equal(planDel(table, 'pncf', ['ctr-other']), undefined, 'nothing of another container');
});

test('CHECK names what is missing; a table without the container\'s chain fails', () => {
  const conf = parsePortmapConf(CONF);
  const [addr] = containerAddrs(PREV, 'eth0');
  const chains = chainsFor(conf, 'ctr-p1', addr);
  assert.deepEqual(checkChains(natOf(REFERENCE_SAVE), chains), []);
  const without = REFERENCE_SAVE.split('\n').filter((l) => !l.includes('--to-destination 10.22.0.2:80')).join('\n');
  assert.deepEqual(checkChains(natOf(without), chains), ['rule "-A CNI-DN-bca9d6aca2d82f0874b4a -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.22.0.2:80" is missing from table nat']);
  assert.equal(planAdd(natOf(without), chains), '*nat\n-A CNI-DN-bca9d6aca2d82f0874b4a -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.22.0.2:80\nCOMMIT\n');
});

test('DEL: nothing to remove writes nothing; a host namespace that is gone is success without a command', async () => {
  const { runner, ctx } = recording();
  assert.equal((await invokePlugin(portmap, env('DEL'), JSON.stringify({ ...CONF, prevResult: undefined }), ctx)).exitCode, 0);
  assert.equal(runner.lines.length, 0);
  const gone = new RecordingRunner();
  const ctx2 = inProcessContext({ host: new Host(gone), hostNetns: netnsNamed('podnet-unit-no-such-netns') });
  assert.equal((await invokePlugin(portmap, env('DEL'), JSON.stringify(CONF), ctx2)).exitCode, 0);
  assert.deepEqual(gone.lines, []);
});

test('refused configs: not chained (7), a bad port (7, naming it), conditionsV4 (2), markMasqBit with externalSetMarkChain (7)', async () => {
  const { runner, ctx } = recording();
  const code = async (conf: object, cmd = 'ADD') => JSON.parse((await invokePlugin(portmap, env(cmd), JSON.stringify(conf), ctx)).stdout) as { code: number; msg: string };
  assert.equal((await code({ ...CONF, prevResult: undefined })).code, 7);
  const port = await code({ ...CONF, runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }] } });
  assert.deepEqual([port.code, port.msg], [7, 'runtimeConfig.portMappings[0].hostPort: 0 is not a port number from 1 to 65535']);
  assert.equal((await code({ ...CONF, conditionsV4: ['-i', 'eth0'] })).code, 2);
  assert.equal((await code({ ...CONF, markMasqBit: 5, externalSetMarkChain: 'KUBE-MARK-MASQ' })).code, 7);
  assert.equal((await code({ ...CONF, runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 1, protocol: 'icmp' }] } })).code, 7);
  assert.equal((await invokePlugin(portmap, env('DEL'), JSON.stringify({ ...CONF, runtimeConfig: { portMappings: [{ hostPort: 0 }] } }), ctx)).exitCode, 0, 'DEL ignores what ADD would refuse');
  assert.deepEqual(runner.lines, []);
});

test('addresses: IPv6 as ip6tables prints it; only eth0 in a sandbox counts; the first of each family', () => {
  assert.deepEqual(addrOf('FD00:22:0::7/64'), { family: 6, ip: 'fd00:22::7', network: 'fd00:22::/64' });
  assert.deepEqual(addrOf('10.42.1.9/24'), { family: 4, ip: '10.42.1.9', network: '10.42.1.0/24' });
  const prev: CniResult = {
    cniVersion: '1.0.0', interfaces: [{ name: 'cni0' }, { name: 'eth0', sandbox: '/x' }, { name: 'eth1', sandbox: '/x' }],
    ips: [{ address: '10.0.0.1/24', interface: 0 }, { address: '10.0.1.2/24', interface: 2 }, { address: '10.0.2.2/24', interface: 1 }, { address: '10.0.3.2/24', interface: 1 }, { address: 'fd00::2/64' }],
  };
  assert.deepEqual(containerAddrs(prev, 'eth0').map((a) => a.ip), ['10.0.2.2', 'fd00::2']);
});
