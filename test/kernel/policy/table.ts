// The table of NetworkPolicy cases both kube-proxy modes run (./cases.ts): each case applies its
// policies, sends real connections — same node and across nodes, to pod IPs and through the web
// Service's ClusterIP — and expects each one to connect or be refused. Pods (all serve HTTP on 8080):
// server: web1 (app=web, http=8080; also 8081, 9000), client1 (role=client), other1 (role=other);
// agent1: web2 (app=web, tier=canary, http=8081; also 8080, 9000), client2 (role=client), and a1 in
// namespace team-a (team=a) with role=client.

/** One connection: from a pod to a pod (or `svc` — the web Service's ClusterIP, port 80 → 8080). */
export interface Probe {
  from: string;
  to: string;
  port?: number;
  ok: boolean;
}

/** One case: the policies (manifest objects) and what must connect. */
export interface PolicyCase {
  name: string;
  policies: Record<string, unknown>[];
  probes: Probe[];
}

/** A NetworkPolicy manifest object. */
export const np = (name: string, spec: Record<string, unknown>, namespace = 'default'): Record<string, unknown> =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });

const web = { matchLabels: { app: 'web' } };
const client = { podSelector: { matchLabels: { role: 'client' } } };
const yes = (from: string, to: string, port?: number): Probe => ({ from, to, ok: true, ...(port ? { port } : {}) });
const no = (from: string, to: string, port?: number): Probe => ({ from, to, ok: false, ...(port ? { port } : {}) });

