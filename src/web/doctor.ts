// `GET /api/doctor`: `podnet doctor`'s report on what the page shows (the same read-only collection
// the CLI makes), each finding with the drawn elements it concerns — its node(s), and the pod or
// Service its subject names — so the page can outline them when the finding is clicked.
import { doctor } from '../inspect/doctor/index.js';
import type { Finding } from '../model/doctor/types.js';
import { LabDir } from '../lab/state.js';
import type { LabDeps } from '../lab/deps.js';
import type { Target } from '../lab/target.js';
import type { DoctorDoc, TopologyDoc } from './api.js';

/** The element ids of `doc` a finding is about: `node:<name>` per node it names, the pods and Services its subject names. */
export function findingElements(f: Pick<Finding, 'node' | 'subject'>, doc: Pick<TopologyDoc, 'nodes' | 'services'>): string[] {
  const out = new Set<string>();
  const names = f.node.split(/,\s*/);
  for (const n of doc.nodes) if (names.includes(n.name)) out.add(n.id);
  const subject = f.subject ?? '';
  if (subject) {
    // A subject is a peer, a pod, a Service (`default/web`, `web`), an interface: match what is drawn.
    const words = new Set(subject.split(/[\s:,()]+/).filter(Boolean));
    for (const n of doc.nodes) for (const p of n.graph.pods) if (words.has(p.name) || subject === p.name) out.add(p.id);
    for (const s of doc.services ?? []) if (words.has(`${s.namespace}/${s.name}`) || words.has(s.name)) out.add(s.id);
    for (const n of doc.nodes) for (const r of n.graph.remotes) if (words.has(r.name) || words.has(r.ip)) out.add(r.id);
  }
  return [...out];
}

/** The doctor's report on the target (a lab's state read afresh: pods and Services come and go). */
export async function doctorDoc(deps: LabDeps, target: Target, doc: Pick<TopologyDoc, 'nodes' | 'services'>): Promise<DoctorDoc> {
  const t: Target = target.kind === 'lab' ? { ...target, state: (await new LabDir(deps.stateRoot, target.lab).read()) ?? target.state } : target;
  const report = await doctor(deps.host, t, deps.stateRoot);
  return { ...report, findings: report.findings.map((f) => ({ ...f, elements: findingElements(f, doc) })) };
}
