// `podnet clean`: remove every podnet object found on the machine, also after a crash.
import type { Command } from 'commander';
import { cleanAll, requireRoot } from '../lab/lab.js';
import { labDeps, say, type GlobalOptions } from './context.js';

/** Registers `clean`. */
export function cleanCommand(program: Command, global: () => GlobalOptions): void {
  program.command('clean')
    .description('remove every podnet lab: processes and namespaces named podnet-* found in kernel state, and all lab state')
    .addHelpText('after', '\nExample:\n  podnet clean')
    .action(async () => {
      requireRoot('clean');
      const r = await cleanAll(labDeps(global()).deps);
      say(`removed ${r.netns.length} namespace(s), ${r.processes} process(es), ${r.labs.length} lab state dir(s)`);
    });
}
