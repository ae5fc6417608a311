// The Services of `podnet graph` as DOT and Mermaid lines: a hexagon per Service (name,
// ClusterIP:port, type, NodePorts) and a directed-looking edge from it to each endpoint's pod
// interface, labelled with the endpoint (`10.42.1.3:8080`); an endpoint that is not ready is dashed.
// Appended to a node's or a cluster's drawing (the DOT lines are in dot.ts, beside dotString).
import { serviceLabel, type GraphService } from '../../views/graph-services.js';
import { mermaidLabel } from '../mermaid.js';

/** The Services' colours (fill, stroke). */
export const SERVICE_COLORS = ['#e0f7fa', '#00838f'] as const;
const [FILL, STROKE] = SERVICE_COLORS;

/** Mermaid lines for the Services, their edges and their class. */
export function serviceMermaidLines(services: readonly GraphService[] | undefined): string[] {
  const list = services ?? [];
  if (!list.length) return [];
  const out = ['    %% Services: ClusterIP → endpoints'];
  for (const s of list) out.push(`    ${s.id}{{"${mermaidLabel(serviceLabel(s).join(' '))}"}}`);
  for (const s of list) for (const e of s.edges) if (e.iface) out.push(`    ${s.id} ${e.ready ? '-->' : '-.->'}|"${mermaidLabel(`${e.port} → ${e.endpoint}`)}"| ${e.iface}`);
  out.push(`    classDef service fill:${FILL},stroke:${STROKE},stroke-width:2px,color:black`, `    class ${list.map((s) => s.id).join(',')} service`);
  return out;
}
