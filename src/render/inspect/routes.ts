// The columns of `podnet inspect routes`: how the rows of src/views/routes.ts are printed as a table.
import type { Column } from '../table.js';
import type { RouteViewRow } from '../../views/routes.js';
import { dash } from '../../views/common.js';

/** `podnet inspect routes` columns. */
export const routeColumns: Column<RouteViewRow>[] = [
  { header: 'OWNER', cell: (r) => r.owner, elastic: true },
  { header: 'DST', cell: (r) => r.dst },
  { header: 'VIA', cell: (r) => dash(r.via) },
  { header: 'DEV', cell: (r) => dash(r.dev) },
  { header: 'PROTO', cell: (r) => dash(r.proto) },
  { header: 'SCOPE', cell: (r) => r.scope || 'global' },
];

/** `podnet inspect routes -o wide` columns: adds the source address and the flags. */
export const routeWideColumns: Column<RouteViewRow>[] = [
  ...routeColumns,
  { header: 'SRC', cell: (r) => dash(r.src) },
  { header: 'FLAGS', cell: (r) => dash(r.flags.join(',')) },
];
