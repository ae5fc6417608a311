// The columns of `podnet inspect fdb`: how the rows of src/views/fdb.ts are printed as a table.
import type { Column } from '../table.js';
import type { FdbViewRow } from '../../views/fdb.js';
import { dash } from '../../views/common.js';

/** `podnet inspect fdb` columns. */
export const fdbColumns: Column<FdbViewRow>[] = [
  { header: 'MAC', cell: (r) => r.mac },
  { header: 'PORT', cell: (r) => r.port },
  { header: 'BRIDGE', cell: (r) => dash(r.bridge) },
  { header: 'KIND', cell: (r) => r.kind },
  { header: 'OWNER', cell: (r) => dash(r.owner), elastic: true },
];

/** `podnet inspect fdb -o wide` columns: adds the VXLAN destination and the explanation. */
export const fdbWideColumns: Column<FdbViewRow>[] = [
  ...fdbColumns,
  { header: 'DST', cell: (r) => dash(r.dst) },
  { header: 'EXPLANATION', cell: (r) => r.explanation, elastic: true },
];
