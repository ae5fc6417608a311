// portmap's nat rules as data, and the iptables-restore input that brings a table to them, planned
// against what iptables-save shows (pure). The reference's layout (plugins/meta/portmap, 1.1.1):
//   PREROUTING, OUTPUT: -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
//   CNI-HOSTPORT-DNAT:  -p tcp -m comment --comment "dnat name: …" -m multiport --dports 8080,… -j CNI-DN-<hash>
//   CNI-DN-<hash>:      per mapping: hairpin (-s <pod network>) and localhost (-s 127.0.0.1) → SETMARK, then DNAT
//   CNI-HOSTPORT-SETMARK: -j MARK --set-xmark 0x2000/0x2000; POSTROUTING (first) → CNI-HOSTPORT-MASQ: marked → MASQUERADE
// Every rule is written exactly as iptables-save prints it, so "is it there?" is a comparison of text
// and a second ADD adds nothing. Chains are made with `-N` (which fails if another writer made one
// meanwhile: the caller reads again and retries), never with `:CHAIN`, which would flush a shared chain.
import { createHash } from 'node:crypto';
import { quoteIptablesWord, type IptablesTable } from '../model/netfilter.js';
import { canonicalIp, familyOf, markOf, type ContainerAddr, type PortmapConf } from './portmap-config.js';

/** The shared chain PREROUTING and OUTPUT jump to for local destinations (the shared names never
 * change: runtimes upgrade plugins under running pods). */
export const DNAT_CHAIN = 'CNI-HOSTPORT-DNAT';
/** The shared chain that marks a connection for masquerading. */
export const SETMARK_CHAIN = 'CNI-HOSTPORT-SETMARK';
/** The shared chain, first in POSTROUTING, that masquerades marked connections. */
export const MASQ_CHAIN = 'CNI-HOSTPORT-MASQ';
/** The chain old versions jumped to for SNAT; torn down on DEL in case a container predates the change. */
export const OLD_SNAT_CHAIN = 'CNI-HOSTPORT-SNAT';

/** The reference's chain name: `CNI-` + prefix + sha512(network + container) in hex, cut at 28 characters. */
export function chainName(prefix: string, network: string, containerId: string): string {
  return `CNI-${prefix}${createHash('sha512').update(network + containerId).digest('hex')}`.slice(0, 28);
}

/** The per-container DNAT chain (`CNI-DN-` + 21 hex digits). */
export const dnatChainOf = (network: string, containerId: string): string => chainName('DN-', network, containerId);

/** The comment on a container's entry rules; longer than iptables allows (255), it is cut like the reference cuts it. */
export function dnatComment(network: string, containerId: string): string {
  const c = `dnat name: "${network}" id: "${containerId}"`;
  return c.length <= 255 ? c : `${c.slice(0, 253)}...`;
}

/** A chain and the rules that lead to it; `rules` and each entry's `rule` are what follows `-A CHAIN`. */
export interface ChainSpec {
  name: string;
  rules: string[];
  entries: { chain: string; rule: string; prepend?: boolean }[];
}

/** The shared SETMARK and MASQ chains for mark bit `bit`. */
function markChains(bit: number): ChainSpec[] {
  return [
    { name: SETMARK_CHAIN, rules: [`-m comment --comment ${quoteIptablesWord('CNI portfwd masquerade mark')} -j MARK --set-xmark ${markOf(bit)}`], entries: [] },
    { name: MASQ_CHAIN, rules: [`-m mark --mark ${markOf(bit)} -j MASQUERADE`],
      entries: [{ chain: 'POSTROUTING', rule: `-m comment --comment ${quoteIptablesWord('CNI portfwd requiring masquerade')} -j ${MASQ_CHAIN}`, prepend: true }] },
  ];
}

/** The top-level chain every packet to a local address passes. */
const topChain = (): ChainSpec => ({
  name: DNAT_CHAIN, rules: [],
  entries: ['PREROUTING', 'OUTPUT'].map((chain) => ({ chain, rule: `-m addrtype --dst-type LOCAL -j ${DNAT_CHAIN}` })),
});

/** `host:port` as DNAT's --to-destination takes it (`[v6]:port`). */
const toDestination = (a: ContainerAddr, port: number) => (a.family === 6 ? `[${a.ip}]:${port}` : `${a.ip}:${port}`);

/** The container's chain: per mapping of `addr`'s family, the mark rules (with snat) and the DNAT rule;
 * its entries in CNI-HOSTPORT-DNAT: one multiport rule per protocol (protocols sorted) and 15 ports. */
