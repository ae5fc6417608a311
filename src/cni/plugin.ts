// What a CNI plugin is to podnet: a type name, the versions it speaks, and ADD/DEL/CHECK (plus the
// optional STATUS and GC), given the parsed request and a context for side effects. The same entry
// (`invokePlugin`) serves in-process callers (the lab) and the thin executables in bin/.
import type { Host } from '../host/host.js';
import type { Netns } from '../host/netns.js';
import { CniError, ErrorCode, CURRENT_VERSION, SUPPORTED_VERSIONS, parseEnv, requireSupportedVersion, resultForVersion, compareVersions, type CniEnv, type CniResult } from './spec.js';
import type { Store } from './ipam/store.js';

/** A request as a plugin sees it: the environment plus the network config from stdin. */
export interface CniRequest extends CniEnv {
  /** The parsed network configuration (stdin). */
  config: NetConf;
  /** stdin as given, passed unchanged to delegates. */
  stdin: string;
}

/** The fields every plugin config has; plugins validate the rest themselves. */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  prevResult?: CniResult;
  runtimeConfig?: Record<string, unknown>;
  args?: Record<string, unknown>;
  ipam?: { type: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Side effects a plugin may use: the machine, the namespace it runs in, its delegates. */
export interface PluginContext {
  host: Host;
  /** The namespace the plugin acts in as "the host" (a runtime runs plugins in the node's namespace). */
  hostNetns: Netns;
  /** Runs another plugin (an IPAM plugin, a delegate) with the same environment and the given stdin. */
  delegate(type: string, env: CniEnv, stdin: string): Promise<CniResult | undefined>;
  /** The IPAM store for a data directory and network (disk normally; memory for dry runs and pure tests). */
  ipamStore(dataDir: string, network: string): Store;
  /** Random bytes (host veth names); replaceable for golden tests. */
  random(n: number): Uint8Array;
  /** Waits (bounded retries such as "wait for the port to be up"). */
  sleep(ms: number): Promise<void>;
}

/** A CNI plugin. Verbs a plugin does not implement succeed, as the spec says. */
export interface CniPlugin {
  readonly type: string;
  readonly versions: readonly string[];
  add(req: CniRequest, ctx: PluginContext): Promise<CniResult>;
  del(req: CniRequest, ctx: PluginContext): Promise<void>;
  check?(req: CniRequest, ctx: PluginContext): Promise<void>;
  status?(req: CniRequest, ctx: PluginContext): Promise<void>;
  gc?(req: CniRequest, ctx: PluginContext): Promise<void>;
}

/** Plugins by type; an unknown type fails loudly and lists the known ones. */
export class PluginRegistry {
  private readonly plugins = new Map<string, CniPlugin>();

  constructor(plugins: readonly CniPlugin[] = []) {
    for (const p of plugins) this.plugins.set(p.type, p);
  }

  /** The plugin of `type`, or a CniError naming the known types. */
  get(type: string): CniPlugin {
    const p = this.plugins.get(type);
    if (!p) throw new CniError(ErrorCode.InvalidConfig, `failed to find plugin "${type}" (podnet knows: ${this.types().join(', ')})`);
    return p;
  }

  /** The registered type names. */
  types(): string[] {
    return [...this.plugins.keys()].sort();
  }
}

/** Parses stdin as a network config: bad JSON is code 6, a missing field code 7. */
export function parseNetConf(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `error parsing configuration: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CniError(ErrorCode.DecodeFailure, 'error parsing configuration: not a JSON object');
  const conf = raw as NetConf;
  for (const field of ['cniVersion', 'name', 'type'] as const) {
    if (typeof conf[field] !== 'string' || !conf[field]) {
      throw new CniError(ErrorCode.InvalidConfig, `network config: "${field}" is missing or not a string`);
    }
  }
  return conf;
}

/** What a plugin invocation printed and its exit code, exactly as an executable would end. */
export interface InvokeOutcome {
  exitCode: number;
  stdout: string;
  /** The result object for ADD (also in stdout), for in-process callers. */
  result?: CniResult;
  /** The error for failed calls (also in stdout as the spec's JSON). */
  error?: CniError;
}

/** Runs `plugin` for one request given its environment and stdin, like the reference skel: parse,
 * check versions, dispatch, and turn every failure into the spec's error JSON. Never throws. */
export async function invokePlugin(plugin: CniPlugin, envVars: Record<string, string | undefined>, stdin: string, ctx: PluginContext): Promise<InvokeOutcome> {
  let version = CURRENT_VERSION;
  try {
    const env = parseEnv(envVars);
    if (env.command === 'VERSION') {
      const body = { cniVersion: CURRENT_VERSION, supportedVersions: [...plugin.versions] };
      return { exitCode: 0, stdout: `${JSON.stringify(body)}\n` };
    }
    const config = parseNetConf(stdin);
    version = config.cniVersion;
    requireSupportedVersion(config.cniVersion, plugin.versions);
    const req: CniRequest = { ...env, config, stdin };
    switch (env.command) {
      case 'ADD': {
        const result = resultForVersion(await plugin.add(req, ctx), config.cniVersion);
        return { exitCode: 0, stdout: `${JSON.stringify(result)}\n`, result };
      }
      case 'DEL':
        await plugin.del(req, ctx);
        return { exitCode: 0, stdout: '' };
      case 'CHECK':
        if (compareVersions(config.cniVersion, '0.4.0') < 0) throw new CniError(ErrorCode.IncompatibleVersion, `config version "${config.cniVersion}" does not allow CHECK`);
        await plugin.check?.(req, ctx);
        return { exitCode: 0, stdout: '' };
      case 'STATUS':
      case 'GC':
        if (compareVersions(config.cniVersion, '1.1.0') < 0) throw new CniError(ErrorCode.IncompatibleVersion, `config version "${config.cniVersion}" does not allow ${env.command}`);
        await (env.command === 'STATUS' ? plugin.status : plugin.gc)?.(req, ctx);
        return { exitCode: 0, stdout: '' };
    }
  } catch (e) {
    const error = e instanceof CniError ? e : new CniError(ErrorCode.Internal, (e as Error)?.message ?? String(e));
    return { exitCode: 1, stdout: `${JSON.stringify(error.toJSON(version))}\n`, error };
  }
  return { exitCode: 0, stdout: '' };
}

export { SUPPORTED_VERSIONS };
