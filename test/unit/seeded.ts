// A seeded random source for reproducible plans (golden tests): SHA-256 in counter mode.
import { createHash } from 'node:crypto';

/** Returns `n` pseudo-random bytes per call, the same sequence for the same seed. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - i)), i);
    }
    return out;
  };
}
