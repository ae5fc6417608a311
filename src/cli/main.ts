// The podnet command line: global flags, the verbs, and one place that turns errors into one line.
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { HostError } from '../host/errors.js';
import { CniError } from '../cni/spec.js';
import { LabError } from '../lab/errors.js';
import { TopologyError } from '../model/topology.js';
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
import { say, version, type GlobalOptions } from './context.js';

/** Runs the CLI with `argv` (process.argv form); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('podnet')
    .description('build, show and explain Kubernetes pod networking from the Linux primitives it is made of')
    .version(await version())
    .option('-v, --verbose', 'print every kernel command as it runs')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const global = (): GlobalOptions => program.opts<GlobalOptions>();
  demoCommand(program, global);
  labCommand(program, global);
  getCommand(program, global);
  podCommands(program, global);
  inspectCommand(program, global);
  traceCommand(program, global);
  nodeCommands(program, global);
  agentCommand(program, global);
  cniCommand(program, global);
  uiCommand(program, global);
  cleanCommand(program, global);
  program.addHelpText('after', '\nStart with:\n  podnet demo            the blog\'s K3s node: two pods, a ping, the interfaces, a diagram\n  podnet lab up          the same lab, quietly\n  podnet get pods -o wide\n  podnet exec pod1 -- ip addr\n  podnet inspect          each pod: netns, eth0@ifN, host veth, bridge, MAC, hairpin\n  podnet inspect fdb      what cni0 learned, joined to pods\n  podnet graph -o svg > node.svg\n  podnet trace pod1 pod2 --cold   one packet\'s journey, hop by hop\n  podnet lab down');
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    say(`error: ${describe(e)}`);
    if (process.env.PODNET_DEBUG && e instanceof Error) say(e.stack ?? '');
    return 1;
  }
}

/** One line for any error podnet can raise. */
function describe(e: unknown): string {
  if (e instanceof LabError || e instanceof TopologyError || e instanceof CniError || e instanceof HostError) return e.message;
  if (e instanceof ZodError) return e.issues[0]?.message ?? e.message;
  return e instanceof Error ? e.message : String(e);
}
