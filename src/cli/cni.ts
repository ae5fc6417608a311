// `podnet cni install | conflist | serve`: podnet's CNI plugins for real runtimes.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ShellRunner } from '../host/shell-runner.js';
import { requireRoot } from '../lab/lab.js';
import { clientScript, EXECUTABLES, k3sConflist } from '../cni/install.js';
import { DEFAULT_SOCKET, serveCni } from '../cni/serve.js';
import { parseCidr, containsCidr } from '../model/ip.js';
import { TopologyError } from '../model/topology.js';
import { out, say, type GlobalOptions } from './context.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'cni', 'main.js');

/** Registers `cni`. */
export function cniCommand(program: Command, global: () => GlobalOptions): void {
  const cni = program.command('cni').description('podnet\'s CNI plugins for podman, containerd and other runtimes');

  cni.command('install')
    .description('write podnet-bridge, podnet-host-local and podnet-loopback where a runtime looks for plugins')
    .option('--dir <dir>', 'the plugin directory', '/opt/cni/bin')
    .option('--socket <path>', 'the socket of `podnet cni serve`', DEFAULT_SOCKET)
    .addHelpText('after', '\nExamples:\n  podnet cni install\n  podnet cni install --dir /usr/lib/cni')
    .action(async (o: { dir: string; socket: string }) => {
      await mkdir(o.dir, { recursive: true });
      for (const exe of EXECUTABLES) {
        const file = join(o.dir, exe);
        await writeFile(file, clientScript(exe.replace(/^podnet-/, ''), process.execPath, MAIN, o.socket));
        await chmod(file, 0o755);
      }
      say(`installed ${EXECUTABLES.join(', ')} in ${o.dir} (run \`podnet cni serve\` so calls skip Node's start-up)`);
    });

  cni.command('conflist')
    .description('print (or write) the K3s-shaped network cbr0 for podnet\'s plugins')
    .option('--subnet <cidr>', 'this node\'s pod subnet', '10.42.0.0/24')
    .option('--cluster-cidr <cidr>', 'the cluster CIDR (the pods\' route)', '10.42.0.0/16')
    .option('--mtu <n>', 'pod MTU', '1450')
    .option('--data-dir <dir>', 'host-local\'s data dir (default /var/lib/cni/networks)')
    .option('--portmap', 'chain the reference portmap and bandwidth plugins, as K3s does')
    .option('--out <file>', 'write it to FILE (e.g. /etc/cni/net.d/10-podnet.conflist) instead of stdout')
    .addHelpText('after', '\nExample:\n  podnet cni conflist --subnet 10.42.0.0/24 --out /etc/cni/net.d/10-podnet.conflist')
    .action(async (o: { subnet: string; clusterCidr: string; mtu: string; dataDir?: string; portmap?: boolean; out?: string }) => {
      let subnet, cluster;
      try {
        subnet = parseCidr(o.subnet);
        cluster = parseCidr(o.clusterCidr);
      } catch (e) {
        throw new TopologyError('--subnet/--cluster-cidr', (e as Error).message);
      }
      if (!containsCidr(cluster, subnet)) throw new TopologyError('--subnet', `${o.subnet} is not inside --cluster-cidr ${o.clusterCidr}`);
      const mtu = Number(o.mtu);
      if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9000) throw new TopologyError('--mtu', `"${o.mtu}" is not an MTU between 576 and 9000`);
      const text = `${JSON.stringify(k3sConflist({ subnet: o.subnet, clusterCIDR: o.clusterCidr, mtu, ...(o.dataDir ? { dataDir: o.dataDir } : {}), portmap: !!o.portmap }), null, 2)}\n`;
      if (o.out) {
        await writeFile(o.out, text);
        say(`wrote ${o.out}`);
      } else out(text);
    });

  cni.command('serve')
    .description('run plugin requests from the installed executables without starting Node each time')
    .option('--socket <path>', 'the unix socket', DEFAULT_SOCKET)
    .addHelpText('after', '\nExample:\n  podnet cni serve &     (then a runtime\'s ADD costs a Perl start-up, not a Node one)')
    .action(async (o: { socket: string }) => {
      requireRoot('cni serve');
      void global;
      const server = await serveCni(new ShellRunner(8), o.socket);
      say(`podnet cni serve: listening on ${o.socket}`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
