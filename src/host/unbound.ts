// unbound, the cluster DNS server of a lab, driven through its control socket (a Unix socket, so
// podnet reaches the server in its pod's network namespace from anywhere on the machine).
//
// The socket speaks unbound's plain control protocol when certificates are off (podnet's servers run
// with `control-use-cert: no`): the client writes `UBCT1 COMMAND ARGS…\n` and reads until the server
// closes; an answer that starts with "error" is a failure. So a runner that really runs commands
// talks to the socket from podnet's process instead of starting unbound-control (~20 ms a call on a
// slow machine, against ~3), answering as unbound-control would: its output, exit 1 on "error…"
// and when there is no server to reach. `-v` and `--dry-run` still print the unbound-control command.
import { connect } from 'node:net';
import type { Runner, RunResult } from './runner.js';

/** An unbound-control command as podnet can send it over the control socket itself. */
export interface UnboundWork {
  /** The server's control socket (its `control-interface`). */
  socket: string;
  args: readonly string[];
}

/** How long one exchange on the control socket may take before it fails as unbound-control's would. */
const EXCHANGE_MS = 5000;

/** Runs one unbound-control command against the server configured by `conf`. Equivalent to:
 * `unbound-control -c CONF ARGS…`. With the server's control `socket`, a real runner may talk to it
 * directly (see the top of this file). Resolves with its output, whatever the exit code. */
export function unboundControl(runner: Runner, conf: string, args: readonly string[], mutates = true, socket?: string): Promise<RunResult> {
  return runner.run({ argv: ['unbound-control', '-c', conf, ...args], mutates, ...(socket ? { inProcess: () => runByUnboundSocket({ socket, args }) } : {}) });
}

/** Makes the server read its configuration and records again without closing its sockets (queries
 * wait in the socket buffers for the ~10 ms it takes), retrying while the server is still starting
 * (no control socket yet) until `waitMs`. Equivalent to: `unbound-control -c CONF reload`. */
export async function unboundReload(runner: Runner, conf: string, waitMs = 3000, socket?: string): Promise<RunResult> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = await unboundControl(runner, conf, ['reload'], true, socket);
    if (r.exitCode === 0 || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Carries out `work` over the control socket, answering as unbound-control would. */
export function runByUnboundSocket(work: UnboundWork): Promise<RunResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (r: RunResult) => {
      if (settled) return;
      settled = true;
      s.destroy();
      resolve(r);
    };
    const s = connect(work.socket);
    s.setTimeout(EXCHANGE_MS, () => done({ stdout: '', stderr: `error: timed out talking to ${work.socket}\n`, exitCode: 1 }));
    s.on('connect', () => s.end(`UBCT1 ${work.args.join(' ')}\n`));
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('error', (e: NodeJS.ErrnoException) => done({ stdout: '', stderr: `error: connect: ${e.message} for ${work.socket}\n`, exitCode: 1 }));
    s.on('close', () => {
      const stdout = Buffer.concat(chunks).toString();
      done({ stdout, stderr: '', exitCode: stdout.startsWith('error') ? 1 : 0 });
    });
  });
}
