// The ICU-free orders agree with ICU's on every pair of names drawn from the alphabet they handle
// themselves, and hand everything else to ICU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lexical, natural } from '../../../src/model/order.js';
import { seededRandom } from '../seeded.js';

const icuNatural = new Intl.Collator('en', { numeric: true }).compare;
const ALPHABET = 'ab-./0129z';

test('natural agrees with Intl.Collator("en", { numeric: true }) on 20000 random pairs of names', () => {
  const bytes = seededRandom('order'); // the same pairs on every run: a failure names one to run again
  const word = () => Array.from(bytes(bytes(1)[0] % 8), (b) => ALPHABET[b % ALPHABET.length]).join('');
  for (let k = 0; k < 20_000; k++) {
    const [a, b] = [word(), word()];
    assert.equal(natural(a, b), Math.sign(icuNatural(a, b)), `natural(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    assert.equal(lexical(a, b), Math.sign(a.localeCompare(b)), `lexical(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
  }
});

test('names as podnet sorts them, and text only ICU orders (capitals, accents, leading zeros)', () => {
  const names = ['pod10', 'pod2', 'pod-1', 'pod1', 'agent10', 'agent2', 'server', '10.42.0.10', '10.42.0.9', 'podnet-x-cni-9f', 'podnet-x-cni-10a'];
  assert.deepEqual([...names].sort(natural), [...names].sort(icuNatural));
  for (const [a, b] of [['Pod', 'pod'], ['pod', 'Pod2'], ['é', 'e'], ['pod01', 'pod1'], ['pod007', 'pod7a'], ['a_b', 'a-b']]) {
    assert.equal(natural(a, b), Math.sign(icuNatural(a, b)), `natural(${a}, ${b})`);
    assert.equal(lexical(a, b), Math.sign(a.localeCompare(b)), `lexical(${a}, ${b})`);
  }
});
