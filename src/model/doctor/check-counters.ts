// What the kernel counts and switches per node beyond the datapath: connection tracking's fill and
// its failures, checksum offload on the VXLAN device, UDP checksum errors. Parsers of the /proc and
// ethtool texts these come from live here too. Pure.
import { inNs } from './commands.js';
import { on, vtepOf, type Check } from './node.js';

/** /proc/net/stat/nf_conntrack: a header of field names, then one row of hex counters per CPU.
 * `entries` is the namespace's count (the same on every row); the others are summed. */
export function parseConntrackStat(text: string): Record<string, number> {
  const [head, ...rows] = text.trim().split('\n').map((l) => l.trim().split(/\s+/));
  if (!head || rows.length === 0) return {};
  const out: Record<string, number> = {};
  head.forEach((name, i) => {
    const vals = rows.map((r) => parseInt(r[i] ?? '0', 16)).filter((n) => Number.isFinite(n));
    out[name] = name === 'entries' ? (vals[0] ?? 0) : vals.reduce((a, b) => a + b, 0);
  });
  return out;
}

/** /proc/net/snmp's line pair for `proto` (`Udp`): counter name → value. */
export function parseSnmp(text: string, proto: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith(`${proto}: `));
  if (lines.length < 2) return {};
  const names = lines[0].split(/\s+/).slice(1);
  const vals = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, vals[i] ?? 0]));
}

/** `ethtool -k DEV`: feature → on (`[fixed]` features included). */
export function parseEthtoolFeatures(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of text.matchAll(/^\s*([a-z0-9-]+):\s+(on|off)\b/gm)) out[m[1]] = m[2] === 'on';
  return out;
}

/** Connection tracking is not (nearly) full and has not been failing inserts. */
export const checkConntrack: Check = (_exp, obs) => {
  const ct = obs.conntrack;
  if (!ct || ct.max <= 0) return [];
  const show = { command: inNs(obs.ns, ['cat', '/proc/sys/net/netfilter/nf_conntrack_count', '/proc/sys/net/netfilter/nf_conntrack_max']), value: `${ct.count} of ${ct.max}` };
  const stat = inNs(obs.ns, ['cat', '/proc/net/stat/nf_conntrack']);
  const failed = (ct.stats.insert_failed ?? 0) + (ct.stats.drop ?? 0) + (ct.stats.early_drop ?? 0);
  const fix = `sysctl -w net.netfilter.nf_conntrack_max=${Math.max(262144, ct.max * 4)}  # machine-wide: run it in the root namespace`;
  if (ct.count >= ct.max * 0.9) {
    return [on(obs, { id: 'conntrack-full', severity: ct.count >= ct.max ? 'error' : 'warning', reach: 'node',
      what: `Connection tracking holds ${ct.count} of at most ${ct.max} entries`,
      breaks: 'New connections through this node (Services, masquerade, pod traffic) are dropped once the table is full.',
      evidence: [show, { command: stat, value: `insert_failed ${ct.stats.insert_failed ?? 0}, drop ${ct.stats.drop ?? 0}, early_drop ${ct.stats.early_drop ?? 0}` }], fix: [fix] })];
  }
  if (failed > 0) {
    return [on(obs, { id: 'conntrack-drops', severity: 'warning', reach: 'node',
      what: `Connection tracking dropped or failed to insert ${failed} connection(s) (insert_failed ${ct.stats.insert_failed ?? 0}, drop ${ct.stats.drop ?? 0}, early_drop ${ct.stats.early_drop ?? 0})`,
      breaks: 'Connections were lost: a full table, or UDP races (DNS) inserting the same tuple twice.',
      evidence: [show, { command: stat, value: `insert_failed ${ct.stats.insert_failed ?? 0}, drop ${ct.stats.drop ?? 0}` }], fix: [fix] })];
  }
  return [];
};

/** Checksum offload stays on on flannel.1: turning it off is the old workaround for flannel#1279 and costs ~3× throughput. */
export const checkVtepOffload: Check = (exp, obs) => {
  const vx = vtepOf(exp, obs);
  if (!vx || obs.vtepFeatures?.['tx-checksum-ip-generic'] !== false) return [];
  return [on(obs, { id: 'vtep-tx-csum-off', severity: 'warning', reach: 'speed',
    what: `Transmit checksum offload is off on ${vx.name} (tx-checksum-ip-generic: off)`,
    breaks: 'Nothing breaks, but traffic across nodes costs far more CPU: about 3× less throughput on this machine (the old workaround for VXLAN checksum bugs).',
    evidence: [{ command: inNs(obs.ns, ['ethtool', '-k', vx.name]), value: 'tx-checksum-ip-generic: off' }],
    fix: [inNs(obs.ns, ['ethtool', '-K', vx.name, 'tx-checksum-ip-generic', 'on'])] })];
};

/** UDP datagrams arrived with bad checksums (on a real node: VXLAN corrupted on the wire, or an offload bug). */
export const checkUdpChecksums: Check = (exp, obs) => {
  const n = obs.udp?.InCsumErrors ?? 0;
  if (exp.k3s && n > 0 && !exp.lab) {
    return [on(obs, { id: 'udp-csum-errors', severity: 'warning', reach: 'peer',
      what: `${n} UDP datagram(s) arrived with a bad checksum since the namespace was made`,
      breaks: 'VXLAN packets with a bad outer UDP checksum are dropped before flannel.1 sees them: cross-node traffic stalls (flannel#1279).',
      evidence: [{ command: inNs(obs.ns, ['cat', '/proc/net/snmp']), value: `Udp: InCsumErrors ${n}` }],
      fix: ['# find what rewrites packets between the nodes (a NAT in front of the underlay, an offload bug); as a last resort:', inNs(obs.ns, ['ethtool', '-K', vtepOf(exp, obs)?.name ?? 'flannel.1', 'tx-checksum-ip-generic', 'off'])] })];
  }
  return [];
};
