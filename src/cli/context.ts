// What every verb needs: the runner chosen by -v/--dry-run, the lab's dependencies, output helpers,
// and the topology file reader.
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
import type { LabDeps } from '../lab/lab.js';
import { checkLabName, defaultTopology, parseTopology, TopologyError, type Topology } from '../model/topology.js';

/** The lab every command acts on when --name is not given. */
export const DEFAULT_LAB = 'demo';

/** Options shared by the verbs. */
export interface GlobalOptions {
  verbose?: boolean;
  dryRun?: boolean;
}

/** Writes to stdout. */
export const out = (text: string) => process.stdout.write(text);
/** Writes a line to stderr. */
export const say = (line: string) => process.stderr.write(`${line}\n`);

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

/** Parses --name: a lab name, checked before anything uses it as a path or a prefix. */
export function labName(v: string): string {
  return checkLabName(v);
}

/** Parses -o for listings: one of `allowed`, or a one-line error. */
export function outputFormat<T extends string>(o: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(o)) return o as T;
  throw new TopologyError('-o', `"${o}" is not an output format here (use ${allowed.join(', ')})`);
}

/** Parses a positive integer option. */
export function positiveInt(name: string, max = 1000, noun = 'pods') {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new TopologyError('', `${name}: "${v}" is not a number of ${noun} between 0 and ${max}`);
    return n;
  };
}
