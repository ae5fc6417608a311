// flannel's masquerade and forward rules (`--ip-masq`, docs/facts.md#flannel), written for
// nftables inside the node's namespace: table `ip flannel` with the chains FLANNEL-POSTRTG (nat,
// postrouting) and FLANNEL-FWD (filter, forward), rule for rule what flannel puts into iptables.
// Applied as one `nft -f -` transaction that replaces the table, so re-applying (flannel re-checks
// its rules periodically) is atomic and idempotent.
import type { Netns } from '../host/netns.js';
import type { Runner } from '../host/runner.js';
import { nftApply } from '../host/nft.js';

export const NFT_TABLE = 'flannel';

/** The ruleset for a node with pod subnet `podCIDR` in cluster network `network`. */
export function flannelRuleset(network: string, podCIDR: string, ipMasq: boolean): string {
  const masq = [
    '    meta mark & 0x4000 == 0x4000 return',
    `    ip saddr ${podCIDR} ip daddr ${network} return`,
    `    ip saddr ${network} ip daddr ${podCIDR} return`,
    `    ip saddr != ${network} ip daddr ${podCIDR} return`,
    `    ip saddr ${network} ip daddr != 224.0.0.0/4 masquerade random,fully-random`,
    `    ip saddr != ${network} ip daddr ${network} masquerade random,fully-random`,
  ];
  // Without --ip-masq flannel adds no POSTROUTING rules at all: no nat chain (an empty one would
  // still switch connection tracking on for every forwarded packet).
  const postrouting = ipMasq ? ['  chain FLANNEL-POSTRTG {', '    type nat hook postrouting priority srcnat; policy accept;', ...masq, '  }'] : [];
  return [
    `table ip ${NFT_TABLE} {}`,
    `delete table ip ${NFT_TABLE}`,
    `table ip ${NFT_TABLE} {`,
    ...postrouting,
    '  chain FLANNEL-FWD {',
    '    type filter hook forward priority filter; policy accept;',
    `    ip saddr ${network} accept`,
    `    ip daddr ${network} accept`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Replaces the node's flannel table. Equivalent to: `nsenter --net=NS nft -f - <<EOF` + ruleset. */
export async function applyFlannelRules(runner: Runner, ns: Netns, network: string, podCIDR: string, ipMasq: boolean): Promise<void> {
  await nftApply(runner, ns, flannelRuleset(network, podCIDR, ipMasq));
}
