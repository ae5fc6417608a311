// The columns of `podnet inspect links`: how the rows of src/views/links.ts are printed as a table.
import type { Column } from '../table.js';
import type { LinkViewRow } from '../../views/links.js';
import { dash } from '../../views/common.js';

/** `podnet inspect links` columns. */
export const linkColumns: Column<LinkViewRow>[] = [
  { header: 'OWNER', cell: (r) => r.owner, elastic: true },
  { header: 'LINK', cell: (r) => r.link },
  { header: 'KIND', cell: (r) => r.kind },
  { header: 'MASTER', cell: (r) => dash(r.master) },
  { header: 'MAC', cell: (r) => r.mac, optional: true },
  { header: 'MTU', cell: (r) => r.mtu, optional: true },
  { header: 'STATE', cell: (r) => r.state },
  { header: 'ADDRESSES', cell: (r) => dash(r.addresses.join(',')), elastic: true },
  { header: 'PEER', cell: (r) => dash(r.peer), elastic: true },
];
