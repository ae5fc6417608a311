// The work of `podnet cni install|conflist|serve` (loaded only when the verb runs).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packagePath } from '../../host/package-root.js';
import type { Command } from 'commander';
import { ShellRunner } from '../../host/shell-runner.js';
import { clientScript, EXECUTABLES, flannelConflist, k3sConflist } from '../../cni/install.js';
import { serveCni } from '../../cni/serve.js';
import { parseCidr, containsCidr } from '../../model/ip.js';
import { TopologyError } from '../../model/topology.js';
import { out, requireRoot, say, type GlobalOptions } from '../flags.js';

const MAIN = packagePath('dist', 'src', 'cni', 'main.js');

/** `podnet cni install`. */
export async function cniInstall(_g: GlobalOptions, o: { dir: string; socket: string }): Promise<void> {
  await mkdir(o.dir, { recursive: true });
  for (const exe of EXECUTABLES) {
    const file = join(o.dir, exe);
    await writeFile(file, clientScript(exe.replace(/^podnet-/, ''), process.execPath, MAIN, o.socket));
    await chmod(file, 0o755);
  }
  say(`installed ${EXECUTABLES.join(', ')} in ${o.dir} (run \`podnet cni serve\` so calls skip Node's start-up)`);
}

/** `podnet cni conflist`. */
export async function cniConflist(_g: GlobalOptions, o: ConflistFlags, cmd: Command): Promise<void> {
  const list = o.flannel ? flannelList(o, cmd) : bridgeList(o, cmd);
  const text = `${JSON.stringify(list, null, 2)}\n`;
  if (o.out) {
    await writeFile(o.out, text);
    say(`wrote ${o.out}`);
  } else out(text);
}

/** `podnet cni serve`: until SIGINT/SIGTERM. */
export async function cniServe(_g: GlobalOptions, o: { socket: string }): Promise<void> {
  requireRoot('cni serve', 'binds the CNI socket under /run');
  const server = await serveCni(new ShellRunner(8), o.socket);
  say(`podnet cni serve: listening on ${o.socket}`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** The flags of `podnet cni conflist`. */
export interface ConflistFlags {
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
