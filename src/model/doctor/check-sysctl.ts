// The node's switches: IP forwarding, bridged traffic through netfilter (br_netfilter), reverse-path
// filtering on the uplink and the VXLAN device. Pure.
import { inNs, sysctlName, sysctlSet, sysctlShow } from './commands.js';
import { on, sysctlNum, uplinkOf, vtepOf, type Check } from './node.js';
import type { Finding } from './types.js';

export const IP_FORWARD = 'net/ipv4/ip_forward';
export const BRIDGE_NF = 'net/bridge/bridge-nf-call-iptables';
export const rpFilterKey = (dev: string): string => `net/ipv4/conf/${dev}/rp_filter`;

/** The sysctls the checks read for a node whose uplink and VXLAN device are `devs`. */
export const sysctlKeys = (devs: readonly string[]): string[] => [IP_FORWARD, BRIDGE_NF, rpFilterKey('all'), ...devs.map(rpFilterKey)];

/** Forwarding must be on wherever pods are (K3s turns it on; the bridge plugin does too). */
export const checkForwarding: Check = (exp, obs) => {
  const v = sysctlNum(obs, IP_FORWARD);
  if (v !== 0 || (!exp.k3s && obs.pods.length === 0)) return [];
  return [on(obs, {
    id: 'ip-forward-off', severity: 'error', reach: 'node',
    what: 'IP forwarding is off (net.ipv4.ip_forward = 0)',
    breaks: 'Nothing is routed through this node: its pods reach nothing beyond cni0, and no other node reaches them.',
    evidence: [{ command: sysctlShow(obs.ns, [IP_FORWARD]), value: `${sysctlName(IP_FORWARD)} = 0` }],
    fix: [sysctlSet(obs.ns, [[IP_FORWARD, '1']])],
  })];
};

/** kube-proxy needs bridged pod traffic to pass netfilter (br_netfilter), or Services break on the node. */
export const checkBridgeNetfilter: Check = (exp, obs) => {
  if (!exp.k3s || !obs.links.some((l) => l.name === exp.bridge)) return [];
  const v = obs.sysctls[BRIDGE_NF];
  if (v !== undefined && v.trim() === '1') return [];
  const missing = v === undefined;
  return [on(obs, {
    id: 'bridge-nf-off', severity: 'error', reach: 'service',
    what: missing ? 'br_netfilter is not loaded: bridged traffic never passes iptables' : 'Bridged traffic skips iptables (net.bridge.bridge-nf-call-iptables = 0)',
    breaks: 'A pod that reaches a Service whose endpoint is on the same node gets the reply straight over cni0, not un-DNATed, and drops it.',
    evidence: [{ command: sysctlShow(obs.ns, [BRIDGE_NF]), value: missing ? `${sysctlName(BRIDGE_NF)}: no such key` : `${sysctlName(BRIDGE_NF)} = ${v.trim()}` }],
    fix: [...(missing ? ['modprobe br_netfilter'] : []), sysctlSet(obs.ns, [[BRIDGE_NF, '1']])],
  })];
};

/** Strict reverse-path filtering (1) on the uplink or the VXLAN device drops packets that arrive on
 * an interface the node would not answer through (the kernel uses the larger of `all` and the device). */
export const checkRpFilter: Check = (exp, obs) => {
  if (!exp.k3s && !vtepOf(exp, obs)) return [];
  const devs = [uplinkOf(exp, obs)?.name, vtepOf(exp, obs)?.name].filter((d): d is string => d !== undefined);
  const all = sysctlNum(obs, rpFilterKey('all')) ?? 0;
  const strict = devs.filter((d) => Math.max(all, sysctlNum(obs, rpFilterKey(d)) ?? 0) === 1);
  if (strict.length === 0) return [];
  const keys = [rpFilterKey('all'), ...strict.map(rpFilterKey)];
  const ones = keys.filter((k) => sysctlNum(obs, k) === 1);
  return [on(obs, {
    id: 'rp-filter-strict', severity: 'warning', reach: 'node',
    what: `Strict reverse-path filtering on ${strict.join(' and ')} (rp_filter = 1)`,
    breaks: 'Packets that arrive on an interface this node would not route their reply through (an asymmetric path) are dropped without a trace.',
    evidence: [{ command: sysctlShow(obs.ns, keys), value: keys.map((k) => `${sysctlName(k)} = ${obs.sysctls[k]?.trim() ?? '?'}`).join(', ') }],
    fix: [sysctlSet(obs.ns, ones.map((k) => [k, '2'] as const))],
  })];
};

/** Every sysctl check. */
export const sysctlChecks: Check[] = [checkForwarding, checkBridgeNetfilter, checkRpFilter];

/** Evidence for a read of /proc files. */
export const catEvidence = (obs: Parameters<Check>[1], path: string, value: string): Finding['evidence'][number] => ({ command: inNs(obs.ns, ['cat', path]), value });

