// What every lab operation needs from its caller: the machine, where state lives, and randomness.
import type { Host } from '../host/host.js';
import type { RandomSource } from './plan.js';

/** What lab operations need from their caller. */
export interface LabDeps {
  host: Host;
  stateRoot: string;
  random: RandomSource;
  /** Where a lab operation says what it could not do but went on without (a damaged state file). */
  warn?: (line: string) => void;
  /** Aborted when the user interrupts (Ctrl-C): the operation stops at its next step and unwinds. */
  signal?: AbortSignal;
}

/** The error an operation stops with when the user interrupted it. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/** Throws Interrupted when the user has interrupted the operation (a point where stopping is safe). */
export function checkpoint(deps: LabDeps): void {
  if (deps.signal?.aborted) throw new Interrupted();
}

/** How many pods are attached at once (the node side of concurrent ADDs shares one batch). A dry run
 * goes one pod at a time, so its script reads (and replays) in a fixed order. */
export const concurrency = (deps: LabDeps): number => (deps.host.dryRun ? 1 : Number(process.env.PODNET_CONCURRENCY) || 64);

/** Now, as lab state records it. */
export const now = (): string => new Date().toISOString();
