// The Tour panel's pure parts: what a clicked element is read as, which drawn elements a step's text
// names, and the API's bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementWords, journeyOf, stepElements } from '../../../src/web/tour.js';
import { HttpError, parseTourAnswer, parseTourStep } from '../../../src/web/requests.js';

test('a clicked element is read as the words its box shows: a veth without @ifN, an address without its prefix length', () => {
  assert.deepEqual(elementWords({ lines: ['veth82ebd960@if2'] }), ['veth82ebd960', 'veth82ebd960@if2']);
  assert.deepEqual(elementWords({ lines: ['eth0@if5', '10.42.0.2'] }), ['eth0', 'eth0@if5', '10.42.0.2']);
  assert.deepEqual(elementWords({ lines: ['cni0', '10.42.0.1/24'] }), ['cni0', '10.42.0.1', '10.42.0.1/24']);
  assert.deepEqual(elementWords({ lines: ['flannel.1', '10.42.0.0/32 vni 1'] }), ['flannel.1', '10.42.0.0', '10.42.0.0/32', '1']);
  assert.deepEqual(elementWords({ lines: ['node server'] }), ['server']);
});

test('the elements a step is about: pods, veths, bridges, VXLAN devices and nodes its text names as words', () => {
  const boxes = [
    { id: 'p1', kind: 'pod' as const, lines: ['pod1', ''] }, { id: 'p2', kind: 'pod' as const, lines: ['pod2', ''] },
    { id: 'v1', kind: 'veth' as const, lines: ['veth82ebd960@if2'] }, { id: 'b', kind: 'bridge' as const, lines: ['cni0', '10.42.0.1/24'] },
    { id: 'e', kind: 'pod-iface' as const, lines: ['eth0@if5', '10.42.0.2'] }, { id: 'n', kind: 'group' as const, lines: ['node server'] },
  ];
  assert.deepEqual(stepElements('bridge -n podnet-x-server fdb show br cni0 (pod1 is behind veth82ebd960)', boxes), ['p1', 'v1', 'b']);
  assert.deepEqual(stepElements('nsenter -t 123 -n ip addr: eth0 of pod2 on server', boxes), ['p2', 'n']);
  assert.deepEqual(stepElements('pod10 and cni01 are other names', boxes), []);
});

test('bodies: a chapter from 1 and a step from 0; an answer typed or an element clicked, one of them', () => {
  assert.deepEqual(parseTourStep({ chapter: 3, step: 0 }), { chapter: 3, step: 0 });
  assert.deepEqual(parseTourAnswer({ chapter: 3, step: 3, element: 'server_veth1' }), { chapter: 3, step: 3, element: 'server_veth1' });
  const bad = (f: () => unknown) => { try { f(); return ''; } catch (e) { assert.ok(e instanceof HttpError && e.status === 400); return e.message; } };
  assert.equal(bad(() => parseTourStep({ chapter: 0, step: 0 })), 'chapter counts from 1');
  assert.equal(bad(() => parseTourStep({ chapter: 1 })), 'step is required');
  assert.equal(bad(() => parseTourAnswer({ chapter: 1, step: 0 })), 'give answer (typed) or element (clicked), one of them');
  assert.equal(bad(() => parseTourAnswer({ chapter: 1, step: 0, answer: 'x', element: 'y' })), 'give answer (typed) or element (clicked), one of them');
  assert.equal(bad(() => parseTourStep([])), 'the body must be a JSON object like {"chapter": 1, "step": 0}, not a list');
});

test('a trace step as a Journey request: source, destination, protocol and port, cold; other commands none', () => {
  assert.deepEqual(journeyOf('podnet trace pod1 pod2 --name tour'), { src: 'pod1', dst: 'pod2', protocol: 'icmp' });
  assert.deepEqual(journeyOf('podnet trace pod1 pod2 --cold --name tour'), { src: 'pod1', dst: 'pod2', protocol: 'icmp', cold: true });
  assert.deepEqual(journeyOf('podnet trace pod1 web --tcp 80 --name tour'), { src: 'pod1', dst: 'web', protocol: 'tcp', port: 80 });
  assert.deepEqual(journeyOf('podnet trace pod1 10.43.0.10 --udp 53'), { src: 'pod1', dst: '10.43.0.10', protocol: 'udp', port: 53 });
  assert.equal(journeyOf('podnet trace --help'), undefined);
  assert.equal(journeyOf('podnet get pods'), undefined);
  assert.equal(journeyOf(undefined), undefined);
});
