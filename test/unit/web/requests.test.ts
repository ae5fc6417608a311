// What the API accepts, and how errors become answers: one line that starts with the field, a 4xx
// for bad input, and for anything unexpected a 500 that says nothing of the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostError } from '../../../src/host/errors.js';
import { UserError } from '../../../src/model/errors.js';
import { HttpError, parseNode, parsePod, parseReach, parseTrace, toHttp } from '../../../src/web/requests.js';

const problem = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return toHttp(e, () => undefined);
  }
  assert.fail('accepted');
};

test('good bodies pass as they are', () => {
  assert.deepEqual(parseTrace({ src: 'pod1', dst: '10.42.0.9', protocol: 'udp', port: 53, cold: true }), { src: 'pod1', dst: '10.42.0.9', protocol: 'udp', port: 53, cold: true });
  assert.deepEqual(parsePod({ name: 'pod3', node: 'agent1' }), { name: 'pod3', node: 'agent1' });
  assert.deepEqual(parseNode({ name: 'agent2' }), { name: 'agent2' });
});

test('bad bodies: 400 and one line naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ dst: 'pod2', protocol: 'icmp' }, /^src is required$/],
    [{ src: 'pod1', dst: 'pod2', protocol: 'icmp', port: 1 }, /^port goes with tcp or udp/],
    [{ src: 'pod1', dst: 'pod2', protocol: 'tcp' }, /^port is required for tcp$/],
    [{ src: 'pod1', dst: 'pod2', protocol: 'tcp', port: 0 }, /^port must be 1-65535$/],
    [{ src: 'pod1', dst: 'pod2', protocol: 'tcp', port: 1.5 }, /^port/],
    [{ src: 'pod1', dst: '256.1.1.1', protocol: 'icmp' }, /^dst must be a pod name or an IPv4 address$/],
    [{ src: 'pod1', dst: 'pod2', protocol: 'ICMP' }, /^protocol must be icmp, tcp or udp$/],
    [{ src: 'a b', dst: 'pod2', protocol: 'icmp' }, /^src must be lowercase/],
    [{ src: 'pod1', dst: 'pod2', protocol: 'icmp', x: 1 }, /^unknown field "x"$/],
    [{ src: 'pod1', dst: 'pod2', protocol: 'tcp', port: '8080; id' }, /^port must be a number, not the text "8080; id"$/],
    [[], /^the body must be a JSON object like \{"src": "pod1", .*, not a list$/],
    ['pod1', /^the body must be a JSON object .*, not the text "pod1"$/],
    [null, /^the body must be a JSON object .*, not null$/],
  ];
  for (const [body, re] of cases) {
    const p = problem(() => parseTrace(body));
    assert.equal(p.status, 400, JSON.stringify(body));
    assert.match(p.error, re, JSON.stringify(body));
  }
  assert.match(problem(() => parseNode({ name: 'a-node-name-too-long' })).error, /^name of a node becomes an interface name/);
});

test('errors: lab problems are 4xx, unexpected ones a 500 without detail; the detail goes to the log', () => {
  const log: unknown[] = [];
  assert.deepEqual(toHttp(new HttpError(403, 'read-only'), (e) => log.push(e)), { status: 403, error: 'read-only' });
  assert.equal(toHttp(new UserError('not-found', 'unknown pod "x" in lab "demo" (pods: pod1)'), () => undefined).status, 404);
  assert.equal(toHttp(new UserError('exists', 'pod "x" already exists in lab "demo"'), () => undefined).status, 409);
  assert.equal(toHttp(new UserError('state', 'lab "demo" is not up'), () => undefined).status, 409);
  assert.equal(toHttp(new UserError('usage', 'a bad field'), () => undefined).status, 400);
  assert.equal(toHttp(new UserError('unavailable', 'etcd of lab x is unreachable'), () => undefined).status, 503);
  const host = toHttp(new HostError({ kind: 'failed', argv: ['ip', 'link'], exitCode: 1, stderr: 'RTNETLINK answers: nope\nmore' }), (e) => log.push(e));
  assert.equal(host.status, 500);
  assert.doesNotMatch(host.error, /\n/);
  const bug = toHttp(new TypeError('x is undefined'), (e) => log.push(e));
  assert.deepEqual(bug, { status: 500, error: 'internal error (the server\'s log says more)' });
  assert.equal(log.length, 2, 'the machine\'s failure and the bug are logged, the 403 is not');
});

test('GET /api/reach: a pod and a direction (egress by default); anything else is a 400 naming the field', () => {
  assert.deepEqual(parseReach({ pod: 'client' }), { pod: 'client', direction: 'egress' });
  assert.deepEqual(parseReach({ pod: 'web1', direction: 'ingress' }), { pod: 'web1', direction: 'ingress' });
  const bad = (q: Record<string, string>) => { try { parseReach(q); return ''; } catch (e) { assert.ok(e instanceof HttpError && e.status === 400); return e.message; } };
  assert.equal(bad({ pod: 'client', direction: 'sideways' }), 'direction must be egress or ingress');
  assert.equal(bad({ direction: 'egress' }), 'pod is required');
  assert.equal(bad({ pod: 'Client;rm' }), 'pod must be lowercase letters, digits and "-" (like "pod3")');
  assert.equal(bad({ pod: 'client', extra: '1' }), 'unknown field "extra"');
});
