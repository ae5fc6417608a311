// What the API accepts, and the one place errors become HTTP answers: bad input is a 4xx with a
// one-line JSON error naming the field; only a failure of the machine is a 5xx; no stack ever leaves.
import { z, ZodError } from 'zod';
import { HostError } from '../host/errors.js';
import { UserError, httpStatusOf } from '../model/errors.js';
import type { NodeBody, PodBody, TraceBody } from './api.js';
import { Closed } from './live.js';

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

const reachSchema = z.strictObject({ pod: name('pod'), direction: z.enum(['egress', 'ingress'], { message: 'direction must be egress or ingress' }).default('egress') });
const stepNumber = (what: string) => z.number({ message: `${what} must be a number` }).int().min(0, { message: `${what} must be 0 or more` }).max(999, { message: `${what} is too large` });
const tourStepSchema = z.strictObject({ chapter: stepNumber('chapter').min(1, { message: 'chapter counts from 1' }), step: stepNumber('step') });
const tourAnswerSchema = z.strictObject({
  chapter: stepNumber('chapter').min(1, { message: 'chapter counts from 1' }), step: stepNumber('step'),
  answer: z.string({ message: 'answer must be text' }).max(200, { message: 'answer is longer than 200 characters' }).optional(),
  element: z.string({ message: 'element must be an element id' }).max(300, { message: 'element is too long' }).optional(),
}).refine((b) => (b.answer === undefined) !== (b.element === undefined), { message: 'give answer (typed) or element (clicked), one of them' });
const podSchema = z.strictObject({ name: name('name'), node: name('node').optional() });
const nodeSchema = z.strictObject({ name: name('name').max(15, { message: 'name of a node becomes an interface name: at most 15 characters' }) });

/** The value at `path` inside `v`, and whether it is there. */
function at(v: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let cur: unknown = v;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return { present: false, value: undefined };
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return { present: true, value: cur };
}

/** What a value is, for a message: `the text "8080; id"`, `a number`, `a list`, `null`. */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v)}`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Checks a body against `schema`: the body must be a JSON object (like `example`); a bad field gives
 * one line naming it and what is wrong with the value given. */
function parseBody<T>(schema: z.ZodType<T>, v: unknown, example: string): T {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, `the body must be a JSON object like ${example}, not ${describeValue(v)}`);
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  if (i.code === 'unrecognized_keys') throw new HttpError(400, `unknown field "${i.keys[0]}"`);
  const path = i.path.join('.');
  const { present, value } = at(v, i.path);
  if (!present && i.code === 'invalid_type') throw new HttpError(400, `${path} is required`);
  const message = path && !i.message.startsWith(path) ? `${path}: ${i.message}` : i.message;
  throw new HttpError(400, i.code === 'invalid_type' ? `${message}, not ${describeValue(value)}` : message);
}

/** `POST /api/trace` body, checked. */
export const parseTrace = (v: unknown): TraceBody => parseBody(traceSchema, v, '{"src": "pod1", "dst": "pod2", "protocol": "icmp"}');
/** `GET /api/reach` query, checked. */
export const parseReach = (v: Record<string, string>): { pod: string; direction: 'egress' | 'ingress' } => parseBody(reachSchema, v, '?pod=client&direction=egress');
/** `POST /api/tour/step` body, checked. */
export const parseTourStep = (v: unknown): { chapter: number; step: number } => parseBody(tourStepSchema, v, '{"chapter": 1, "step": 0}');
/** `POST /api/tour/answer` body, checked. */
export const parseTourAnswer = (v: unknown): { chapter: number; step: number; answer?: string; element?: string } => parseBody(tourAnswerSchema, v, '{"chapter": 1, "step": 0, "answer": "10.42.0.3"}');
/** `POST /api/pods` body, checked. */
export const parsePod = (v: unknown): PodBody => parseBody(podSchema, v, '{"name": "pod3"}');
/** `POST /api/nodes` body, checked. */
export const parseNode = (v: unknown): NodeBody => parseBody(nodeSchema, v, '{"name": "agent3"}');

/** A ZodError as one line (a schema outside the request bodies): its first issue. */
function zodLine(e: ZodError): string {
  const i = e.issues[0];
  if (!i) return 'invalid request';
  const path = i.path.join('.');
  return path && !i.message.startsWith(path) ? `${path}: ${i.message}` : i.message;
}

/** Any error → HTTP status and one line. Unknown errors are reported by `log` and answered without detail. */
export function toHttp(e: unknown, log: (e: unknown) => void): { status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503; error: string } {
  if (e instanceof HttpError) return { status: e.status, error: e.message };
  if (e instanceof Closed) return { status: 503, error: e.message };
  if (e instanceof ZodError) return { status: 400, error: zodLine(e) };
  if (e instanceof UserError) return { status: httpStatusOf(e.kind), error: e.message };
  if (e instanceof HostError) {
    log(e);
    return { status: 500, error: e.message.split('\n')[0] };
  }
  log(e);
  return { status: 500, error: 'internal error (the server\'s log says more)' };
}
