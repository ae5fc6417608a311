// What every verb's definition needs, and nothing heavy: flag parsers that fail with one line, the
// output helpers, the root check. A verb file imports only this (and commander's types) at the top;
// the library it drives is imported when the verb runs (`podnet --help` loads no verb's library).
import type { Command } from 'commander';
import { UserError } from '../model/errors.js';
import { TopologyError, checkLabName } from '../model/names.js';

export { DEFAULT_LAB } from '../model/names.js';

/** Options shared by the verbs. */
export interface GlobalOptions {
  verbose?: boolean;
  dryRun?: boolean;
}

/** Writes to stdout. */
export const out = (text: string): void => { process.stdout.write(text); };
/** Writes a line to stderr. */
export const say = (line: string): void => { process.stderr.write(`${line}\n`); };

/** The width tables must fit: the terminal's columns, else $COLUMNS; undefined (no limit) when
 * neither is known (output to a pipe or a file keeps every value whole). */
export function terminalWidth(): number | undefined {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 20 ? env : undefined;
}

/** Parses --name: a lab name, checked before anything uses it as a path or a prefix. */
export function labName(v: string): string {
  return checkLabName(v);
}

/** The lab a verb acts on, and whether the user named it (a lab named and not up is an error for
 * reading verbs; the default lab not up means "this host"). */
export function labChoice(cmd: Command, name: string): { lab: string; labExplicit: boolean } {
  return { lab: name, labExplicit: cmd.getOptionValueSource('name') === 'cli' };
}

/** Parses -o: one of `allowed`, or a one-line error. */
export function outputFormat<T extends string>(o: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(o)) return o as T;
  throw new TopologyError('-o', `"${o}" is not an output format here (use ${allowed.join(', ')})`);
}

/** Parses a whole number option between `min` and `max`. */
export function positiveInt(name: string, max = 1000, noun = 'pods', min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < min || n > max) throw new TopologyError('', `${name}: "${v}" is not a number of ${noun} between ${min} and ${max}`);
    return n;
  };
}

/** Parses a TCP/UDP port (1-65535; with `allowZero`, 0 for "any free port"). */
export function portNumber(flag: string, allowZero = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < (allowZero ? 0 : 1) || n > 65535) throw new UserError('usage', `${flag}: "${v}" is not a port (1-65535${allowZero ? ', or 0 for any free port' : ''})`);
    return n;
  };
}

/** What a verb does that needs root, for the one line that says so. */
export type RootNeed = 'creates network namespaces' | 'reads every network namespace' | 'captures packets inside network namespaces' | 'changes a network namespace' | 'enters a network namespace' | 'binds the CNI socket under /run';

/** Raises when podnet is not root, saying what the verb needs it for. */
export function requireRoot(verb: string, need: RootNeed = 'creates network namespaces'): void {
  if (process.getuid?.() !== 0) throw new UserError('usage', `podnet ${verb} needs root (it ${need}): run it with sudo`);
}

/** A commander action that imports the module doing the work only when the verb runs, then calls
 * the function `pick` chooses with the global options and commander's arguments; `before` runs
 * first, with those arguments, and is waited for (to start what the verb will wait for while its
 * module loads: the load holds the thread, so what `before` only queued would start after it). */
export function lazy<M, A extends unknown[]>(load: () => Promise<M>, pick: (m: M) => (g: GlobalOptions, ...args: A) => Promise<void>, global: () => GlobalOptions, before?: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await before?.(...args);
    return pick(await load())(global(), ...args);
  };
}

/** `lazy` for a subcommand whose shared options live on its parent (`delete pod P --name L`: commander
 * gives a parent every option it declares, wherever it is typed): the options the verb gets are the
 * parent's with the subcommand's own over them. */
export function lazyUnder<M, A extends unknown[], O extends object>(load: () => Promise<M>, pick: (m: M) => (g: GlobalOptions, ...args: [...A, O]) => Promise<void>, global: () => GlobalOptions): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as { parent?: { opts(): object } | null };
    const own = args[args.length - 2] as O;
    const positional = args.slice(0, -2) as A;
    await pick(await load())(global(), ...positional, { ...(cmd.parent?.opts() ?? {}), ...own } as O);
  };
}
