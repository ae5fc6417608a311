// `podnet cni install`: podnet's plugins as executables a runtime can call. Each is a tiny Perl
// client (Perl is Essential on Debian and starts in ~4 ms with builtins only; Node needs ~70 ms):
// it hands the request to `podnet cni serve` over a unix socket, or, with no daemon running, execs
// the one-shot Node plugin. `podnet cni conflist`: the K3s-shaped network for them — K3s's real chain
// (flannel delegating to bridge, then portmap) or the bridge config flannel would hand its delegate.
import type { NetworkConfigList } from './runtime.js';
import { CLIENT_MARKER } from './exec.js';
import { DEFAULT_SOCKET } from './socket.js';
import { K3S_NETWORK, cbr0Bridge, flannelChain } from './k3s.js';

/** The plugins podnet installs, by executable name. */
export const EXECUTABLES = ['podnet-bridge', 'podnet-host-local', 'podnet-loopback', 'podnet-flannel', 'podnet-portmap'] as const;

const perlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The text of one plugin executable. */
export function clientScript(type: string, node: string, main: string, socket = DEFAULT_SOCKET): string {
  return `#!/usr/bin/perl
${CLIENT_MARKER} (${type}): written by \`podnet cni install\`.
# Hands the CNI request (CNI_* environment, stdin) to \`podnet cni serve\` on a unix socket and prints
# its answer; with no daemon listening, runs the plugin itself (\`node ${main} ${type}\`).
use strict;
my $type = ${perlString(type)};
my $socket = $ENV{PODNET_CNI_SOCKET} // ${perlString(socket)};
my $s;
if (socket($s, 1, 1, 0) && connect($s, pack('S Z108', 1, $socket))) {
  # A daemon that closes the connection (over its connection limit, stopping) must not kill us with
  # SIGPIPE: the write fails, the read finds no answer, and we say so in the spec's words.
  $SIG{PIPE} = 'IGNORE';
  binmode STDIN; binmode STDOUT;
  my $in = do { local $/; <STDIN> } // '';
  my $start = ''; if (open(my $st, '<', '/proc/self/stat')) { local $/; my $t = <$st>; $start = (split ' ', substr($t, rindex($t, ')') + 2))[19] // ''; }
  my $req = "PODNET-CNI 1\\ntype $type\\npid $$\\nstart $start\\n";
  for my $k (sort keys %ENV) { next unless $k =~ /^CNI_/; (my $v = $ENV{$k}) =~ s/\\n/ /g; $req .= "env $k=$v\\n"; }
  $req .= 'stdin ' . length($in) . "\\n" . $in;
  for (my $off = 0; $off < length $req;) { my $n = syswrite($s, $req, length($req) - $off, $off); last unless defined $n && $n > 0; $off += $n; }
  my $resp = '';
  while (1) { my $n = sysread($s, my $chunk, 65536); last unless $n; $resp .= $chunk; }
  if ($resp =~ /\\A(\\d+)\\n(\\d+)\\n/) { print substr($resp, length($&), $2); exit $1; }
  print '{"cniVersion":"1.0.0","code":11,"msg":"podnet cni serve did not answer: try again later"}', "\\n";
  exit 1;
}
exec { ${perlString(node)} } ${perlString(node)}, ${perlString(main)}, $type;
print '{"cniVersion":"1.0.0","code":999,"msg":"cannot run ${node.replace(/"/g, '')}: install Node.js 20 or run podnet cni install again"}', "\\n";
exit 1;
`;
}

/** Options of the generated network. */
export interface ConflistOptions {
  subnet: string;
  clusterCIDR: string;
  mtu: number;
  dataDir?: string;
  /** Chain the reference portmap and bandwidth plugins as K3s does (they must be on the plugin path). */
  portmap?: boolean;
}

/** K3s's cbr0 network with podnet's plugins: the bridge config flannel hands its delegate on K3s. */
export function k3sConflist(o: ConflistOptions): NetworkConfigList {
  return {
    cniVersion: '1.0.0',
    name: K3S_NETWORK,
    plugins: [
      cbr0Bridge({ bridgeType: 'podnet-bridge', ipamType: 'podnet-host-local', clusterCIDR: o.clusterCIDR, subnet: o.subnet, mtu: o.mtu, ...(o.dataDir ? { dataDir: o.dataDir } : {}) }),
      ...(o.portmap ? [
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ] : []),
    ],
  };
}

/** Where the flannel chain keeps its files (each left out means flannel's or host-local's default). */
export interface FlannelChainOptions {
  /** subnet.env (default /run/flannel/subnet.env). */
  subnetFile?: string;
  /** flannel's saved delegates (default /var/lib/cni/flannel). */
  dataDir?: string;
  /** host-local's store (default /var/lib/cni/networks). */
  ipamDataDir?: string;
  /** Chain the reference portmap and bandwidth plugins, exactly as K3s does, instead of podnet-portmap. */
  portmap?: boolean;
}

/** K3s's chain for a runtime: podnet-flannel (delegating to podnet-bridge and podnet-host-local), podnet-portmap. */
export function flannelConflist(o: FlannelChainOptions = {}): NetworkConfigList {
  return flannelChain({ flannel: 'podnet-flannel', bridge: 'podnet-bridge', hostLocal: 'podnet-host-local', portmap: 'podnet-portmap' }, { ...o, reference: o.portmap });
}

/** K3s's chain for the in-process registry (the lab): flannel (its delegate the default `bridge`),
 * host-local with its store in `ipamDataDir`, portmap. */
export function flannelPodNetwork(o: { subnetFile: string; dataDir: string; ipamDataDir: string }): NetworkConfigList {
  return flannelChain({ flannel: 'flannel', hostLocal: 'host-local', portmap: 'portmap' }, o);
}
