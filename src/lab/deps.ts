// What every lab operation needs from its caller: the machine, where state lives, and randomness.
import type { Host } from '../host/host.js';
import type { RandomSource } from './plan.js';

/** What lab operations need from their caller. */
export interface LabDeps {
  host: Host;
  stateRoot: string;
  random: RandomSource;
}

/** How many pods are attached at once (the node side of concurrent ADDs shares one batch). A dry run
 * goes one pod at a time, so its script reads (and replays) in a fixed order. */
export const concurrency = (deps: LabDeps): number => (deps.host.dryRun ? 1 : Number(process.env.PODNET_CONCURRENCY) || 64);

/** Now, as lab state records it. */
export const now = (): string => new Date().toISOString();
