// `podnet cni install | conflist | serve`: podnet's CNI plugins for real runtimes.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ShellRunner } from '../host/shell-runner.js';
import { requireRoot } from '../lab/lab.js';
import { clientScript, EXECUTABLES, flannelConflist, k3sConflist } from '../cni/install.js';
import { DEFAULT_SOCKET, serveCni } from '../cni/serve.js';
import { parseCidr, containsCidr } from '../model/ip.js';
import { TopologyError } from '../model/topology.js';
import { out, say, type GlobalOptions } from './context.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'cni', 'main.js');

/** Registers `cni`. */
export function cniCommand(program: Command, global: () => GlobalOptions): void {
  const cni = program.command('cni').description('podnet\'s CNI plugins for podman, containerd and other runtimes');

  cni.command('install')
    .description('write podnet-bridge, -host-local, -loopback, -flannel and -portmap where a runtime looks for plugins')
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
    .description('print (or write) K3s\'s network cbr0 for podnet\'s plugins: the flannel chain, or the bridge config flannel hands its delegate')
    .option('--flannel', 'K3s\'s real chain: podnet-flannel (subnet, MTU and masquerading from subnet.env at each ADD; delegate podnet-bridge) + podnet-portmap')
    .option('--subnet-file <file>', 'with --flannel: flannel\'s subnet.env (default /run/flannel/subnet.env)')
    .option('--flannel-data-dir <dir>', 'with --flannel: where flannel saves each container\'s delegate (default /var/lib/cni/flannel)')
    .option('--subnet <cidr>', 'without --flannel: this node\'s pod subnet', '10.42.0.0/24')
    .option('--cluster-cidr <cidr>', 'without --flannel: the cluster CIDR (the pods\' route)', '10.42.0.0/16')
    .option('--mtu <n>', 'without --flannel: pod MTU', '1450')
    .option('--data-dir <dir>', 'host-local\'s data dir (default /var/lib/cni/networks)')
    .option('--portmap', 'chain the reference portmap and bandwidth plugins, as K3s does (instead of podnet-portmap with --flannel)')
    .option('--out <file>', 'write it to FILE (e.g. /etc/cni/net.d/10-podnet.conflist) instead of stdout')
    .addHelpText('after', '\nExamples:\n  podnet cni conflist --flannel --out /etc/cni/net.d/10-flannel.conflist\n  podnet cni conflist --subnet 10.42.0.0/24 --out /etc/cni/net.d/10-podnet.conflist')
    .action(async (o: ConflistFlags, cmd: Command) => {
      const list = o.flannel ? flannelList(o, cmd) : bridgeList(o, cmd);
      const text = `${JSON.stringify(list, null, 2)}\n`;
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

/** The flags of `podnet cni conflist`. */
interface ConflistFlags {
  flannel?: boolean;
  subnetFile?: string;
  flannelDataDir?: string;
  subnet: string;
  clusterCidr: string;
  mtu: string;
  dataDir?: string;
  portmap?: boolean;
  out?: string;
}

/** Refuses flags given on the command line that the chosen network does not use. */
function refuseFlags(cmd: Command, flags: readonly string[], why: string): void {
  const given = flags.find((f) => cmd.getOptionValueSource(f) === 'cli');
  if (given) throw new TopologyError(`--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, `not used ${why}; drop it`);
}

/** `--flannel`: K3s's chain; the node's subnet, MTU and masquerading come from subnet.env at ADD time. */
function flannelList(o: ConflistFlags, cmd: Command) {
  refuseFlags(cmd, ['subnet', 'clusterCidr', 'mtu'], 'with --flannel (the subnet, cluster CIDR and MTU come from subnet.env)');
  return flannelConflist({
    ...(o.subnetFile ? { subnetFile: o.subnetFile } : {}),
    ...(o.flannelDataDir ? { dataDir: o.flannelDataDir } : {}),
    ...(o.dataDir ? { ipamDataDir: o.dataDir } : {}),
    portmap: !!o.portmap,
  });
}

/** The bridge config flannel would hand its delegate, for one node's subnet. */
function bridgeList(o: ConflistFlags, cmd: Command) {
  refuseFlags(cmd, ['subnetFile', 'flannelDataDir'], 'without --flannel');
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
  return k3sConflist({ subnet: o.subnet, clusterCIDR: o.clusterCidr, mtu, ...(o.dataDir ? { dataDir: o.dataDir } : {}), portmap: !!o.portmap });
}
