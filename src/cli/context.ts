// What verbs need once they run (imported by their actions, never by their definitions): the runner
// chosen by -v/--dry-run, the lab's dependencies, the topology file reader, facts about this machine.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { Host } from '../host/host.js';
import { RecordingRunner, VerboseRunner, emptyAnswer, type Runner } from '../host/runner.js';
import { ShellRunner } from '../host/shell-runner.js';
import { stateRoot } from '../lab/state.js';
import type { LabDeps } from '../lab/deps.js';
import { defaultTopology, parseTopology, TopologyError, type Topology } from '../model/topology.js';
import { say, type GlobalOptions } from './flags.js';

/** The lab dependencies for these options; with --dry-run, the recorder (to print its script after). */
export function labDeps(opts: GlobalOptions, shells = 4): { deps: LabDeps; recorder?: RecordingRunner } {
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
  return { deps: { host: new Host(runner, !!opts.dryRun), stateRoot: stateRoot(), random: (n) => new Uint8Array(randomBytes(n)) }, recorder };
}

/** Reads a topology: a YAML file (`-f`), or the default; `--pods N` replaces the pods with pod1…podN. */
export async function loadTopology(file: string | undefined, pods: number | undefined, nodes?: number): Promise<Topology> {
  let raw: Record<string, unknown> = defaultTopology(pods ?? 2) as Record<string, unknown>;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TopologyError('', code === 'ENOENT' ? `${file}: no such file (check the path given to -f)` : `${file}: cannot read it (${code ?? (e as Error).message})`);
    }
    try {
      raw = (YAML.parse(text) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new TopologyError('', `${file}: not valid YAML (${(e as Error).message.split('\n')[0].replace(/:$/, '')}): fix the line it names`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new TopologyError('', `${file}: the top level must be a mapping (name:, nodes:, pods:)`);
    if (pods !== undefined) raw = { ...raw, pods: (defaultTopology(pods) as { pods: unknown[] }).pods };
  }
  // K3s's names: the first node is the server, the others agent1, agent2, …
  if (nodes !== undefined) raw = { ...raw, nodes: Array.from({ length: nodes }, (_, i) => ({ name: i === 0 ? 'server' : `agent${i}` })) };
  try {
    return parseTopology(raw);
  } catch (e) {
    if (e instanceof TopologyError && file) throw new TopologyError('', `${file}: ${e.message}`);
    throw e;
  }
}

/** podnet's version, from package.json. */
export async function version(): Promise<string> {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json');
  return (JSON.parse(await readFile(pkg, 'utf8')) as { version: string }).version;
}

/** What `get nodes` shows for every node: OS image, kernel, version. */
export async function hostFacts(): Promise<{ osImage: string; kernelVersion: string; version: string }> {
  let osImage = 'Linux';
  try {
    osImage = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1] ?? osImage;
  } catch { /* keep "Linux" */ }
  return { osImage, kernelVersion: release(), version: `v${await version()}+podnet` };
}
