// Random bytes for names, MACs and container IDs: from the kernel's CSPRNG, drawn 4 KiB at a time.
// A 100-pod lab asks for ~600 small pieces (UUIDs, MACs, veth names); one getrandom per piece costs
// more than the bytes (as crypto.randomUUID, which keeps a cache of its own for the same reason).
import { randomFillSync } from 'node:crypto';

const POOL = 4096;
const pool = new Uint8Array(POOL);
let used = POOL;

/** `n` random bytes from the kernel's CSPRNG, each handed out once, as a new array. */
export function secureRandom(n: number): Uint8Array {
  if (n > POOL) return randomFillSync(new Uint8Array(n));
  if (used + n > POOL) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + n);
  used += n;
  return out;
}
