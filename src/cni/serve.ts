// `podnet cni serve`: a long-running podnet that runs plugin requests handed over by the tiny client
// (so a runtime's call does not pay Node's start-up). One unix socket, root only (0600).
//
// The request runs with the client's network namespace as its host namespace, as if the plugin had
// been exec'd there. The namespace is opened once, when the request arrives, after checking that the
// client's PID still names the process that started at the time it sent (Node cannot read
// SO_PEERCRED; PID + start time identify the peer for good), and held open by file descriptor for the
// whole request: a client killed mid-request can no longer send the work into a vanished or reused
// namespace. A client that disconnects before the answer never saw an ADD succeed, so its runtime
// will call DEL: the daemon undoes that ADD itself at once (DEL of the same attachment), leaving no
// interface without a reservation and no reservation without an interface.
//
// A killed client's request goes on in the daemon while its runtime moves on: it DELs the attachment
// (as after any failed ADD), may ADD it again, or runs GC without it. So requests are ordered
// (RequestOrder): those of one attachment run one after another, each to its end (an abandoned ADD
// with its undo), and a GC runs alone — otherwise the runtime's DEL could release an address the
// abandoned ADD was about to give eth0, the undo could remove what a later ADD of the same attachment
// made, and GC could release an address an abandoned ADD still held (two pods with one IP).
//
// The installed clients start this daemon themselves when none listens (./client-script.ts); its
// life as a process — PID file, idle exit, leaving without stranding a client — is ./serve-life.ts.
// Here: a second daemon never takes over a socket one serves, and the socket appears 0600 and whole
// (bound under a temporary name, renamed into place).
import { secureRandom } from '../host/random.js';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Host } from '../host/host.js';
import type { Runner } from '../host/runner.js';
import { CURRENT_NETNS } from '../host/netns.js';
import { netnsInode } from '../host/process.js';
import { netnsHold } from '../host/namespaces.js';
import { useLockHelper } from '../host/lock-helper.js';
import { defaultRegistry } from './context.js';
import { execContext, pluginTypeOf } from './exec.js';
import { invokePlugin, type InvokeOutcome } from './plugin.js';
import { CniError, ErrorCode } from './spec.js';
import { UserError } from '../model/errors.js';
import { DEFAULT_SOCKET } from './socket.js';
import { formatAnswer, parseRequest, ProtocolError, type ServeRequest } from './serve-protocol.js';

/** Limits of the daemon: how long a client may take to send its request, and how many connections it
 * holds at once. A connection beyond that is closed as soon as it is accepted (Node's
 * `server.maxConnections`): its client reads no answer and prints the spec's code 11, try again later. */
export interface ServeLimits {
  requestTimeoutMs: number;
  maxConnections: number;
  /** Where the daemon reports what went wrong (a failed undo, a refused request). */
  log: (line: string) => void;
  /** Called once no connection is open and no request runs for this long (0: never). */
  idleMs: number;
  onIdle: () => void;
  /** Runs once the socket is bound and before its path is put in place, so that what it does (the
   * daemon's PID file) is there before any client can reach the daemon. */
  beforePublish: () => Promise<void>;
}

const DEFAULTS: ServeLimits = {
  requestTimeoutMs: 10_000, maxConnections: 128, log: (l) => process.stderr.write(`podnet cni serve: ${l}\n`), idleMs: 0, onIdle: () => undefined, beforePublish: async () => undefined,
};

/** Orders requests so that no two act on one attachment at once. A request with a key (CNI_CONTAINERID
 * and CNI_IFNAME: ADD, CHECK, DEL) waits for the requests of the same key that arrived before it; a GC
 * (exclusive) waits for every request that arrived before it, and every request arriving after it
 * waits for it; the others (VERSION, STATUS) run at once. Pure bookkeeping over promises. */
export class RequestOrder {
  private readonly last = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  private barrier: Promise<void> = Promise.resolve();

  /** Runs `fn` in its turn. */
  run<T>(turn: { key: string } | { exclusive: true } | Record<string, never>, fn: () => Promise<T>): Promise<T> {
    const settled = (p: Promise<unknown> | undefined) => (p ?? Promise.resolve()).then(() => undefined, () => undefined);
    let before: Promise<unknown>;
    if ('exclusive' in turn) before = Promise.all([this.barrier, ...this.pending]);
    else if ('key' in turn) before = Promise.all([this.barrier, settled(this.last.get(turn.key))]);
    else before = Promise.resolve();
    const result = before.then(fn);
    const done = settled(result);
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
    if ('exclusive' in turn) this.barrier = done;
    if ('key' in turn) {
      this.last.set(turn.key, done);
      void done.then(() => { if (this.last.get(turn.key) === done) this.last.delete(turn.key); });
    }
    return result;
  }

  /** Requests arrived and not yet finished. */
  get size(): number {
    return this.pending.size;
  }
}

/** A request's turn: its attachment, GC alone, or none. */
function turnOf(req: ServeRequest): { key: string } | { exclusive: true } | Record<string, never> {
  const command = req.env.CNI_COMMAND;
  if (command === 'GC') return { exclusive: true };
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') return { key: `${req.env.CNI_CONTAINERID ?? ''}\n${req.env.CNI_IFNAME ?? ''}` };
  return {};
}

const errorAnswer = (e: unknown) => {
  const err = e instanceof CniError ? e : new CniError(e instanceof ProtocolError ? ErrorCode.DecodeFailure : ErrorCode.Internal, (e as Error).message);
  return formatAnswer(1, `${JSON.stringify(err.toJSON('1.1.0'))}\n`);
};

