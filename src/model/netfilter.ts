// Netfilter as data, in one import: iptables-save text (./netfilter-iptables.ts), nft's JSON
// (./netfilter-nft.ts), rule traces from `nft monitor trace` and `xtables-monitor --trace`
// (./netfilter-trace.ts), and the flows podnet traces (./netfilter-flow.ts). Pure.
export * from './netfilter-iptables.js';
export * from './netfilter-nft.js';
export * from './netfilter-trace.js';
export * from './netfilter-flow.js';
