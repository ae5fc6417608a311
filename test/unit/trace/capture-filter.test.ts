// The capture filter of node uplinks: tcpdump itself applies it to the committed VXLAN fixture
// (flannel's UDP 8472 carrying pod1 ↔ 10.42.1.2 pings, plus one on 4789): only the flow's frames on
// the VXLAN port pass, both directions; another pair or port passes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vxlanFilter } from '../../../src/trace/capture.js';

const fixture = fileURLToPath(new URL('../../../../test/fixtures/trace/vxlan.pcap', import.meta.url));
const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

/** The frames tcpdump lets through `filter` when reading the fixture. */
function passed(filter: string): string[] {
  const r = spawnSync('tcpdump', ['-nn', '-r', fixture, filter], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter((l) => /^\d/.test(l));
}

test('the filter names the port, the inner ethertype, protocol and both address orders', () => {
  assert.equal(vxlanFilter('icmp', '10.42.0.2', '10.42.1.2', 8472),
    'udp dst port 8472 and udp[28:2] = 0x0800 and udp[39] = 1 and ((udp[42:4] = 0x0a2a0002 and udp[46:4] = 0x0a2a0102) or (udp[42:4] = 0x0a2a0102 and udp[46:4] = 0x0a2a0002))');
  assert.match(vxlanFilter('tcp', '10.42.0.2', '10.42.1.2', 4789), /^udp dst port 4789 .* \(udp\[39\] = 6 or udp\[39\] = 1\) /, 'ICMP errors about the flow too');
});

test('tcpdump lets the flow through inside VXLAN, both ways, and nothing else', { skip: hasTcpdump ? false : 'tcpdump is not installed' }, () => {
  assert.equal(passed(vxlanFilter('icmp', '10.42.0.2', '10.42.1.2', 8472)).length, 2, 'request and reply on 8472, not the one on 4789');
  assert.equal(passed(vxlanFilter('icmp', '10.42.1.2', '10.42.0.2', 4789)).length, 1);
  assert.equal(passed(vxlanFilter('icmp', '10.42.0.2', '10.42.1.3', 8472)).length, 0, 'another pair');
  assert.equal(passed(vxlanFilter('tcp', '10.42.0.2', '10.42.1.2', 8472)).length, 2, 'ICMP of the pair passes a TCP trace\'s filter (errors)');
});
