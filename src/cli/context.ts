// What verbs need once they run (imported by their actions, never by their definitions): the runner
// chosen by -v/--dry-run, the lab's dependencies, the topology file reader, facts about this machine.
import { secureRandom } from '../host/random.js';
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { Host } from '../host/host.js';
import { packageVersion } from '../host/package-root.js';
import { RecordingRunner, VerboseRunner, emptyAnswer, type Runner } from '../host/runner.js';
import { ShellRunner } from '../host/shell-runner.js';
import { useLockHelper } from '../host/lock-helper.js';
import { stateRoot } from '../lab/state.js';
import type { LabDeps } from '../lab/deps.js';
import { z } from 'zod';
import { say, type GlobalOptions } from './flags.js';

// A CLI run parses each schema once or twice: zod's compiled fast path costs more to build (~10 ms
// for state.json) than it saves. Long-running verbs (ui, cni serve) parse small bodies too.
z.config({ jitless: true });

/** The lab dependencies for these options; with --dry-run, the recorder (to print its script after). */
export function labDeps(opts: GlobalOptions, shells = 4): { deps: LabDeps; recorder?: RecordingRunner } {
  // Locks (the lab's, host-local's, flannel's) through one persistent helper: a lab of 100 pods took
  // ~14 of them, each a `flock` child costing a spawn; one lock costs the helper's start, the same.
  useLockHelper();
  const exec = new ShellRunner(shells);
  let runner: Runner = exec;
  let recorder: RecordingRunner | undefined;
  if (opts.dryRun) {
    // Reads still look at the machine (so a dry run on a live lab is accurate); writes are only printed.
    recorder = new RecordingRunner(async (cmd) => {
      const r = await exec.run(cmd);
      return r.exitCode === 0 ? r : emptyAnswer(cmd);
    });
    runner = recorder;
  }
  if (opts.verbose && !opts.dryRun) runner = new VerboseRunner(runner, say);
  return { deps: { host: new Host(runner, !!opts.dryRun), stateRoot: stateRoot(), random: secureRandom }, recorder };
}


/** What `get nodes` shows for every node: OS image, kernel, version. */
export async function hostFacts(): Promise<{ osImage: string; kernelVersion: string; version: string }> {
  let osImage = 'Linux';
  try {
    osImage = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1] ?? osImage;
  } catch { /* keep "Linux" */ }
  return { osImage, kernelVersion: release(), version: `v${packageVersion()}+podnet` };
}
