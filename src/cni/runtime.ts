// What a container runtime does with CNI (libcni's role): run a network's plugin list in order for
// ADD with each plugin's result passed on as prevResult, in reverse for DEL with the cached result,
// and keep the final result in a cache (libcni: /var/lib/cni/results/<net>-<cid>-<ifname>).
import { readFile, rm } from 'node:fs/promises';
import { writeFileMakingDir } from '../host/dirs.js';
import { join } from 'node:path';
import { CniError, ErrorCode, type CniEnv, type CniResult } from './spec.js';
import { invokePlugin, type PluginContext, type PluginRegistry } from './plugin.js';

/** A network configuration list (a `.conflist`). */
export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  plugins: ({ type: string; capabilities?: Record<string, boolean> } & Record<string, unknown>)[];
}

/** One attachment: a container's interface on a network. */
export interface Attachment {
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS pairs; IgnoreUnknown=1 is added as runtimes do. */
  args?: Record<string, string>;
  /** Capability arguments (e.g. `mac`, `portMappings`); each plugin gets only those it declares. */
  capabilityArgs?: Record<string, unknown>;
}

/** Runs plugin lists like a runtime. `resultsDir` is where final ADD results are cached (or undefined for none). */
export class CniRuntime {
  constructor(private readonly registry: PluginRegistry, private readonly ctx: PluginContext, private readonly resultsDir?: string, private readonly dryRun = false) {}

  private env(command: CniEnv['command'], a: Attachment): Record<string, string> {
    const args = Object.entries({ IgnoreUnknown: '1', ...a.args }).map(([k, v]) => `${k}=${v}`).join(';');
    return { CNI_COMMAND: command, CNI_CONTAINERID: a.containerId, CNI_NETNS: a.netns, CNI_IFNAME: a.ifname, CNI_ARGS: args, CNI_PATH: '/opt/cni/bin' };
  }

  /** The config one plugin of the list receives (libcni's buildOneConfig). */
  private pluginConfig(list: NetworkConfigList, i: number, a: Attachment, prevResult?: CniResult): string {
    const { capabilities, ...plugin } = list.plugins[i];
    const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
    const rc = Object.fromEntries(Object.entries(a.capabilityArgs ?? {}).filter(([k]) => capabilities?.[k]));
    if (Object.keys(rc).length) conf.runtimeConfig = rc;
    if (prevResult) conf.prevResult = prevResult;
    return JSON.stringify(conf);
  }

  private async run(list: NetworkConfigList, i: number, command: CniEnv['command'], a: Attachment, prev?: CniResult): Promise<CniResult | undefined> {
    const plugin = this.registry.get(list.plugins[i].type);
    const out = await invokePlugin(plugin, this.env(command, a), this.pluginConfig(list, i, a, prev), this.ctx);
    if (out.error) throw out.error;
    return out.result;
  }

  private cachePath(list: NetworkConfigList, a: Attachment): string | undefined {
    return this.resultsDir && join(this.resultsDir, `${list.name}-${a.containerId}-${a.ifname}`);
  }

  /** ADD: every plugin in order; the final result is cached and returned. On failure, DEL runs (as runtimes do). */
  async add(list: NetworkConfigList, a: Attachment): Promise<CniResult> {
    let prev: CniResult | undefined;
    try {
      for (let i = 0; i < list.plugins.length; i++) prev = (await this.run(list, i, 'ADD', a, prev)) ?? prev;
    } catch (e) {
      await this.del(list, a).catch(() => undefined);
      throw e;
    }
    if (!prev) throw new CniError(ErrorCode.Internal, `network "${list.name}" produced no result`);
    const path = this.cachePath(list, a);
    if (path && !this.dryRun) {
      const cniArgs = Object.entries({ IgnoreUnknown: '1', ...a.args });
      const body = JSON.stringify({ kind: 'cniCacheV1', containerId: a.containerId, config: list, ifName: a.ifname, networkName: list.name, netns: a.netns, cniArgs, ...(a.capabilityArgs ? { capabilityArgs: a.capabilityArgs } : {}), result: prev });
      // Written in place, as libcni writes its cache: a torn file (a crash mid-write) reads as no
      // cache, and DEL runs without a prevResult, as the spec allows.
      await writeFileMakingDir(path, body, 0o600);
    }
    return prev;
  }

  /** The cached ADD result for an attachment, if any. */
  async cached(list: NetworkConfigList, a: Attachment): Promise<CniResult | undefined> {
    const path = this.cachePath(list, a);
    if (!path) return undefined;
    try {
      return (JSON.parse(await readFile(path, 'utf8')) as { result: CniResult }).result;
    } catch {
      return undefined;
    }
  }

  /** DEL: every plugin in reverse order with the cached result as prevResult; the cache entry goes last. */
  async del(list: NetworkConfigList, a: Attachment): Promise<void> {
    const prev = await this.cached(list, a);
    for (let i = list.plugins.length - 1; i >= 0; i--) await this.run(list, i, 'DEL', a, prev);
    const path = this.cachePath(list, a);
    if (path && !this.dryRun) await rm(path, { force: true });
  }

  /** CHECK: every plugin in order with the cached result. */
  async check(list: NetworkConfigList, a: Attachment): Promise<void> {
    const prev = await this.cached(list, a);
    if (!prev) throw new CniError(ErrorCode.UnknownContainer, `no cached result for ${a.containerId} on network "${list.name}"`);
    for (let i = 0; i < list.plugins.length; i++) await this.run(list, i, 'CHECK', a, prev);
  }
}
