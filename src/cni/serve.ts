// `podnet cni serve`: a long-running podnet that runs plugin requests handed over by the tiny
// client (so a runtime's call does not pay Node's start-up). One unix socket, root only. The client
// sends its PID: the request runs with /proc/PID/ns/net as the host namespace (the runtime's, as if
// the plugin had been exec'd there), while the client waits.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { netnsInode } from '../host/process.js';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Host } from '../host/host.js';
import type { Runner } from '../host/runner.js';
import { CURRENT_NETNS, netnsAt } from '../host/netns.js';
import { defaultRegistry } from './context.js';
import { execContext, pluginTypeOf } from './exec.js';
import { invokePlugin } from './plugin.js';
import { CniError, ErrorCode } from './spec.js';
import { DEFAULT_SOCKET } from './socket.js';


/** A request as the client frames it: `PODNET-CNI 1`, `type T`, `pid N`, `env K=V` lines, then
 * `stdin LEN` and LEN bytes. The answer: `EXIT\nLEN\n` and LEN bytes of stdout. */
interface Request {
  type: string;
  pid: number;
  env: Record<string, string>;
  stdin: string;
}

/** Parses a whole request, or returns undefined while more bytes are needed. */
export function parseRequest(buf: Buffer): Request | undefined {
  const text = buf.toString('latin1');
  const i = text.indexOf('\nstdin ');
  if (i < 0) return undefined;
  const nl = text.indexOf('\n', i + 7);
  if (nl < 0) return undefined;
  const len = Number(text.slice(i + 7, nl));
  if (buf.length < nl + 1 + len) return undefined;
  const head = buf.subarray(0, i).toString('utf8').split('\n');
  if (head[0] !== 'PODNET-CNI 1') throw new Error('not a podnet CNI request');
  const req: Request = { type: '', pid: 0, env: {}, stdin: buf.subarray(nl + 1, nl + 1 + len).toString('utf8') };
  for (const line of head.slice(1)) {
    const sp = line.indexOf(' ');
    const [k, v] = [line.slice(0, sp), line.slice(sp + 1)];
    if (k === 'type') req.type = v;
    else if (k === 'pid') req.pid = Number(v);
    else if (k === 'env' && v.includes('=')) req.env[v.slice(0, v.indexOf('='))] = v.slice(v.indexOf('=') + 1);
  }
  return req;
}


/** Serves plugin requests on `socket` until `server.close()`. Each request gets its own Host over the
 * shared runner: its namespace (/proc/CLIENT/ns/net) lives only as long as the client. */
export async function serveCni(runner: Runner, socket = DEFAULT_SOCKET): Promise<Server> {
  const registry = defaultRegistry();
  const self = await netnsInode('/proc/self/ns/net');
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  await rm(socket, { force: true });
  const handle = async (req: Request): Promise<{ exitCode: number; stdout: string }> => {
    const nsPath = `/proc/${req.pid}/ns/net`;
    const ns = (await netnsInode(nsPath)) === self ? CURRENT_NETNS : netnsAt(nsPath);
    const ctx = execContext(new Host(runner), ns, registry, (n) => new Uint8Array(randomBytes(n)));
    try {
      return await invokePlugin(registry.get(pluginTypeOf(req.type)), req.env, req.stdin, ctx);
    } catch (e) {
      const err = e instanceof CniError ? e : new CniError(ErrorCode.Internal, (e as Error).message);
      return { exitCode: 1, stdout: `${JSON.stringify(err.toJSON('1.1.0'))}\n` };
    }
  };
  const server = createServer((conn: Socket) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let req: Request | undefined;
      try {
        req = parseRequest(buf);
      } catch {
        conn.destroy();
        return;
      }
      if (!req) return;
      void handle(req).then(({ exitCode, stdout }) => {
        const body = Buffer.from(stdout);
        conn.end(Buffer.concat([Buffer.from(`${exitCode}\n${body.length}\n`), body]));
      });
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  await chmod(socket, 0o600);
  return server;
}
