// What a user declares: a lab's nodes, pods and address plan (a YAML file, or the built-in default
// equal to the blog's K3s node). Validated with zod; every problem names its field and the fix.
import { z } from 'zod';
import { AddressError, containsCidr, formatCidr, overlaps, parseCidr, subnetAt, type Cidr, type CidrText } from './ip.js';
import { IFNAME_MAX, TopologyError, dnsLabelProblem } from './names.js';

export { IFNAME_MAX, TopologyError, checkLabName } from './names.js';
import { LAB_UNDERLAY_MTU, VXLAN_OVERHEAD } from './k3s.js';

/** A DNS label of at most `max` characters, with the same messages as names.ts. */
export const dnsLabel = (what: string, max: number, example: string) => z.string().superRefine((v, ctx) => {
  const problem = dnsLabelProblem(v, what, max, example);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const cidr = z.string().superRefine((v, ctx) => {
  try {
    parseCidr(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as AddressError).message });
  }
}).transform((v) => v as CidrText);

const labNameSchema = dnsLabel('a lab name', 20, 'demo');

/** The schema of a topology file. */
export const topologySchema = z.strictObject({
  name: labNameSchema.optional(),
  clusterCIDR: cidr.default('10.42.0.0/16'),
  serviceCIDR: cidr.default('10.43.0.0/16'),
  underlay: cidr.default('198.51.100.0/24'),
  mtu: z.number().int().min(576, { message: 'the pod MTU must be at least 576' })
    .max(LAB_UNDERLAY_MTU - VXLAN_OVERHEAD, { message: `the pod MTU must be at most ${LAB_UNDERLAY_MTU - VXLAN_OVERHEAD}: flannel's VXLAN carries ${LAB_UNDERLAY_MTU - VXLAN_OVERHEAD}-byte packets over the lab's ${LAB_UNDERLAY_MTU}-byte underlay (${VXLAN_OVERHEAD} bytes of headers); a larger pod MTU would drop big packets between nodes` }).default(1450),
  nodes: z.array(z.strictObject({
    name: z.string().max(IFNAME_MAX, { message: `a node name becomes an interface name on the underlay, which holds at most ${IFNAME_MAX} characters: use a shorter name` })
      .pipe(dnsLabel('a node name', IFNAME_MAX, 'server')),
    podCIDR: cidr.optional(),
  })).min(1, { message: 'a lab needs at least one node (like "- name: server")' }).default([{ name: 'server' }]),
  pods: z.array(z.strictObject({
    name: dnsLabel('a pod name', 63, 'pod1'),
    node: z.string().optional(),
    image: z.string().optional(),
  })).default([]),
});

/** A topology as written (after defaults). */
export type Topology = z.infer<typeof topologySchema>;

const pathOf = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

/** The default lab: the blog's K3s node `server` with pods `pod1`…`podN`. */
/** K3s's node names for a cluster of `n`: the server first, then agent1, agent2, … */
export const k3sNodeNames = (n: number): string[] => Array.from({ length: n }, (_, i) => (i === 0 ? 'server' : `agent${i}`));

export function defaultTopology(pods = 2): unknown {
  return { nodes: [{ name: 'server' }], pods: Array.from({ length: pods }, (_, i) => ({ name: `pod${i + 1}` })) };
}