/** True when something accepts connections on the unix socket `path`. */
export function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** Serves plugin requests on `socket` until `server.close()`. */
export async function serveCni(runner: Runner, socket = DEFAULT_SOCKET, limits: Partial<ServeLimits> = {}): Promise<CniServer> {
  const o = { ...DEFAULTS, ...limits };
  // host-local's flock through one persistent helper: no `flock` child per IPAM call.
  useLockHelper();
  const registry = defaultRegistry();
  const self = await netnsInode('/proc/self/ns/net');
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  // A daemon already serving this socket keeps it: a second one would steal the path and leave the first serving nobody.
  if (await listening(socket)) throw new UserError('exists', `podnet cni serve is already running on ${socket}: stop it first (its PID is in ${socket}.pid)`);

  const order = new RequestOrder();

  /** Runs one request in the client's held namespace, in its turn; `gone()` says whether the client has left. */
  const handle = async (req: ServeRequest, gone: () => boolean): Promise<InvokeOutcome> => {
    // Held from arrival: the namespace stays valid while the request waits for its turn.
    const held = await netnsHold(req.pid, req.start);
    if (!held) throw new CniError(ErrorCode.TryAgainLater, `the plugin client (pid ${req.pid}) went away before its request started: try again`);
    try {
      return await order.run(turnOf(req), async () => {
        const isAdd = req.env.CNI_COMMAND === 'ADD';
        // An ADD whose client left while it waited is not started: nobody would see it, and its undo would follow.
        if (isAdd && gone()) throw new CniError(ErrorCode.TryAgainLater, `the plugin client (pid ${req.pid}) went away before its ADD started`);
        const ns = held.inode === self ? CURRENT_NETNS : held.ns;
        const ctx = execContext(new Host(runner), ns, registry, secureRandom);
        const plugin = registry.get(pluginTypeOf(req.type));
        const out = await invokePlugin(plugin, req.env, req.stdin, ctx);
        if (gone() && isAdd && out.exitCode === 0) {
          // The runtime never saw this ADD succeed: undo it now, in the same turn, rather than leave it to a DEL that may not come.
          const undo = await invokePlugin(plugin, { ...req.env, CNI_COMMAND: 'DEL' }, req.stdin, ctx);
          o.log(`client ${req.pid} left during ADD of ${req.env.CNI_CONTAINERID ?? '?'}: undone${undo.exitCode === 0 ? '' : ` — the undo FAILED: ${undo.stdout.trim()}`}`);
        }
        return out;
      });
    } finally {
      await held.release();
    }
  };

  // Idle: no connection open, no request running (an abandoned ADD's undo runs without one), for idleMs.
  let open = 0;
  let lastActive = Date.now();
  const touch = () => { lastActive = Date.now(); };
  if (o.idleMs > 0) {
    const check = setInterval(() => {
      if (open > 0 || order.size > 0 || Date.now() - lastActive < o.idleMs) return;
      clearInterval(check);
      o.onIdle();
    }, Math.min(1000, Math.max(50, o.idleMs / 4)));
    check.unref();
  }

  const server = createServer((conn: Socket) => {
    open++;
    touch();
    conn.on('close', () => { open--; touch(); });
    let buf = Buffer.alloc(0);
    let started = false;
    let answered = false;
    const timer = setTimeout(() => { if (!started) conn.destroy(); }, o.requestTimeoutMs);
    conn.on('close', () => clearTimeout(timer));
    conn.on('error', () => undefined);
    conn.on('data', (chunk: Buffer) => {
      if (started) return;
      buf = Buffer.concat([buf, chunk]);
      let req: ServeRequest | undefined;
      try {
        req = parseRequest(buf);
      } catch (e) {
        started = true;
        conn.end(errorAnswer(e));
        return;
      }
      if (!req) return;
      started = true;
      clearTimeout(timer);
      handle(req, () => !answered && (conn.destroyed || conn.readableEnded))
        .then((out) => formatAnswer(out.exitCode, out.stdout), errorAnswer)
        .then((answer) => {
          answered = true;
          touch();
          if (!conn.destroyed) conn.end(answer);
        });
    });
  });
  server.maxConnections = o.maxConnections;
  const unlinkSocket = await bindSocket(server, socket, o.beforePublish);
  return Object.assign(server, { busy: () => open + order.size, unlinkSocket });
}

/** Listens on `socket`: bound under a name of its own, made 0600, then renamed into place — the
 * socket is never reachable with wider rights, a stale one is replaced atomically, and closing the
 * server (Node unlinks the path it bound) never removes a socket another daemon has put there since.
 * Returns what removes the path while it is still this server's. */
async function bindSocket(server: Server, socket: string, beforePublish: () => Promise<void>): Promise<() => Promise<void>> {
  const bound = `${socket}.${process.pid}.tmp`;
  await rm(bound, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bound, () => resolve());
  });
  await chmod(bound, 0o600);
  const ino = (await stat(bound)).ino;
  await beforePublish();
  await rename(bound, socket);
  const unlinkSocket = async () => {
    if ((await stat(socket).catch(() => undefined))?.ino === ino) await rm(socket, { force: true });
  };
  server.on('close', () => void unlinkSocket());
  return unlinkSocket;
}

/** The daemon's server: also how much it is doing, and a way to stop new clients reaching it. */
export interface CniServer extends Server {
  /** Connections open plus requests running. */
  busy(): number;
  /** Removes the socket's path if it is still this daemon's. */
  unlinkSocket(): Promise<void>;
}
