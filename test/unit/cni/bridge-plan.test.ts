// The bridge plugin's decisions without a kernel (src/cni/bridge/plan.ts): the gateways and routes a
// result gets, the IPAM answers refused, the addresses cni0 must gain and lose (forceAddress, two
// range sets), the exact iproute2 lines of the node side and the pod side of an ADD, the sysctls, and
// names iproute2's batch input cannot carry (refused) or can only carry quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bridgeAddresses, checkIpamResult, gatewaysAndRoutes, hostLines, hostSysctls, podLines, podSysctls, type HostSide,
} from '../../../src/cni/bridge/plan.js';
import type { BridgeConf } from '../../../src/cni/bridge/config.js';
import { CniError, ErrorCode, type CniResult } from '../../../src/cni/spec.js';
import { HostError } from '../../../src/host/errors.js';

/** K3s's bridge delegate (docs/facts.md#k3s), as bridgeConf() resolves it. */
const K3S: BridgeConf = {
  bridge: 'cni0', isGateway: true, isDefaultGateway: true, forceAddress: true, ipMasq: false, mtu: 1450,
  hairpinMode: true, promiscMode: false, vlan: 0, ipamType: 'host-local',
};
/** What host-local answers for the first pod of 10.42.0.0/24 with K3s's route. */
const IPAM: CniResult = { cniVersion: '1.0.0', ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1' }], routes: [{ dst: '10.42.0.0/16' }] };
/** The node side of a first ADD on a fresh node. */
const FRESH: HostSide = {
  bridgeExists: false, bridgeMac: '0a:58:0a:2a:00:01', veth: 'veth1a2b3c4d', ifname: 'eth0', netns: '/run/netns/cni-1234',
  gateways: ['10.42.0.1/24'], stale: [],
};
const inet = (...cidrs: string[]) => cidrs.map((c) => ({ local: c.split('/')[0], prefix: Number(c.split('/')[1]), family: 'inet' }));

/** Asserts `fn` throws a CniError with `code` whose message matches. */
function throwsCni(fn: () => unknown, code: number, message: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CniError, `a CniError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// gatewaysAndRoutes

test('gatewaysAndRoutes: IPAM\'s gateway is kept, every IP is on interface 2 (eth0), the default route goes last via the gateway', () => {
  assert.deepEqual(gatewaysAndRoutes(K3S, IPAM), {
    ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1', interface: 2 }],
    routes: [{ dst: '10.42.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.42.0.1' }],
  });
});

test('gatewaysAndRoutes: no gateway from IPAM → the network\'s first address with isGateway, none without (and then no default route)', () => {
  const noGw: CniResult = { cniVersion: '1.0.0', ips: [{ address: '10.42.3.7/24' }] };
  assert.deepEqual(gatewaysAndRoutes(K3S, noGw), { ips: [{ address: '10.42.3.7/24', gateway: '10.42.3.1', interface: 2 }], routes: [{ dst: '0.0.0.0/0', gw: '10.42.3.1' }] });
  assert.deepEqual(gatewaysAndRoutes({ isGateway: false, isDefaultGateway: true }, noGw), { ips: [{ address: '10.42.3.7/24', interface: 2 }], routes: [] });
  assert.deepEqual(gatewaysAndRoutes({ isGateway: true, isDefaultGateway: false }, noGw).routes, [], 'no default route without isDefaultGateway');
});

test('gatewaysAndRoutes: an IPv6 address gets no computed gateway; a default route IPAM sent is not doubled; the input is not changed', () => {
  const v6: CniResult = { cniVersion: '1.0.0', ips: [{ address: 'fd00:42::5/64' }] };
  assert.deepEqual(gatewaysAndRoutes(K3S, v6), { ips: [{ address: 'fd00:42::5/64', interface: 2 }], routes: [] });
  const withDefault: CniResult = { ...IPAM, routes: [{ dst: '0.0.0.0/0', gw: '10.42.0.254' }] };
  assert.deepEqual(gatewaysAndRoutes(K3S, withDefault).routes, [{ dst: '0.0.0.0/0', gw: '10.42.0.254' }]);
  const copy = structuredClone(IPAM);
  gatewaysAndRoutes(K3S, IPAM);
  assert.deepEqual(IPAM, copy);
});

test('dual stack: the IPv4 gateway carries the default route and the pod\'s routes, even when an IPv6 one comes first', () => {
  const dual: CniResult = { cniVersion: '1.0.0', ips: [{ address: 'fd00:42::5/64', gateway: 'fd00:42::1' }, { address: '10.42.0.2/24', gateway: '10.42.0.1' }], routes: [{ dst: '10.42.0.0/16' }] };
  const { ips, routes } = gatewaysAndRoutes(K3S, dual);
  assert.deepEqual(routes, [{ dst: '10.42.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.42.0.1' }]);
  assert.deepEqual(podLines('eth0', ips, routes).filter((l) => l.startsWith('route ')), ['route add 10.42.0.0/16 via 10.42.0.1 dev eth0', 'route add 0.0.0.0/0 via 10.42.0.1 dev eth0']);
  assert.deepEqual(bridgeAddresses(K3S, ips, []), { add: ['10.42.0.1/24'], stale: [] }, 'only IPv4 gateways go on the bridge');
});

test('gatewaysAndRoutes: two IPv4 range sets → two gateways; the default route via the first', () => {
  const two: CniResult = { cniVersion: '1.0.0', ips: [{ address: '10.42.0.2/24' }, { address: '10.44.0.2/24' }] };
  assert.deepEqual(gatewaysAndRoutes(K3S, two), {
    ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1', interface: 2 }, { address: '10.44.0.2/24', gateway: '10.44.0.1', interface: 2 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.42.0.1' }],
  });
});

// ---------------------------------------------------------------------------------------------
// checkIpamResult

test('checkIpamResult passes a CNI result through as it is', () => {
  assert.equal(checkIpamResult('host-local', IPAM), IPAM);
  const full: CniResult = { ...IPAM, dns: { nameservers: ['10.43.0.10'] } };
  assert.equal(checkIpamResult('host-local', full), full);
});

test('checkIpamResult: no answer or no IP → code 999 "IPAM plugin returned missing IP config"', () => {
  throwsCni(() => checkIpamResult('host-local', undefined), ErrorCode.Internal, 'IPAM plugin returned missing IP config');
  throwsCni(() => checkIpamResult('host-local', { cniVersion: '1.0.0' }), ErrorCode.Internal, 'IPAM plugin returned missing IP config');
  throwsCni(() => checkIpamResult('host-local', { cniVersion: '1.0.0', ips: [] }), ErrorCode.Internal, 'IPAM plugin returned missing IP config');
});

test('checkIpamResult: an answer that is not a CNI result → code 6 (decode failure) naming the plugin', () => {
  const bad: [string, unknown][] = [
    ['an IP that is not an object', { ips: ['10.42.0.2/24'] }],
    ['an address that is not a string', { ips: [{ address: 167903234 }] }],
    ['a gateway that is not a string', { ips: [{ address: '10.42.0.2/24', gateway: 1 }] }],
    ['routes that are not a list', { ips: [{ address: '10.42.0.2/24' }], routes: { dst: '10.42.0.0/16' } }],
    ['a route without dst', { ips: [{ address: '10.42.0.2/24' }], routes: [{ gw: '10.42.0.1' }] }],
    ['a route whose gw is not a string', { ips: [{ address: '10.42.0.2/24' }], routes: [{ dst: '10.42.0.0/16', gw: 7 }] }],
    ['dns that is a list', { ips: [{ address: '10.42.0.2/24' }], dns: ['10.43.0.10'] }],
  ];
  for (const [what, r] of bad) {
    assert.throws(() => checkIpamResult('my-ipam', { cniVersion: '1.0.0', ...(r as object) } as CniResult), (e: unknown) => {
      assert.ok(e instanceof CniError, what);
      assert.equal(e.code, ErrorCode.DecodeFailure, what);
      assert.match(e.message, /^IPAM plugin "my-ipam" returned a result that is not a CNI result: \{/, what);
      return true;
    }, what);
  }
});

// ---------------------------------------------------------------------------------------------
// bridgeAddresses

test('bridgeAddresses: a bridge without addresses gets the gateway with the pod prefix; one that has it gets nothing', () => {
  const { ips } = gatewaysAndRoutes(K3S, IPAM);
  assert.deepEqual(bridgeAddresses(K3S, ips, []), { add: ['10.42.0.1/24'], stale: [] });
  assert.deepEqual(bridgeAddresses(K3S, ips, inet('10.42.0.1/24')), { add: [], stale: [] });
  // IPv6 addresses on the bridge (link-local) are not looked at.
  assert.deepEqual(bridgeAddresses(K3S, ips, [{ local: 'fe80::1', prefix: 64, family: 'inet6' }]), { add: ['10.42.0.1/24'], stale: [] });
});

test('bridgeAddresses: not a gateway → nothing to add or remove, whatever the bridge holds', () => {
  const { ips } = gatewaysAndRoutes(K3S, IPAM);
  assert.deepEqual(bridgeAddresses({ ...K3S, isGateway: false }, ips, inet('10.42.9.1/24')), { add: [], stale: [] });
});

test('bridgeAddresses: a different address before the gateway is removed with forceAddress, refused without it', () => {
  const { ips } = gatewaysAndRoutes(K3S, IPAM);
  assert.deepEqual(bridgeAddresses(K3S, ips, inet('10.42.9.1/24')), { add: ['10.42.0.1/24'], stale: ['10.42.9.1/24'] });
  throwsCni(() => bridgeAddresses({ ...K3S, forceAddress: false }, ips, inet('10.42.9.1/24')), ErrorCode.Internal, '"cni0" already has an IP address different from 10.42.0.1/24');
  // The same address first ends the walk (as the reference does): what comes after it stays.
  assert.deepEqual(bridgeAddresses({ ...K3S, forceAddress: false }, ips, inet('10.42.0.1/24', '10.42.9.1/24')), { add: [], stale: [] });
});

test('bridgeAddresses: two range sets — the other set\'s gateway is not "different"; each missing gateway is added once', () => {
  const { ips } = gatewaysAndRoutes(K3S, { cniVersion: '1.0.0', ips: [{ address: '10.42.0.2/24' }, { address: '10.44.0.2/24' }, { address: '10.44.0.3/24' }] });
  assert.deepEqual(bridgeAddresses(K3S, ips, []), { add: ['10.42.0.1/24', '10.44.0.1/24'], stale: [] });
  assert.deepEqual(bridgeAddresses({ ...K3S, forceAddress: false }, ips, inet('10.42.0.1/24')), { add: ['10.44.0.1/24'], stale: [] });
  assert.deepEqual(bridgeAddresses({ ...K3S, forceAddress: false }, ips, inet('10.44.0.1/24', '10.42.0.1/24')), { add: [], stale: [] });
  assert.deepEqual(bridgeAddresses(K3S, ips, inet('10.99.0.1/24', '10.44.0.1/24')), { add: ['10.42.0.1/24'], stale: ['10.99.0.1/24'] });
});

// ---------------------------------------------------------------------------------------------
// hostLines and podLines

test('hostLines, a new bridge: made with its MTU and MAC pinned, up; the veth born with its peer in the pod; port, hairpin, gateway, two reads', () => {
  assert.deepEqual(hostLines(K3S, FRESH), [
    'link add cni0 mtu 1450 address 0a:58:0a:2a:00:01 type bridge',
    'link set cni0 up',
    'link add veth1a2b3c4d mtu 1450 type veth peer name eth0 mtu 1450 netns /run/netns/cni-1234',
    'link set veth1a2b3c4d master cni0',
    'link set veth1a2b3c4d type bridge_slave hairpin on',
    'link set veth1a2b3c4d up',
    'addr add 10.42.0.1/24 dev cni0',
    'link show dev veth1a2b3c4d',
    'link show dev cni0',
  ]);
});

test('hostLines, an existing bridge: its MAC pinned instead of made; a non-gateway bridge gets no MAC at all', () => {
  const existing = hostLines(K3S, { ...FRESH, bridgeExists: true, gateways: [] });
  assert.deepEqual(existing.slice(0, 2), ['link set cni0 address 0a:58:0a:2a:00:01', 'link set cni0 up']);
  assert.ok(!existing.some((l) => l.startsWith('link add cni0')), 'the bridge is not made again');
  assert.ok(!existing.some((l) => l.startsWith('addr ')), 'no address lines when there is nothing to add');
  const plain = { ...K3S, isGateway: false, isDefaultGateway: false };
  assert.equal(hostLines(plain, FRESH)[0], 'link add cni0 mtu 1450 type bridge');
  assert.equal(hostLines(plain, { ...FRESH, bridgeExists: true })[0], 'link set cni0 up');
});

test('hostLines: promiscuous mode before the bridge goes up; hairpin off; MTU 0 leaves the kernel\'s; a requested MAC on the pod end', () => {
  const promisc = hostLines({ ...K3S, promiscMode: true, hairpinMode: false }, FRESH);
  assert.deepEqual(promisc.slice(0, 3), ['link add cni0 mtu 1450 address 0a:58:0a:2a:00:01 type bridge', 'link set cni0 promisc on', 'link set cni0 up']);
  assert.ok(promisc.includes('link set veth1a2b3c4d type bridge_slave hairpin off' as never));
  const noMtu = hostLines({ ...K3S, mtu: 0 }, FRESH);
  assert.equal(noMtu[0], 'link add cni0 address 0a:58:0a:2a:00:01 type bridge');
  assert.equal(noMtu[2], 'link add veth1a2b3c4d type veth peer name eth0 netns /run/netns/cni-1234');
  const mac = hostLines({ ...K3S, mac: '0a:58:0a:2a:00:05' }, FRESH);
  assert.equal(mac[2], 'link add veth1a2b3c4d mtu 1450 type veth peer name eth0 mtu 1450 address 0a:58:0a:2a:00:05 netns /run/netns/cni-1234');
});

test('hostLines: stale addresses go before the gateway is added', () => {
  const lines = hostLines(K3S, { ...FRESH, bridgeExists: true, stale: ['10.42.9.1/24', '10.42.8.1/24'] });
  assert.deepEqual(lines.filter((l) => l.startsWith('addr ')), ['addr del 10.42.9.1/24 dev cni0', 'addr del 10.42.8.1/24 dev cni0', 'addr add 10.42.0.1/24 dev cni0']);
});

test('podLines: eth0 up, its addresses, each route through its own gw or the IPv4 gateway, then a read', () => {
  const { ips, routes } = gatewaysAndRoutes(K3S, IPAM);
  assert.deepEqual(podLines('eth0', ips, routes), [
    'link set eth0 up',
    'addr add 10.42.0.2/24 dev eth0',
    'route add 10.42.0.0/16 via 10.42.0.1 dev eth0',
    'route add 0.0.0.0/0 via 10.42.0.1 dev eth0',
    'link show dev eth0',
  ]);
  assert.deepEqual(podLines('eth0', ips, [{ dst: '10.43.0.0/16', gw: '10.42.0.254' }])[2], 'route add 10.43.0.0/16 via 10.42.0.254 dev eth0');
});

test('podLines without gateways: routes go out of the interface, no via', () => {
  const { ips, routes } = gatewaysAndRoutes({ isGateway: false, isDefaultGateway: false }, { cniVersion: '1.0.0', ips: [{ address: '10.42.0.2/24' }], routes: [{ dst: '10.42.0.0/16' }] });
  assert.deepEqual(podLines('net1', ips, routes), ['link set net1 up', 'addr add 10.42.0.2/24 dev net1', 'route add 10.42.0.0/16 dev net1', 'link show dev net1']);
});

// ---------------------------------------------------------------------------------------------
// sysctls

test('sysctls: no router advertisements on the new port and the bridge, forwarding on a gateway; in the pod no DAD, gratuitous ARP', () => {
  assert.deepEqual(hostSysctls(K3S, 'veth1a2b3c4d'), [
    ['net/ipv6/conf/veth1a2b3c4d/accept_ra', '0'],
    ['net/ipv6/conf/cni0/accept_ra', '0'],
    ['net/ipv4/ip_forward', '1'],
  ]);
  assert.deepEqual(hostSysctls({ ...K3S, isGateway: false }, 'veth1a2b3c4d'), [['net/ipv6/conf/veth1a2b3c4d/accept_ra', '0'], ['net/ipv6/conf/cni0/accept_ra', '0']]);
  assert.deepEqual(podSysctls('eth0'), [['net/ipv6/conf/eth0/accept_dad', '0'], ['net/ipv4/conf/eth0/arp_notify', '1']]);
});

// ---------------------------------------------------------------------------------------------
// names the batch input cannot carry

test('a name with "#" is refused (iproute2 batch input ends a line at #), not cut short', () => {
  const refused = (fn: () => unknown) => assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HostError, `a HostError, got ${String(e)}`);
    assert.equal(e.kind, 'invalid');
    assert.match(e.message, /cannot be passed to ip -batch: it contains "#"/);
    return true;
  });
  refused(() => hostLines({ ...K3S, bridge: 'cni#0' }, FRESH));
  refused(() => hostLines(K3S, { ...FRESH, netns: '/run/netns/pod#1' }));
  refused(() => podLines('eth#0', [], []));
});

test('a name with a space is quoted, so the batch reads it as one word', () => {
  const lines = hostLines(K3S, { ...FRESH, netns: '/run/netns/my pod' });
  assert.equal(lines[2], 'link add veth1a2b3c4d mtu 1450 type veth peer name eth0 mtu 1450 netns "/run/netns/my pod"');
  assert.equal(hostLines({ ...K3S, bridge: 'my br' }, FRESH)[0], 'link add "my br" mtu 1450 address 0a:58:0a:2a:00:01 type bridge');
});
