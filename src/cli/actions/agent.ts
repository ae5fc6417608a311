// The work of `podnet agent` (loaded only when the verb runs): flanneld's loop on one node.
import { secureRandom } from '../../host/random.js';
import { Host } from '../../host/host.js';
import { CURRENT_NETNS } from '../../host/netns.js';
import { netnsFromFlag } from '../../lab/target.js';
import { ExecRunner } from '../../host/runner.js';
import { UserError } from '../../model/errors.js';
import { parseCidr, formatCidr } from '../../model/ip.js';
import { labNetworkConfig } from '../../model/flannel.js';
import { NodeAgent, findUnderlay } from '../../overlay/agent.js';
import { openStore } from '../../overlay/store.js';
import { requireRoot, type GlobalOptions } from '../flags.js';

/** The flags of `podnet agent`. */
export interface AgentFlags {
  node: string;
  store: string;
  iface?: string;
  publicIp?: string;
  dataDir: string;
  subnetFile: string;
  subnetHint?: string;
  vtepMac?: string;
  leaseTtl: number;
  network?: string;
  netns?: string;
  ipMasq: boolean;
  once?: boolean;
}

/** `podnet agent`. */
export async function agentVerb(_g: GlobalOptions, o: AgentFlags): Promise<void> {
  requireRoot('agent', 'changes a network namespace');
  const runner = new ExecRunner();
  const ns = o.netns ? netnsFromFlag(o.netns) : CURRENT_NETNS;
  const host = new Host(runner);
  const u = await findUnderlay(host, ns, o.iface);
  const publicIP = o.publicIp ?? u.ip;
  if (!publicIP) throw new UserError('usage', `--public-ip: ${u.dev} has no IPv4 address; give one (like --public-ip 198.51.100.2)`);
  if (o.subnetHint) o.subnetHint = formatCidr(parseCidr(o.subnetHint));
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${o.node}: ${line}\n`);
  const store = await openStore(o.store);
  const agent = new NodeAgent({
    host, netns: ns, store, node: o.node, publicIP, underlayDev: u.dev, underlayMtu: u.mtu,
    dataDir: o.dataDir, subnetFile: o.subnetFile, ttlSeconds: o.leaseTtl, ...(o.subnetHint ? { hint: o.subnetHint } : {}), ...(o.vtepMac ? { vtepMac: o.vtepMac } : {}),
    ipMasq: o.ipMasq, log, random: secureRandom, ...(o.network ? { initConfig: labNetworkConfig(o.network) } : {}),
  });
  try {
    if (o.once) {
      await agent.setup();
      await agent.reconcile();
      return;
    }
    const stop = new AbortController();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { log(`${sig}: stopping (the lease stays until it expires)`); stop.abort(); });
    log(`starting: store ${store.description}, PublicIP ${publicIP} on ${u.dev} (MTU ${u.mtu})`);
    await agent.run(stop.signal, () => log(`ready: subnet ${agent.subnet}, ${o.subnetFile} written`));
  } finally {
    await store.close();
  }
  log('stopped');
  // etcd's client keeps reconnect timers for a while after close(); the agent has nothing left
  // to do, so it ends now rather than when they run out (lab down waits for it).
  process.exit(0);
}
