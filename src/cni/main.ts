// The one-shot plugin process: `node dist/src/cni/main.js TYPE` with the CNI environment and stdin,
// as a runtime execs a plugin (and as podnet's tiny client falls back to when no daemon runs — through
// bin/podnet-cni.js, which loads this module's bundle, dist/src/bundle/cni/main.js, while it is fresh).
// Prints the result or the spec's error JSON on stdout; the exit code is the plugin's.
import { secureRandom } from '../host/random.js';
import { Host } from '../host/host.js';
import { CURRENT_NETNS } from '../host/netns.js';
import { ExecRunner } from '../host/runner.js';
import { endHelpers } from '../host/helper.js';
import { defaultRegistry } from './context.js';
import { execContext, pluginTypeOf } from './exec.js';
import { invokePlugin } from './plugin.js';
import { CniError, ErrorCode } from './spec.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Runs one plugin request from this process's environment and stdin; resolves with the exit code. */
export async function runOnce(type: string): Promise<number> {
  const registry = defaultRegistry();
  let plugin;
  try {
    plugin = registry.get(pluginTypeOf(type));
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(ErrorCode.Internal, String(e));
    process.stdout.write(`${JSON.stringify(err.toJSON('1.1.0'))}\n`);
    return 1;
  }
  const ctx = execContext(new Host(new ExecRunner()), CURRENT_NETNS, registry, secureRandom);
  const out = await invokePlugin(plugin, process.env, await readStdin(), ctx);
  process.stdout.write(out.stdout);
  await endHelpers(); // the runtime sees the plugin exit with nothing of it left running
  return out.exitCode;
}

if (process.argv[1]?.endsWith('/cni/main.js')) {
  runOnce(process.argv[2] ?? '').then((code) => { process.exitCode = code; });
}
