// flannel's lease data: keys ↔ subnets, lease values and the network config parsed with one line
// per problem, and the subnet choice (ours again, the previous one, a hint, else a free one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSubnet, formatLease, LeaseError, parseLease, parseNetworkConfig, subnetKey, subnetOfKey, type Lease } from '../../../src/model/flannel.js';

const attrs = (ip: string, mac = '7a:00:00:00:00:01') => ({ PublicIP: ip, BackendType: 'vxlan' as const, BackendData: { VNI: 1, VtepMAC: mac } });
const lease = (subnet: string, ip: string): Lease => ({ subnet, attrs: attrs(ip) });
const config = parseNetworkConfig('{"Network":"10.42.0.0/16","SubnetLen":24,"SubnetMin":"10.42.0.0","Backend":{"Type":"vxlan"}}');

test('subnet keys are flannel\'s: /coreos.com/network/subnets/10.42.1.0-24', () => {
  assert.equal(subnetKey('10.42.1.0/24'), '/coreos.com/network/subnets/10.42.1.0-24');
  assert.equal(subnetOfKey('/coreos.com/network/subnets/10.42.1.0-24'), '10.42.1.0/24');
  assert.throws(() => subnetOfKey('/coreos.com/network/subnets/banana'), /not a subnet key \(expected \/coreos.com\/network\/subnets\/10.42.1.0-24\)/);
  assert.throws(() => subnetOfKey('/coreos.com/network/subnets/10.42.300.0-24'), LeaseError);
});

test('a lease value round-trips in flannel\'s JSON; each bad value is one line naming the key and the field', () => {
  const key = subnetKey('10.42.3.0/24');
  const text = formatLease(attrs('198.51.100.5', '7a:1b:2c:3d:4e:5f'));
  assert.equal(text, '{"PublicIP":"198.51.100.5","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"7a:1b:2c:3d:4e:5f"}}');
  assert.deepEqual(parseLease(key, text), { subnet: '10.42.3.0/24', attrs: attrs('198.51.100.5', '7a:1b:2c:3d:4e:5f') });
  const bad: [string, RegExp][] = [
    ['{"PublicIP":', /10\.42\.3\.0-24: value is not JSON/],
    ['{"PublicIP":"x","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"7a:1b:2c:3d:4e:5f"}}', /PublicIP must be an IPv4 address/],
    ['{"PublicIP":"198.51.100.5","BackendType":"host-gw","BackendData":{"VNI":1,"VtepMAC":"7a:1b:2c:3d:4e:5f"}}', /BackendType must be "vxlan"/],
    ['{"PublicIP":"198.51.100.5","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"nope"}}', /BackendData.VtepMAC must be a MAC/],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => parseLease(key, value), (e: Error) => e instanceof LeaseError && message.test(e.message) && !e.message.includes('\n'), value);
  }
});

test('the network config: flannel\'s defaults for the range, clear errors', () => {
  const plain = parseNetworkConfig('{"Network":"10.42.0.0/16"}');
  assert.equal(plain.SubnetLen, 24);
  assert.equal(plain.SubnetMin, '10.42.1.0', 'flannel skips the first subnet');
  assert.equal(plain.SubnetMax, '10.42.255.0');
  assert.equal(config.SubnetMin, '10.42.0.0', 'a lab starts at 10.42.0.0, as K3s hands out pod CIDRs');
  assert.throws(() => parseNetworkConfig('{"Network":"10.42.0.0/16","Backend":{"Type":"udp"}}'), /Backend.Type podnet speaks flannel's "vxlan" backend only/);
  assert.throws(() => parseNetworkConfig('{"Network":"10.42.0.0/16","SubnetMin":"10.43.0.0"}'), /SubnetMin 10.43.0.0 is outside Network 10.42.0.0\/16/);
  assert.throws(() => parseNetworkConfig('{"Network":"banana"}'), /Network must be a CIDR/);
  assert.throws(() => parseNetworkConfig('not json'), /\/coreos.com\/network\/config: value is not JSON/);
});

test('choosing a subnet: ours again, else the previous one, else the hint, else a free one; full is said', () => {
  const leases = [lease('10.42.0.0/24', '198.51.100.2'), lease('10.42.1.0/24', '198.51.100.3')];
  const pick = () => 0;
  assert.deepEqual(chooseSubnet({ config, leases, publicIP: '198.51.100.3', previous: '10.42.7.0/24', pick }), { kind: 'reuse', lease: leases[1] });
  assert.deepEqual(chooseSubnet({ config, leases, publicIP: '198.51.100.9', previous: '10.42.7.0/24', hint: '10.42.8.0/24', pick }), { kind: 'create', subnet: '10.42.7.0/24' });
  assert.deepEqual(chooseSubnet({ config, leases, publicIP: '198.51.100.9', previous: '10.42.1.0/24', hint: '10.42.8.0/24', pick }), { kind: 'create', subnet: '10.42.8.0/24' }, 'the previous subnet is taken: the hint');
  assert.deepEqual(chooseSubnet({ config, leases, publicIP: '198.51.100.9', hint: '10.42.0.0/24', pick }), { kind: 'create', subnet: '10.42.2.0/24' }, 'the hint is taken: the first free');
  assert.deepEqual(chooseSubnet({ config, leases, publicIP: '198.51.100.9', hint: '10.99.0.0/24', pick }), { kind: 'create', subnet: '10.42.2.0/24' }, 'a hint outside the range is ignored');
  assert.deepEqual(chooseSubnet({ config, leases, publicIP: '198.51.100.9', pick: (n) => n - 1 }), { kind: 'create', subnet: '10.42.255.0/24' });
  const tiny = parseNetworkConfig('{"Network":"10.42.0.0/23","SubnetMin":"10.42.0.0"}');
  assert.deepEqual(chooseSubnet({ config: tiny, leases, publicIP: '198.51.100.9', pick }), { kind: 'full' });
});
