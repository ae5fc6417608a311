// The columns of `podnet inspect services`: how the rows of src/views/service-rules.ts are printed.
import type { Column } from '../table.js';
import type { ServiceRuleRow } from '../../views/service-rules.js';

const count = (r: ServiceRuleRow) => (r.counters ? String(r.counters.packets) : '-');
const frontend = (r: ServiceRuleRow) => `${r.clusterIP}${r.nodePort ? ` :${r.nodePort}` : ''}`;

/** `podnet inspect services` columns: Service port → its chain → each endpoint, how it is picked, its packets → the pod. */
export const serviceRuleColumns: Column<ServiceRuleRow>[] = [
  { header: 'NODE', cell: (r) => r.node },
  { header: 'SERVICE', cell: (r) => r.service },
  { header: 'FRONTEND', cell: frontend },
  { header: 'CHAIN', cell: (r) => r.chain, elastic: true },
  { header: 'PICK', cell: (r) => r.pick },
  { header: 'ENDPOINT', cell: (r) => r.endpoint },
  { header: 'PKTS', cell: count },
  { header: 'POD', cell: (r) => r.pod },
];

/** `-o wide`: adds the mode, the NodePort's chain, the endpoint's chain, bytes and the masquerade marks. */
export const serviceRuleWideColumns: Column<ServiceRuleRow>[] = [
  serviceRuleColumns[0], { header: 'MODE', cell: (r) => r.mode }, ...serviceRuleColumns.slice(1, 4),
  { header: 'EXT-CHAIN', cell: (r) => r.externalChain || '-' }, serviceRuleColumns[4],
  { header: 'ENDPOINT-CHAIN', cell: (r) => r.endpointChain, elastic: true }, serviceRuleColumns[5], serviceRuleColumns[6],
  { header: 'BYTES', cell: (r) => (r.counters ? String(r.counters.bytes) : '-') },
  { header: 'MASQ', cell: (r) => r.masquerade.join(',') || '-' }, serviceRuleColumns[7],
];
