// The route groups of `podnet ui`'s API (docs/ui.md): the live topology and element details, packet
// traces (one at a time; the last few kept with their pcapng), changes to a lab (pods, nodes; only
// with --allow-changes), and the front end's files.
import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { nodeAdd } from '../lab/nodes.js';
import { podDelete, podRun } from '../lab/pods.js';
import { runTrace } from '../trace/trace.js';
import type { Journey, TopologyDoc } from './api.js';
import { elementDetails } from './details.js';
import { doctorDoc } from './doctor.js';
import { withPolicies } from './policies.js';
import { buildJourney } from './journey.js';
import type { LiveState } from './live.js';
import { HttpError, parseNode, parsePod, parseReach, parseTrace } from './requests.js';
import { reachDoc } from './reach.js';
import { fail, type UiContext } from './context.js';
import { requireUp } from '../lab/lifecycle.js';
import { LabDir } from '../lab/state.js';

/** How many finished traces are kept for GET /api/trace/:id and their pcapng. */
const KEPT_TRACES = 16;
/** How old a scan may be when a request reads it (the live poll keeps it fresher while the page is open). */
const MAX_AGE_MS = 500;

/** The request's JSON body, or a 400. */
async function body(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

/** GET /api/topology, GET /api/events (SSE), GET /api/element/:id, GET /api/doctor, GET /api/reach. */
export function topologyRoutes(app: Hono, ctx: UiContext): void {
  app.get('/api/topology', async (c) => c.json((await ctx.live.current(MAX_AGE_MS)).doc));

  app.get('/api/events', (c) => streamSSE(c, async (stream) => {
    let chain = Promise.resolve();
    const send = (doc: TopologyDoc) => {
      chain = chain.then(() => stream.writeSSE({ event: 'topology', id: String(doc.version), data: JSON.stringify(doc) })).catch(() => undefined);
    };
    const unsubscribe = ctx.live.subscribe(send);
    const ping = setInterval(() => { chain = chain.then(() => stream.write(': ping\n\n')).then(() => undefined, () => undefined); }, 15_000);
    try {
      // The latest drawing at once, however old: the poll, now running, pushes a newer one if the target changed.
      send((ctx.live.latest() ?? await ctx.live.current(MAX_AGE_MS)).doc);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
    } finally {
      clearInterval(ping);
      unsubscribe();
    }
  }));

  app.get('/api/element/:id', async (c) => {
    const live = await ctx.live.current(250);
    const ref = live.elements.get(c.req.param('id'));
    if (!ref) throw new HttpError(404, `no element "${c.req.param('id')}" in the topology (it may have gone: see GET /api/topology)`);
    return c.json(await withPolicies(elementDetails(ref, ctx.target), ref, ctx.deps, ctx.target));
  });
  app.get('/api/doctor', async (c) => c.json(await doctorDoc(ctx.deps, ctx.target, (await ctx.live.current(MAX_AGE_MS)).doc)));
  app.get('/api/reach', async (c) => {
    const q = parseReach(c.req.query());
    return c.json(await reachDoc(ctx.deps, ctx.target, (await ctx.live.current(MAX_AGE_MS)).doc, q.pod, q.direction));
  });
}

/** POST /api/trace, GET /api/trace/:id, GET /api/trace/:id/pcapng. */
export function traceRoutes(app: Hono, ctx: UiContext): void {
  const traces = new Map<string, { journey: Journey; pcapng: Uint8Array; name: string }>();
  let queue: Promise<unknown> = Promise.resolve();

  app.post('/api/trace', async (c) => {
    const req = parseTrace(await body(c));
    // Which node the pod is on: the drawing the page shows says (runTrace reads the kernel afresh).
    const nodeOf = (l: LiveState) => l.doc.nodes.find((n) => n.graph.pods.some((p) => p.name === req.src));
    let live = ctx.live.latest();
    if (!live || !nodeOf(live)) live = await ctx.live.current(0);
    const node = nodeOf(live);
    if (!node) throw new HttpError(404, `unknown pod "${req.src}" (pods: ${live.doc.nodes.flatMap((n) => n.graph.pods.map((p) => p.name)).join(', ') || 'none'})`);
    // One trace at a time: two captures on the same pods would see each other's packets.
    const run = ctx.mustFinish(() => queue.then(async () => {
      const target = ctx.target.kind === 'lab' ? { ...ctx.target, state: await requireUp(new LabDir(ctx.deps.stateRoot, ctx.target.lab), ctx.target.lab), node: node.name } : ctx.target;
      return runTrace(ctx.deps.host, { ...req, target, stateRoot: ctx.deps.stateRoot });
    }));
    queue = run.catch(() => undefined);
    const { result, pcapng, warnings } = await run;
    const drawn = result.path.points.every((p) => live.points.has(p.id)) ? live : await ctx.live.current(0);
    const id = randomBytes(6).toString('hex');
    const journey = buildJourney(id, result, pcapng, warnings, (p) => drawn.points.get(p) ?? '');
    traces.set(id, { journey, pcapng, name: `podnet-trace-${req.src}-${req.dst}-${id}.pcapng` });
    for (const old of [...traces.keys()].slice(0, Math.max(0, traces.size - KEPT_TRACES))) traces.delete(old);
    return c.json(journey);
  });

  const traceOf = (id: string) => {
    const t = traces.get(id);
    if (!t) throw new HttpError(404, `no trace "${id}" (the server keeps the last ${KEPT_TRACES})`);
    return t;
  };
  app.get('/api/trace/:id', (c) => c.json(traceOf(c.req.param('id')).journey));
  app.get('/api/trace/:id/pcapng', (c) => {
    const t = traceOf(c.req.param('id'));
    c.header('Content-Type', 'application/x-pcapng');
    c.header('Content-Disposition', `attachment; filename="${t.name}"`);
    return c.body(t.pcapng as Uint8Array<ArrayBuffer>);
  });
}

/** POST /api/pods, DELETE /api/pods/:name, POST /api/nodes: only on a lab, only with --allow-changes. */
export function changeRoutes(app: Hono, ctx: UiContext): void {
  const requireChanges = (): string => {
    if (ctx.target.kind !== 'lab') throw new HttpError(403, 'read-only: --host shows this machine and never changes it');
    if (!ctx.allowChanges) throw new HttpError(403, 'read-only: start `podnet ui --allow-changes` to add and delete pods and add nodes');
    return ctx.target.lab;
  };
  app.post('/api/pods', async (c) => {
    const lab = requireChanges();
    const { name, node } = parsePod(await body(c));
    const pod = await ctx.mustFinish(() => podRun(ctx.deps, lab, name, node));
    ctx.live.poke();
    return c.json({ name: pod.name, node: pod.node, ip: pod.ip ?? '', hostVeth: pod.hostVeth ?? '' }, 201);
  });
  app.delete('/api/pods/:name', async (c) => {
    const lab = requireChanges();
    const { name } = parsePod({ name: c.req.param('name') });
    await ctx.mustFinish(() => podDelete(ctx.deps, lab, name));
    ctx.live.poke();
    return c.json({ deleted: name });
  });
  app.post('/api/nodes', async (c) => {
    const lab = requireChanges();
    const { name } = parseNode(await body(c));
    const node = await ctx.mustFinish(() => nodeAdd(ctx.deps, lab, name));
    ctx.live.poke();
    return c.json({ name: node.name, ip: node.ip, podCIDR: node.podCIDR }, 201);
  });
}

/** The front end's files (built by Vite into dist/web). */
export function staticRoutes(app: Hono, ctx: UiContext): void {
  app.get('*', (c) => {
    const file = ctx.files.get(c.req.path);
    if (!file) {
      if (c.req.path === '/') return c.text('podnet ui: the front end is not built (run `npm run build:web`).\n', 503);
      return c.req.path.startsWith('/api/') ? fail(c, 404, `no such endpoint: GET ${c.req.path}`) : c.text('not found\n', 404);
    }
    c.header('Content-Type', file.type);
    c.header('Cache-Control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    return c.body(file.body as Uint8Array<ArrayBuffer>);
  });
}
