// Who is who: names each namespace of a snapshot by the best evidence on the machine, in order —
// podnet's lab state; the CNI result cache (libcni's /var/lib/cni/results, which holds the sandbox
// path and K8S_POD_NAME/NAMESPACE); host-local's IP files matched to the namespace's addresses;
// podman's container list; the processes inside. What cannot be named is shown as
// `netns <inode> (pid N: cmd)`, never hidden. The cluster's nodes are named too (./nodes.ts): the
// host's lab, else flannel's subnet.env.
import { readdir, readFile } from 'node:fs/promises';
import { netnsInode } from '../host/process.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { addressOf } from '../model/ip.js';
import type { ClusterNode, Identity, NetnsSnapshot, Snapshot } from '../model/snapshot.js';
import { LabDir, listLabDirs, type LabState } from '../lab/state.js';
import { labNodes, SUBNET_ENV, subnetEnvNode } from './nodes.js';

/** Where to look for evidence. */
export interface EvidenceDirs {
  /** podnet's state root (every lab under it). */
  stateRoot: string;
  /** libcni result caches. */
  cniResults: string[];
  /** host-local data dirs (each holds `<network>/<ip>` files). */
  hostLocal: string[];
  /** podman/containers storage: `overlay-containers/containers.json`. */
  containersJson: string[];
  /** flannel's subnet.env, read when the host is no lab node (default /run/flannel/subnet.env). */
  subnetEnv?: string;
  /** Lab states the caller has read already: used instead of reading every lab's state from disk
   * (a lab target: every namespace scanned is that lab's). */
  states?: readonly LabState[];
}

/** The usual places on a Linux host (K3s, containerd, podman) plus podnet's own. */
export function defaultEvidence(stateRoot: string): EvidenceDirs {
  return {
    stateRoot,
    cniResults: ['/var/lib/cni/results'],
    hostLocal: ['/var/lib/cni/networks'],
    containersJson: ['/var/lib/containers/storage/overlay-containers/containers.json'],
    subnetEnv: SUBNET_ENV,
  };
}

interface CacheEntry {
  containerId: string;
  sandbox?: string;
  podName?: string;
  podNamespace?: string;
  ips: string[];
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}


async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** libcni cache files (`cniCacheV1`): container ID, sandbox path, CNI_ARGS, the result's IPs. */
async function cniCaches(dirs: string[]): Promise<CacheEntry[]> {
  const files = (await Promise.all(dirs.map(async (d) => (await list(d)).map((f) => join(d, f))))).flat();
  const entries = await Promise.all(files.map(async (f): Promise<CacheEntry | undefined> => {
    const j = (await readJson(f)) as { containerId?: string; cniArgs?: [string, string][]; result?: { interfaces?: { sandbox?: string }[]; ips?: { address?: string }[] } } | undefined;
    if (!j?.containerId) return undefined;
    const args = new Map(j.cniArgs ?? []);
    return {
      containerId: j.containerId,
      sandbox: j.result?.interfaces?.find((i) => i.sandbox)?.sandbox,
      podName: args.get('K8S_POD_NAME'),
      podNamespace: args.get('K8S_POD_NAMESPACE'),
      ips: (j.result?.ips ?? []).map((i) => addressOf(i.address ?? '')).filter(Boolean),
    };
  }));
  return entries.filter((e): e is CacheEntry => e !== undefined);
}

/** host-local's files: IP → container ID. */
async function hostLocalIps(dirs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of dirs) {
    for (const net of await list(d)) {
      for (const f of await list(join(d, net))) {
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(f)) continue;
        try {
          out.set(f, (await readFile(join(d, net, f), 'utf8')).split(/\r?\n/)[0].trim());
        } catch { /* released meanwhile */ }
      }
    }
  }
  return out;
}

/** podman's containers: ID → first name. */
async function podmanNames(files: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of files) {
    const j = (await readJson(f)) as { id?: string; names?: string[] }[] | undefined;
    for (const c of Array.isArray(j) ? j : []) if (c.id && c.names?.[0]) out.set(c.id, c.names[0]);
  }
  return out;
}

/** Every lab's state under `stateRoot` (a damaged one is left out: it names nothing). */
async function allStates(stateRoot: string): Promise<LabState[]> {
  const states = await Promise.all((await listLabDirs(stateRoot)).map((lab) => new LabDir(stateRoot, lab).read().catch(() => undefined)));
  return states.filter((s): s is LabState => s !== undefined);
}

/** podnet labs: netns name → identity; each lab's CNI caches and host-local dirs; each lab's nodes. */
async function labs(stateRoot: string, given?: readonly LabState[]): Promise<{ byNetns: Map<string, Identity>; cniResults: string[]; hostLocal: string[]; nodes: Map<string, ClusterNode[]> }> {
  const byNetns = new Map<string, Identity>();
  const cniResults: string[] = [];
  const hostLocal: string[] = [];
  const nodes = new Map<string, ClusterNode[]>();
  for (const state of given ?? await allStates(stateRoot)) {
    const { lab } = state;
    const dir = new LabDir(stateRoot, lab);
    byNetns.set(state.plan.underlay.netns, { kind: 'switch', name: `${lab}/underlay`, lab, source: 'lab' });
    for (const n of state.plan.nodes) {
      byNetns.set(n.netns, { kind: 'node', name: n.name, lab, source: 'lab' });
      cniResults.push(dir.resultsDir(n.name));
      hostLocal.push(dir.ipamDir(n.name));
    }
    for (const p of state.pods) byNetns.set(p.netns, { kind: 'pod', name: p.name, podNamespace: p.namespace ?? 'default', lab, containerId: p.containerId, source: 'lab' });
    nodes.set(lab, labNodes(state));
  }
  return { byNetns, cniResults, hostLocal, nodes };
}

