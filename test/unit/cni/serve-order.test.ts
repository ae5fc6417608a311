// The daemon's request order (src/cni/serve.ts RequestOrder), on promises alone: requests of one
// attachment run one after another in arrival order (also when one fails), other attachments run
// alongside, a GC waits for everything before it and holds back everything after it, VERSION/STATUS
// never wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestOrder } from '../../../src/cni/serve.js';

/** A task that records when it starts and ends and finishes when told. */
function task(log: string[], name: string) {
  let finish!: (ok: boolean) => void;
  const fn = () => {
    log.push(`${name}+`);
    return new Promise<string>((resolve, reject) => {
      finish = (ok) => {
        log.push(`${name}-`);
        if (ok) resolve(name);
        else reject(new Error(name));
      };
    });
  };
  return { fn, done: (ok = true) => finish(ok) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('one attachment: in arrival order, each to its end, a failure does not stop the next', async () => {
  const o = new RequestOrder();
  const log: string[] = [];
  const [add, del, add2] = [task(log, 'ADD'), task(log, 'DEL'), task(log, 'ADD2')];
  const p1 = o.run({ key: 'c1/eth0' }, add.fn);
  const p2 = o.run({ key: 'c1/eth0' }, del.fn);
  const p3 = o.run({ key: 'c1/eth0' }, add2.fn);
  await tick();
  assert.deepEqual(log, ['ADD+']);
  add.done(false);
  await assert.rejects(p1, /ADD/);
  await tick();
  assert.deepEqual(log, ['ADD+', 'ADD-', 'DEL+']);
  del.done();
  assert.equal(await p2, 'DEL');
  await tick();
  add2.done();
  assert.equal(await p3, 'ADD2');
  assert.deepEqual(log, ['ADD+', 'ADD-', 'DEL+', 'DEL-', 'ADD2+', 'ADD2-']);
  await tick();
  assert.equal(o.size, 0, 'nothing kept once all are done');
});

test('other attachments run alongside; GC waits for all before it and holds back all after it; VERSION never waits', async () => {
  const o = new RequestOrder();
  const log: string[] = [];
  const [a, b, gc, c, v] = [task(log, 'A'), task(log, 'B'), task(log, 'GC'), task(log, 'C'), task(log, 'VERSION')];
  const pa = o.run({ key: 'a' }, a.fn);
  const pb = o.run({ key: 'b' }, b.fn);
  const pgc = o.run({ exclusive: true }, gc.fn);
  const pc = o.run({ key: 'c' }, c.fn);
  const pv = o.run({}, v.fn);
  await tick();
  assert.deepEqual([...log].sort(), ['A+', 'B+', 'VERSION+'], 'A and B together, VERSION at once, GC and C wait');
  v.done();
  await pv;
  a.done();
  await pa;
  await tick();
  assert.ok(!log.includes('GC+'), 'GC waits for B');
  b.done();
  await pb;
  await tick();
  assert.equal(log.at(-1), 'GC+');
  assert.ok(!log.includes('C+'), 'C, which came after GC, waits for it');
  gc.done();
  await pgc;
  await tick();
  assert.equal(log.at(-1), 'C+');
  c.done();
  await pc;
  await tick();
  assert.equal(o.size, 0);
});
