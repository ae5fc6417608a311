// The columns of `podnet inspect overlay`: how the rows of src/views/overlay.ts are printed as a table.
import type { Column } from '../table.js';
import type { OverlayViewRow } from '../../views/overlay.js';
import { dash } from '../../views/common.js';

/** `podnet inspect overlay` columns. */
export const overlayColumns: Column<OverlayViewRow>[] = [
  { header: 'NODE', cell: (r) => r.node },
  { header: 'DEVICE', cell: (r) => r.device },
  { header: 'REMOTE', cell: (r) => dash(r.remote), elastic: true },
  { header: 'NODE IP', cell: (r) => dash(r.remoteIp) },
  { header: 'SUBNET', cell: (r) => dash(r.subnet) },
  { header: 'VTEP', cell: (r) => dash(r.vtepIp) },
  { header: 'VTEP MAC', cell: (r) => dash(r.vtepMac) },
  { header: 'STATUS', cell: (r) => r.status, elastic: true },
];

/** `podnet inspect overlay -o wide` columns: adds the device's attributes and the entries' states. */
export const overlayWideColumns: Column<OverlayViewRow>[] = [
  ...overlayColumns.slice(0, 2),
  { header: 'VNI', cell: (r) => r.vni },
  { header: 'LOCAL', cell: (r) => dash(r.local) },
  { header: 'PORT', cell: (r) => r.dstport },
  { header: 'LEARNING', cell: (r) => (r.learning ? 'on' : 'off') },
  { header: 'MTU', cell: (r) => r.mtu },
  ...overlayColumns.slice(2, 7),
  { header: 'NEIGH', cell: (r) => dash(r.neigh) },
  { header: 'FDB', cell: (r) => dash(r.fdb) },
  overlayColumns[7],
];
