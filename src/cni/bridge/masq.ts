// ipMasq for the bridge plugin: a per-container nat chain, like the reference's
// (chain CNI-<24 hex of sha512(network name + container id)>, comment `name: "NET" id: "CID"`).
import { createHash } from 'node:crypto';
import type { Runner } from '../../host/runner.js';
import { runOk } from '../../host/runner.js';
import { inNetns, type Netns } from '../../host/netns.js';

/** The reference's chain name for a (network, container) pair. */
export function masqChain(network: string, containerId: string): string {
  return `CNI-${createHash('sha512').update(network + containerId).digest('hex').slice(0, 24)}`;
}

const comment = (network: string, containerId: string) => `name: "${network}" id: "${containerId}"`;

/** Masquerades traffic from `ips` leaving `subnets`. Equivalent to: `iptables-restore --noflush` with
 * `-A CHAIN -d SUBNET -j ACCEPT`, `-A CHAIN ! -d 224.0.0.0/4 -j MASQUERADE`, `-A POSTROUTING -s IP -j CHAIN`. */
export async function masqSetup(runner: Runner, ns: Netns, network: string, containerId: string, ips: { ip: string; subnet: string }[]): Promise<void> {
  const chain = masqChain(network, containerId);
  const c = JSON.stringify(comment(network, containerId));
  const rules = [
    '*nat',
    `:${chain} - [0:0]`,
    ...ips.map(({ subnet }) => `-A ${chain} -d ${subnet} -m comment --comment ${c} -j ACCEPT`),
    `-A ${chain} ! -d 224.0.0.0/4 -m comment --comment ${c} -j MASQUERADE`,
    ...ips.map(({ ip }) => `-A POSTROUTING -s ${ip}/32 -m comment --comment ${c} -j ${chain}`),
    'COMMIT',
  ];
  await runOk(runner, { argv: inNetns(ns, 'iptables-restore', ['--noflush', '-w']), input: `${rules.join('\n')}\n`, mutates: true });
}

/** Removes the chain and every POSTROUTING rule jumping to it, whether or not the interface is still there.
 * Equivalent to: `iptables -t nat -D POSTROUTING … -j CHAIN; iptables -t nat -F CHAIN; iptables -t nat -X CHAIN`. */
export async function masqTeardown(runner: Runner, ns: Netns, network: string, containerId: string): Promise<void> {
  const chain = masqChain(network, containerId);
  const r = await runner.run({ argv: inNetns(ns, 'iptables', ['-w', '-t', 'nat', '-S']), mutates: false });
  if (r.exitCode !== 0) return;
  const jumps = r.stdout.split('\n').filter((l) => l.startsWith('-A POSTROUTING') && l.includes(`-j ${chain}`));
  const hasChain = r.stdout.split('\n').some((l) => l === `-N ${chain}`);
  if (!hasChain && jumps.length === 0) return;
  const rules = ['*nat', ...jumps.map((l) => l.replace(/^-A /, '-D ')), ...(hasChain ? [`-F ${chain}`, `-X ${chain}`] : []), 'COMMIT'];
  await runOk(runner, { argv: inNetns(ns, 'iptables-restore', ['--noflush', '-w']), input: `${rules.join('\n')}\n`, mutates: true });
}
