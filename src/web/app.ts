// The HTTP app of `podnet ui` (hono): the security gate, the JSON API of docs/ui.md over the same
// library calls the CLI makes (inspect's scan and views, runTrace, podRun/podDelete), and the front
// end from dist/web.
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { Runner } from '../host/runner.js';
import { nodeAdd, podDelete, podRun, type LabDeps } from '../lab/lab.js';
import { runTrace } from '../trace/trace.js';
import type { Journey, TopologyDoc } from './api.js';
import { elementDetails } from './details.js';
import { buildJourney } from './journey.js';
import type { LiveState, LiveTopology } from './live.js';
import { HttpError, parseNode, parsePod, parseTrace, toHttp } from './requests.js';
import type { UiTarget } from './scan.js';
import { allowedHosts, allowedOrigins, cookieName, readCookie, SECURITY_HEADERS, sessionCookie, type Sessions } from './security.js';
import type { StaticFile } from './static.js';

/** What the app serves from. */
export interface UiContext {
  runner: Runner;
  deps: LabDeps;
  target: UiTarget;
  allowChanges: boolean;
  live: LiveTopology;
  sessions: Sessions;
  /** The port the server listens on (known once it does). */
  port: () => number;
  files: Map<string, StaticFile>;
  /** Where unexpected errors are reported (never to the client). */
  log: (e: unknown) => void;
}

/** How many finished traces are kept for GET /api/trace/:id and their pcapng. */
const KEPT_TRACES = 16;
/** How old a scan may be when a request reads it (the live poll keeps it fresher while the page is open). */
const MAX_AGE_MS = 500;

/** Builds the app. */
export function createApp(ctx: UiContext): Hono {
  const app = new Hono();
  const traces = new Map<string, { journey: Journey; pcapng: Uint8Array; name: string }>();
  let traceQueue: Promise<unknown> = Promise.resolve();
  const fail = (c: Context, status: number, error: string) => c.json({ error }, status as 400);
  const isApi = (c: Context) => c.req.path.startsWith('/api/');

  app.use('*', async (c, next) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    if (isApi(c)) c.header('Cache-Control', 'no-store');
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 still sends Host: evil.example.
    if (!allowedHosts(ctx.port()).has(c.req.header('host') ?? '')) return fail(c, 403, `Host "${c.req.header('host') ?? ''}" is not this server: open http://127.0.0.1:${ctx.port()}/`);
    if (c.req.method === 'GET' && c.req.path === '/' && c.req.query('token') !== undefined) return login(c);
    if (!ctx.sessions.valid(readCookie(c.req.header('cookie'), cookieName(ctx.port())))) {
      return isApi(c) ? fail(c, 401, 'no valid session: open the URL (with its token) that `podnet ui` printed') : c.text('podnet ui: open the URL (with its token) that `podnet ui` printed.\n', 401);
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = c.req.header('origin');
      if (origin !== undefined && !allowedOrigins(ctx.port()).has(origin)) return fail(c, 403, `requests from ${origin} may not change anything`);
      if (c.req.method === 'POST' && !/^application\/json\b/.test(c.req.header('content-type') ?? '')) return fail(c, 415, 'send the body as Content-Type: application/json');
    }
    return next();
  });
  app.use('/api/*', bodyLimit({ maxSize: 16 * 1024, onError: (c) => fail(c, 413, 'the body is larger than 16 KiB') }));

  /** The one-time token of the printed URL becomes a session cookie; the token leaves the address bar. */
  const login = (c: Context) => {
    const session = ctx.sessions.redeem(c.req.query('token') ?? '');
    if (!session) return c.text('podnet ui: this link was already used or is not valid; run `podnet ui` again for a new one.\n', 401);
    c.header('Set-Cookie', sessionCookie(ctx.port(), session));
    return c.redirect('/', 303);
  };

  const body = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      throw new HttpError(400, 'the body is not valid JSON');
    }
  };
  const requireChanges = (): string => {
    if ('host' in ctx.target) throw new HttpError(403, 'read-only: --host shows this machine and never changes it');
    if (!ctx.allowChanges) throw new HttpError(403, 'read-only: start `podnet ui --allow-changes` to add and delete pods and add nodes');
    return ctx.target.lab;
  };

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
    return c.json(elementDetails(ref, 'host' in ctx.target ? { host: true } : { lab: ctx.target.lab }));
  });

  app.post('/api/trace', async (c) => {
    const req = parseTrace(await body(c));
    // Which node the pod is on: the drawing the page shows says (runTrace reads the kernel afresh).
    const nodeOf = (l: LiveState) => l.doc.nodes.find((n) => n.graph.pods.some((p) => p.name === req.src));
    let live = ctx.live.latest();
    if (!live || !nodeOf(live)) live = await ctx.live.current(0);
    const node = nodeOf(live);
    if (!node) throw new HttpError(404, `unknown pod "${req.src}" (pods: ${live.doc.nodes.flatMap((n) => n.graph.pods.map((p) => p.name)).join(', ') || 'none'})`);
    const target = 'host' in ctx.target ? { lab: 'demo', host: true } : { lab: ctx.target.lab, node: node.name };
    // One trace at a time: two captures on the same pods would see each other's packets.
    const run = traceQueue.then(() => runTrace(ctx.runner, { ...req, cold: req.cold ?? false, target, stateRoot: ctx.deps.stateRoot }));
    traceQueue = run.catch(() => undefined);
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

  app.post('/api/pods', async (c) => {
    const lab = requireChanges();
    const { name, node } = parsePod(await body(c));
    const pod = await podRun(ctx.deps, lab, name, node);
    ctx.live.poke();
    return c.json({ name: pod.name, node: pod.node, ip: pod.ip ?? '', hostVeth: pod.hostVeth ?? '' }, 201);
  });
  app.delete('/api/pods/:name', async (c) => {
    const lab = requireChanges();
    const { name } = parsePod({ name: c.req.param('name') });
    await podDelete(ctx.deps, lab, name);
    ctx.live.poke();
    return c.json({ deleted: name });
  });

  app.post('/api/nodes', async (c) => {
    const lab = requireChanges();
    const { name } = parseNode(await body(c));
    const node = await nodeAdd(ctx.deps, lab, name);
    ctx.live.poke();
    return c.json({ name: node.name, ip: node.ip, podCIDR: node.podCIDR }, 201);
  });

  app.get('*', (c) => {
    const file = ctx.files.get(c.req.path);
    if (!file) {
      if (c.req.path === '/') return c.text('podnet ui: the front end is not built (run `npm run build:web`).\n', 503);
      return isApi(c) ? fail(c, 404, `no such endpoint: GET ${c.req.path}`) : c.text('not found\n', 404);
    }
    c.header('Content-Type', file.type);
    c.header('Cache-Control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    return c.body(file.body as Uint8Array<ArrayBuffer>);
  });
  app.notFound((c) => fail(c, 404, `no such endpoint: ${c.req.method} ${c.req.path}`));
  app.onError((e, c) => {
    const { status, error } = toHttp(e, ctx.log);
    return fail(c, status, error);
  });
  return app;
}
