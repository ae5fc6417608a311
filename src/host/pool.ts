// Bounded concurrency for work done per namespace, per pod, per request.

/** Runs `fn` over `items`, `n` at a time, results in input order. After the first failure (or once
 * `signal` is aborted) no new item starts, and the call settles only when the ones in flight have (so
 * an unwind never races work still under way); then it rejects with that failure (or the abort's reason). */
export async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const workers = await Promise.allSettled(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length && !failed) {
      if (signal?.aborted) {
        failed = true;
        throw signal.reason;
      }
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  }));
  const bad = workers.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  if (bad) throw bad.reason;
  return out;
}
