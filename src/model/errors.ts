// Errors a user can act on. Each has a kind, so the one place that reports it (the CLI: an exit
// code; the UI server: an HTTP status) decides by kind, never by matching the message. The message
// is one line saying what is wrong and what to do.

/** What kind of problem a user error is. */
export type ErrorKind =
  /** The input is wrong (a flag, a field, a file): fix it and run again. */
  | 'usage'
  /** Something named does not exist (a pod, a node, a lab, a namespace). */
  | 'not-found'
  /** Something to be made exists already. */
  | 'exists'
  /** The request contradicts what is there (two flags that exclude each other, a busy name). */
  | 'conflict'
  /** The object is in a state that does not allow it (a lab not up, interrupted, going down). */
  | 'state'
  /** Something podnet needs cannot be reached now (a lease store, a daemon): try again later. */
  | 'unavailable'
  /** A check found problems (`podnet doctor`): the report says what and how to fix them. */
  | 'findings';

/** A problem the user can fix; its message is one line. */
export class UserError extends Error {
  constructor(readonly kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** True for any user error (of the given kind, when one is given). */
export function isUserError(e: unknown, kind?: ErrorKind): e is UserError {
  return e instanceof UserError && (kind === undefined || e.kind === kind);
}

/** The exit code of a user error, by kind (docs/cli.md): 1, except 69 for unavailable (EX_UNAVAILABLE
 * of sysexits.h: a script may retry). */
export function exitCodeOf(kind: ErrorKind): number {
  return kind === 'unavailable' ? 69 : 1;
}

/** The HTTP status of a user error, by kind. */
export function httpStatusOf(kind: ErrorKind): 400 | 404 | 409 | 503 {
  switch (kind) {
    case 'not-found': return 404;
    case 'exists':
    case 'conflict':
    case 'state': return 409;
    case 'unavailable': return 503;
    default: return 400;
  }
}
