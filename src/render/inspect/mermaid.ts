// `podnet graph -o mermaid`: the host's topology in the blog diagram's shape, drawn by the writer
// the lab's diagram uses (../mermaid.ts).
import { renderTopologyMermaid } from '../mermaid.js';
import type { GraphModel } from '../../views/graph.js';

/** A `graph TB` Mermaid diagram of one or more graph models (one per node). */
export function renderGraphMermaid(models: GraphModel | readonly GraphModel[]): string {
  return renderTopologyMermaid(Array.isArray(models) ? models : [models as GraphModel]);
}
