// A small HTTP client for `podnet ui`'s tests, on node:http so every header (Host, Origin, Cookie)
// is exactly what the test says: log in with the one-time URL, call the API, read the event stream.
// Every request and every wait is bounded.
import { request as httpRequest, type IncomingMessage } from 'node:http';

/** One answer: status, headers, body as text (and bytes), JSON when it parses. */
export interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  bytes: Buffer;
  json: unknown;
}

export interface RequestOptions {
  method?: string;
  /** The session cookie (`name=value`). */
  cookie?: string;
  /** A JSON body (sent with Content-Type: application/json unless `headers` says otherwise). */
  body?: unknown;
  /** A raw body. */
  raw?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Sends one request to 127.0.0.1:`port`. The Host header is `127.0.0.1:PORT` unless `headers.host` overrides it. */
export function request(port: number, path: string, o: RequestOptions = {}): Promise<Answer> {
  const body = o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(o.cookie ? { cookie: o.cookie } : {}),
    ...o.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers, timeout: o.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytes, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${o.method ?? 'GET'} ${path}: no answer within ${o.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a session with a one-time login URL; returns the cookie (`name=value`). */
export async function login(url: string): Promise<string> {
  const u = new URL(url);
  const a = await request(Number(u.port), `${u.pathname}${u.search}`);
  const set = a.headers['set-cookie']?.[0];
  if (a.status !== 303 || !set) throw new Error(`login failed: ${a.status} ${a.text}`);
  return set.split(';')[0];
}

/** An open `GET /api/events` stream: the topology documents it sent, in order. */
export class EventStream {
  readonly docs: { version: number; nodes: { name: string; graph: { pods: { name: string }[] } }[] }[] = [];
  private res?: IncomingMessage;
  private buf = '';
  private waiters: (() => void)[] = [];

  private constructor(private readonly req: ReturnType<typeof httpRequest>) {}

  /** Connects; resolves once the server answered with the stream's headers. */
  static open(port: number, cookie: string): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/events', headers: { host: `127.0.0.1:${port}`, cookie, accept: 'text/event-stream' } });
      const s = new EventStream(req);
      req.on('response', (res) => {
        s.res = res;
        if (res.statusCode !== 200) {
          reject(new Error(`GET /api/events: ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => s.feed(chunk));
        resolve(s);
      });
      req.on('error', reject);
      req.end();
    });
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    for (let end = this.buf.indexOf('\n\n'); end >= 0; end = this.buf.indexOf('\n\n')) {
      const block = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (/^event: topology$/m.test(block) && data) this.docs.push(JSON.parse(data) as EventStream['docs'][number]);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until a document satisfies `pred` (checking those already received), at most `timeoutMs`. */
  async waitFor(pred: (doc: EventStream['docs'][number]) => boolean, timeoutMs: number): Promise<EventStream['docs'][number] | undefined> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      const hit = this.docs.slice(seen).find(pred);
      if (hit) return hit;
      seen = this.docs.length;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Resolves when the server has ended the stream (or its connection went). */
  ended(): Promise<void> {
    const res = this.res;
    if (!res || res.destroyed || res.readableEnded) return Promise.resolve();
    return new Promise((resolve) => res.once('close', () => resolve()));
  }

  close(): void {
    this.res?.destroy();
    this.req.destroy();
  }
}
