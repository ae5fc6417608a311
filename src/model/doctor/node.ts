// Small helpers every check shares: a finding's node and namespace, the node's uplink and VXLAN
// device, sysctls read back. Pure.
import type { Link } from '../kernel.js';
import type { Finding, NodeExpectation, NodeObservation } from './types.js';

/** A check: what one node should hold and what it holds → what is wrong. */
export type Check = (exp: NodeExpectation, obs: NodeObservation) => Finding[];

/** A finding on `obs`'s node. */
export const on = (obs: NodeObservation, f: Omit<Finding, 'node'>): Finding => ({ node: obs.node, ...f });

/** A link by name. */
export const linkNamed = (obs: NodeObservation, name: string): Link | undefined => obs.links.find((l) => l.name === name);

/** The IPv4 CIDRs on a link. */
export const v4Of = (obs: NodeObservation, link: string): string[] =>
  obs.addrs.filter((a) => a.link === link && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`);

/** The node's VXLAN device: the one the expectation names, else the only vxlan link. */
export function vtepOf(exp: NodeExpectation, obs: NodeObservation): Link | undefined {
  const name = exp.vtep?.device;
  if (name) return linkNamed(obs, name);
  const vx = obs.links.filter((l) => l.kind === 'vxlan');
  return vx.length === 1 ? vx[0] : undefined;
}

/** The node's uplink: named by the expectation, else the link holding its public IP, else the link
 * holding the VXLAN device's local address. */
export function uplinkOf(exp: NodeExpectation, obs: NodeObservation): Link | undefined {
  if (exp.uplink) return linkNamed(obs, exp.uplink);
  const vx = vtepOf(exp, obs);
  const ip = exp.publicIP ?? (vx?.kind === 'vxlan' ? vx.local : undefined);
  const holder = ip ? obs.addrs.find((a) => a.family === 'inet' && a.local === ip)?.link : undefined;
  return holder ? linkNamed(obs, holder) : undefined;
}

/** A sysctl as a number (undefined when the kernel lacks it). */
export function sysctlNum(obs: NodeObservation, key: string): number | undefined {
  const v = obs.sysctls[key];
  return v === undefined || v.trim() === '' ? undefined : Number(v.trim());
}

/** "a, b and c" (at most `max` named, then "and N more"). */
export function listed(items: readonly string[], max = 6): string {
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length <= 1 ? shown.join('') : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** `s` when n ≠ 1. */
export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
