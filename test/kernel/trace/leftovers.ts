// What a trace may leave behind, read from the kernel independently of podnet: podnet's nft tracing
// tables (`podnet-trace-*`) and `-j TRACE` rules in the raw table of every namespace of a lab, tracefs
// instances (`podnet-<pid>-*`) of processes that are gone, and journals under the state dir.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labNetns, runStatus } from '../helpers.js';

/** The tracefs instances directory of this machine, if tracefs is mounted. */
function instancesDir(): string | undefined {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' - ')[1]?.startsWith('tracefs '));
  const point = mounts.map((l) => l.split(' ')[4]).find((p) => p !== undefined);
  return point ? join(point, 'instances') : undefined;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

/** podnet tracefs instances whose process is gone (or, given `pid`, of that process). */
export function deadInstances(pid?: number): string[] {
  const dir = instancesDir();
  if (!dir) return [];
  const names = (() => { try { return readdirSync(dir); } catch { return []; } })();
  return names.filter((n) => {
    const m = /^podnet-(\d+)-[0-9a-f]+$/.exec(n);
    return m !== null && (pid !== undefined ? Number(m[1]) === pid : !alive(Number(m[1])));
  });
}

/** Every tracing object of a trace left in lab `lab`'s namespaces, one line each (empty: clean). */
export function traceLeftovers(lab: string, stateDir?: string, pid?: number): string[] {
  const out: string[] = [];
  for (const name of labNetns(lab)) {
    const tables = runStatus(['ip', 'netns', 'exec', name, 'nft', 'list', 'tables']).stdout;
    for (const t of tables.split('\n').filter((l) => l.includes('podnet-trace'))) out.push(`${name}: ${t.trim()}`);
    const raw = runStatus(['ip', 'netns', 'exec', name, 'iptables-save', '-t', 'raw']).stdout;
    for (const r of raw.split('\n').filter((l) => l.includes('podnet-trace') || / -j TRACE\b/.test(l))) out.push(`${name}: ${r.trim()}`);
  }
  for (const i of deadInstances(pid)) out.push(`tracefs instance ${i}`);
  if (stateDir) {
    const dir = join(stateDir, 'traces');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
    for (const f of files.filter((x) => !alive(Number(x.split('.')[0])))) out.push(`journal ${join(dir, f)}`);
  }
  return out;
}
