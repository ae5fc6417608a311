// Kubernetes manifests `podnet apply -f` takes: v1 Pod and v1 Service (NetworkPolicy and Namespace are
// checked in ./netpol/manifest.ts),
// checked field by field; a bad or unknown field is one line naming its path and the fix. Fields that
// change nothing on a network (annotations, images, resources…) are accepted and ignored. Pure.
import { z } from 'zod';
import { dnsLabelProblem } from './names.js';
import type { ContainerPort, PodMeta, Protocol, ServicePort } from './k8s.js';
import { TopologyError } from './names.js';
import { parseNetpolManifest, type NamespaceManifest, type NetworkPolicyManifest } from './netpol/manifest.js';

export type { NamespaceManifest, NetworkPolicyManifest } from './netpol/manifest.js';

/** A Pod as applied: its metadata and, when given, the node it must run on (spec.nodeName). */
export interface PodManifest {
  kind: 'Pod';
  meta: PodMeta;
  node?: string;
}

/** A Service as applied, before its ClusterIP and NodePorts are allocated. */
export interface ServiceManifest {
  kind: 'Service';
  name: string;
  namespace: string;
  type: 'ClusterIP' | 'NodePort';
  /** Asked for: an address, `None` (headless), or undefined (allocate one). */
  clusterIP?: string;
  ports: ServicePort[];
  selector: Record<string, string>;
  externalTrafficPolicy: 'Cluster' | 'Local';
  sessionAffinity: 'None' | 'ClientIP';
  sessionAffinityTimeout?: number;
}

/** One object of a manifest. */
export type Manifest = PodManifest | ServiceManifest | NetworkPolicyManifest | NamespaceManifest;

const label = (what: string, max = 63) => z.string().superRefine((v, ctx) => {
  const p = dnsLabelProblem(v, what, max, 'web');
  if (p) ctx.addIssue({ code: 'custom', message: p });
});
const labels = z.record(z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, { message: 'a label key like app or app.kubernetes.io/name' }),
  z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, { message: 'a label value: letters, digits, "-", "_", "." (at most 63)' }));
const port = z.number().int().min(1, { message: 'a port from 1 to 65535' }).max(65535, { message: 'a port from 1 to 65535' });
const protocol = z.enum(['TCP', 'UDP', 'SCTP'], { message: 'TCP, UDP or SCTP' }).default('TCP');
/** Fields podnet accepts and ignores: they change nothing on a network. */
const ignored = { annotations: z.record(z.string(), z.string()).optional(), uid: z.string().optional(), resourceVersion: z.string().optional(), creationTimestamp: z.unknown().optional(), generation: z.unknown().optional(), managedFields: z.unknown().optional() };
const metadata = z.strictObject({ name: label('metadata.name'), namespace: label('metadata.namespace').default('default'), labels: labels.default({}), ...ignored });

const containerSchema = z.strictObject({
  name: label('a container name'),
  image: z.string().optional(),
  imagePullPolicy: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  ports: z.array(z.strictObject({
    name: z.string().max(15, { message: 'a port name of at most 15 characters' }).optional(),
    containerPort: port, protocol, hostPort: port.optional(), hostIP: z.string().optional(),
  })).default([]),
  resources: z.unknown().optional(),
  env: z.unknown().optional(),
  workingDir: z.string().optional(),
});

const podSchema = z.strictObject({
  apiVersion: z.literal('v1', { message: 'a Pod is apiVersion v1' }),
  kind: z.literal('Pod'),
  metadata,
  spec: z.strictObject({
    nodeName: z.string().optional(),
    containers: z.array(containerSchema).min(1, { message: 'a Pod needs at least one container' }),
    restartPolicy: z.string().optional(),
    terminationGracePeriodSeconds: z.number().optional(),
  }),
  status: z.unknown().optional(),
});

const servicePortSchema = z.strictObject({
  name: z.string().optional(),
  protocol,
  port,
  targetPort: z.union([port, z.string().min(1)]).optional(),
  nodePort: z.number().int().optional(),
  appProtocol: z.string().optional(),
});

