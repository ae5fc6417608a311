// The block types and option codes of pcapng (draft-ietf-opsawg-pcapng) that podnet reads and writes.

export const SHB = 0x0a0d0d0a;
export const IDB = 0x00000001;
export const PB = 0x00000002;
export const SPB = 0x00000003;
export const EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const OPT_END = 0;
export const SHB_USERAPPL = 4;
export const IF_NAME = 2;
export const IF_DESCRIPTION = 3;
export const IF_TSRESOL = 9;
export const IF_TSOFFSET = 14;
