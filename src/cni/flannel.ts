// The flannel CNI plugin (docs/facts.md#flannel, flannel-io/cni-plugin): a meta-plugin that
// turns the node's subnet.env into a bridge config — the "delegate" — saves it under
// `<dataDir>/<containerID>` and lets the delegate (bridge + host-local) do the work. DEL and CHECK use
// the saved delegate, so they act on what ADD did even if subnet.env has changed since.
// Beyond the reference: a failed delegate ADD leaves no saved file (plugins#426), and a DEL whose
// saved file is missing rebuilds the delegate and still calls its DEL, so the IP is released (the
// reference returns success and leaks it).
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileMakingDir } from '../host/dirs.js';
import { z } from 'zod';
import { processRunning } from '../host/process.js';
import { parseSubnetEnv, podSubnet, SubnetEnvError, type SubnetEnv } from '../model/subnet-env.js';
import { CniError, ErrorCode, SUPPORTED_VERSIONS, type CniResult } from './spec.js';
import type { CniPlugin, CniRequest, NetConf, PluginContext } from './plugin.js';
import { parseConfig } from './validate.js';
import { VALID_ATTACHMENTS } from './ipam/host-local.js';

/** Where flannel (the node agent) publishes the node's subnet. */
export const DEFAULT_SUBNET_FILE = '/run/flannel/subnet.env';
/** Where the plugin keeps each container's delegate config. */
export const DEFAULT_DATA_DIR = '/var/lib/cni/flannel';
/** The subnet of a delegate rebuilt with no subnet.env at all: host-local releases by (container,
 * ifname) whatever the range, but wants a valid one to read its config. Never allocated from. */
export const RELEASE_ONLY_SUBNET = '0.0.0.0/30';
/** Delegate types that are the bridge plugin (flannel gives those `isGateway: true`). */
const BRIDGE_TYPES = new Set(['bridge', 'podnet-bridge']);

const path = (what: string, example: string) => z.string({ error: `want ${what} path string like "${example}"` }).min(1, { error: `want ${what} path like "${example}"` });
const schema = z.looseObject({
  subnetFile: path('a file', DEFAULT_SUBNET_FILE).default(DEFAULT_SUBNET_FILE),
  dataDir: path('a directory', DEFAULT_DATA_DIR).default(DEFAULT_DATA_DIR),
  delegate: z.looseObject({ type: z.string({ error: 'want the delegate plugin type as a string like "bridge"' }).min(1).optional() },
    { error: 'want an object like {"hairpinMode": true, "isDefaultGateway": true}' }).optional(),
  ipam: z.looseObject({
    type: z.string({ error: 'want the IPAM plugin type as a string like "host-local"' }).min(1).optional(),
    routes: z.array(z.looseObject({ dst: z.string({ error: 'want a CIDR string like "10.43.0.0/16"' }) }), { error: 'want a list of routes like [{"dst": "10.43.0.0/16"}]' }).optional(),
  }, { error: 'want an object like {"type": "host-local", "dataDir": "/var/lib/cni/networks"}' }).optional(),
});

/** flannel's own keys, validated, with the reference's defaults. */
export interface FlannelConf {
  subnetFile: string;
  dataDir: string;
  /** Merged into the delegate (K3s: hairpinMode, forceAddress, isDefaultGateway). */
  delegate: Record<string, unknown>;
  /** Merged into the delegate's IPAM (type, dataDir, extra routes). */
  ipam: Record<string, unknown>;
}

/** Reads flannel's keys from a request's config; a bad one is code 7 naming the field. */
export function flannelConf(config: NetConf): FlannelConf {
  const c = parseConfig(schema, config);
  return { subnetFile: c.subnetFile, dataDir: c.dataDir, delegate: { ...c.delegate }, ipam: { ...c.ipam } };
}

/** What only ADD refuses, as the reference does: flannel sets the delegate's `name` and `ipam` itself. */
function refuseDelegateKeys(conf: FlannelConf): void {
  for (const key of ['name', 'ipam']) {
    if (Object.hasOwn(conf.delegate, key)) throw new CniError(ErrorCode.InvalidConfig, `delegate.${key}: flannel sets it itself; remove it from "delegate"${key === 'ipam' ? ' (put IPAM settings in flannel\'s own "ipam")' : ''}`);
  }
}

/** The delegate config for a request: the config's `delegate`, then `name`, `type` (bridge),
 * `ipMasq` = !FLANNEL_IPMASQ, `mtu` = FLANNEL_MTU, `isGateway` for a bridge (each unless the delegate
 * sets it), `cniVersion`, and IPAM = the config's `ipam` with type host-local by default, the node's
 * subnet as the one range and the cluster network added to its routes. Without a subnet.env (DEL,
 * CHECK or GC rebuilding a lost delegate) `ipMasq` is true, so a masquerade chain ADD may have made
 * goes too, `mtu` is left out and the range is RELEASE_ONLY_SUBNET. Pure. */
