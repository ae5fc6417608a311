// kube-proxy's names for what it writes, built the way kube-proxy builds them (pkg/proxy/iptables and
// pkg/proxy/nftables proxier.go): iptables chains carry the first 16 characters of the base32 of a
// SHA-256 (of the service port name and protocol, plus `ip:port` for an endpoint), so they fit
// iptables' 28 characters; nftables chains carry a readable name behind an 8-character hash of it.
import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 with padding (Go's base32.StdEncoding). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
}

/** base32(sha256(text)). */
const hashed = (text: string): string => base32(createHash('sha256').update(text).digest());

/** kube-proxy's lower-case protocol (`tcp`, `udp`, `sctp`). */
export type Proto = 'tcp' | 'udp' | 'sctp';

/** The 16 characters every iptables chain of one service port carries: base32(sha256(portName + protocol)). */
export const portProtoHash = (portName: string, proto: Proto): string => hashed(portName + proto).slice(0, 16);

/** iptables chains of a service port: SVC (Cluster policy), SVL (Local policy), EXT (external
 * traffic), FW (load-balancer source ranges). */
export function iptablesPortChains(portName: string, proto: Proto): { svc: string; svl: string; ext: string; fw: string } {
  const h = portProtoHash(portName, proto);
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

/** The KUBE-SEP chain of one endpoint (`ip:port`) of a service port: base32(sha256(portName + protocol + endpoint)). */
export const iptablesEndpointChain = (portName: string, proto: Proto, endpoint: string): string =>
  `KUBE-SEP-${hashed(portName + proto + endpoint).slice(0, 16)}`;

/** True for a per-service chain of iptables mode (what a sync may delete when it is no longer used). */
export const isIptablesServiceChain = (chain: string): boolean => /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(chain);

/** nftables names are at most 256 characters; prefixes (`service-`, `endpoint-`, …) up to 16. */
const NFT_BASE_MAX = 256 - 16;

/** `HASH-name`: 8 characters of base32(sha256(name)), a dash, the name (cut with `...` past 240). */
export function hashAndTruncate(name: string): string {
  const full = `${hashed(name).slice(0, 8)}-${name}`;
  return full.length > NFT_BASE_MAX ? `${full.slice(0, NFT_BASE_MAX - 3)}...` : full;
}

/** The base of a service port's nftables chains: `HASH-ns/name/proto/portname`. */
export function nftPortBase(namespace: string, name: string, proto: Proto, portName: string | undefined): string {
  return hashAndTruncate(`${namespace}/${name}/${proto}/${portName ?? ''}`);
}

/** The base of an endpoint's nftables chain and affinity set: `HASH-ns/name/proto/portname__ip/port`. */
export function nftEndpointBase(namespace: string, name: string, proto: Proto, portName: string | undefined, ip: string, port: number): string {
  return hashAndTruncate(`${namespace}/${name}/${proto}/${portName ?? ''}__${ip.replace(/:/g, '.')}/${port}`);
}

/** nftables chains of a service port. */
export function nftPortChains(base: string): { service: string; local: string; external: string; firewall: string } {
  return { service: `service-${base}`, local: `local-${base}`, external: `external-${base}`, firewall: `firewall-${base}` };
}

/** True for a per-service chain of nftables mode (they, and only they, contain a `/`). */
export const isNftServiceChain = (chain: string): boolean => chain.includes('/');
