// `podnet doctor` for a resolved target: a lab (every node, or one), this host, or a namespace. Reads
// only — every command it runs is a read (`ip -json`, `bridge -json`, `nft -j list`, `iptables-save`,
// /proc, `ethtool -k`) — then diagnoses purely (src/model/doctor).
import type { Host } from '../../host/host.js';
import type { Target } from '../../lab/target.js';
import { targetLabel } from '../../lab/target.js';
import { diagnose, type DoctorInput } from '../../model/doctor/index.js';
import type { DoctorReport } from '../../model/doctor/types.js';
import { hostDoctorInput } from './host.js';
import { labDoctorInput } from './lab.js';

/** What diagnose needs for a target. */
export function doctorInput(h: Host, t: Target, stateRoot: string): Promise<DoctorInput> {
  if (t.kind === 'lab') return labDoctorInput(h, t.state, stateRoot, t.node !== undefined ? [t.node] : undefined);
  return hostDoctorInput(h, stateRoot, t.kind === 'netns' ? { netns: t.netns, label: t.label } : { label: 'this host' });
}

/** The report for a target: every root cause found, what breaks most first. */
export async function doctor(h: Host, t: Target, stateRoot: string): Promise<DoctorReport> {
  const input = await doctorInput(h, t, stateRoot);
  return {
    kind: 'DoctorReport', target: targetLabel(t), nodes: input.nodes.map((n) => n.obs.node), takenAt: new Date().toISOString(), findings: diagnose(input),
  };
}
