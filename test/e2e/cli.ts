// Shared harness of the e2e tier: runs the podnet CLI exactly as a user does (`node bin/podnet.js …`,
// a child process, stdin/stdout/stderr through pipes), always with a private state dir
// (PODNET_STATE_DIR) and a bounded wait; plus the tear-down every file runs in `after`.
// Kernel facts are read with the kernel tier's independent readers (test/kernel/helpers.ts).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leftoversOf, uniqueName } from '../kernel/helpers.js';

/** The project root (this file runs from dist/test/e2e/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The CLI's launcher, as package.json's "bin" names it. */
export const BIN = join(ROOT, 'bin', 'podnet.js');
/** The bound on one CLI run. */
export const CLI_TIMEOUT_MS = 60_000;
/** Test options for anything that brings a lab up. */
export const T = { timeout: 90_000 };

/** What one CLI run did. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the run was killed for exceeding its bound. */
  timedOut: boolean;
}

export interface CliOptions {
  /** The state dir (PODNET_STATE_DIR); required so no run ever touches the machine's default labs. */
  stateDir: string;
  /** Written to the CLI's stdin (then closed); default: stdin closed at once. */
  input?: string;
  timeoutMs?: number;
  /** Extra environment. */
  env?: Record<string, string>;
  /** argv placed before `node bin/podnet.js` (e.g. `nsenter --mount=…`, `setpriv …`). */
  wrap?: readonly string[];
  cwd?: string;
}

/** A lab name nobody else uses: `e2e` + 6 hex digits (≤ 20 characters, the lab name alphabet). */
export function labName(): string {
  return uniqueName('e2e');
}

/** A fresh private state dir. */
export function newStateDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `podnet-e2e-${label}-`));
}

/** Runs `podnet ARGS…` and collects its output; kills it (SIGKILL) after the bound. */
export function podnet(args: readonly string[], o: CliOptions): Promise<CliResult> {
  return runCli([...(o.wrap ?? []), process.execPath, BIN, ...args], o);
}

/** Runs any argv (a shell pipeline around the CLI, npx) with the same environment and bound as `podnet`. */
export function runCli(argv: readonly string[], o: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: o.cwd ?? ROOT,
      env: { ...process.env, ...o.env, PODNET_STATE_DIR: o.stateDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.stdin.on('error', () => undefined); // the CLI may exit before reading its stdin
    child.stdin.end(o.input ?? '');
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, o.timeoutMs ?? CLI_TIMEOUT_MS);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A one-line summary of a run, for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${String(r.code)}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' TIMED OUT' : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Asserts-style check used by every "bad input" case: exit 1, nothing on stdout, and exactly one
 * stderr line `error: …`. Returns that line (without `error: `) or throws with the whole run. */
export function oneErrorLine(r: CliResult): string {
  const ok = r.code === 1 && !r.timedOut && r.stdout === '' && /^error: [^\n]+\n$/.test(r.stderr);
  if (!ok) throw new Error(`expected exit 1, empty stdout and exactly one "error: …" line on stderr; got ${show(r)}`);
  return r.stderr.slice('error: '.length, -1);
}

/** True when lab `lab` has a state dir under `stateDir`. */
export function hasStateDir(stateDir: string, lab: string): boolean {
  return existsSync(join(stateDir, lab));
}

/** Tear-down for `after`: `podnet lab down --name L` for every lab (through the CLI, as a user),
 * then checks from the kernel and /proc that nothing of them is left; anything left is removed by
 * force (only the lab's own marked processes and `podnet-<lab>-` namespaces) and the hook fails.
 * Removes the state dirs last. Never runs `podnet clean` (it would remove other tests' labs). */
export async function tearDown(labs: readonly { lab: string; stateDir: string }[], dirs: readonly string[]): Promise<void> {
  const problems: string[] = [];
  for (const { lab, stateDir } of labs) {
    let r: CliResult | undefined;
    try {
      r = await podnet(['lab', 'down', '--name', lab], { stateDir });
    } catch (e) {
      problems.push(`lab down --name ${lab}: ${(e as Error).message}`);
    }
    if (r && r.code !== 0) problems.push(`lab down --name ${lab}: ${show(r)}`);
    const left = await leftoversOf(lab);
    if (left) problems.push(left);
    if (hasStateDir(stateDir, lab)) problems.push(`lab ${lab} left its state dir ${join(stateDir, lab)}`);
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  if (problems.length) throw new Error(problems.join('; '));
}

/** The data rows of a kubectl-style table, split on its column gaps, keyed by header. */
export function table(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trimEnd().split('\n');
  const headers = head.split(/ {3,}/);
  return rows.map((r) => Object.fromEntries(r.split(/ {3,}/).map((v, i) => [headers[i], v])));
}
