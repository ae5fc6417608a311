// The CLI column of the inspect benchmark: `podnet inspect --host -o json` as a user runs it (a fresh
// `node bin/podnet.js` process: Node start-up, module loading, the scan, the JSON), inside the node
// namespace of a 250-pod node wired by the reference plugins (bench/reference.ts: what a runtime with
// the Debian bridge + host-local makes — no podnet lab state, so podnet reads the machine as a K3s
// node's). Target (issue "Fast by default"): under 0.5 s.
import { join } from 'node:path';
import { exec, hex, median, random, ROOT, round, type Guard } from './common.js';
import { LOOPBACK_NETWORK, podNetwork, resolvePlan } from '../src/lab/plan.js';
import { defaultTopology, parseTopology } from '../src/model/topology.js';
import { ReferenceRun } from './reference.js';

/** The target: one `inspect --host -o json` of a 250-pod node, as a process, in under this (ms). */
export const CLI_TARGET_MS = 500;

/** What the CLI measurement found. */
export interface CliHostResult {
  pods: number;
  /** Every run, ms (spawn to exit). */
  samples: number[];
  medianMs: number;
  /** Pods the JSON named (must be `pods`). */
  podsSeen: number;
  target: { maxMs: number; met: boolean };
}

/** Brings up `pods` reference pods on a node namespace (prefix recorded in `prefixes` for the leftover
 * check), runs the CLI `reps` times after one unrecorded run, and takes it all down (also on failure). */
export async function inspectHostCli(tmp: string, guard: Guard, prefixes: string[], pods: number, reps: number): Promise<CliHostResult> {
  const prefix = `pnbins${hex(3)}-`;
  prefixes.push(prefix);
  const plan = resolvePlan('insbench', parseTopology(defaultTopology(pods)), random);
  const ref = new ReferenceRun(prefix, podNetwork(plan, plan.nodes[0], join(tmp, prefix, 'networks')), LOOPBACK_NETWORK);
  return guard.guarded(() => ref.cleanup(), async () => {
    console.error(`CLI: ${pods} pods wired by the reference plugins (not timed)`);
    const results = await ref.up(pods);
    // A state dir of its own: no lab state names these namespaces, so podnet reads them as a host's.
    const env = { ...process.env, PODNET_STATE_DIR: join(tmp, 'cli-state') };
    const argv = ['nsenter', `--net=/run/netns/${prefix}node`, process.execPath, join(ROOT, 'bin/podnet.js'), 'inspect', '--host', '-o', 'json'];
    const samples: number[] = [];
    let podsSeen = 0;
    for (let r = 0; r <= reps; r++) {
      if (guard.interrupted) throw new Error('interrupted');
      const run = await exec(argv, '', env);
      if (run.code !== 0) throw new Error(`podnet inspect --host exited ${run.code}: ${(run.stderr || run.stdout).trim().slice(0, 300)}`);
      podsSeen = countPods(run.stdout, prefix);
      if (r > 0) samples.push(round(run.ms));
    }
    if (podsSeen !== pods) throw new Error(`podnet inspect --host named ${podsSeen} of the ${pods} reference pods`);
    await ref.down(results);
    const medianMs = round(median(samples));
    return { pods, samples, medianMs, podsSeen, target: { maxMs: CLI_TARGET_MS, met: medianMs < CLI_TARGET_MS } };
  });
}

/** The rows of `inspect -o json` whose namespace is one of the reference pods. */
function countPods(stdout: string, prefix: string): number {
  const json = JSON.parse(stdout) as unknown;
  const rows = Array.isArray(json) ? json : ((json as { items?: unknown[]; pods?: unknown[] }).items ?? (json as { pods?: unknown[] }).pods ?? []);
  return new Set(rows.map((r) => JSON.stringify(r).match(new RegExp(`${prefix}cni-\\d+`))?.[0]).filter(Boolean)).size;
}
