// The lab a chapter needs, brought up for it and left up for the learner to explore: the learner's
// lab `tour` (or --name) is reused when it already has the chapter's nodes, pods and Services, and
// made again (down, then up, then the chapter's setup) when it does not.
import { labUp } from '../lab/lifecycle.js';
import { labDown } from '../lab/down.js';
import { LabDir, type LabState } from '../lab/state.js';
import type { LabDeps } from '../lab/deps.js';
import { labNames, type Chapter } from '../model/tour/chapter.js';
import { fill } from '../model/tour/template.js';
import { defaultTopology, k3sNodeNames, parseTopology, type Topology } from '../model/topology.js';
import { runCommand } from './command.js';
import { CheckFailed } from './checks.js';

/** The chapter's lab: `pods` pods over `nodes` nodes named as K3s names them (server, agent1, …). */
function topologyOf(nodes: number, pods: number): Topology {
  const raw = defaultTopology(pods) as Record<string, unknown>;
  return parseTopology({ ...raw, nodes: k3sNodeNames(nodes).map((name) => ({ name })) });
}

/** True when a lab that is up has what the chapter needs. */
export function labFits(state: LabState, lab: Chapter['lab']): boolean {
  const { nodes, pods } = labNames(lab);
  const have = new Set(state.pods.map((p) => p.name));
  const services = state.services ?? [];
  return state.plan.nodes.length === nodes.length
    && nodes.every((n, i) => state.plan.nodes[i]?.name === n)
    && pods.every((p) => have.has(p))
    && lab.services.every((s) => services.some((x) => x.name === s))
    && (!lab.dns || have.has('kube-dns'));
}

/** Brings up (or reuses) the chapter's lab; `note` is told what happened. Resolves with its state. */
export async function ensureLab(deps: LabDeps, name: string, chapter: Chapter, note: (line: string) => void): Promise<LabState> {
  const dir = new LabDir(deps.stateRoot, name);
  const existing = await dir.read();
  if (existing?.status === 'up' && labFits(existing, chapter.lab)) return existing;
  if (existing) {
    note(`lab "${name}" does not have what chapter ${chapter.number} needs: making it again`);
    await labDown(deps, name);
  }
  const t = performance.now();
  const topology = topologyOf(chapter.lab.nodes, chapter.lab.pods);
  let state = await labUp(deps, name, topology, { dns: chapter.lab.dns });
  for (const line of chapter.lab.setup) {
    const typed = fill(line, { lab: name, node: state.plan.nodes[0].name });
    const r = await runCommand(deps.host, typed, name);
    if (r.status !== 0) throw new CheckFailed(`${chapter.file}: lab.setup: \`${typed}\` failed: ${(r.output.trim().split('\n').pop() ?? '').slice(0, 200)}`);
  }
  if (chapter.lab.setup.length) state = (await dir.read()) ?? state;
  note(`lab "${name}" is up for chapter ${chapter.number}: ${state.plan.nodes.map((n) => n.name).join(', ')}; pods ${state.pods.map((p) => p.name).join(', ')} (${Math.round(performance.now() - t)} ms)`);
  return state;
}
