// The work of `podnet apply|delete -f`, `expose`, `get svc|endpoints`, `delete svc` (loaded only when
// the verb runs).
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { labDeps } from '../context.js';
import { requireUp } from '../../lab/lifecycle.js';
import { LabDir } from '../../lab/state.js';
import { applyManifests, deleteManifests, exposePod, serviceDelete } from '../../lab/services.js';
import { labEndpoints } from '../../lab/sync.js';
import { parseManifest, type Manifest } from '../../model/manifest.js';
import { TopologyError } from '../../model/names.js';
import { UserError } from '../../model/errors.js';
import { endpointsRows, serviceRows, type EndpointsRow, type ServiceRow } from '../../views/services.js';
import { renderTable, type Column } from '../../render/table.js';
import { renderData } from '../../render/output.js';
import { out, outputFormat, requireRoot, say, terminalWidth, type GlobalOptions } from '../flags.js';

/** The objects of a manifest file (`-` reads stdin): every YAML document, checked before anything is applied. */
export async function readManifests(file: string): Promise<Manifest[]> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new TopologyError('', `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): check the path given to -f`);
  }
  const docs = YAML.parseAllDocuments(text);
  const out: Manifest[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length) throw new TopologyError('', `${file}#${i + 1}: not valid YAML (${doc.errors[0].message.split('\n')[0]}): fix the line it names`);
    const raw: unknown = doc.toJS();
    if (raw === null || raw === undefined) return;
    out.push(parseManifest(raw, `${file}${docs.length > 1 ? `#${i + 1}` : ''}`));
  });
  if (out.length === 0) throw new TopologyError('', `${file}: no objects in it (a Pod or a Service, like "kind: Service")`);
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** `podnet apply -f FILE`. */
export async function applyVerb(g: GlobalOptions, o: { file: string; name: string }): Promise<void> {
  const manifests = await readManifests(o.file);
  requireRoot('apply');
  const { deps } = labDeps(g);
  for (const line of await applyManifests(deps, o.name, manifests)) say(line);
}

/** `podnet delete -f FILE` (a `delete` without a kind). */
export async function deleteFileVerb(g: GlobalOptions, o: { file?: string; name: string }): Promise<void> {
  if (!o.file) throw new UserError('usage', 'say what to delete: podnet delete pod NAME, podnet delete svc NAME, podnet delete netpol NAME or podnet delete -f FILE');
  const manifests = await readManifests(o.file);
  requireRoot('delete');
  const { deps } = labDeps(g);
  for (const line of await deleteManifests(deps, o.name, manifests)) say(line);
}

/** `podnet delete svc NAME`. */
export async function deleteServiceVerb(g: GlobalOptions, service: string, o: { name: string; namespace: string }): Promise<void> {
  requireRoot('delete svc');
  const { deps } = labDeps(g);
  await serviceDelete(deps, o.name, o.namespace, service);
  say(`service "${service}" deleted`);
}

/** The flags of `podnet expose`. */
export interface ExposeFlags {
  port: number;
  targetPort?: string;
  protocol: string;
  type: string;
  nodePort?: number;
  service?: string;
  name: string;
}

/** `podnet expose pod NAME`. */
export async function exposeVerb(g: GlobalOptions, kind: string, pod: string, o: ExposeFlags): Promise<void> {
  if (kind !== 'pod' && kind !== 'pods' && kind !== 'po') throw new UserError('usage', `expose ${kind}: podnet exposes pods (podnet expose pod ${pod} --port 80)`);
  const protocol = o.protocol.toUpperCase();
  if (protocol !== 'TCP' && protocol !== 'UDP') throw new UserError('usage', `--protocol: "${o.protocol}" is not TCP or UDP`);
  if (o.type !== 'ClusterIP' && o.type !== 'NodePort') throw new UserError('usage', `--type: "${o.type}" is not ClusterIP or NodePort`);
  if (o.nodePort !== undefined && o.type !== 'NodePort') throw new UserError('usage', '--node-port goes with --type NodePort');
  const target = o.targetPort === undefined ? undefined : /^\d+$/.test(o.targetPort) ? Number(o.targetPort) : o.targetPort;
  requireRoot('expose');
  const { deps } = labDeps(g);
  const s = await exposePod(deps, o.name, pod, { port: o.port, protocol, type: o.type, ...(target !== undefined ? { targetPort: target } : {}), ...(o.nodePort ? { nodePort: o.nodePort } : {}), ...(o.service ? { service: o.service } : {}) });
  say(`service/${s.name} exposed: ${s.clusterIP}:${s.ports[0].port}${s.ports[0].nodePort ? ` (node port ${s.ports[0].nodePort})` : ''} → pods with ${Object.entries(s.selector).map(([k, v]) => `${k}=${v}`).join(',')}, port ${s.ports[0].targetPort}`);
}

const SVC: Column<ServiceRow>[] = [
  { header: 'NAME', cell: (r) => r.name }, { header: 'TYPE', cell: (r) => r.type }, { header: 'CLUSTER-IP', cell: (r) => r.clusterIP },
  { header: 'EXTERNAL-IP', cell: (r) => r.externalIP }, { header: 'PORT(S)', cell: (r) => r.ports, elastic: true }, { header: 'AGE', cell: (r) => r.age },
];
const EP: Column<EndpointsRow>[] = [{ header: 'NAME', cell: (r) => r.name }, { header: 'ENDPOINTS', cell: (r) => r.endpoints, elastic: true }, { header: 'AGE', cell: (r) => r.age }];
const withNs = <T extends { namespace: string }>(cols: Column<T>[]): Column<T>[] => [{ header: 'NAMESPACE', cell: (r) => r.namespace }, ...cols];

/** The lab's Services (and their endpoints) for `get`. */
async function services(g: GlobalOptions, lab: string) {
  requireRoot('get svc', 'reads every network namespace');
  const { deps } = labDeps(g);
  const state = await requireUp(new LabDir(deps.stateRoot, lab), lab);
  return { state, ports: await labEndpoints(state) };
}

/** `podnet get svc`. */
export async function getServicesVerb(g: GlobalOptions, o: { name: string; namespace?: string; output: string }): Promise<void> {
  const f = outputFormat(o.output, ['table', 'wide', 'json', 'yaml'] as const);
  const { state } = await services(g, o.name);
  const rows = serviceRows(state.services ?? [], new Date()).filter((r) => !o.namespace || r.namespace === o.namespace);
  if (f === 'json' || f === 'yaml') out(renderData({ kind: 'ServiceList', lab: o.name, items: rows }, f));
  else out(renderTable(rows, withNs(f === 'wide' ? [...SVC, { header: 'SELECTOR', cell: (r) => r.selector }] : SVC), 'No resources found.', f === 'table' ? terminalWidth() : undefined));
}

/** `podnet get endpoints`. */
export async function getEndpointsVerb(g: GlobalOptions, o: { name: string; namespace?: string; output: string }): Promise<void> {
  const f = outputFormat(o.output, ['table', 'wide', 'json', 'yaml'] as const);
  const { state, ports } = await services(g, o.name);
  const rows = endpointsRows(state.services ?? [], ports, new Date()).filter((r) => !o.namespace || r.namespace === o.namespace);
  if (f === 'json' || f === 'yaml') out(renderData({ kind: 'EndpointsList', lab: o.name, items: rows }, f));
  else out(renderTable(rows, withNs(EP), 'No resources found.', f === 'table' ? terminalWidth() : undefined));
}