export function buildDelegate(config: Pick<NetConf, 'name' | 'cniVersion' | 'runtimeConfig'>, conf: FlannelConf, env: SubnetEnv | undefined): Record<string, unknown> & { type: string } {
  const d: Record<string, unknown> = { ...conf.delegate };
  if (config.runtimeConfig !== undefined) d.runtimeConfig = config.runtimeConfig;
  d.name = config.name;
  const type = typeof d.type === 'string' ? d.type : 'bridge';
  if (!Object.hasOwn(d, 'ipMasq')) d.ipMasq = env ? !env.ipMasq : true;
  if (!Object.hasOwn(d, 'mtu') && env) d.mtu = env.mtu;
  if (BRIDGE_TYPES.has(type) && !Object.hasOwn(d, 'isGateway')) d.isGateway = true;
  d.cniVersion = config.cniVersion;
  const routes = Array.isArray(conf.ipam.routes) ? conf.ipam.routes : [];
  d.ipam = {
    ...conf.ipam,
    type: typeof conf.ipam.type === 'string' ? conf.ipam.type : 'host-local',
    ranges: [[{ subnet: env ? podSubnet(env) : RELEASE_ONLY_SUBNET }]],
    routes: env ? [...routes, { dst: env.network }] : routes,
  };
  return { ...d, type };
}