export const CASES: PolicyCase[] = [
  { name: 'no policy: every pod reaches every pod (kube-router\'s default allow)', policies: [],
    probes: [yes('client1', 'web1'), yes('client2', 'web1'), yes('web1', 'client1'), yes('web2', 'client1'), yes('a1', 'web1'), yes('other1', 'svc')] },
  { name: 'default deny ingress', policies: [np('deny', { podSelector: {}, policyTypes: ['Ingress'] })],
    probes: [no('client1', 'web1'), no('client2', 'web1'), no('web1', 'client1'), no('web2', 'client1'), no('other1', 'svc'), yes('web1', 'a1')] },
  { name: 'default deny egress', policies: [np('deny-out', { podSelector: {}, policyTypes: ['Egress'] })],
    probes: [no('client1', 'web1'), no('client1', 'web2'), no('client2', 'web2'), yes('a1', 'web1'), no('client2', 'svc')] },
  { name: 'deny ingress to app=web only', policies: [np('web-closed', { podSelector: web })],
    probes: [no('other1', 'web1'), no('other1', 'web2'), yes('web1', 'other1'), yes('web2', 'client1')] },
  { name: 'allow from a podSelector', policies: [np('web-from-clients', { podSelector: web, ingress: [{ from: [client] }] })],
    probes: [yes('client1', 'web1'), yes('client2', 'web1'), no('other1', 'web1'), no('other1', 'web2'), no('a1', 'web1'), yes('client1', 'svc'), no('other1', 'svc')] },
  { name: 'allow from a namespaceSelector (team=a)', policies: [np('web-from-team-a', { podSelector: web, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }] })],
    probes: [yes('a1', 'web1'), yes('a1', 'web2'), no('client1', 'web1'), no('client2', 'web2')] },
  { name: 'allow from a namespace by its kubernetes.io/metadata.name label', policies: [np('web-from-ns', { podSelector: web, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-a' } } }] }] })],
    probes: [yes('a1', 'web1'), no('client2', 'web1')] },
  { name: 'podSelector and namespaceSelector in one peer', policies: [np('web-from-any-ns-clients', { podSelector: web, ingress: [{ from: [{ namespaceSelector: {}, ...client }] }] })],
    probes: [yes('a1', 'web1'), yes('client1', 'web2'), yes('client2', 'web1'), no('other1', 'web1'), no('other1', 'web2')] },
  { name: 'matchExpressions In', policies: [np('web-in', { podSelector: web, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'role', operator: 'In', values: ['client', 'x'] }] } }] }] })],
    probes: [yes('client1', 'web1'), yes('client2', 'web2'), no('other1', 'web1')] },
  { name: 'matchExpressions NotIn and DoesNotExist', policies: [np('web-notin', { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }, { key: 'tier', operator: 'DoesNotExist' }] }, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'role', operator: 'NotIn', values: ['other'] }] } }] }] })],
    probes: [yes('client1', 'web1'), yes('web2', 'web1'), no('other1', 'web1'), yes('other1', 'web2')] },
  { name: 'ipBlock: the server node\'s pod subnet', policies: [np('web-from-server-pods', { podSelector: web, ingress: [{ from: [{ ipBlock: { cidr: '10.42.0.0/24' } }] }] })],
    probes: [yes('client1', 'web1'), yes('other1', 'web2'), no('client2', 'web1'), no('a1', 'web2')] },
  { name: 'ipBlock with except', policies: [np('web-except-agent1', { podSelector: web, ingress: [{ from: [{ ipBlock: { cidr: '10.42.0.0/16', except: ['10.42.1.0/24'] } }] }] })],
    probes: [yes('client1', 'web2'), yes('other1', 'web1'), no('client2', 'web1'), no('a1', 'web2')] },
  { name: 'a numeric port', policies: [np('web-8080', { podSelector: web, ingress: [{ ports: [{ port: 8080 }] }] })],
    probes: [yes('other1', 'web1'), yes('client2', 'web1'), no('other1', 'web1', 8081), no('client2', 'web2', 9000), yes('other1', 'svc')] },
  { name: 'a named port resolves per pod (web1 http=8080, web2 http=8081)', policies: [np('web-http', { podSelector: web, ingress: [{ ports: [{ port: 'http' }] }] })],
    probes: [yes('client1', 'web1', 8080), no('client1', 'web1', 8081), yes('client1', 'web2', 8081), no('client1', 'web2', 8080), no('client2', 'web1', 8081)] },
  { name: 'endPort: a range of ports', policies: [np('web-range', { podSelector: web, ingress: [{ ports: [{ port: 8080, endPort: 8081 }] }] })],
    probes: [yes('client1', 'web1', 8080), yes('client1', 'web1', 8081), no('client1', 'web1', 9000), yes('client2', 'web1', 8081), no('client2', 'web2', 9000)] },
  { name: 'a protocol without a port (UDP) leaves TCP closed', policies: [np('web-udp', { podSelector: web, ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    probes: [no('client1', 'web1'), no('client2', 'web1')] },
  { name: 'several policies are unioned', policies: [np('deny', { podSelector: {} }), np('clients-8080', { podSelector: web, ingress: [{ from: [client], ports: [{ port: 8080 }] }] }), np('anyone-9000', { podSelector: web, ingress: [{ ports: [{ port: 9000 }] }] })],
    probes: [yes('client1', 'web1'), yes('client2', 'web1'), no('other1', 'web1'), yes('other1', 'web1', 9000), yes('a1', 'web2', 9000), no('client1', 'web1', 8081), no('web1', 'client1')] },
  { name: 'egress allowed to app=web on 8080', policies: [np('clients-out', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: web }], ports: [{ port: 8080 }] }] })],
    probes: [yes('client1', 'web1'), yes('client1', 'web2'), no('client1', 'web1', 8081), no('client1', 'other1'), no('client2', 'other1'), yes('other1', 'client1'), yes('client2', 'svc')] },
  { name: 'egress to an ipBlock (the agent1 node\'s pods)', policies: [np('to-agent1', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.42.1.0/24' } }] }] })],
    probes: [yes('client1', 'web2'), no('client1', 'web1'), yes('client2', 'web2'), no('client2', 'web1')] },
  { name: 'egress to a namespace only', policies: [np('to-team-a', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }] })],
    probes: [yes('client1', 'a1'), no('client1', 'web1'), no('client1', 'web2'), yes('a1', 'web1')] },
  { name: 'ingress and egress in one policy; replies of allowed connections pass', policies: [np('web-both', { podSelector: web, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [client] }] })],
    probes: [yes('client1', 'web1'), yes('client2', 'web1'), no('web1', 'client1'), no('web2', 'client1'), no('other1', 'web2')] },
  { name: 'a policy of another namespace isolates only its pods', policies: [np('deny-team-a', { podSelector: {} }, 'team-a')],
    probes: [no('client1', 'a1'), no('web2', 'a1'), yes('a1', 'web1'), yes('client1', 'web1')] },
  { name: 'a rule without from admits any source on its ports', policies: [np('deny', { podSelector: {} }), np('web-open-9000', { podSelector: web, ingress: [{ ports: [{ port: 9000 }] }] })],
    probes: [yes('a1', 'web1', 9000), yes('other1', 'web2', 9000), no('other1', 'web2', 8080)] },
  { name: 'an empty ingress rule allows everything, whatever else denies', policies: [np('deny', { podSelector: {} }), np('web-all', { podSelector: web, ingress: [{}] })],
    probes: [yes('other1', 'web1', 8081), yes('a1', 'web2'), no('web1', 'client2')] },
  { name: 'podSelector with Exists picks the targets', policies: [np('tiered', { podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } })],
    probes: [no('client1', 'web2'), no('client2', 'web2'), yes('client2', 'web1'), yes('client1', 'web1')] },
  { name: 'through the ClusterIP: the policy sees the endpoint after DNAT', policies: [np('web-from-clients', { podSelector: web, ingress: [{ from: [client], ports: [{ port: 'http' }, { port: 8080 }] }] })],
    probes: [yes('client1', 'svc'), yes('client2', 'svc'), no('a1', 'svc'), no('other1', 'svc')] },
  { name: 'egress deny of the client and ingress allow of the server: the client side wins', policies: [np('deny-out', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'] }), np('web-open', { podSelector: web, ingress: [{}] })],
    probes: [no('client1', 'web1'), no('client2', 'web1'), yes('other1', 'web2'), yes('a1', 'web1')] },
];
