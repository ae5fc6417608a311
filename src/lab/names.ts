// The names a lab gives its kernel objects: every namespace is `podnet-<lab>-…` (the lab's prefix),
// so a lab's objects can be found from kernel state alone, after a crash or without a state file.
// Pure.
import { DEFAULT_LAB } from '../model/names.js';
import { netnsNamed, type Netns } from '../host/netns.js';

export { DEFAULT_LAB } from '../model/names.js';

/** The prefix every namespace of lab `lab` carries (processes carry PODNET_LAB=<lab>). */
export const labPrefix = (lab: string): string => `podnet-${lab}-`;

/** A node's namespace name: `podnet-<lab>-<node>`. */
export const nodeNetnsName = (lab: string, node: string): string => `${labPrefix(lab)}${node}`;

/** The underlay switch's namespace name. */
export const underlayNetnsName = (lab: string): string => `${labPrefix(lab)}underlay`;

/** The namespace the lab's own etcd runs in. */
export const etcdNetnsName = (lab: string): string => `${labPrefix(lab)}etcd`;

/** The namespace of the lab's outside host (the internet, a client outside the cluster). */
export const outsideNetnsName = (lab: string): string => `${labPrefix(lab)}outside`;

/** A pod's namespace name: `podnet-<lab>-cni-<uuid>`, K3s's `cni-<uuid>` behind the lab prefix. */
export const podNetnsName = (lab: string, uuid: string): string => `${labPrefix(lab)}cni-${uuid}`;

/** True when `netns` is one of lab `lab`'s pod namespaces (exactly: prefix, "cni-", a UUID). */
export function isPodNetnsOf(lab: string, netns: string): boolean {
  const rest = netns.startsWith(labPrefix(lab)) ? netns.slice(labPrefix(lab).length) : '';
  return /^cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(rest);
}

/** The handle of a lab namespace (all of them are pinned under /run/netns). */
export const labNetns = (name: string): Netns => netnsNamed(name);

/** ` --name LAB` for a command a user is told to run; nothing for the default lab. */
export const labFlag = (lab: string): string => (lab === DEFAULT_LAB ? '' : ` --name ${lab}`);
