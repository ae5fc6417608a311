// `podnet ui`'s server: the app on 127.0.0.1 (never another address), a live topology of the
// target, and a one-time login URL. close() ends it promptly and leaves nothing running: the live
// poll stops and a scan in flight is abandoned (scans only read), the listening socket, the event
// streams and keep-alive connections are closed, the ELK worker is terminated; only a trace or a
// change to the lab already under way is waited for (a trace stops its captures, a change completes
// or unwinds). The runner in `deps` belongs to the caller, who closes it after.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LabDeps } from '../lab/deps.js';
import type { Target } from '../lab/target.js';
import { UserError } from '../model/errors.js';
import { createApp } from './app.js';
import { Layouter } from './layouter.js';
import { Closed, LiveTopology } from './live.js';
import { abandonableHost, fingerprint, scanTarget } from './scan.js';
import { Sessions } from './security.js';
import { loadStatic } from './static.js';

/** The address the UI listens on: this machine only (reach it from elsewhere with `ssh -L`). */
export const UI_ADDRESS = '127.0.0.1';

export interface UiOptions {
  deps: LabDeps;
  /** A lab (its state re-read at every scan: pods come and go) or this host; a namespace too. */
  target: Target;
  /** Lets the page add and delete pods and add nodes (labs only). */
  allowChanges: boolean;
  /** 0: any free port. */
  port: number;
  /** Where unexpected errors go (default: stderr). */
  log?: (e: unknown) => void;
  /** The live poll's period, ms (default 250). */
  tickMs?: number;
}

export interface UiServer {
  port: number;
  /** `http://127.0.0.1:PORT/?token=…`: opens one session. */
  url: string;
  /** Another one-time login URL (tests, benchmarks). */
  loginUrl(): string;
  live: LiveTopology;
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startUi(o: UiOptions): Promise<UiServer> {
  if (o.target.kind !== 'lab' && o.allowChanges) throw new UserError('conflict', '--allow-changes works with labs only: --host shows this machine read-only');
  const log = o.log ?? ((e: unknown) => process.stderr.write(`podnet ui: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`));
  const layouter = new Layouter();
  const stopping = new AbortController();
  const scanHost = abandonableHost(o.deps.host, stopping.signal);
  const live = new LiveTopology({
    scan: () => scanTarget(scanHost, o.target, o.deps.stateRoot),
    layout: (doc) => layouter.layout(doc),
    fingerprint: () => fingerprint(o.target, o.deps.stateRoot),
    readOnly: o.target.kind !== 'lab' || !o.allowChanges,
    ...(o.tickMs ? { tickMs: o.tickMs } : {}),
    onError: log,
  });
  const sessions = new Sessions();
  let port = o.port;
  // Traces and changes under way: close() lets them finish (their own clean-up included).
  const lasting = new Set<Promise<unknown>>();
  const mustFinish = <T>(work: () => Promise<T>): Promise<T> => {
    if (stopping.signal.aborted) return Promise.reject(new Closed());
    const p = work();
    const settled = p.then(() => undefined, () => undefined);
    lasting.add(settled);
    void settled.then(() => lasting.delete(settled));
    return p;
  };
  const app = createApp({ deps: o.deps, target: o.target, allowChanges: o.allowChanges, live, sessions, port: () => port, files: await loadStatic(), log, mustFinish });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: o.port, hostname: UI_ADDRESS }, () => resolve(s as Server)) as Server;
    s.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new UserError('conflict', `port ${o.port} on ${UI_ADDRESS} is in use: pick another with --port, or leave it out for any free port`) : e));
  });
  port = (server.address() as AddressInfo).port;
  // Read and lay out the target now, so the first page shows it at once (ELK warms up meanwhile).
  void layouter.warm();
  live.refresh().catch((e: unknown) => { if (!(e instanceof Closed)) log(e); });
  const loginUrl = () => `http://${UI_ADDRESS}:${port}/?token=${sessions.mintToken()}`;
  return {
    port,
    url: loginUrl(),
    loginUrl,
    live,
    close: async () => {
      stopping.abort();
      live.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, layouter.close(), ...lasting]);
    },
  };
}
