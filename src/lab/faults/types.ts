// What a fault is: a name, one line saying what it does, what it needs (a pod, a peer node, where),
// and how it is made — with the kernel's own tools, recording as it goes how to undo each change.
import type { LabDeps } from '../deps.js';
import type { NodePlan } from '../plan.js';
import type { LabDir, LabState, PodState } from '../state.js';
import type { UndoStep } from './undo.js';

/** Where an MTU fault goes. */
export const MTU_TARGETS = ['pod', 'cni0', 'flannel.1'] as const;
export type MtuTarget = (typeof MTU_TARGETS)[number];

/** The options a fault may take. */
export type FaultOption = 'pod' | 'on' | 'peer';

/** What a fault is injected with: the lab, the node, the resolved options, and the undo list it fills. */
export interface FaultContext {
  deps: LabDeps;
  dir: LabDir;
  state: LabState;
  node: NodePlan;
  pod?: PodState;
  on?: MtuTarget;
  peer?: NodePlan;
  /** Undo steps, pushed as each change is made (a failure part-way undoes what was made). */
  undo: UndoStep[];
}

/** One fault of the registry. */
export interface FaultDef {
  name: string;
  /** What it does, one line (`podnet lab break --list`). */
  summary: string;
  /** A fault of one node (`--node`), or of the cluster (its lease store, Services, DNS pod, policies). */
  scope: 'node' | 'cluster';
  options?: readonly FaultOption[];
  /** Why it cannot be injected on this machine, when it cannot. */
  unavailable?: string;
  inject(ctx: FaultContext): Promise<void>;
}