export function containerChain(conf: PortmapConf, containerId: string, addr: ContainerAddr): ChainSpec {
  const name = dnatChainOf(conf.name, containerId);
  const setMark = conf.externalSetMarkChain ?? SETMARK_CHAIN;
  const rules: string[] = [];
  for (const m of conf.mappings) {
    const hostIP = m.hostIP ? canonicalIp(m.hostIP) : undefined;
    if (hostIP && familyOf(hostIP) !== addr.family) continue;
    const dst = !hostIP || hostIP === '0.0.0.0' || hostIP === '::' ? '' : ` -d ${hostIP}/${addr.family === 6 ? 128 : 32}`;
    const match = `-p ${m.protocol} -m ${m.protocol} --dport ${m.hostPort}`;
    if (conf.snat) {
      rules.push(`-s ${addr.network}${dst} ${match} -j ${setMark}`);
      if (addr.family === 4) rules.push(`-s 127.0.0.1/32${dst} ${match} -j ${setMark}`);
    }
    rules.push(`${dst.trimStart()}${dst ? ' ' : ''}${match} -j DNAT --to-destination ${toDestination(addr, m.containerPort)}`);
  }
  const comment = quoteIptablesWord(dnatComment(conf.name, containerId));
  const byProto = new Map<string, number[]>();
  for (const m of conf.mappings) byProto.set(m.protocol, [...(byProto.get(m.protocol) ?? []), m.hostPort]);
  const entries = [...byProto.keys()].sort().flatMap((proto) => {
    const ports = byProto.get(proto)!;
    const groups = Array.from({ length: Math.ceil(ports.length / 15) }, (_, i) => ports.slice(i * 15, i * 15 + 15));
    return groups.map((g) => ({ chain: DNAT_CHAIN, rule: `-p ${proto} -m comment --comment ${comment} -m multiport --dports ${g.join(',')} -j ${name}` }));
  });
  return { name, rules, entries };
}

/** Every chain ADD makes for `addr`, in the order the reference makes them. */
export function chainsFor(conf: PortmapConf, containerId: string, addr: ContainerAddr): ChainSpec[] {
  const marks = conf.snat && !conf.externalSetMarkChain ? markChains(conf.markBit) : [];
  return [...marks, topChain(), containerChain(conf, containerId, addr)];
}

/** The nat table as sets: chain names, and `-A CHAIN …` lines. */
function index(table: IptablesTable | undefined): { chains: Set<string>; rules: Set<string> } {
  return { chains: new Set(table?.chains.map((c) => c.name)), rules: new Set(table?.rules.map((r) => r.text)) };
}

const restore = (lines: string[]): string | undefined => (lines.length ? ['*nat', ...lines, 'COMMIT', ''].join('\n') : undefined);

/** The iptables-restore --noflush input that adds what `chains` need and `table` lacks (undefined:
 * nothing is missing). Rules go at the end of their chain; entries too, or first (`-I CHAIN 1`). */
export function planAdd(table: IptablesTable | undefined, chains: readonly ChainSpec[]): string | undefined {
  const have = index(table);
  const lines: string[] = [];
  const once = (line: string, key: string) => {
    if (!have.rules.has(key)) {
      have.rules.add(key);
      lines.push(line);
    }
  };
  for (const c of chains) {
    if (!have.chains.has(c.name)) {
      have.chains.add(c.name);
      lines.push(`-N ${c.name}`);
    }
    for (const r of c.rules) once(`-A ${c.name} ${r}`, `-A ${c.name} ${r}`);
    for (const e of c.entries) once(`${e.prepend ? `-I ${e.chain} 1` : `-A ${e.chain}`} ${e.rule}`, `-A ${e.chain} ${e.rule}`);
  }
  return restore(lines);
}

/** What is missing from `table` for `chains` (one line each; empty: all there). */
export function checkChains(table: IptablesTable | undefined, chains: readonly ChainSpec[]): string[] {
  const have = index(table);
  const out: string[] = [];
  for (const c of chains) {
    if (!have.chains.has(c.name)) {
      out.push(`chain ${c.name} is missing from table nat`);
      continue;
    }
    for (const r of [...c.rules.map((x) => `-A ${c.name} ${x}`), ...c.entries.map((e) => `-A ${e.chain} ${e.rule}`)]) {
      if (!have.rules.has(r)) out.push(`rule "${r}" is missing from table nat`);
    }
  }
  return out;
}

/** The lines that remove `chain` and the rules of `from` that jump to it (none when neither is there). */
function teardownLines(table: IptablesTable | undefined, chain: string, from: string): string[] {
  if (!table) return [];
  const jumps = table.rules.filter((r) => r.chain === from && r.target === chain).map((r) => r.text.replace(/^-A /, '-D '));
  const exists = table.chains.some((c) => c.name === chain);
  return [...jumps, ...(exists ? [`-F ${chain}`, `-X ${chain}`] : [])];
}

/** The iptables-restore --noflush input that removes the chains of containers `ids` of network `network`
 * (their DNAT chain, its entries, and a SNAT chain of old versions); undefined when there is none. The
 * shared chains stay, as with the reference. */
export function planDel(table: IptablesTable | undefined, network: string, ids: readonly string[]): string | undefined {
  return restore(ids.flatMap((id) => [
    ...teardownLines(table, dnatChainOf(network, id), DNAT_CHAIN),
    ...teardownLines(table, chainName('SN-', network, id), OLD_SNAT_CHAIN),
  ]));
}

/** The containers of `network` whose entry rules are in CNI-HOSTPORT-DNAT (read from their comments). */
export function mappedContainers(table: IptablesTable | undefined, network: string): string[] {
  const ids = new Set<string>();
  for (const r of table?.rules ?? []) {
    const m = r.chain === DNAT_CHAIN ? /^dnat name: "(.*)" id: "(.*)"$/.exec(r.comment ?? '') : null;
    if (m && m[1] === network && r.target === dnatChainOf(network, m[2])) ids.add(m[2]);
  }
  return [...ids];
}
