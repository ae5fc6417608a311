// `podnet demo`: the blog's session in one command — a K3s node with two busybox pods, the pods
// like kubectl shows them, a ping from pod1 to pod2, each veth matched to its pod, what the bridge
// learned, and the topology as the blog draws it. The lab stays up for the user to explore.
import type { Command } from 'commander';
import { lazy, type GlobalOptions } from './flags.js';

/** Registers `demo`. */
export function demoCommand(program: Command, global: () => GlobalOptions): void {
  program.command('demo')
    .description('bring up the blog\'s K3s node (pods pod1, pod2), ping between them, show the veths, the FDB and the diagram')
    .addHelpText('after', '\nExample:\n  sudo podnet demo     (then: podnet exec pod1 -- ip addr; podnet lab down)')
    .action(lazy(() => import('./actions/demo.js'), (m) => m.demoVerb, global));
}
