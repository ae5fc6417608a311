// The gate's pieces: one-time login tokens, sessions, cookies, the Host and Origin allow-lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedHosts, allowedOrigins, cookieName, readCookie, sessionCookie, Sessions } from '../../../src/web/security.js';

test('a login token opens one session, once', () => {
  const s = new Sessions();
  const token = s.mintToken();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, '256 random bits, URL-safe');
  const session = s.redeem(token);
  assert.ok(session && session !== token);
  assert.equal(s.redeem(token), undefined, 'spent');
  assert.ok(s.valid(session));
  assert.ok(!s.valid(token), 'a token is not a session');
  assert.ok(!s.valid(undefined));
  assert.ok(!s.valid(''));
  assert.equal(s.redeem('guess'), undefined);
  assert.notEqual(s.mintToken(), s.mintToken());
});

test('the session cookie: per port, HttpOnly, SameSite=Strict, read back from a Cookie header', () => {
  assert.equal(cookieName(8080), 'podnet_ui_8080');
  assert.equal(sessionCookie(8080, 'abc'), 'podnet_ui_8080=abc; Path=/; HttpOnly; SameSite=Strict');
  assert.equal(readCookie('a=1; podnet_ui_8080=abc; b=2', 'podnet_ui_8080'), 'abc');
  assert.equal(readCookie('podnet_ui_80800=abc', 'podnet_ui_8080'), undefined);
  assert.equal(readCookie(undefined, 'podnet_ui_8080'), undefined);
});

test('only this server\'s own address is a valid Host or Origin', () => {
  assert.deepEqual([...allowedHosts(8080)], ['127.0.0.1:8080', 'localhost:8080']);
  assert.deepEqual([...allowedOrigins(8080)], ['http://127.0.0.1:8080', 'http://localhost:8080']);
  for (const bad of ['127.0.0.1', '127.0.0.1:8081', 'evil.example:8080', '0.0.0.0:8080', '[::1]:8080']) assert.ok(!allowedHosts(8080).has(bad), bad);
});
