// A captured frame, layer by layer, as the server's decoder read it: Ethernet (or Linux cooked),
// ARP, IPv4, ICMP, UDP, TCP, and for VXLAN the outer headers, then the inner frame's.
import type { FrameLayers } from '../../src/web/api';

const hex = (n: number, width = 4) => `0x${n.toString(16).padStart(width, '0')}`;
const ICMP: Record<number, string> = { 0: 'echo reply', 3: 'destination unreachable', 8: 'echo request', 11: 'time exceeded' };

type Row = [string, string | number];

/** The layers of one frame as titled lists of fields; `prefix` names the outer ones of a VXLAN frame. */
function layers(f: FrameLayers, prefix: string): { title: string; rows: Row[] }[] {
  const out: { title: string; rows: Row[] }[] = [];
  if (f.eth) out.push({ title: `${prefix}Ethernet`, rows: [['src', f.eth.src], ['dst', f.eth.dst], ['type', hex(f.eth.ethertype)], ...(f.eth.vlan !== undefined ? [['vlan', f.eth.vlan] as Row] : [])] });
  if (f.sll) out.push({ title: `${prefix}Linux cooked`, rows: [['packet type', f.sll.packetType], ['src', f.sll.src ?? '-'], ['protocol', hex(f.sll.protocol)]] });
  if (f.arp) out.push({ title: 'ARP', rows: [['op', String(f.arp.op)], ['sender', `${f.arp.senderMac} ${f.arp.senderIp}`], ['target', `${f.arp.targetMac} ${f.arp.targetIp}`]] });
  if (f.ipv4) {
    const ip = f.ipv4;
    out.push({ title: `${prefix}IPv4`, rows: [['src', ip.src], ['dst', ip.dst], ['ttl', ip.ttl], ['id', hex(ip.id)], ['protocol', ip.proto], ['length', ip.totalLength], ['DF', ip.dontFragment ? 'yes' : 'no']] });
  }
  if (f.icmp) out.push({ title: 'ICMP', rows: [['type', `${f.icmp.type} ${ICMP[f.icmp.type] ?? ''}`.trim()], ['code', f.icmp.code], ...(f.icmp.id !== undefined ? [['id', f.icmp.id] as Row, ['seq', f.icmp.seq ?? '-'] as Row] : [])] });
  if (f.udp) out.push({ title: `${prefix}UDP`, rows: [['src port', f.udp.srcPort], ['dst port', f.udp.dstPort], ['length', f.udp.length]] });
  if (f.tcp) out.push({ title: 'TCP', rows: [['src port', f.tcp.srcPort], ['dst port', f.tcp.dstPort], ['flags', f.tcp.flags.join(',')], ['seq', f.tcp.seq], ['ack', f.tcp.ack], ['payload', f.tcp.payloadLength]] });
  if (f.vxlan) {
    out.push({ title: 'VXLAN', rows: [['vni', f.vxlan.vni]] });
    out.push(...layers(f.vxlan.inner, 'inner ').map((l) => (l.title.startsWith('inner ') ? l : { ...l, title: `inner ${l.title}` })));
  }
  return out;
}

/** The decoded frame of one event. */
export function Layers({ frame }: { frame: FrameLayers }) {
  const outer = frame.vxlan ? 'outer ' : '';
  return (
    <div className="layers" data-testid="layers">
      <code className="summary">{frame.summary}</code>
      {layers(frame, outer).map((l) => (
        <div className="layer" key={l.title} data-layer={l.title}>
          <h4>{l.title}</h4>
          <dl>{l.rows.map(([k, v]) => [<dt key={`${k}-k`}>{k}</dt>, <dd key={`${k}-v`}>{v}</dd>])}</dl>
        </div>
      ))}
      {frame.error && <p className="error">{frame.error}</p>}
    </div>
  );
}
