// kube-proxy's two modes, and what a sync of one node produces in either. Pure.
import type { ProxyRecord } from './record.js';
import type { StaleFlow } from './conntrack.js';

/** kube-proxy's mode (K3s: iptables; nftables with `--kube-proxy-arg=proxy-mode=nftables`). */
export type ProxyMode = 'iptables' | 'nftables';

/** One node's sync: the text to apply in one transaction and the record to keep once it is applied. */
export interface ProxySyncPlan {
  mode: ProxyMode;
  /** iptables-restore --noflush input, or nft -f input; '' when nothing changed (nothing to run). */
  text: string;
  record: ProxyRecord;
  /** True when everything was written (no record, or it could not be trusted). */
  full: boolean;
  /** How many Service ports were (re)written, of how many. */
  written: number;
  ports: number;
  /** Chains deleted because nothing uses them any more. */
  stale: string[];
  /** UDP conntrack entries to delete once the rules are in (endpoints gone, or the first ones). */
  conntrack: StaleFlow[];
}
