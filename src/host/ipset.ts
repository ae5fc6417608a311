// ipset inside one namespace (ipset 7.17; sets live per network namespace): scripts fed to
// `ipset restore -exist` on stdin, and the sets read back with `ipset save` into ../model types.
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { HostError, classifyStderr } from './errors.js';
import { parseIpsetSave, type IpsetSet } from '../model/ipset.js';

/** ipset's complaint as a line number (when it named one) and a one-line message. */
export function ipsetErrorOf(stderr: string): { line?: number; message: string } {
  const m = /Error in line (\d+): (.*)$/m.exec(stderr);
  if (m) return { line: Number(m[1]), message: m[2].trim() };
  const first = stderr.split('\n').map((l) => l.trim()).find(Boolean) ?? 'failed';
  return { message: first.replace(/^ipset v[\d.]+: /, '') };
}

/** Runs a restore script (create/add/swap/flush/destroy lines) in one process; "exists" is fine.
 * Throws a HostError naming the script's line ipset refused. Equivalent to: `ipset restore -exist <<EOF` + script. */
export async function ipsetRestore(runner: Runner, ns: Netns, script: string): Promise<void> {
  if (script === '') return;
  const argv = inNetns(ns, 'ipset', ['restore', '-exist']);
  const r = await runner.run({ argv, input: script, mutates: true });
  if (r.exitCode === 0) return;
  const { line, message } = ipsetErrorOf(r.stderr);
  throw new HostError({ kind: classifyStderr(message), argv, exitCode: r.exitCode, stderr: r.stderr, ...(line !== undefined ? { line } : {}),
    message: `ipset restore${line !== undefined ? `: line ${line}` : ''}: ${message}` });
}

/** The namespace's sets with their members, as saved text. Equivalent to: `ipset save`. */
export async function ipsetSaveText(runner: Runner, ns: Netns): Promise<string> {
  return (await runOk(runner, { argv: inNetns(ns, 'ipset', ['save']), mutates: false })).stdout;
}

/** The namespace's sets with their members. Equivalent to: `ipset save` (the same as `ipset list -o save`). */
export async function ipsetSave(runner: Runner, ns: Netns): Promise<IpsetSet[]> {
  return parseIpsetSave(await ipsetSaveText(runner, ns));
}

/** The names of the namespace's sets. Equivalent to: `ipset list -n`. */
export async function ipsetNames(runner: Runner, ns: Netns): Promise<string[]> {
  const r = await runOk(runner, { argv: inNetns(ns, 'ipset', ['list', '-n']), mutates: false });
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}
