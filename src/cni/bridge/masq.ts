// ipMasq for the bridge plugin: a per-container nat chain, like the reference's
// (chain CNI-<24 hex of sha512(network name + container id)>, comment `name: "NET" id: "CID"`),
// written and read back through src/host/iptables.ts.
import { createHash } from 'node:crypto';
import type { Runner } from '../../host/runner.js';
import type { Netns } from '../../host/netns.js';
import { iptablesRestore, iptablesSave } from '../../host/iptables.js';
import { quoteIptablesWord } from '../../model/netfilter.js';

/** The reference's chain name for a (network, container) pair. */
export function masqChain(network: string, containerId: string): string {
  return `CNI-${createHash('sha512').update(network + containerId).digest('hex').slice(0, 24)}`;
}

const comment = (network: string, containerId: string) => quoteIptablesWord(`name: "${network}" id: "${containerId}"`);

/** The iptables-restore input that masquerades traffic from `ips` leaving `subnets` (pure). */
export function masqRules(network: string, containerId: string, ips: { ip: string; subnet: string }[]): string {
  const chain = masqChain(network, containerId);
  const c = comment(network, containerId);
  return [
    '*nat',
    `:${chain} - [0:0]`,
    ...ips.map(({ subnet }) => `-A ${chain} -d ${subnet} -m comment --comment ${c} -j ACCEPT`),
    `-A ${chain} ! -d 224.0.0.0/4 -m comment --comment ${c} -j MASQUERADE`,
    ...ips.map(({ ip }) => `-A POSTROUTING -s ${ip}/32 -m comment --comment ${c} -j ${chain}`),
    'COMMIT',
    '',
  ].join('\n');
}

/** Masquerades traffic from `ips` leaving `subnets`. Equivalent to: `iptables-restore --noflush -w` with
 * `-A CHAIN -d SUBNET -j ACCEPT`, `-A CHAIN ! -d 224.0.0.0/4 -j MASQUERADE`, `-A POSTROUTING -s IP -j CHAIN`. */
export async function masqSetup(runner: Runner, ns: Netns, network: string, containerId: string, ips: { ip: string; subnet: string }[]): Promise<void> {
  await iptablesRestore(runner, ns, masqRules(network, containerId, ips), { noflush: true });
}

/** Removes the chain and every POSTROUTING rule jumping to it, whether or not the interface is still there.
 * Equivalent to: `iptables -t nat -D POSTROUTING … -j CHAIN; iptables -t nat -F CHAIN; iptables -t nat -X CHAIN`. */
export async function masqTeardown(runner: Runner, ns: Netns, network: string, containerId: string): Promise<void> {
  const chain = masqChain(network, containerId);
  const nat = (await iptablesSave(runner, ns, { table: 'nat' }).catch(() => undefined))?.tables.find((t) => t.name === 'nat');
  if (!nat) return;
  const jumps = nat.rules.filter((r) => r.chain === 'POSTROUTING' && r.target === chain);
  const hasChain = nat.chains.some((c) => c.name === chain);
  if (!hasChain && jumps.length === 0) return;
  const lines = ['*nat', ...jumps.map((r) => r.text.replace(/^-A /, '-D ')), ...(hasChain ? [`-F ${chain}`, `-X ${chain}`] : []), 'COMMIT', ''];
  await iptablesRestore(runner, ns, lines.join('\n'), { noflush: true });
}
