// The pooled CSPRNG: every byte handed out once, sizes honoured across refills and beyond the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secureRandom } from '../../../src/host/random.js';

test('pieces have the asked length, are fresh arrays, and do not repeat across refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) { // ~4 refills of the 4 KiB pool with 6-byte pieces
    const b = secureRandom(6);
    assert.equal(b.length, 6);
    const hex = Buffer.from(b).toString('hex');
    assert.ok(!seen.has(hex), `piece ${i} repeats an earlier one`);
    seen.add(hex);
  }
  const a = secureRandom(4);
  a.fill(0);
  assert.notDeepEqual(secureRandom(4), a, 'callers own their bytes: writing one does not touch the next');
});

test('sizes at and beyond the pool', () => {
  assert.equal(secureRandom(4096).length, 4096);
  const big = secureRandom(10_000);
  assert.equal(big.length, 10_000);
  assert.ok(new Set(big).size > 200, 'the bytes vary');
  assert.equal(secureRandom(0).length, 0);
});