/** JSON with every object's keys sorted — how Go writes a map, so the saved file reads like the reference's. */
export function delegateJson(delegate: Record<string, unknown>): string {
  return JSON.stringify(delegate, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

/** The files the plugin reads and writes, behind a small interface (a memory one serves tests and dry runs). */
export interface FlannelFiles {
  /** The file's text, or undefined when it is not there. Equivalent to: `cat FILE`. */
  read(file: string): Promise<string | undefined>;
  /** Writes the file in place, mode 0600, its directory made 0700, as the reference does: a file torn
   * by a crash reads as no saved delegate, and DEL rebuilds it (see delegateOf). Equivalent to:
   * `install -m 600 -D /dev/stdin FILE`. */
  write(file: string, text: string): Promise<void>;
  /** Removes the file; one already gone is fine. Equivalent to: `rm -f FILE`. */
  remove(file: string): Promise<void>;
  /** The names in a directory (none when it is not there). Equivalent to: `ls -A DIR`. */
  list(dir: string): Promise<string[]>;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

/** The PID in the name of a temporary file that earlier builds wrote a delegate into before renaming
 * it into place (`.NAME.PID.RANDOM.tmp`); undefined for any other name. */
function earlierTmpWriter(name: string): number | undefined {
  const m = /^\.[^/]+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The machine's files. */
export const diskFiles: FlannelFiles = {
  async read(file) {
    // Synchronous: subnet.env is read on every ADD, and a small file in the page cache costs less read
    // at once than through four thread-pool round trips.
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  },
  async write(file, text) {
    // Not fsync'd (~0.6 ms a pod) nor renamed into place (another new file), like the reference's: a
    // crash that loses it takes the pod's netns too, and a torn one is rebuilt on DEL.
    await writeFileMakingDir(file, text, 0o600);
  },
  async remove(file) {
    await rm(file, { force: true });
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  },
};

/** Files in memory, seeded with `seed` (path → text): a dry run's subnet.env, a unit test's world. */
export function memoryFiles(seed: Record<string, string> = {}): FlannelFiles & { files: Map<string, string> } {
  const files = new Map(Object.entries(seed));
  return {
    files,
    read: async (file) => files.get(file),
    write: async (file, text) => { files.set(file, text); },
    remove: async (file) => { files.delete(file); },
    list: async (dir) => [...files.keys()].filter((f) => f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes('/')).map((f) => f.slice(dir.length + 1)),
  };
}

const ioError = (what: string, e: unknown) => new CniError(ErrorCode.IoFailure, `${what}: ${(e as Error).message}`);

/** The node's subnet.env. Not there yet is code 11 (the runtime retries: the node agent has not
 * written it, k3s#122); unreadable is code 5; malformed is code 7 naming the key. */
async function loadSubnetEnv(files: FlannelFiles, file: string): Promise<SubnetEnv> {
  let text: string | undefined;
  try {
    text = await files.read(file);
  } catch (e) {
    throw ioError(`subnetFile: cannot read ${file}`, e);
  }
  if (text === undefined) {
    throw new CniError(ErrorCode.TryAgainLater, `subnetFile: ${file} is not there yet: the node agent (flannel) has not acquired this node's subnet lease; try again later`);
  }
  try {
    return parseSubnetEnv(text);
  } catch (e) {
    if (e instanceof SubnetEnvError) throw new CniError(ErrorCode.InvalidConfig, `subnetFile ${file}: ${e.message}`);
    throw e;
  }
}

/** subnet.env if it is there and sound, else undefined (DEL, CHECK and GC go on without it). */
const subnetEnvIfAny = (files: FlannelFiles, file: string) => loadSubnetEnv(files, file).catch(() => undefined);

/** The saved delegate of a container, or undefined when it is missing or unreadable as a delegate. */
async function savedDelegate(files: FlannelFiles, file: string): Promise<(Record<string, unknown> & { type: string }) | undefined> {
  let text: string | undefined;
  try {
    text = await files.read(file);
  } catch (e) {
    throw ioError(`cannot read the saved delegate ${file}`, e);
  }
  try {
    const d = text === undefined ? undefined : (JSON.parse(text) as unknown);
    return d && typeof d === 'object' && typeof (d as { type?: unknown }).type === 'string' ? (d as Record<string, unknown> & { type: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** The delegate DEL and CHECK act with: the one ADD saved, else rebuilt from subnet.env, else from the config alone. */
async function delegateOf(files: FlannelFiles, req: CniRequest, conf: FlannelConf): Promise<Record<string, unknown> & { type: string }> {
  return (await savedDelegate(files, join(conf.dataDir, req.containerId)))
    ?? buildDelegate(req.config, conf, await subnetEnvIfAny(files, conf.subnetFile));
}

/** The flannel plugin over `files` (the machine's by default). */
export function flannelPlugin(files: FlannelFiles = diskFiles): CniPlugin {
  /** Writes and removes files unless this is a dry run (which changes nothing). */
  const write = (ctx: PluginContext, file: string, text: string) => (ctx.host.dryRun ? Promise.resolve() : files.write(file, text));
  const remove = (ctx: PluginContext, file: string) => (ctx.host.dryRun ? Promise.resolve() : files.remove(file));

  return {
    type: 'flannel',
    versions: SUPPORTED_VERSIONS,

    /** ADD: subnet.env → delegate; saved before the delegate runs (so a DEL after a crash finds it); removed if the delegate ADD fails. */
    async add(req, ctx): Promise<CniResult> {
      const conf = flannelConf(req.config);
      refuseDelegateKeys(conf);
      const delegate = buildDelegate(req.config, conf, await loadSubnetEnv(files, conf.subnetFile));
      const file = join(conf.dataDir, req.containerId);
      const text = delegateJson(delegate);
      await write(ctx, file, text).catch((e: unknown) => { throw ioError(`dataDir: cannot save the delegate config ${file}`, e); });
      try {
        const result = await ctx.delegate(delegate.type, req, text);
        if (!result) throw new CniError(ErrorCode.Internal, `delegate "${delegate.type}" returned no result`);
        return result;
      } catch (e) {
        await remove(ctx, file).catch(() => undefined);
        throw e;
      }
    },

    /** DEL: the delegate's DEL with the saved (or rebuilt) delegate; the saved file goes only once that succeeded. */
    async del(req, ctx) {
      const conf = flannelConf(req.config);
      const delegate = await delegateOf(files, req, conf);
      await ctx.delegate(delegate.type, req, delegateJson(delegate));
      await remove(ctx, join(conf.dataDir, req.containerId)).catch((e: unknown) => { throw ioError('cannot remove the saved delegate', e); });
    },

    /** CHECK: the delegate's CHECK with the saved (or rebuilt) delegate and this request's prevResult. */
    async check(req, ctx) {
      const conf = flannelConf(req.config);
      refuseDelegateKeys(conf);
      const delegate = await delegateOf(files, req, conf);
      const withPrev = { ...delegate, cniVersion: req.config.cniVersion, ...(req.config.prevResult ? { prevResult: req.config.prevResult } : {}) };
      await ctx.delegate(delegate.type, req, delegateJson(withPrev));
    },

    /** STATUS: not ready (code 50) while subnet.env is missing or bad — ADD could not work; else the delegate's STATUS. */
    async status(req, ctx) {
      const conf = flannelConf(req.config);
      const env = await loadSubnetEnv(files, conf.subnetFile).catch((e: CniError) => { throw new CniError(ErrorCode.NotReady, e.message); });
      const delegate = buildDelegate(req.config, conf, env);
      await ctx.delegate(delegate.type, req, delegateJson(delegate));
    },

    /** GC: the delegate's GC (host-local releases addresses of attachments that are gone), then the saved
     * delegates of this network whose container is not among the valid attachments. */
    async gc(req, ctx) {
      const conf = flannelConf(req.config);
      const valid = req.config[VALID_ATTACHMENTS];
      if (!Array.isArray(valid)) throw new CniError(ErrorCode.InvalidConfig, `${VALID_ATTACHMENTS}: missing; GC needs the attachments to keep (an empty list releases every address)`);
      const delegate = buildDelegate(req.config, conf, await subnetEnvIfAny(files, conf.subnetFile));
      await ctx.delegate(delegate.type, req, delegateJson({ ...delegate, [VALID_ATTACHMENTS]: valid }));
      const keep = new Set(valid.map((a: { containerID?: unknown }) => a?.containerID));
      for (const name of await files.list(conf.dataDir)) {
        const writer = earlierTmpWriter(name);
        // What a writer of an earlier build, killed between writing and renaming, left: garbage once it is gone.
        if (writer !== undefined && !(await processRunning(writer))) await remove(ctx, join(conf.dataDir, name));
        if (name.startsWith('.') || keep.has(name)) continue;
        const saved = await savedDelegate(files, join(conf.dataDir, name));
        if (saved?.name === req.config.name) await remove(ctx, join(conf.dataDir, name));
      }
    },
  };
}

/** The flannel plugin on the machine's files. */
export const flannel = flannelPlugin();
