// `podnet cni install | conflist | serve`: podnet's CNI plugins for real runtimes.
import type { Command } from 'commander';
import { DEFAULT_IDLE_EXIT_S, DEFAULT_SOCKET } from '../cni/socket.js';
import { lazy, type GlobalOptions } from './flags.js';

const actions = () => import('./actions/cni.js');

/** Registers `cni`. */
export function cniCommand(program: Command, global: () => GlobalOptions): void {
  const cni = program.command('cni').description('podnet\'s CNI plugins for podman, containerd and other runtimes');

  cni.command('install')
    .description('write podnet-bridge, -host-local, -loopback, -flannel and -portmap where a runtime looks for plugins')
    .option('--dir <dir>', 'the plugin directory', '/opt/cni/bin')
    .option('--socket <path>', 'the socket of `podnet cni serve`', DEFAULT_SOCKET)
    .option('--autostart', 'the first call starts `podnet cni serve` on the socket (the default for the default socket)')
    .option('--no-autostart', 'never start a daemon: calls use one you run, else start Node each time')
    .option('--idle-exit <seconds>', 'a daemon the plugins started exits after this long without calls', String(DEFAULT_IDLE_EXIT_S))
    .addHelpText('after', '\nExamples:\n  podnet cni install                     (the first plugin call starts the daemon; it exits when idle)\n  podnet cni install --dir /usr/lib/cni --no-autostart')
    .action(lazy(actions, (m) => m.cniInstall, global));

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
    .action(lazy(actions, (m) => m.cniConflist, global));

  cni.command('serve')
    .description('run plugin requests from the installed executables without starting Node each time')
    .option('--socket <path>', 'the unix socket', DEFAULT_SOCKET)
    .option('--idle-exit <seconds>', 'exit after this long without a request (default: never)')
    .addHelpText('after', '\nExamples:\n  podnet cni serve &                     (not needed after a default `podnet cni install`: the plugins start it)\n  podnet cni serve --socket /run/my.sock --idle-exit 600')
    .action(lazy(actions, (m) => m.cniServe, global));
}
