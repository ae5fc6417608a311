// The columns of `podnet inspect neigh`: how the rows of src/views/neigh.ts are printed as a table.
import type { Column } from '../table.js';
import type { NeighViewRow } from '../../views/neigh.js';
import { dash } from '../../views/common.js';

/** `podnet inspect neigh` columns. */
export const neighColumns: Column<NeighViewRow>[] = [
  { header: 'NETNS', cell: (r) => r.netns, elastic: true },
  { header: 'IP', cell: (r) => r.ip },
  { header: 'MAC', cell: (r) => dash(r.mac) },
  { header: 'DEV', cell: (r) => r.dev },
  { header: 'STATE', cell: (r) => dash(r.state) },
  { header: 'OWNER', cell: (r) => dash(r.owner), elastic: true },
];
