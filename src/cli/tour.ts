// `podnet tour [N]`: the blog as an executable, checked lesson on the learner's own lab — each step's
// command run for real, its output with what matters highlighted, a question answered by the kernel.
import type { Command } from 'commander';
import { labName, lazy, type GlobalOptions } from './flags.js';

/** Registers `tour`. */
export function tourCommand(program: Command, global: () => GlobalOptions): void {
  program.command('tour')
    .description('the blog as a lesson on your own lab: each step\'s command run for real, its output with what matters highlighted, and questions checked against the live kernel; progress saved')
    .argument('[chapter]', 'the chapter to take (its number, or its name: bridge); none: list the chapters and where you are')
    .option('--check', 'run every step (of every chapter, or of CHAPTER) without questions and verify each one holds on the kernel; exit 1 naming the first that does not')
    .option('--restart', 'take the chapter from its first step again')
    .option('--name <lab>', 'the lab the tour runs on (brought up for each chapter, left up to explore)', labName, 'tour')
    .option('--dir <dir>', 'chapters from this directory instead of podnet\'s (when writing one: docs/tour.md)')
    .addHelpText('after', '\nExamples:\n  podnet tour                 the chapters, and where you left off\n  sudo podnet tour 1          a pod is a network namespace\n  sudo podnet tour 3 --restart\n  sudo podnet tour --check    every step of every chapter, verified (what CI runs)\n  sudo podnet tour 2 --check --dir ./my-chapters')
    .action(lazy(() => import('./tour/action.js'), (m) => m.tourVerb, global));
}
