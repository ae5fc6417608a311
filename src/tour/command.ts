// A step's command, run as printed: split into words (no shell), `podnet` meaning this podnet (the same
// node and package the tour runs from), everything else a tool on PATH (ip, bridge, nsenter,
// tcpdump). Output is stdout and stderr together, as a terminal shows them.
import type { Host } from '../host/host.js';
import { packagePath } from '../host/package-root.js';
import { splitCommand } from '../model/tour/template.js';

/** What a command printed and its exit status. */
export interface CommandRun {
  argv: string[];
  output: string;
  status: number;
  ms: number;
}

/** The argv that runs `words`: `podnet …` is this package's launcher under this node. */
export function commandArgv(words: readonly string[]): string[] {
  return words[0] === 'podnet' ? [process.execPath, packagePath('bin', 'podnet.js'), ...words.slice(1)] : [...words];
}

/** Runs one command line (already filled in) and collects what it printed. */
export async function runCommand(host: Host, line: string, _lab: string): Promise<CommandRun> {
  const argv = commandArgv(splitCommand(line));
  const t = performance.now();
  const r = await host.runner.run({ argv, mutates: true });
  const output = r.stdout + (r.stderr && r.stdout && !r.stdout.endsWith('\n') ? '\n' : '') + r.stderr;
  return { argv, output, status: r.exitCode, ms: performance.now() - t };
}
