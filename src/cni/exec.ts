// Plugins as a runtime runs them: one request (environment + stdin), the host namespace being the
// runtime's, and delegates (IPAM) found on CNI_PATH and exec'd — podnet's own in process, any
// other (the reference host-local) as the runtime would run it. Serves both the one-shot process
// and the daemon behind the tiny client.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../host/host.js';
import type { Netns } from '../host/netns.js';
import { processRun } from '../host/process.js';
import { DiskStore } from './ipam/disk-store.js';
import { invokePlugin, type InvokeOutcome, type PluginContext, type PluginRegistry } from './plugin.js';
import { CniError, ErrorCode, type CniEnv, type CniResult } from './spec.js';
import { envVars } from './context.js';

/** The first line of podnet's plugin executables; a delegate found with it runs in process. */
export const CLIENT_MARKER = '# podnet-cni-client';

/** The plugin an executable name stands for: `podnet-bridge` → `bridge`. */
export function pluginTypeOf(executable: string): string {
  const base = executable.split('/').pop() ?? executable;
  return base.startsWith('podnet-') ? base.slice('podnet-'.length) : base;
}

/** The first 200 bytes of `file` (where podnet's marker is), read in one synchronous go: this is on
 * every bridge call's path, and a thread-pool round trip costs more than the read. */
function headOf(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(200);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, 200, 0));
  } finally {
    closeSync(fd);
  }
}

/** Finds `type` on CNI_PATH like the reference's invoke.FindInPath. */
function findInPath(type: string, path: readonly string[]): { file: string; podnet: boolean } | undefined {
  if (type.includes('/')) throw new CniError(ErrorCode.InvalidConfig, `plugin type "${type}" must be a name, not a path`);
  for (const dir of path) {
    const file = join(dir, type);
    try {
      return { file, podnet: headOf(file).includes(CLIENT_MARKER) };
    } catch { /* not here */ }
  }
  return undefined;
}

/** A context for one request: `hostNetns` is the runtime's namespace; delegates come from CNI_PATH. */
export function execContext(host: Host, hostNetns: Netns, registry: PluginRegistry, random: (n: number) => Uint8Array): PluginContext {
  const ctx: PluginContext = {
    host,
    hostNetns,
    random,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    ipamStore: (dataDir, network) => new DiskStore(dataDir, network),
    async delegate(type: string, env: CniEnv, stdin: string): Promise<CniResult | undefined> {
      const found = findInPath(type, env.path);
      if (!found) throw new CniError(ErrorCode.InvalidConfig, `failed to find plugin "${type}" in path [${env.path.join(' ')}]`);
      let out: InvokeOutcome;
      if (found.podnet) {
        out = await invokePlugin(registry.get(pluginTypeOf(type)), envVars(env), stdin, ctx);
        if (out.error) throw out.error;
        return out.result;
      }
      // Another plugin (the reference's host-local, say): exec it in the runtime's namespace.
      const vars = Object.entries(envVars(env)).map(([k, v]) => `${k}=${v}`);
      const r = await processRun(host.runner, hostNetns, ['env', ...vars, found.file], { input: stdin });
      const text = r.stdout.trim();
      let parsed: (CniResult & { code?: number; msg?: string; details?: string }) | undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        throw new CniError(ErrorCode.DecodeFailure, `${type}: unreadable output: ${text.slice(0, 200) || r.stderr.trim().slice(0, 200)}`);
      }
      if (r.exitCode !== 0) {
        throw new CniError(parsed?.code ?? ErrorCode.Internal, parsed?.msg ?? `${type} failed (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 200)}`, parsed?.details ?? '');
      }
      return env.command === 'ADD' ? parsed : undefined;
    },
  };
  return ctx;
}
