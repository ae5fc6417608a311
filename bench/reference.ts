// The reference path: what a container runtime does with the Debian reference CNI plugins
// (/usr/lib/cni/{loopback,bridge,host-local}), pod after pod. A node namespace stands for the node;
// the plugins run inside it (`nsenter --net=/run/netns/NODE /usr/lib/cni/bridge`) because they create
// cni0 in their current namespace. Config: the very one podnet's lab uses (podNetwork, LOOPBACK_NETWORK).
import type { NetworkConfigList } from '../src/cni/runtime.js';
import { exec } from './common.js';

/** Where the Debian package puts the plugins (also CNI_PATH, so bridge finds host-local). */
export const CNI_DIR = '/usr/lib/cni';


/** Runs a command and throws unless it exits 0. */
async function must(argv: readonly string[], input = '', env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await exec(argv, input, env);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Names of the pinned namespaces (`ip -json netns list`). */
export async function netnsNames(): Promise<string[]> {
  const text = (await must(['ip', '-json', 'netns', 'list'])).trim();
  return text ? (JSON.parse(text) as { name: string }[]).map((e) => e.name) : [];
}

/** A conflist's single plugin as libcni hands it to the plugin: cniVersion and name folded in. */
function pluginConfig(list: NetworkConfigList, prevResult?: unknown): string {
  return JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0], ...(prevResult ? { prevResult } : {}) });
}

/** The ADD results of one pod, sent back as prevResult on DEL. */
export interface PodResults { lo: unknown; br: unknown }

/** One namespace-and-plugins run: creates only names under `prefix`, remembers them, deletes them. */
export class ReferenceRun {
  private readonly made: string[] = [];
  private readonly node: string;

  constructor(private readonly prefix: string, private readonly bridge: NetworkConfigList, private readonly loopback: NetworkConfigList) {
    this.node = `${prefix}node`;
  }

  private async netnsAdd(name: string): Promise<void> {
    await must(['ip', 'netns', 'add', name]);
    this.made.push(name);
  }

  private async netnsDel(name: string): Promise<void> {
    await must(['ip', 'netns', 'del', name]);
    this.made.splice(this.made.indexOf(name), 1);
  }

  /** Execs `plugin` inside the node namespace with the CNI environment; returns its parsed result. */
  private async cni(plugin: string, command: 'ADD' | 'DEL', pod: number, ifname: string, config: string): Promise<unknown> {
    const env = {
      ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: `refpod${pod}`, CNI_NETNS: `/run/netns/${this.podNs(pod)}`,
      CNI_IFNAME: ifname, CNI_PATH: CNI_DIR, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAME=pod${pod}`,
    };
    const out = await must(['nsenter', `--net=/run/netns/${this.node}`, `${CNI_DIR}/${plugin}`], config, env);
    return out.trim() ? JSON.parse(out) : undefined;
  }

  private podNs(i: number): string {
    return `${this.prefix}cni-${i}`;
  }

  /** Node namespace, then per pod: `ip netns add`, loopback ADD, bridge ADD (host-local inside). */
  async up(pods: number): Promise<PodResults[]> {
    if ((await netnsNames()).some((n) => n.startsWith(this.prefix))) throw new Error(`namespaces starting with ${this.prefix} already exist`);
    await this.netnsAdd(this.node);
    const results: PodResults[] = [];
    for (let i = 1; i <= pods; i++) {
      await this.netnsAdd(this.podNs(i));
      const lo = await this.cni('loopback', 'ADD', i, 'lo', pluginConfig(this.loopback));
      const br = await this.cni('bridge', 'ADD', i, 'eth0', pluginConfig(this.bridge)) as { ips?: unknown[] } | undefined;
      if (!br?.ips?.length) throw new Error(`bridge ADD for pod${i} returned no IP`);
      results.push({ lo, br });
    }
    return results;
  }

  /** Per pod: bridge DEL, loopback DEL (with prevResult, as runtimes send it), `ip netns del`; then the node. */
  async down(results: readonly PodResults[]): Promise<void> {
    for (let i = 1; i <= results.length; i++) {
      await this.cni('bridge', 'DEL', i, 'eth0', pluginConfig(this.bridge, results[i - 1].br));
      await this.cni('loopback', 'DEL', i, 'lo', pluginConfig(this.loopback, results[i - 1].lo));
      await this.netnsDel(this.podNs(i));
    }
    await this.netnsDel(this.node);
  }

  /** Deletes every namespace this run made and still holds (veths and cni0 go with them). */
  async cleanup(): Promise<void> {
    for (const name of [...this.made].reverse()) await exec(['ip', 'netns', 'del', name]).catch(() => undefined);
    this.made.length = 0;
  }
}
