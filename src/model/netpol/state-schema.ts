// How a lab's state.json holds NetworkPolicies and Namespaces (`policies`, `namespaces`; both optional,
// labs made before policies have neither): a schema that reads them back, so a hand-edited or damaged
// file is one line naming the field. Pure.
import { z } from 'zod';

const text = z.string();
const strings = z.record(z.string(), z.string());
const selector = z.object({
  matchLabels: strings.optional(),
  matchExpressions: z.array(z.object({ key: text, operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(text).optional() })).optional(),
});
const peer = z.object({ podSelector: selector.optional(), namespaceSelector: selector.optional(), ipBlock: z.object({ cidr: text, except: z.array(text).optional() }).optional() });
const port = z.object({ protocol: z.enum(['TCP', 'UDP', 'SCTP']), port: z.union([z.number().int(), text]).optional(), endPort: z.number().int().optional() });
const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be a time like 2026-01-01T00:00:00.000Z' });

/** A stored NetworkPolicy. */
export const storedPolicySchema = z.object({
  name: text, namespace: text, labels: strings.optional(), createdAt: time,
  spec: z.object({
    podSelector: selector,
    policyTypes: z.array(z.enum(['Ingress', 'Egress'])),
    ingress: z.array(z.object({ from: z.array(peer).optional(), ports: z.array(port).optional() })).optional(),
    egress: z.array(z.object({ to: z.array(peer).optional(), ports: z.array(port).optional() })).optional(),
  }),
});

/** A stored Namespace. */
export const storedNamespaceSchema = z.object({ name: text, labels: strings, createdAt: time });
