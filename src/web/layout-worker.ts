// Runs ELK off the server's main thread: laying out 250 pods takes about half a second, which would
// otherwise hold up every request and event stream meanwhile. One message in (an ELK graph), one out.
import { parentPort } from 'node:worker_threads';
import elkjs from 'elkjs/lib/elk.bundled.js';
import type { ElkNode } from 'elkjs/lib/elk-api.js';

// A CommonJS module: its constructor is also its own `default`, which is how TypeScript sees it here.
const elk = new elkjs.default();
parentPort?.on('message', (m: { seq: number; graph: ElkNode }) => {
  elk.layout(m.graph).then(
    (laid: ElkNode) => parentPort?.postMessage({ seq: m.seq, laid }),
    (e: unknown) => parentPort?.postMessage({ seq: m.seq, error: e instanceof Error ? e.message : String(e) }),
  );
});
