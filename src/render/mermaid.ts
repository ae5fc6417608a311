// The topology as a Mermaid diagram shaped like the blog's: the node's interface, the cni0 bridge,
// one subgraph per pod network namespace holding eth0 and its IP, and the veth pairs between them.
import type { NodeDiagram } from '../model/views.js';

const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
const label = (s: string) => s.replace(/"/g, "'");

/** A `graph TB` Mermaid diagram of one or more nodes. */
export function renderMermaid(diagrams: readonly NodeDiagram[]): string {
  const out = ['graph TB'];
  const classes = { interface: [] as string[], bridge: [] as string[], namespace: [] as string[], veth: [] as string[] };
  for (const d of diagrams) {
    const n = id(d.node);
    const host = `${n}_${id(d.host.name)}`;
    const br = `${n}_${id(d.bridge.name)}`;
    out.push(`    %% node ${d.node}`);
    out.push(`    ${host}["Host Interface ${label(d.host.name)} ${label(d.host.ip)}"]`);
    out.push(`    ${br}["${label(d.bridge.name)} Bridge ${label(d.bridge.ip)}"]`);
    classes.interface.push(host);
    classes.bridge.push(br);
    for (const p of d.pods) {
      const ns = `${n}_${id(p.pod)}`;
      out.push(`    subgraph ${ns}["${label(p.pod)} Network Namespace"]`);
      out.push(`        ${ns}_eth0["${label(p.eth0)} ${label(p.ip)}"]`);
      out.push('    end');
      out.push(`    ${ns}_veth["${label(p.veth)}"]`);
      classes.namespace.push(ns);
      classes.veth.push(`${ns}_veth`, `${ns}_eth0`);
    }
    out.push(`    ${host} --- ${br}`);
    for (const p of d.pods) out.push(`    ${br} --- ${n}_${id(p.pod)}_veth`);
    for (const p of d.pods) out.push(`    ${n}_${id(p.pod)}_veth === ${n}_${id(p.pod)}_eth0`);
  }
  out.push(
    '    classDef interface fill:#d4edff,stroke:#0066cc,stroke-width:2px,color:black',
    '    classDef bridge fill:#ffecd4,stroke:#cc6600,stroke-width:2px,color:black',
    '    classDef namespace fill:#e8f5e9,stroke:#2e7d32,stroke-width:2px,color:black',
    '    classDef veth fill:#f3e5f5,stroke:#6a1b9a,stroke-width:2px,color:black',
  );
  for (const [cls, ids] of Object.entries(classes)) if (ids.length) out.push(`    class ${ids.join(',')} ${cls}`);
  return `${out.join('\n')}\n`;
}
