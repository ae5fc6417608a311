// MAC addresses as pure values.

/** A MAC address in iproute2's form: six lowercase hex pairs joined by colons. */
export type Mac = string;

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Parses a MAC (any case, colon separated) into iproute2's lowercase form, or returns undefined. */
export function parseMac(text: string): Mac | undefined {
  const lower = text.toLowerCase();
  return MAC_RE.test(lower) ? lower : undefined;
}

/** A unicast, locally administered MAC made from the first six bytes given (the first byte's
 * locally-administered bit set and its multicast bit cleared, as the kernel does for random MACs). */
export function macFromBytes(bytes: Uint8Array): Mac {
  if (bytes.length < 6) throw new Error('macFromBytes needs 6 bytes');
  const b = Array.from(bytes.subarray(0, 6));
  b[0] = (b[0] & 0xfc) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** True for broadcast and multicast MACs (the I/G bit of the first byte set). */
export function isMulticastMac(mac: Mac): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
