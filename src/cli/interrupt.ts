// Ctrl-C (SIGINT) and SIGTERM during a verb that makes things (lab up, node add, run): the first
// signal stops the work at its next step, what was made is unwound, one line says so, and podnet
// exits 130 (SIGINT) or 143 (SIGTERM). A second signal stops the unwinding too, and says what to run.
import { Interrupted } from '../lab/deps.js';
import { say } from './flags.js';

/** Runs `fn` with an AbortSignal the first SIGINT/SIGTERM aborts; `what` names the work for the line
 * printed, `cleanup` the command that removes what is left if the unwinding is stopped. */
export async function interruptible<T>(what: string, cleanup: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const controller = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!caught) {
      caught = sig;
      say(`${sig}: stopping ${what} and removing what it made (again to stop now)`);
      controller.abort(new Interrupted());
      return;
    }
    say(`${sig}: stopped while removing what ${what} made: run \`${cleanup}\` to remove what is left`);
    process.exit(sig === 'SIGTERM' ? 143 : 130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } catch (e) {
    if (!(e instanceof Interrupted) && !caught) throw e;
    say(`${what}: interrupted; what it made was removed`);
    process.exitCode = caught === 'SIGTERM' ? 143 : 130;
    return undefined;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Until a verb handles SIGINT/SIGTERM itself, either signal ends podnet with one line and the
 * shell's code (130/143) — also while the verb's modules are still loading. A verb that installs its
 * own handler (lab up, ui, agent, cni serve) takes over: this one then does nothing. */
export function exitOnSignals(): void {
  const onSignal = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    say(`${sig}: stopped`);
    process.exit(sig === 'SIGTERM' ? 143 : 130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
