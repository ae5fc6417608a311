// kube-router's names for what its network policy controller writes (pkg/controllers/netpol of
// cloudnativelabs/kube-router v2.6, which K3s embeds): every name is a prefix and the first 16
// characters of base32(sha256(…)) of the object's identity. Chains hash the sync version in too
// (kube-router passes the time of each full sync, so its chain names change at every sync; podnet
// passes one version per lab, see docs/networkpolicy.md). IPv4 only: the family string is "IPv4".
import { createHash } from 'node:crypto';
import { base32 } from '../kube-proxy/names.js';

/** The top-level chains, jumped to from INPUT, FORWARD and OUTPUT of the filter table. */
export const TOP_CHAINS = { INPUT: 'KUBE-ROUTER-INPUT', FORWARD: 'KUBE-ROUTER-FORWARD', OUTPUT: 'KUBE-ROUTER-OUTPUT' } as const;
/** Marks traffic of a direction no policy isolates as allowed (0x10000). */
export const DEFAULT_CHAIN = 'KUBE-NWPLCY-DEFAULT';
/** Drops INVALID, accepts ESTABLISHED/RELATED and some ICMP for every pod. */
export const COMMON_CHAIN = 'KUBE-NWPLCY-COMMON';
export const POD_CHAIN_PREFIX = 'KUBE-POD-FW-';
export const POLICY_CHAIN_PREFIX = 'KUBE-NWPLCY-';
export const SRC_SET_PREFIX = 'KUBE-SRC-';
export const DST_SET_PREFIX = 'KUBE-DST-';
/** kube-router's marks: "a policy allowed it" (reset after each pod chain) and "accept it". */
export const MARK_ALLOWED = '0x10000/0x10000';
export const MARK_ACCEPT = '0x20000/0x20000';

/** The IP family string kube-router hashes into names. */
const FAMILY = 'IPv4';

const hash16 = (text: string): string => base32(createHash('sha256').update(text).digest()).slice(0, 16);

/** True for a chain kube-router's policy controller owns. */
export const isKubeRouterChain = (name: string): boolean =>
  name.startsWith(POD_CHAIN_PREFIX) || name.startsWith(POLICY_CHAIN_PREFIX) || (Object.values(TOP_CHAINS) as string[]).includes(name);

/** True for an ipset kube-router's policy controller owns. */
export const isKubeRouterSet = (name: string): boolean => name.startsWith(SRC_SET_PREFIX) || name.startsWith(DST_SET_PREFIX);

/** A pod's firewall chain: KUBE-POD-FW- + hash(namespace + pod + version). */
export const podFirewallChain = (namespace: string, pod: string, version: string): string => POD_CHAIN_PREFIX + hash16(namespace + pod + version);

/** A policy's chain: KUBE-NWPLCY- + hash(namespace + name + version + family). */
export const policyChain = (namespace: string, name: string, version: string): string => POLICY_CHAIN_PREFIX + hash16(namespace + name + version + FAMILY);

/** The set of the pods a policy selects: KUBE-DST- (ingress) or KUBE-SRC- (egress) + hash(namespace + name + family). */
export const policyTargetSet = (namespace: string, name: string, dir: 'ingress' | 'egress'): string =>
  (dir === 'ingress' ? DST_SET_PREFIX : SRC_SET_PREFIX) + hash16(namespace + name + FAMILY);

/** The set of rule `i`'s peer pods (`pod`) or ipBlocks (`ipblock`): KUBE-SRC- for ingress rules,
 * KUBE-DST- for egress rules + hash(namespace + name + "<dir>rule" + i + family + kind). */
export const rulePeerSet = (namespace: string, name: string, dir: 'ingress' | 'egress', i: number, kind: 'pod' | 'ipblock'): string =>
  (dir === 'ingress' ? SRC_SET_PREFIX : DST_SET_PREFIX) + hash16(`${namespace}${name}${dir}rule${i}${FAMILY}${kind}`);

/** The set of the pods behind named port `j` of rule `i`: KUBE-DST- + hash(… + i + j + family + "namedport"). */
export const namedPortSet = (namespace: string, name: string, dir: 'ingress' | 'egress', i: number, j: number): string =>
  DST_SET_PREFIX + hash16(`${namespace}${name}${dir}rule${i}${j}${FAMILY}namedport`);

/** The temporary set kube-router fills and swaps in for sets created with `options`: TMP- + the
 * base32 of the first 10 bytes of sha1("tmp:" + options). */
export const tmpSet = (options: string): string => `TMP-${base32(createHash('sha1').update(`tmp:${options}`).digest().subarray(0, 10))}`;

/** The uuid kube-router appends to the comment of the rules it places at fixed positions:
 * base32(sha256(chain + the rule's words joined without spaces)), 16 characters. */
export const ruleUuid = (chain: string, words: readonly string[]): string => hash16(chain + words.join(''));

/** The version podnet hashes into chain names: the lab's creation time in Unix nanoseconds, base 10
 * (kube-router's form of a sync version). */
export const labSyncVersion = (createdAt: string): string => (BigInt(Date.parse(createdAt)) * 1_000_000n).toString(10);
