// What the tiny plugin client and `podnet cni serve` say to each other on the unix socket. Pure.
//
// Request: `PODNET-CNI 1`, `type T`, `pid N`, `start S` (the client's start time from /proc/self/stat:
// with the PID it names the client for good), `env K=V` lines, then `stdin LEN` and LEN bytes.
// Answer: `EXIT\nLEN\n` and LEN bytes of the plugin's stdout.

/** The most bytes a request may hold (a network config is a few KiB; a runtime's prevResult with many
 * interfaces a few more). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** One request as the client framed it. */
export interface ServeRequest {
  type: string;
  pid: number;
  /** The client's start time (clock ticks since boot), when it sent one. */
  start?: string;
  env: Record<string, string>;
  stdin: string;
}

/** A request that cannot be served: its message becomes the spec's error JSON. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Parses a whole request, or returns undefined while more bytes are needed. Throws a ProtocolError
 * for what is not a podnet request or is larger than MAX_REQUEST_BYTES. */
export function parseRequest(buf: Buffer): ServeRequest | undefined {
  if (buf.length > MAX_REQUEST_BYTES) throw new ProtocolError(`the request is larger than ${MAX_REQUEST_BYTES} bytes`);
  if (buf.length >= 12 && buf.subarray(0, 12).toString('latin1') !== 'PODNET-CNI 1') throw new ProtocolError('not a podnet CNI request');
  const text = buf.toString('latin1');
  const i = text.indexOf('\nstdin ');
  if (i < 0) return undefined;
  const nl = text.indexOf('\n', i + 7);
  if (nl < 0) return undefined;
  const len = Number(text.slice(i + 7, nl));
  if (!Number.isInteger(len) || len < 0 || nl + 1 + len > MAX_REQUEST_BYTES) throw new ProtocolError(`stdin of ${text.slice(i + 7, nl)} bytes is not allowed (at most ${MAX_REQUEST_BYTES})`);
  if (buf.length < nl + 1 + len) return undefined;
  const head = buf.subarray(0, i).toString('utf8').split('\n');
  const req: ServeRequest = { type: '', pid: 0, env: {}, stdin: buf.subarray(nl + 1, nl + 1 + len).toString('utf8') };
  for (const line of head.slice(1)) {
    const sp = line.indexOf(' ');
    const [k, v] = [line.slice(0, sp), line.slice(sp + 1)];
    if (k === 'type') req.type = v;
    else if (k === 'pid') req.pid = Number(v);
    else if (k === 'start') req.start = v;
    else if (k === 'env' && v.includes('=')) req.env[v.slice(0, v.indexOf('='))] = v.slice(v.indexOf('=') + 1);
  }
  if (!Number.isInteger(req.pid) || req.pid <= 0) throw new ProtocolError('the request names no client PID');
  return req;
}

/** The answer's bytes for a plugin's exit code and stdout. */
export function formatAnswer(exitCode: number, stdout: string): Buffer {
  const body = Buffer.from(stdout);
  return Buffer.concat([Buffer.from(`${exitCode}\n${body.length}\n`), body]);
}
