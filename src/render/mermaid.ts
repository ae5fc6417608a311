// Topologies as Mermaid diagrams shaped like the blog's: `graph TB`, the host interface, the cni0
// bridge, one subgraph per pod network namespace holding eth0 and its IP, the veth pairs as `===`
// edges, and the blog's colours; also VXLAN devices (flannel.1) with the remote nodes they send
// to, and veths without a pod. One writer serves `podnet graph` (inspect/mermaid.ts), the demo and
// the tour.
import { addressOf } from '../model/ip.js';

/** What the writer draws, wired by ids; `podnet graph`'s GraphModel has this shape. */
export interface MermaidTopology {
  node: string;
  interfaces: { id: string; name: string; ips: string[] }[];
  bridges: { id: string; name: string; ips: string[]; uplink: string }[];
  vxlans: { id: string; name: string; ips: string[]; vni: number; dstport: number; underlay: string }[];
  /** Remote nodes reached through a VXLAN device (`vxlan` is its id). */
  remotes?: { id: string; name: string; ip: string; subnet: string; vtepMac: string; vxlan: string }[];
  veths: { id: string; label: string; bridge: string; peer: string; iface: string }[];
  pods: { id: string; name: string; ifaces: { id: string; label: string; ips: string[]; veth: string }[] }[];
}

/** Text inside a quoted Mermaid label, with Mermaid's entity codes for what would end or break it. */
export const mermaidLabel = (s: string): string =>
  s.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');

const CLASS_DEFS = {
  interface: 'fill:#d4edff,stroke:#0066cc,stroke-width:2px,color:black',
  bridge: 'fill:#ffecd4,stroke:#cc6600,stroke-width:2px,color:black',
  namespace: 'fill:#e8f5e9,stroke:#2e7d32,stroke-width:2px,color:black',
  veth: 'fill:#f3e5f5,stroke:#6a1b9a,stroke-width:2px,color:black',
  overlay: 'fill:#fff8c4,stroke:#8a6d00,stroke-width:2px,color:black',
  remote: 'fill:#ffffff,stroke:#8a6d00,stroke-width:2px,stroke-dasharray:5 5,color:black',
};

const ips = (list: string[]) => list.map((ip) => addressOf(ip)).join(' ');
const join = (...parts: string[]) => parts.filter((p) => p !== '').join(' ');
const vethLabel = (v: MermaidTopology['veths'][number]) => (v.iface ? v.label : `${v.label}, peer ${v.peer}`);

/** What a cluster adds to the nodes' drawings: the underlay switch and its ports, and the tunnels. */
export interface MermaidCluster {
  underlay?: { name: string; bridge: { id: string; name: string; ips: string[] }; ports: { id: string; label: string; iface: string }[] };
  tunnels: { from: { vxlan: string }; to: { vxlan: string }; vtepMac: string }[];
}

/** A `graph TB` Mermaid diagram of one or more hosts' topologies (and, for a cluster, its switch and tunnels). */
export function renderTopologyMermaid(list: readonly MermaidTopology[], cluster: MermaidCluster = { tunnels: [] }): string {
  const out = ['graph TB'];
  const classes: Record<keyof typeof CLASS_DEFS, string[]> = { interface: [], bridge: [], namespace: [], veth: [], overlay: [], remote: [] };
  const node = (id: string, text: string, indent = '    ') => out.push(`${indent}${id}["${mermaidLabel(text)}"]`);
  for (const g of list) {
    out.push(`    %% node ${g.node.replace(/[\r\n]+/g, ' ')}`);
    for (const i of g.interfaces) {
      node(i.id, join('Host Interface', i.name, ips(i.ips)));
      classes.interface.push(i.id);
    }
    for (const b of g.bridges) {
      node(b.id, join(b.name, 'Bridge', b.ips.join(' ')));
      classes.bridge.push(b.id);
    }
    for (const x of g.vxlans) {
      node(x.id, join(x.name, 'VXLAN', x.ips.join(' '), x.vni ? `vni ${x.vni}` : '', x.dstport ? `udp ${x.dstport}` : ''));
      classes.overlay.push(x.id);
    }
    for (const r of g.remotes ?? []) {
      node(r.id, join('Node', r.name, r.ip !== r.name ? r.ip : '', r.subnet ? `pods ${r.subnet}` : ''));
      classes.remote.push(r.id);
    }
    const drawn = new Set<string>();
    for (const p of g.pods) {
      out.push(`    subgraph ${p.id}["${mermaidLabel(`${p.name} Network Namespace`)}"]`);
      for (const i of p.ifaces) node(i.id, join(i.label, ips(i.ips)), '        ');
      out.push('    end');
      classes.namespace.push(p.id);
      for (const i of p.ifaces) {
        const v = g.veths.find((x) => x.id === i.veth);
        if (!v) continue;
        node(v.id, vethLabel(v));
        drawn.add(v.id);
        classes.veth.push(v.id, i.id);
      }
    }
    for (const v of g.veths.filter((x) => !drawn.has(x.id))) {
      node(v.id, vethLabel(v));
      classes.veth.push(v.id);
    }
    for (const b of g.bridges) if (b.uplink) out.push(`    ${b.uplink} --- ${b.id}`);
    for (const x of g.vxlans) if (x.underlay) out.push(`    ${x.underlay} -.- ${x.id}`);
    for (const r of g.remotes ?? []) if (r.vxlan) out.push(`    ${r.vxlan} -.-|"${mermaidLabel(r.vtepMac ? `VTEP ${r.vtepMac}` : 'VXLAN')}"| ${r.id}`);
    for (const v of g.veths) if (v.bridge) out.push(`    ${v.bridge} --- ${v.id}`);
    for (const v of g.veths) if (v.iface) out.push(`    ${v.id} === ${v.iface}`);
  }
  const u = cluster.underlay;
  if (u) {
    out.push('    %% the underlay switch');
    out.push(`    subgraph underlay["${mermaidLabel(`${u.name} Underlay Switch`)}"]`);
    node(u.bridge.id, join(u.bridge.name, 'Bridge', u.bridge.ips.join(' ')), '        ');
    for (const p of u.ports) node(p.id, p.label, '        ');
    out.push('    end');
    classes.bridge.push(u.bridge.id);
    classes.veth.push(...u.ports.map((p) => p.id));
    for (const p of u.ports) out.push(`    ${u.bridge.id} --- ${p.id}`);
    for (const p of u.ports) if (p.iface) out.push(`    ${p.id} === ${p.iface}`);
  }
  for (const t of cluster.tunnels) out.push(`    ${t.from.vxlan} -.-|"${mermaidLabel(t.vtepMac ? `VXLAN to VTEP ${t.vtepMac}` : 'VXLAN')}"| ${t.to.vxlan}`);
  const optional = new Set(['overlay', 'remote']);
  for (const [cls, def] of Object.entries(CLASS_DEFS)) if (!optional.has(cls) || classes[cls as keyof typeof CLASS_DEFS].length) out.push(`    classDef ${cls} ${def}`);
  for (const [cls, ids] of Object.entries(classes)) if (ids.length) out.push(`    class ${ids.join(',')} ${cls}`);
  return `${out.join('\n')}\n`;
}
