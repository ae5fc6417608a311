// The CLI: every verb's definition (flags, help, examples) is registered up front — they are small
// and load nothing heavy — and a verb's work is imported only when that verb runs (./flags.ts lazy).
// The one place that turns an error into `error: <one line>` and an exit code.
import { Command, CommanderError } from 'commander';
import { HostError } from '../host/errors.js';
import { packageVersion } from '../host/package-root.js';
import { endHelpers } from '../host/helper.js';
import { CniError } from '../cni/spec.js';
import { UserError, exitCodeOf } from '../model/errors.js';
import { labCommand } from './lab.js';
import { getCommand } from './get.js';
import { podCommands } from './pod.js';
import { cleanCommand } from './clean.js';
import { demoCommand } from './demo.js';
import { inspectCommand } from './inspect.js';
import { traceCommand } from './trace.js';
import { cniCommand } from './cni.js';
import { uiCommand } from './ui.js';
import { nodeCommands } from './node.js';
import { agentCommand } from './agent.js';
import { k8sCommands } from './k8s.js';
import { labelCommand } from './netpol.js';
import { doctorCommand } from './doctor.js';
import { tourCommand } from './tour.js';
import { say, type GlobalOptions } from './flags.js';
import { checkArgv } from './argv.js';
import { exitOnSignals } from './interrupt.js';

const START = `
Start with:
  podnet demo            the blog's K3s node: two pods, a ping, the veths, the FDB, a diagram
  podnet lab up          the same lab, quietly
  podnet get pods -o wide
  podnet exec pod1 -- ip addr
  podnet inspect          each pod: netns, eth0@ifN, host veth, bridge, MAC, hairpin
  podnet inspect fdb      what cni0 learned, joined to pods
  podnet graph -o svg > node.svg
  podnet trace pod1 pod2 --cold   one packet's journey, hop by hop
  podnet lab down`;


/** The program with every verb registered. */
export function program(): Command {
  const p = new Command('podnet')
    .description('build, show and explain Kubernetes pod networking from the Linux primitives it is made of')
    .version(packageVersion())
    .option('-v, --verbose', 'print every kernel command as it runs')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const global = (): GlobalOptions => p.opts<GlobalOptions>();
  for (const register of [demoCommand, labCommand, getCommand, podCommands, k8sCommands, labelCommand, inspectCommand, traceCommand, doctorCommand, tourCommand, nodeCommands, agentCommand, cniCommand, uiCommand, cleanCommand]) register(p, global);
  p.addHelpText('after', START);
  return p;
}

/** Runs the CLI with `argv` (process.argv form); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  exitOnSignals();
  try {
    const p = program();
    checkArgv(p, argv.slice(2));
    await p.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    say(`error: ${describe(e)}`);
    if (process.env.PODNET_DEBUG && e instanceof Error) say(e.stack ?? '');
    return e instanceof UserError ? exitCodeOf(e.kind) : 1;
  } finally {
    // The persistent helpers (rtnetlink, locks) are ended and reaped: a verb leaves no child behind.
    await endHelpers();
  }
}

/** One line for any error podnet can raise (a schema's error by its first issue). */
function describe(e: unknown): string {
  if (e instanceof UserError || e instanceof CniError || e instanceof HostError) return e.message;
  const issues = (e as { name?: string; issues?: { message: string }[] })?.issues;
  if ((e as Error)?.name === 'ZodError' && issues?.[0]) return issues[0].message;
  return e instanceof Error ? e.message : String(e);
}
