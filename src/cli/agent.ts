// `podnet agent`: flanneld's job on one node — hold a subnet lease in the store (etcd, or a file),
// keep flannel.1 and its neighbour/FDB/route entries equal to the other nodes' leases, write
// subnet.env for the flannel CNI plugin. Runs until SIGTERM/SIGINT; `--once` sets up, reconciles
// and exits. A lab with `--store etcd` runs one per node inside the node's namespace.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { Host } from '../host/host.js';
import { CURRENT_NETNS, netnsAt, netnsNamed } from '../host/netns.js';
import { ExecRunner } from '../host/runner.js';
import { requireRoot } from '../lab/lab.js';
import { LabError } from '../lab/errors.js';
import { parseCidr, formatCidr } from '../model/ip.js';
import { labNetworkConfig } from '../model/flannel.js';
import { NodeAgent, DEFAULT_TTL_S, findUnderlay } from '../overlay/agent.js';
import { openStore } from '../overlay/store.js';
import { positiveInt, type GlobalOptions } from './context.js';

interface AgentFlags {
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

/** Registers `podnet agent`. */
export function agentCommand(program: Command, _global: () => GlobalOptions): void {
  program.command('agent')
    .description('the node agent (flanneld\'s job): subnet lease, flannel.1, routes/FDB/neighbours to every other node, subnet.env')
    .requiredOption('--node <name>', 'this node\'s name (for messages)')
    .option('--store <store>', 'lease store: etcd://HOST:PORT[,HOST:PORT] or file:/PATH', 'etcd://127.0.0.1:2379')
    .option('--iface <dev>', 'underlay interface (default: the default route\'s)')
    .option('--public-ip <ip>', 'this node\'s address on the underlay (default: the interface\'s first IPv4)')
    .option('--data-dir <dir>', 'where flannel.1\'s MAC is kept across restarts', '/var/lib/podnet/agent')
    .option('--subnet-file <file>', 'flannel\'s subnet.env', '/run/flannel/subnet.env')
    .option('--subnet-hint <cidr>', 'a subnet to take when free (like K3s\'s node podCIDR)')
    .option('--vtep-mac <mac>', 'flannel.1\'s MAC when none is kept yet (default: random; then kept in the data dir)')
    .option('--lease-ttl <seconds>', 'lease TTL; 0 makes a reservation', positiveInt('--lease-ttl', 10_000_000, 'seconds'), DEFAULT_TTL_S)
    .option('--network <cidr>', 'store this cluster network config if the store has none (like 10.42.0.0/16)')
    .option('--netns <name>', 'manage this network namespace instead of the current one (a name under /run/netns or a path)')
    .option('--no-ip-masq', 'do not install the masquerade rules (FLANNEL_IPMASQ=false)')
    .option('--once', 'set up and reconcile once, then exit')
    .addHelpText('after', '\nExamples:\n  podnet agent --node server --store etcd://198.51.100.254:2379 --network 10.42.0.0/16\n  podnet agent --node agent1 --store file:/var/lib/podnet/leases.json --once')
    .action(async (o: AgentFlags) => {
      requireRoot('agent');
      const runner = new ExecRunner();
      const ns = !o.netns ? CURRENT_NETNS : o.netns.includes('/') ? netnsAt(o.netns) : netnsNamed(o.netns);
      const u = await findUnderlay(new Host(runner), ns, o.iface);
      const publicIP = o.publicIp ?? u.ip;
      if (!publicIP) throw new LabError(`--public-ip: ${u.dev} has no IPv4 address; give one (like --public-ip 198.51.100.2)`);
      if (o.subnetHint) o.subnetHint = formatCidr(parseCidr(o.subnetHint));
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${o.node}: ${line}\n`);
      const store = await openStore(o.store);
      const agent = new NodeAgent({
        host: new Host(runner), netns: ns, store, node: o.node, publicIP, underlayDev: u.dev, underlayMtu: u.mtu,
        dataDir: o.dataDir, subnetFile: o.subnetFile, ttlSeconds: o.leaseTtl, ...(o.subnetHint ? { hint: o.subnetHint } : {}), ...(o.vtepMac ? { vtepMac: o.vtepMac } : {}),
        ipMasq: o.ipMasq, log, random: (n) => new Uint8Array(randomBytes(n)), ...(o.network ? { initConfig: labNetworkConfig(o.network) } : {}),
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
    });
}
