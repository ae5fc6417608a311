// The names iproute2 prints for route tables, protocols and scopes: its built-in ones, and those of its
// files (/etc/iproute2/rt_tables, rt_protos, rt_scopes and their .d/*.conf; /usr/share/iproute2 where
// a newer iproute2 keeps the defaults) — so a route listing made here names `table 100` or `proto 99`
// exactly as `ip` on this machine does (Debian's rt_protos names 99 "openr", which iproute2 does not
// build in). Read once per process, when a listing first needs them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { BUILTIN_NAMES, type RtNames } from '../model/rtnetlink-route.js';

const DIRS = ['/etc/iproute2', '/usr/share/iproute2'];

/** The `ID NAME` lines of a file as iproute2 reads them (lib/rt_names.c fread_id_name): blank lines and
 * comments skipped, a line it cannot read ends the file. */
function entries(path: string): [number, string][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: [number, string][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:0x([0-9a-fA-F]+)|([-+]?\d+))\s+(\S+)/.exec(line);
    if (!m) break;
    const id = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    if (id >= 0) out.push([id, m[3]]);
  }
  return out;
}

/** The built-in names of a kind overridden by those of its files (the last naming an id wins, as in
 * iproute2): the first of DIRS holding FILE, then every DIR/FILE.d/*.conf. */
function table(builtin: ReadonlyMap<number, string>, file: string): Map<number, string> {
  const names = new Map(builtin);
  const main = DIRS.map((d) => `${d}/${file}`).find((p) => existsSync(p));
  const confs = DIRS.flatMap((d) => {
    try {
      return readdirSync(`${d}/${file}.d`).filter((f) => !f.startsWith('.') && f.length > 5 && f.endsWith('.conf')).map((f) => `${d}/${file}.d/${f}`);
    } catch {
      return [];
    }
  });
  for (const p of [...(main ? [main] : []), ...confs]) for (const [id, name] of entries(p)) names.set(id, name);
  return names;
}

let loaded: { tables: Map<number, string>; protocols: Map<number, string>; scopes: Map<number, string> } | undefined;

/** iproute2's names on this machine. */
export function rtNames(): RtNames {
  loaded ??= {
    tables: table(BUILTIN_NAMES.tables, 'rt_tables'),
    protocols: table(BUILTIN_NAMES.protocols, 'rt_protos'),
    scopes: table(BUILTIN_NAMES.scopes, 'rt_scopes'),
  };
  const l = loaded;
  return {
    table: (id) => l.tables.get(id) ?? String(id),
    protocol: (id) => l.protocols.get(id) ?? String(id),
    scope: (id) => l.scopes.get(id) ?? String(id),
  };
}
