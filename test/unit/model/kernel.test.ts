// Route lookup and printing on routes shaped like `ip -json -details route show` on a flannel node:
// the longest prefix wins (a host route over the overlay's /24 over the default), the first listed
// among equals, IPv6 routes are skipped; routes print as `ip route` prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRoute, lookupRoute, routeFromJson } from '../../../src/model/kernel.js';

const routes = [
  { dst: 'default', gateway: '198.51.100.1', dev: 'eth0', protocol: 'boot', flags: [] },
  { dst: '10.42.0.0/24', dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: '10.42.0.1', flags: [] },
  { dst: '10.42.1.0/24', gateway: '10.42.1.0', dev: 'flannel.1', protocol: 'boot', flags: ['onlink'] },
  { dst: '10.42.1.0/24', gateway: '10.42.1.9', dev: 'eth0', flags: [] },
  { dst: '10.42.1.7', dev: 'eth0', scope: 'link', flags: [] },
  { dst: 'fe80::/64', dev: 'eth0', protocol: 'kernel', flags: [] },
].map(routeFromJson);

test('lookupRoute: longest prefix, then the first listed; default last; nothing when nothing covers it', () => {
  assert.equal(lookupRoute(routes, '10.42.1.2')?.dev, 'flannel.1');
  assert.equal(lookupRoute(routes, '10.42.1.7')?.dst, '10.42.1.7', 'a host route is a /32');
  assert.equal(lookupRoute(routes, '10.42.0.200')?.dev, 'cni0');
  assert.equal(lookupRoute(routes, '8.8.8.8')?.dst, 'default');
  assert.equal(lookupRoute(routes.slice(1), '8.8.8.8'), undefined);
  assert.equal(lookupRoute([], '10.42.0.1'), undefined);
});

test('formatRoute prints what `ip route` prints (proto boot left out)', () => {
  assert.deepEqual(routes.slice(0, 3).map(formatRoute), [
    'default via 198.51.100.1 dev eth0',
    '10.42.0.0/24 dev cni0 proto kernel scope link src 10.42.0.1',
    '10.42.1.0/24 via 10.42.1.0 dev flannel.1 onlink',
  ]);
});
