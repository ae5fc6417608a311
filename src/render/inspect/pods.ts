// The columns of `podnet inspect`: how the rows of src/views/pods.ts are printed as a table.
import type { Column } from '../table.js';
import type { InspectPodRow } from '../../views/pods.js';
import { bare, dash } from '../../views/common.js';

const hairpin = (r: InspectPodRow) => (r.bridge === '' ? '-' : r.hairpin ? 'on' : 'off');
const ip = (r: InspectPodRow) => dash(r.ips.map(bare).join(','));

/** `podnet inspect` columns. */
export const podColumns: Column<InspectPodRow>[] = [
  { header: 'POD', cell: (r) => r.pod, elastic: true },
  { header: 'IP', cell: ip },
  { header: 'NETNS', cell: (r) => r.netns, elastic: true, optional: true },
  { header: 'IFACE', cell: (r) => r.iface },
  { header: 'HOST VETH', cell: (r) => r.hostVeth },
  // Optional: on a narrow terminal it is left out too (on a lab's node it is cni0 on every row).
  { header: 'BRIDGE', cell: (r) => dash(r.bridge), optional: true },
  { header: 'MAC', cell: (r) => dash(r.mac) },
  { header: 'HAIRPIN', cell: hairpin },
  { header: 'STATE', cell: (r) => r.state },
];

/** `podnet inspect -o wide` columns: adds the Kubernetes namespace, the identity kind and the container. */
export const podWideColumns: Column<InspectPodRow>[] = [
  podColumns[0],
  { header: 'NAMESPACE', cell: (r) => dash(r.podNamespace) },
  { header: 'KIND', cell: (r) => r.kind },
  ...podColumns.slice(1),
  { header: 'CONTAINER', cell: (r) => dash(r.containerId.slice(0, 13)) },
];
