// `kind: NetworkPolicy` (networking.k8s.io/v1) and `kind: Namespace` (v1) as `podnet apply -f` takes
// them: zod checks the shape field by field, then the rules the API server adds (a peer names
// something, ipBlock stands alone, except inside cidr, endPort only after a numeric port, a port name
// is an IANA service name, In/NotIn carry values). policyTypes are defaulted as the API server does:
// Ingress always, Egress when egress rules are given. Each problem is one line naming the field. Pure.
import { z } from 'zod';
import { AddressError, containsCidr, parseCidr } from '../ip.js';
import { TopologyError, dnsLabelProblem } from '../names.js';
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, PolicyType } from './types.js';

/** A NetworkPolicy as applied (before the lab stamps its creation time). */
export interface NetworkPolicyManifest {
  kind: 'NetworkPolicy';
  policy: Omit<NetworkPolicy, 'createdAt'>;
}

/** A Namespace as applied: its name and labels. */
export interface NamespaceManifest {
  kind: 'Namespace';
  name: string;
  labels: Record<string, string>;
}

const label = (what: string) => z.string().superRefine((v, ctx) => {
  const p = dnsLabelProblem(v, what, 63, 'web');
  if (p) ctx.addIssue({ code: 'custom', message: p });
});
const labelKey = z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, { message: 'a label key like app or app.kubernetes.io/name' });
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, { message: 'a label value: letters, digits, "-", "_", "." (at most 63)' });
const labels = z.record(labelKey, labelValue);
const ignored = { annotations: z.record(z.string(), z.string()).optional(), uid: z.string().optional(), resourceVersion: z.string().optional(), creationTimestamp: z.unknown().optional(), generation: z.unknown().optional(), managedFields: z.unknown().optional() };

const selectorSchema = z.strictObject({
  matchLabels: labels.optional(),
  matchExpressions: z.array(z.strictObject({
    key: labelKey,
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], { message: 'In, NotIn, Exists or DoesNotExist' }),
    values: z.array(labelValue).optional(),
  })).optional(),
});
const port = z.number().int().min(1, { message: 'a port from 1 to 65535' }).max(65535, { message: 'a port from 1 to 65535' });
const portSchema = z.strictObject({
  protocol: z.enum(['TCP', 'UDP', 'SCTP'], { message: 'TCP, UDP or SCTP' }).default('TCP'),
  port: z.union([port, z.string()], { message: 'a port number (1-65535) or the name of a container port' }).optional(),
  endPort: port.optional(),
});
const peerSchema = z.strictObject({
  podSelector: selectorSchema.optional(),
  namespaceSelector: selectorSchema.optional(),
  ipBlock: z.strictObject({ cidr: z.string(), except: z.array(z.string()).optional() }).optional(),
});

const networkPolicySchema = z.strictObject({
  apiVersion: z.literal('networking.k8s.io/v1', { message: 'a NetworkPolicy is apiVersion networking.k8s.io/v1' }),
  kind: z.literal('NetworkPolicy'),
  metadata: z.strictObject({ name: label('metadata.name'), namespace: label('metadata.namespace').default('default'), labels: labels.default({}), ...ignored }),
  spec: z.strictObject({
    podSelector: selectorSchema,
    policyTypes: z.array(z.enum(['Ingress', 'Egress'], { message: 'Ingress or Egress' })).optional(),
    ingress: z.array(z.strictObject({ from: z.array(peerSchema).optional(), ports: z.array(portSchema).optional() })).optional(),
    egress: z.array(z.strictObject({ to: z.array(peerSchema).optional(), ports: z.array(portSchema).optional() })).optional(),
  }, { message: 'a NetworkPolicy needs a spec with a podSelector ({} selects every pod of its namespace)' }),
});

const namespaceSchema = z.strictObject({
  apiVersion: z.literal('v1', { message: 'a Namespace is apiVersion v1' }),
  kind: z.literal('Namespace'),
  metadata: z.strictObject({ name: label('metadata.name'), labels: labels.default({}), ...ignored }),
  spec: z.unknown().optional(),
  status: z.unknown().optional(),
});

