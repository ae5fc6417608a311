// What every route of `podnet ui` serves from, and how it answers an error.
import type { Context } from 'hono';
import type { LabDeps } from '../lab/deps.js';
import type { Target } from '../lab/target.js';
import type { LiveTopology } from './live.js';
import type { Sessions } from './security.js';
import type { StaticFile } from './static.js';

/** What the app serves from. */
export interface UiContext {
  deps: LabDeps;
  target: Target;
  allowChanges: boolean;
  live: LiveTopology;
  sessions: Sessions;
  /** The port the server listens on (known once it does). */
  port: () => number;
  files: Map<string, StaticFile>;
  /** Where unexpected errors are reported (never to the client). */
  log: (e: unknown) => void;
  /** Runs work that must not be cut off when the server stops (a trace, a change to the lab): the
   * server's close() waits for it. Refused once the server is stopping. */
  mustFinish: <T>(work: () => Promise<T>) => Promise<T>;
}

/** A JSON error answer. */
export const fail = (c: Context, status: number, error: string) => c.json({ error }, status as 400);
