// The evidence a trace collects beside its captures: the netfilter rules its packets met (rule
// tracing), the connection tracking entries of its flow (original and reply tuple: the NAT), and the
// packets the kernel dropped (skb:kfree_skb), tied to the trace. Pure types.
import type { Direction } from './trace.js';

/** A netfilter rule a traced packet met, as the rule tracer reported it (xtables-monitor or nft monitor). */
export interface RuleHit {
  /** The node (namespace owner) whose netfilter it is. */
  node: string;
  table: string;
  chain: string;
  /** `packet` (entering a base chain), `rule`, `policy`, `return`. */
  type: string;
  /** The rule as the tracer printed it (iptables syntax from xtables-monitor, nft syntax from nft). */
  rule?: string;
  handle?: number;
  /** 1-based position of the rule in its chain (found for the rule that dropped a packet). */
  index?: number;
  verdict?: string;
  target?: string;
  /** The traced packet's IP id, source and destination as netfilter saw it. */
  ipId?: number;
  src?: string;
  dst?: string;
  direction?: Direction;
}

/** A connection tracking entry of the traced flow on a node: the original and the reply tuple. */
export interface ConntrackSeen {
  node: string;
  proto: string;
  state?: string;
  /** `10.42.0.2:39738 → 10.43.0.11:80` and `10.42.1.2:8080 → 10.42.0.2:39738`. */
  original: string;
  reply: string;
  flags: string[];
  /** `DNAT 10.43.0.11:80 → 10.42.1.2:8080`, when the tuples say NAT happened. */
  nat?: string;
}

/** A packet the kernel dropped (skb:kfree_skb) during the trace, attributed to it. */
export interface DropSeen {
  reason: string;
  /** The kernel function: `vxlan_rcv`. */
  location: string;
  /** ns since the trace's first frame. */
  sinceStartNs: number;
  /** Where it died on the path (the last point that saw it), and the node whose kernel dropped it. */
  point?: string;
  node?: string;
  /** How it was tied to the trace: the task was the probe's (`pid`), or the time and the last hop fit (`place`). */
  by: 'pid' | 'place';
  /** What the reason means (docs: src/model/drop-reasons.ts). */
  meaning: string;
}

/** The evidence a trace collects beside its captures. */
export interface TraceEvidence {
  rules: RuleHit[];
  conntrack: ConntrackSeen[];
  drops: DropSeen[];
  /** What could not be collected, and why (one line each). */
  notes: string[];
}