const pathOf = (path: readonly PropertyKey[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

/** The first issue of a failed parse as one TopologyError. */
function issueError(where: string, error: z.ZodError): TopologyError {
  const i = error.issues[0];
  const n = i.code === 'unrecognized_keys' ? i.keys.length : 0;
  const msg = i.code === 'unrecognized_keys' ? `unknown field${n > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}: podnet does not model ${n > 1 ? 'them' : 'it'}; remove ${n > 1 ? 'them' : 'it'}`
    : i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message.replace(/^Invalid input: /, '');
  return new TopologyError(`${where}: ${pathOf(i.path)}`, msg);
}

/** Parses a `kind: NetworkPolicy` or `kind: Namespace` object; throws a TopologyError naming the field. */
export function parseNetpolManifest(raw: unknown, where: string): NetworkPolicyManifest | NamespaceManifest {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (kind === 'Namespace') {
    const r = namespaceSchema.safeParse(raw);
    if (!r.success) throw issueError(where, r.error);
    return { kind: 'Namespace', name: r.data.metadata.name, labels: r.data.metadata.labels };
  }
  const r = networkPolicySchema.safeParse(raw);
  if (!r.success) throw issueError(where, r.error);
  const { metadata, spec } = r.data;
  const at = (field: string, msg: string) => new TopologyError(`${where}: spec.${field}`, msg);
  const types = spec.policyTypes ?? ['Ingress', ...(spec.egress?.length ? ['Egress' as const] : [])];
  if (new Set(types).size !== types.length) throw at('policyTypes', 'each of Ingress and Egress at most once');
  checkSelector(spec.podSelector, (f, m) => at(`podSelector.${f}`, m));
  spec.ingress?.forEach((rule, i) => checkRule(rule.from, rule.ports, `ingress[${i}]`, 'from', at));
  spec.egress?.forEach((rule, i) => checkRule(rule.to, rule.ports, `egress[${i}]`, 'to', at));
  const policy: Omit<NetworkPolicy, 'createdAt'> = {
    name: metadata.name, namespace: metadata.namespace, ...(Object.keys(metadata.labels).length ? { labels: metadata.labels } : {}),
    spec: { podSelector: spec.podSelector, policyTypes: types as PolicyType[], ...(spec.ingress ? { ingress: spec.ingress } : {}), ...(spec.egress ? { egress: spec.egress } : {}) },
  };
  return { kind: 'NetworkPolicy', policy };
}

type At = (field: string, msg: string) => TopologyError;

/** The API server's checks of one rule's peers and ports. */
function checkRule(peers: readonly NetworkPolicyPeer[] | undefined, ports: readonly NetworkPolicyPort[] | undefined, path: string, peerField: string, at: At): void {
  peers?.forEach((peer, j) => checkPeer(peer, `${path}.${peerField}[${j}]`, at));
  ports?.forEach((p, j) => checkPort(p, `${path}.ports[${j}]`, at));
}

/** A peer names pods or an ipBlock (not both); an ipBlock's exceptions lie strictly inside it. */
function checkPeer(peer: NetworkPolicyPeer, path: string, at: At): void {
  if (!peer.podSelector && !peer.namespaceSelector && !peer.ipBlock) throw at(path, 'a peer needs a podSelector, a namespaceSelector or an ipBlock');
  if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) throw at(path, 'an ipBlock stands alone: put the podSelector/namespaceSelector in a peer of its own');
  if (peer.podSelector) checkSelector(peer.podSelector, (f, m) => at(`${path}.podSelector.${f}`, m));
  if (peer.namespaceSelector) checkSelector(peer.namespaceSelector, (f, m) => at(`${path}.namespaceSelector.${f}`, m));
  if (!peer.ipBlock) return;
  const cidr = ipv4Cidr(peer.ipBlock.cidr, `${path}.ipBlock.cidr`, at);
  peer.ipBlock.except?.forEach((e, k) => {
    const ex = ipv4Cidr(e, `${path}.ipBlock.except[${k}]`, at);
    if (!containsCidr(cidr, ex) || ex.prefix <= cidr.prefix) throw at(`${path}.ipBlock.except[${k}]`, `${e} must be a strict subset of cidr ${peer.ipBlock!.cidr}`);
  });
}

function ipv4Cidr(text: string, path: string, at: At) {
  try {
    return parseCidr(text);
  } catch (e) {
    throw at(path, `${(e as AddressError).message.replace(/ \(like .*\)$/, '')}: podnet's labs are IPv4, write one like 10.42.0.0/16`);
  }
}

/** An IANA service name (what a container port's name must be): 1-15 lowercase letters, digits and
 * single inner "-", at least one letter. */
const isServiceName = (n: string): boolean => n.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(n) && /[a-z]/.test(n) && !n.includes('--');

/** A named port is an IANA service name; endPort needs a numeric port no larger than it. */
function checkPort(p: NetworkPolicyPort, path: string, at: At): void {
  if (typeof p.port === 'string' && !isServiceName(p.port)) {
    throw at(`${path}.port`, `"${p.port}" is not a port name: at most 15 lowercase letters, digits and single "-", with a letter (like http)`);
  }
  if (p.endPort === undefined) return;
  if (p.port === undefined) throw at(`${path}.endPort`, 'endPort needs a port: give the start of the range in port');
  if (typeof p.port === 'string') throw at(`${path}.endPort`, 'endPort goes with a numeric port, not a named one');
  if (p.endPort < p.port) throw at(`${path}.endPort`, `${p.endPort} is below port ${p.port}: endPort ends the range port starts`);
}

/** In/NotIn need values; Exists/DoesNotExist take none. */
function checkSelector(s: LabelSelector, at: (field: string, msg: string) => TopologyError): void {
  s.matchExpressions?.forEach((r, i) => {
    const some = (r.values?.length ?? 0) > 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && !some) throw at(`matchExpressions[${i}].values`, `${r.operator} needs at least one value`);
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && r.values !== undefined && r.values.length > 0) throw at(`matchExpressions[${i}].values`, `${r.operator} takes no values: remove them`);
  });
}
