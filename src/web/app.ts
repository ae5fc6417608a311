// The HTTP app of `podnet ui` (hono): the security gate, then the JSON API of docs/ui.md in route
// groups (the live topology, traces, changes to a lab), then the front end from dist/web. Every
// route calls the same library functions the CLI does.
import { tourRoutes } from './tour.js';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { toHttp } from './requests.js';
import { allowedHosts, allowedOrigins, cookieName, readCookie, SECURITY_HEADERS, sessionCookie } from './security.js';
import { changeRoutes, staticRoutes, topologyRoutes, traceRoutes } from './routes.js';
import { fail, type UiContext } from './context.js';

export type { UiContext } from './context.js';

const isApi = (c: Context) => c.req.path.startsWith('/api/');

/** The gate every request passes: security headers, the Host check (DNS rebinding), the one-time
 * login, the session cookie, the Origin check and JSON bodies for changes, a body limit. */
function gate(app: Hono, ctx: UiContext): void {
  /** The one-time token of the printed URL becomes a session cookie; the token leaves the address bar. */
  const login = (c: Context) => {
    const session = ctx.sessions.redeem(c.req.query('token') ?? '');
    if (!session) return c.text('podnet ui: this link was already used or is not valid; run `podnet ui` again for a new one.\n', 401);
    c.header('Set-Cookie', sessionCookie(ctx.port(), session));
    return c.redirect('/', 303);
  };
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
}

/** Builds the app. */
export function createApp(ctx: UiContext): Hono {
  const app = new Hono();
  gate(app, ctx);
  topologyRoutes(app, ctx);
  traceRoutes(app, ctx);
  changeRoutes(app, ctx);
  tourRoutes(app, ctx);
  staticRoutes(app, ctx);
  app.notFound((c) => fail(c, 404, `no such endpoint: ${c.req.method} ${c.req.path}`));
  app.onError((e, c) => {
    const { status, error } = toHttp(e, ctx.log);
    return fail(c, status, error);
  });
  return app;
}