const serviceSchema = z.strictObject({
  apiVersion: z.literal('v1', { message: 'a Service is apiVersion v1' }),
  kind: z.literal('Service'),
  metadata,
  spec: z.strictObject({
    type: z.enum(['ClusterIP', 'NodePort'], { message: 'ClusterIP or NodePort (podnet has no load balancer)' }).default('ClusterIP'),
    clusterIP: z.string().optional(),
    clusterIPs: z.array(z.string()).optional(),
    selector: z.record(z.string(), z.string()).default({}),
    ports: z.array(servicePortSchema).min(1, { message: 'a Service needs at least one port' }),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
    internalTrafficPolicy: z.enum(['Cluster']).optional(),
    sessionAffinity: z.enum(['None', 'ClientIP']).default('None'),
    sessionAffinityConfig: z.strictObject({ clientIP: z.strictObject({ timeoutSeconds: z.number().int().min(1).max(86400) }) }).optional(),
    ipFamilies: z.array(z.literal('IPv4')).optional(),
    ipFamilyPolicy: z.literal('SingleStack').optional(),
  }),
  status: z.unknown().optional(),
});

const pathOf = (path: readonly PropertyKey[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

/** Parses one object of a manifest (`where` names it in messages: `web.yaml#2`). Throws a TopologyError
 * naming the field. */
export function parseManifest(raw: unknown, where: string): Manifest {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (kind === 'NetworkPolicy' || kind === 'Namespace') return parseNetpolManifest(raw, where);
  if (kind !== 'Pod' && kind !== 'Service') {
    throw new TopologyError(`${where}: kind`, `${JSON.stringify(kind ?? null)} is not a kind podnet applies (Pod, Service, NetworkPolicy, Namespace)`);
  }
  const r = (kind === 'Pod' ? podSchema : serviceSchema).safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const msg = i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}: podnet does not model ${i.keys.length > 1 ? 'them' : 'it'}; remove ${i.keys.length > 1 ? 'them' : 'it'}` : i.message.replace(/^Invalid input: /, '');
    throw new TopologyError(`${where}: ${pathOf(i.path)}`, msg);
  }
  return kind === 'Pod' ? podManifest(r.data as z.infer<typeof podSchema>) : serviceManifest(r.data as z.infer<typeof serviceSchema>, where);
}

function podManifest(p: z.infer<typeof podSchema>): PodManifest {
  const ports: ContainerPort[] = p.spec.containers.flatMap((c) => c.ports.map((x) => ({
    ...(x.name ? { name: x.name } : {}), containerPort: x.containerPort, protocol: x.protocol as Protocol, ...(x.hostPort ? { hostPort: x.hostPort } : {}), ...(x.hostIP ? { hostIP: x.hostIP } : {}),
  })));
  const commands = p.spec.containers.map((c) => [...(c.command ?? []), ...(c.args ?? [])]).filter((c) => c.length > 0);
  const meta: PodMeta = { name: p.metadata.name, namespace: p.metadata.namespace, labels: p.metadata.labels, ports, ...(commands.length ? { commands } : {}) };
  return { kind: 'Pod', meta, ...(p.spec.nodeName ? { node: p.spec.nodeName } : {}) };
}

function serviceManifest(s: z.infer<typeof serviceSchema>, where: string): ServiceManifest {
  const spec = s.spec;
  const at = (field: string, msg: string) => new TopologyError(`${where}: spec.${field}`, msg);
  if (spec.ports.length > 1 && spec.ports.some((p) => !p.name)) throw at('ports', 'every port needs a name when a Service has more than one');
  const names = spec.ports.map((p) => p.name).filter((n): n is string => !!n);
  if (new Set(names).size !== names.length) throw at('ports', 'port names must be unique');
  const headless = spec.clusterIP === 'None';
  if (headless && spec.type === 'NodePort') throw at('clusterIP', 'a headless Service (clusterIP: None) cannot be a NodePort');
  spec.ports.forEach((p, i) => {
    if (p.nodePort !== undefined && spec.type !== 'NodePort') throw at(`ports[${i}].nodePort`, 'only a NodePort Service has node ports (set type: NodePort)');
    if (p.protocol === 'SCTP') throw at(`ports[${i}].protocol`, 'podnet\'s Services carry TCP and UDP');
  });
  return {
    kind: 'Service', name: s.metadata.name, namespace: s.metadata.namespace, type: spec.type,
    ...(spec.clusterIP !== undefined && spec.clusterIP !== '' ? { clusterIP: spec.clusterIP } : {}),
    ports: spec.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol as Protocol, port: p.port, targetPort: p.targetPort ?? p.port, ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}) })),
    selector: spec.selector, externalTrafficPolicy: spec.externalTrafficPolicy, sessionAffinity: spec.sessionAffinity,
    ...(spec.sessionAffinity === 'ClientIP' ? { sessionAffinityTimeout: spec.sessionAffinityConfig?.clientIP.timeoutSeconds ?? 10800 } : {}),
  };
}
