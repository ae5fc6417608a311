// VXLAN (RFC 7348) inside UDP: the 8-byte header and the Ethernet frame it carries. Pure.
import { short } from './bytes.js';
import { Decoded, type EthernetDecoder } from './frame.js';

/** How deep VXLAN may nest before the decoder stops (a guard against crafted input). */
const MAX_DEPTH = 4;

/** Decodes the VXLAN header at `v` and its inner frame (with `ethernet`) up to `end`. */
export function vxlan(d: Decoded, b: Uint8Array, v: number, end: number, depth: number, ethernet: EthernetDecoder): void {
  if (end - v < 8) {
    d.error = short('VXLAN header', v, end - v, 8);
    return;
  }
  const inner = new Decoded();
  d.vxlan = { vni: (b[v + 4] << 16) | (b[v + 5] << 8) | b[v + 6], inner };
  if (depth >= MAX_DEPTH) inner.error = `VXLAN at offset ${v}: nested more than ${MAX_DEPTH} deep, not decoded`;
  else ethernet(inner, b, v + 8, end, depth + 1);
  if (inner.error !== undefined) d.error = `VXLAN inner frame: ${inner.error}`;
}
