// `iptables -S` output (policies `-P`, chains `-N`, rules `-A`) as the iptables-save text the parser
// reads: one table, its chains declared, its rules in order. Pure.
import { parseIptablesSave, type IptablesDump } from '../netfilter-iptables.js';

/** `iptables -t TABLE -S …` lines → the dump of that table. */
export function parseIptablesS(table: string, text: string): IptablesDump {
  const chains: string[] = [];
  const rules: string[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const p = /^-P (\S+) (\S+)$/.exec(line);
    const n = /^-N (\S+)$/.exec(line);
    if (p && !seen.has(p[1])) { seen.add(p[1]); chains.push(`:${p[1]} ${p[2]} [0:0]`); }
    else if (n && !seen.has(n[1])) { seen.add(n[1]); chains.push(`:${n[1]} - [0:0]`); }
    else if (line.startsWith('-A ')) rules.push(line);
  }
  return parseIptablesSave([`*${table}`, ...chains, ...rules, 'COMMIT', ''].join('\n'));
}