/** Parses and checks a topology: shape, names, and the address plan. Throws TopologyError. */
export function parseTopology(raw: unknown): Topology {
  const r = topologySchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (known: ${knownFields(issue.path)})`;
    else if (issue.code === 'invalid_type') message = `${message.replace(/^Invalid input: /, '')}`;
    const path = pathOf([...issue.path, ...(issue.code === 'unrecognized_keys' ? [] : [])]);
    throw new TopologyError(path, message);
  }
  const t = r.data;
  checkPlan(t);
  return t;
}

function knownFields(path: readonly PropertyKey[]): string {
  if (path[0] === 'nodes') return 'name, podCIDR';
  if (path[0] === 'pods') return 'name, node, image';
  return Object.keys(topologySchema.shape).join(', ');
}

/** The pod CIDR of node `i`: as declared, else the i-th /24 of the cluster CIDR (K3s's first node gets 10.42.0.0/24). */
export function nodePodCidr(t: Topology, i: number): Cidr {
  const declared = t.nodes[i].podCIDR;
  return declared ? parseCidr(declared) : subnetAt(parseCidr(t.clusterCIDR), 24, i);
}

function checkPlan(t: Topology): void {
  const cluster = parseCidr(t.clusterCIDR);
  const service = parseCidr(t.serviceCIDR);
  const underlay = parseCidr(t.underlay);
  if (underlay.prefix > 29) throw new TopologyError('underlay', `${t.underlay} is too small for a switch and nodes: use a /29 or larger`);
  if (overlaps(cluster, service)) throw new TopologyError('serviceCIDR', `${t.serviceCIDR} overlaps clusterCIDR ${t.clusterCIDR}: pick a separate range (K3s: 10.43.0.0/16)`);
  for (const [field, c] of [['clusterCIDR', cluster], ['serviceCIDR', service]] as const) {
    if (overlaps(underlay, c)) throw new TopologyError('underlay', `${t.underlay} overlaps ${field} ${formatCidr(c)}: pick a separate range (default 198.51.100.0/24)`);
  }
  const nodeNames = new Set<string>();
  const cidrs: { i: number; c: Cidr }[] = [];
  t.nodes.forEach((n, i) => {
    if (nodeNames.has(n.name)) throw new TopologyError(`nodes[${i}].name`, `"${n.name}" is declared twice: node names must be unique`);
    nodeNames.add(n.name);
    let c: Cidr;
    try {
      c = nodePodCidr(t, i);
    } catch (e) {
      throw new TopologyError(`nodes[${i}].podCIDR`, (e as Error).message);
    }
    if (!containsCidr(cluster, c)) throw new TopologyError(`nodes[${i}].podCIDR`, `${formatCidr(c)} is not inside clusterCIDR ${t.clusterCIDR}: pick a subnet of it (like ${formatCidr(subnetAt(cluster, 24, i))})`);
    if (c.prefix > 30) throw new TopologyError(`nodes[${i}].podCIDR`, `${formatCidr(c)} is too small: host-local needs a /30 or larger`);
    if (cidrs[0] && c.prefix !== cidrs[0].c.prefix) throw new TopologyError(`nodes[${i}].podCIDR`, `${formatCidr(c)} is a /${c.prefix} but nodes[0]'s is a /${cidrs[0].c.prefix}: flannel gives every node a subnet of one size (SubnetLen); declare them alike`);
    const clash = cidrs.find((o) => overlaps(o.c, c));
    if (clash) throw new TopologyError(`nodes[${i}].podCIDR`, `${formatCidr(c)} overlaps nodes[${clash.i}].podCIDR ${formatCidr(clash.c)}: give each node its own subnet`);
    cidrs.push({ i, c });
  });
  const podNames = new Set<string>();
  t.pods.forEach((p, i) => {
    if (podNames.has(p.name)) throw new TopologyError(`pods[${i}].name`, `"${p.name}" is declared twice: pod names must be unique`);
    podNames.add(p.name);
    if (p.node !== undefined && !nodeNames.has(p.node)) {
      throw new TopologyError(`pods[${i}].node`, `unknown node "${p.node}" (nodes: ${[...nodeNames].join(', ')})`);
    }
  });
}

/** Checks the lab's ranges against the machine's own routes (read from its root namespace): a lab range
 * that overlaps one of them would make `ip route get` and traces ambiguous, so it is refused. */
export function checkAgainstRoutes(t: Topology, routes: readonly { dst: string; dev?: string }[]): void {
  const own = routes
    .filter((r) => r.dst && r.dst !== 'default')
    .map((r) => {
      try {
        return { r, c: parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`) };
      } catch {
        return undefined;
      }
    })
    .filter((x): x is { r: { dst: string; dev?: string }; c: Cidr } => x !== undefined && x.c.prefix > 0);
  for (const field of ['underlay', 'clusterCIDR', 'serviceCIDR'] as const) {
    const c = parseCidr(t[field]);
    const hit = own.find((o) => overlaps(o.c, c));
    if (hit) throw new TopologyError(field, `${t[field]} overlaps this machine's route ${hit.r.dst}${hit.r.dev ? ` (dev ${hit.r.dev})` : ''}: pick a range the machine does not use`);
  }
}