/** The fallback name: the inode and the first process inside, if any. */
export function anonymousName(ns: NetnsSnapshot): string {
  const p = ns.processes[0];
  return `netns ${ns.inode}${p ? ` (pid ${p.pid}: ${p.cmd.length > 40 ? `${p.cmd.slice(0, 39)}…` : p.cmd})` : ''}`;
}

/** Fills `identity` on every namespace of the snapshot. */
export async function identify(s: Snapshot, ev: EvidenceDirs): Promise<Snapshot> {
  const lab = await labs(ev.stateRoot, ev.states);
  // Other evidence is read only when podnet's own state does not name every namespace already.
  const allNamed = s.namespaces.every((ns) => ns.id === s.host || ns.names.some((n) => lab.byNetns.has(n)));
  const [caches, ipOwners, podman] = allNamed ? [[], new Map<string, string>(), new Map<string, string>()] : await Promise.all([
    cniCaches([...ev.cniResults, ...lab.cniResults]),
    hostLocalIps([...ev.hostLocal, ...lab.hostLocal]),
    podmanNames(ev.containersJson),
  ]);
  // A cached sandbox is a path; compare the namespace it opens (its inode), not the string.
  const cacheByInode = new Map<number, CacheEntry>();
  const cacheById = new Map<string, CacheEntry>();
  await Promise.all(caches.map(async (c) => {
    cacheById.set(c.containerId, c);
    const ino = c.sandbox ? await netnsInode(c.sandbox) : undefined;
    if (ino !== undefined) cacheByInode.set(ino, c);
  }));
  const inSnapshot = new Set(s.namespaces.map((n) => n.inode));
  const namespaces = s.namespaces.map((ns): NetnsSnapshot => {
    if (ns.id === s.host) {
      const fromLab = ns.names.map((n) => lab.byNetns.get(n)).find((x) => x);
      return { ...ns, identity: fromLab ? { ...fromLab, kind: fromLab.kind === 'node' ? 'node' : fromLab.kind } : { kind: 'host', name: hostname(), source: 'host' } };
    }
    const fromLab = ns.names.map((n) => lab.byNetns.get(n)).find((x) => x);
    if (fromLab) return { ...ns, identity: fromLab };
    let cache = cacheByInode.get(ns.inode);
    let source: Identity['source'] = 'cni-cache';
    if (!cache) {
      // host-local's files say which container holds an address — unless that container's cached
      // sandbox is another namespace of this snapshot (then the address is shared, not evidence).
      const ips = ns.addrs.filter((a) => a.family === 'inet' && a.link !== 'lo').map((a) => a.local);
      const owner = ips.map((ip) => ipOwners.get(ip)).find((id) => {
        const sandboxIno = id ? [...cacheByInode].find(([, c]) => c.containerId === id)?.[0] : undefined;
        return id !== undefined && (sandboxIno === undefined || sandboxIno === ns.inode || !inSnapshot.has(sandboxIno));
      });
      if (owner) {
        cache = cacheById.get(owner) ?? { containerId: owner, ips };
        source = cacheById.has(owner) ? 'cni-cache' : 'host-local';
      }
    }
    if (cache) {
      const podmanName = podman.get(cache.containerId);
      const name = cache.podName ?? podmanName ?? `sandbox ${cache.containerId.slice(0, 12)}`;
      return { ...ns, identity: { kind: 'pod', name, ...(cache.podNamespace ? { podNamespace: cache.podNamespace } : {}), containerId: cache.containerId, source: podmanName && !cache.podName ? 'podman' : source } };
    }
    const pause = ns.processes.some((p) => /(^|\/)pause(\s|$)/.test(p.cmd));
    return { ...ns, identity: { kind: pause ? 'pod' : 'unknown', name: ns.names[0] ?? anonymousName(ns), source: ns.processes.length ? 'process' : 'none' } };
  });
  const nodes = await clusterNodes(namespaces.find((ns) => ns.id === s.host), lab.nodes, ev.subnetEnv);
  return { ...s, namespaces, ...(nodes.length ? { nodes } : {}) };
}

/** The nodes the host knows: its lab's, else itself from subnet.env. */
async function clusterNodes(host: NetnsSnapshot | undefined, byLab: Map<string, ClusterNode[]>, subnetEnv: string | undefined): Promise<ClusterNode[]> {
  if (!host) return [];
  const lab = host.identity.kind === 'node' && host.identity.lab !== undefined ? byLab.get(host.identity.lab) : undefined;
  if (lab) return lab;
  const self = subnetEnv !== undefined ? await subnetEnvNode(subnetEnv, host) : undefined;
  return self ? [self] : [];
}
