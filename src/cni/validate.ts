// Turns a zod validation failure into one CNI error line that names the field and the fix.
import type { z } from 'zod';
import { CniError, ErrorCode } from './spec.js';

/** Formats a zod issue path like `ipam.ranges[0][0].subnet`. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** Parses `value` with `schema`, or throws code 7 naming the first bad field. */
export function parseConfig<T extends z.ZodType>(schema: T, value: unknown, prefix = ''): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = [prefix, issuePath(issue.path)].filter(Boolean).join('.');
  throw new CniError(ErrorCode.InvalidConfig, `${path || 'config'}: ${issue.message}`);
}
