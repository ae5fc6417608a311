// What the API accepts, and the one place errors become HTTP answers: bad input is a 4xx with a
// one-line JSON error naming the field; only a failure of the machine is a 5xx; no stack ever leaves.
import { z, ZodError } from 'zod';
import { HostError } from '../host/errors.js';
import { UserError, httpStatusOf } from '../model/errors.js';
import type { NodeBody, PodBody, TraceBody } from './api.js';

/** An error with the HTTP status it answers with. */
export class HttpError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 503, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A pod or node name as the lab accepts it (the lab re-checks it; this keeps junk out of messages). */
const name = (what: string) => z.string().min(1, { message: `${what} must not be empty` }).max(63, { message: `${what} is longer than 63 characters` })
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, { message: `${what} must be lowercase letters, digits and "-" (like "pod3")` });
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const traceSchema = z.strictObject({
  src: name('src'),
  dst: z.string().refine((v) => ipv4.test(v) || name('dst').safeParse(v).success, { message: 'dst must be a pod name or an IPv4 address' }),
  protocol: z.enum(['icmp', 'tcp', 'udp'], { message: 'protocol must be icmp, tcp or udp' }),
  port: z.number({ message: 'port must be a number' }).int().min(1, { message: 'port must be 1-65535' }).max(65535, { message: 'port must be 1-65535' }).optional(),
  cold: z.boolean({ message: 'cold must be true or false' }).optional(),
}).superRefine((b, ctx) => {
  if (b.protocol !== 'icmp' && b.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: `port is required for ${b.protocol}` });
  if (b.protocol === 'icmp' && b.port !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'port goes with tcp or udp, not icmp' });
});

const podSchema = z.strictObject({ name: name('name'), node: name('node').optional() });
const nodeSchema = z.strictObject({ name: name('name').max(15, { message: 'name of a node becomes an interface name: at most 15 characters' }) });

/** `POST /api/trace` body, checked. */
export const parseTrace = (v: unknown): TraceBody => traceSchema.parse(v);
/** `POST /api/pods` body, checked. */
export const parsePod = (v: unknown): PodBody => podSchema.parse(v);
/** `POST /api/nodes` body, checked. */
export const parseNode = (v: unknown): NodeBody => nodeSchema.parse(v);

/** A ZodError as one line that starts with the field: `port must be 1-65535`, `src is required`, `unknown field "x"`. */
function zodLine(e: ZodError): string {
  const i = e.issues[0];
  if (!i) return 'invalid request';
  if (i.code === 'unrecognized_keys') return `unknown field "${i.keys[0]}"`;
  const path = i.path.join('.');
  if (i.code === 'invalid_type' && i.input === undefined) return `${path} is required`;
  return path && !i.message.startsWith(path) ? `${path}: ${i.message}` : i.message;
}

/** Any error → HTTP status and one line. Unknown errors are reported by `log` and answered without detail. */
export function toHttp(e: unknown, log: (e: unknown) => void): { status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503; error: string } {
  if (e instanceof HttpError) return { status: e.status, error: e.message };
  if (e instanceof ZodError) return { status: 400, error: zodLine(e) };
  if (e instanceof UserError) return { status: httpStatusOf(e.kind), error: e.message };
  if (e instanceof HostError) {
    log(e);
    return { status: 500, error: e.message.split('\n')[0] };
  }
  log(e);
  return { status: 500, error: 'internal error (the server\'s log says more)' };
}
