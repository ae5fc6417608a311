// Reading a topology file for `lab up -f` (YAML, then the topology schema): only the verbs that take
// one load it, so reading verbs never load the YAML parser or the topology schema.
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { defaultTopology, k3sNodeNames, parseTopology, TopologyError, type Topology } from '../model/topology.js';

/** Reads a topology: a YAML file (`-f`), or the default; `--pods N` replaces the pods with pod1…podN. */
export async function loadTopology(file: string | undefined, pods: number | undefined, nodes?: number): Promise<Topology> {
  let raw: Record<string, unknown> = defaultTopology(pods ?? 2) as Record<string, unknown>;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TopologyError('', code === 'ENOENT' ? `${file}: no such file (check the path given to -f)` : `${file}: cannot read it (${code ?? (e as Error).message})`);
    }
    try {
      raw = (YAML.parse(text) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new TopologyError('', `${file}: not valid YAML (${(e as Error).message.split('\n')[0].replace(/:$/, '')}): fix the line it names`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new TopologyError('', `${file}: the top level must be a mapping (name:, nodes:, pods:)`);
    if (pods !== undefined) raw = { ...raw, pods: (defaultTopology(pods) as { pods: unknown[] }).pods };
  }
  // K3s's names: the first node is the server, the others agent1, agent2, …
  if (nodes !== undefined) raw = { ...raw, nodes: k3sNodeNames(nodes).map((name) => ({ name })) };
  try {
    return parseTopology(raw);
  } catch (e) {
    if (e instanceof TopologyError && file) throw new TopologyError('', `${file}: ${e.message}`);
    throw e;
  }
}
