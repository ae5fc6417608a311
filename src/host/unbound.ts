// unbound, the cluster DNS server of a lab, driven through its control socket (a Unix socket, so
// podnet reaches the server in its pod's network namespace from anywhere on the machine).
import type { Runner, RunResult } from './runner.js';

/** Runs one unbound-control command against the server configured by `conf`. Equivalent to:
 * `unbound-control -c CONF ARGS…`. Resolves with its output, whatever the exit code. */
export function unboundControl(runner: Runner, conf: string, args: readonly string[], mutates = true): Promise<RunResult> {
  return runner.run({ argv: ['unbound-control', '-c', conf, ...args], mutates });
}

/** Makes the server read its configuration and records again without closing its sockets (queries
 * wait in the socket buffers for the ~10 ms it takes), retrying while the server is still starting
 * (no control socket yet) until `waitMs`. Equivalent to: `unbound-control -c CONF reload`. */
export async function unboundReload(runner: Runner, conf: string, waitMs = 3000): Promise<RunResult> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = await unboundControl(runner, conf, ['reload']);
    if (r.exitCode === 0 || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
}
