// `podnet inspect routes [POD|NODE]`: the routes of one namespace, or of all of them.
import type { Snapshot } from '../model/snapshot.js';
import { orderedNamespaces } from './common.js';

/** One route of one namespace (`ip route show`, main table). */
export interface RouteViewRow {
  /** The identity name of the namespace the route is in. */
  owner: string;
  /** That namespace's id (`ino:<inode>`). */
  netnsId: string;
  /** The destination: `default` or a CIDR. */
  dst: string;
  /** The gateway (`via`), '' for a directly connected route. */
  via: string;
  /** The output device, '' when none (blackhole, unreachable). */
  dev: string;
  /** Who installed it (`proto`: kernel, boot, static, dhcp…), '' when the kernel did not say. */
  proto: string;
  /** Its scope (link, host; '' means global). */
  scope: string;
  /** The preferred source address (`src`), '' when none. */
  src: string;
  /** The kernel's flags (onlink, …). */
  flags: string[];
}

/** The rows of `podnet inspect routes`: of the namespace `nsId` (`ino:…`) only when given, else of every namespace, the host's first. */
export function inspectRoutes(s: Snapshot, nsId?: string): RouteViewRow[] {
  const spaces = orderedNamespaces(s).filter((ns) => nsId === undefined || ns.id === nsId);
  return spaces.flatMap((ns) => ns.routes.map((r) => ({
    owner: ns.identity.name,
    netnsId: ns.id,
    dst: r.dst,
    via: r.gateway ?? '',
    dev: r.dev ?? '',
    proto: r.protocol ?? '',
    scope: r.scope ?? '',
    src: r.prefsrc ?? '',
    flags: [...r.flags],
  })));
}
