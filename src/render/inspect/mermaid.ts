// `podnet graph -o mermaid`: the host's topology in the blog diagram's shape, drawn by the writer
// the lab's diagram uses (../mermaid.ts), and a lab's Services after it (graph-services.ts).
import { renderTopologyMermaid } from '../mermaid.js';
import type { GraphModel } from '../../views/graph.js';
import { serviceMermaidLines } from './graph-services.js';

/** A `graph TB` Mermaid diagram of one or more graph models (one per node). */
export function renderGraphMermaid(models: GraphModel | readonly GraphModel[]): string {
  const list: readonly GraphModel[] = Array.isArray(models) ? models : [models as GraphModel];
  return withServices(renderTopologyMermaid(list), list.flatMap((g) => g.services ?? []));
}

/** A Mermaid diagram with the Services' lines appended (Mermaid takes statements in any order). */
export function withServices(mermaid: string, services: Parameters<typeof serviceMermaidLines>[0]): string {
  const more = serviceMermaidLines(services);
  return more.length ? `${mermaid}${more.join('\n')}\n` : mermaid;
}
