// flannel's `/run/flannel/subnet.env` (docs/facts.md#flannel): what the node agent writes once
// it holds a subnet lease, and what the flannel CNI plugin reads on every ADD. Four `KEY=VALUE` lines
// in flannel's order; the IPv6 keys of a dual-stack flannel are accepted and ignored (podnet's pod
// network is IPv4). Pure: reading and writing the file belong to the callers.
import { AddressError, canonical, containsCidr, formatCidr, hasHostBits, parseCidr } from './ip.js';

/** The node's share of the cluster network, as flannel publishes it. */
export interface SubnetEnv {
  /** FLANNEL_NETWORK: the cluster network, e.g. 10.42.0.0/16. */
  network: string;
  /** FLANNEL_SUBNET: the node's subnet written as its first address, e.g. 10.42.0.1/24. */
  subnet: string;
  /** FLANNEL_MTU: the pods' MTU (the overlay's: underlay − 50 for VXLAN). */
  mtu: number;
  /** FLANNEL_IPMASQ: true when flannel masquerades itself (so the bridge must not). */
  ipMasq: boolean;
}

/** A subnet.env problem: one line naming the key (or line) and the fix. */
export class SubnetEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubnetEnvError';
  }
}

const KEYS = {
  network: 'FLANNEL_NETWORK',
  subnet: 'FLANNEL_SUBNET',
  mtu: 'FLANNEL_MTU',
  ipMasq: 'FLANNEL_IPMASQ',
} as const;

const KNOWN = new Set<string>(Object.values(KEYS));

/** An IPv4 CIDR value of `key`, or a SubnetEnvError saying what is expected. */
function cidrOf(key: string, value: string, example: string): string {
  try {
    return formatCidr(parseCidr(value));
  } catch (e) {
    if (e instanceof AddressError) throw new SubnetEnvError(`${key} is not an IPv4 CIDR; write one like ${key}=${example}`);
    throw e;
  }
}

function mtuOf(value: string): number {
  const mtu = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(mtu >= 68 && mtu <= 65535)) throw new SubnetEnvError(`${KEYS.mtu} is not an MTU; write a whole number from 68 to 65535 like ${KEYS.mtu}=1450`);
  return mtu;
}

function boolOf(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new SubnetEnvError(`${KEYS.ipMasq} is not a boolean; write ${KEYS.ipMasq}=true or ${KEYS.ipMasq}=false`);
  return value === 'true';
}

/** Parses subnet.env text. No message quotes the file: it may be any file a config names (a
 * runtime logs plugin errors), so errors name only flannel's keys and line numbers.
 * Blank lines and `#` comments are skipped, other keys (a dual-stack
 * flannel's FLANNEL_IPV6_NETWORK/SUBNET) ignored; a malformed line, a bad value, a key given twice or a missing key is a SubnetEnvError. */
export function parseSubnetEnv(text: string): SubnetEnv {
  const seen = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new SubnetEnvError(`line ${i + 1} is not KEY=VALUE (like ${KEYS.mtu}=1450)`);
    const key = line.slice(0, eq);
    if (seen.has(key) && KNOWN.has(key)) throw new SubnetEnvError(`${key}: given twice (lines with the same key); keep one`);
    seen.set(key, line.slice(eq + 1));
  });
  const get = (key: string, example: string) => {
    const v = seen.get(key);
    if (v === undefined || v === '') throw new SubnetEnvError(`${key}: missing; the node agent writes it (like ${key}=${example})`);
    return v;
  };
  const network = cidrOf(KEYS.network, get(KEYS.network, '10.42.0.0/16'), '10.42.0.0/16');
  const subnet = cidrOf(KEYS.subnet, get(KEYS.subnet, '10.42.0.1/24'), '10.42.0.1/24');
  if (hasHostBits(parseCidr(network))) throw new SubnetEnvError(`${KEYS.network} has host bits set; write the network address (like ${KEYS.network}=10.42.0.0/16)`);
  if (!containsCidr(parseCidr(network), canonical(parseCidr(subnet)))) {
    throw new SubnetEnvError(`${KEYS.subnet} is not inside ${KEYS.network}; the node's subnet must be a part of the cluster network`);
  }
  return { network, subnet, mtu: mtuOf(get(KEYS.mtu, '1450')), ipMasq: boolOf(get(KEYS.ipMasq, 'true')) };
}

/** The file's text, in flannel's order, one `KEY=VALUE` per line. */
export function formatSubnetEnv(env: SubnetEnv): string {
  return `${KEYS.network}=${env.network}\n${KEYS.subnet}=${env.subnet}\n${KEYS.mtu}=${env.mtu}\n${KEYS.ipMasq}=${env.ipMasq}\n`;
}

/** The node's subnet as a network: FLANNEL_SUBNET 10.42.0.1/24 → 10.42.0.0/24 (what host-local allocates from). */
export function podSubnet(env: SubnetEnv): string {
  return formatCidr(canonical(parseCidr(env.subnet)));
}
