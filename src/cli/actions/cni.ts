// The work of `podnet cni install|conflist|serve` (loaded only when the verb runs).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packagePath } from '../../host/package-root.js';
import type { Command } from 'commander';
import { z } from 'zod';
import { ShellRunner } from '../../host/shell-runner.js';
import { clientScript, EXECUTABLES, flannelConflist, k3sConflist } from '../../cni/install.js';
import { runDaemon } from '../../cni/serve-life.js';
import { DEFAULT_SOCKET } from '../../cni/socket.js';
import { parseCidr, containsCidr } from '../../model/ip.js';
import { TopologyError } from '../../model/topology.js';
import { out, requireRoot, say, type GlobalOptions } from '../flags.js';

/** `podnet cni install`. */
export async function cniInstall(_g: GlobalOptions, o: { dir: string; socket: string; autostart?: boolean; idleExit: string }): Promise<void> {
  const idleExitS = Number(o.idleExit);
  if (!Number.isInteger(idleExitS) || idleExitS < 1 || idleExitS > 86_400) throw new TopologyError('--idle-exit', `"${o.idleExit}" is not a number of seconds from 1 to 86400 (like --idle-exit 300)`);
  // The default socket is podnet's to manage; a socket of your own is a daemon you run, unless --autostart.
  const autostart = o.autostart ?? o.socket === DEFAULT_SOCKET;
  await mkdir(o.dir, { recursive: true });
  for (const exe of EXECUTABLES) {
    const file = join(o.dir, exe);
    await writeFile(file, clientScript(exe.replace(/^podnet-/, ''), {
      node: process.execPath, main: packagePath('bin', 'podnet-cni.js'), podnet: packagePath('bin', 'podnet.js'), socket: o.socket, autostart, idleExitS,
    }));
    await chmod(file, 0o755);
  }
  say(`installed ${EXECUTABLES.join(', ')} in ${o.dir}: ${autostart
    ? `the first call starts \`podnet cni serve\` on ${o.socket} (log ${o.socket}.log; it exits after ${idleExitS} s without calls)`
    : `calls go to \`podnet cni serve --socket ${o.socket}\` when it runs, else start Node each time`}`);
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

/** `podnet cni serve`: until SIGINT/SIGTERM, or until idle for --idle-exit seconds. */
export async function cniServe(_g: GlobalOptions, o: { socket: string; idleExit?: string }): Promise<void> {
  requireRoot('cni serve', 'binds the CNI socket under /run');
  const idleExitS = o.idleExit === undefined ? 0 : Number(o.idleExit);
  if (!Number.isInteger(idleExitS) || idleExitS < 0 || idleExitS > 86_400) throw new TopologyError('--idle-exit', `"${o.idleExit ?? ''}" is not a number of seconds from 0 to 86400 (like --idle-exit 300; 0 never exits)`);
  // A daemon parses the same config schemas on every call: zod's compiled fast path pays off here
  // (a one-shot CLI run, which parses once, goes without it: cli/context.ts).
  z.config({ jitless: false });
  const runner = new ShellRunner(8);
  try {
    await runDaemon(runner, o.socket, { idleExitS, say });
  } finally {
    runner.close();
  }
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
