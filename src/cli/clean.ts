// `podnet clean`: remove every podnet object found on the machine, also after a crash.
import type { Command } from 'commander';
import { lazy, requireRoot, say, type GlobalOptions } from './flags.js';

/** `podnet clean`. */
async function clean(g: GlobalOptions): Promise<void> {
  requireRoot('clean', 'changes a network namespace');
  const [{ labDeps }, { cleanAll }] = await Promise.all([import('./context.js'), import('../lab/clean.js')]);
  const r = await cleanAll(labDeps(g).deps);
  say(`removed ${r.netns.length} namespace(s), ${r.processes} process(es), ${r.labs.length} lab state dir(s)${r.traces.length ? `, ${r.traces.length} trace instance(s)` : ''}`);
}

/** Registers `clean`. */
export function cleanCommand(program: Command, global: () => GlobalOptions): void {
  program.command('clean')
    .description('remove every podnet lab: processes and namespaces named podnet-* found in kernel state, and all lab state')
    .addHelpText('after', '\nExample:\n  podnet clean')
    .action(lazy(async () => ({ clean }), (m) => m.clean, global));
}
