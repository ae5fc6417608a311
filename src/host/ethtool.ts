// A device's offload features through ethtool, inside its namespace: read (`ethtool -k`) and set one
// (`ethtool -K`), as a fault and its undo do with checksum offload.
import type { Runner } from './runner.js';
import { runOk } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { parseEthtoolFeatures } from '../model/doctor/check-counters.js';

/** A device's features (`tx-checksum-ip-generic` → on), `[fixed]` ones included; undefined when the
 * device does not exist. Equivalent to: `nsenter --net=NS ethtool -k DEV`. */
export async function ethtoolFeatures(runner: Runner, ns: Netns, dev: string): Promise<Record<string, boolean> | undefined> {
  const r = await runner.run({ argv: inNetns(ns, 'ethtool', ['-k', dev]), mutates: false });
  return r.exitCode === 0 ? parseEthtoolFeatures(r.stdout) : undefined;
}

/** Turns a feature on or off. Equivalent to: `nsenter --net=NS ethtool -K DEV FEATURE on|off`. */
export async function ethtoolSet(runner: Runner, ns: Netns, dev: string, feature: string, on: boolean): Promise<void> {
  await runOk(runner, { argv: inNetns(ns, 'ethtool', ['-K', dev, feature, on ? 'on' : 'off']), mutates: true });
}
