// `kind: NetworkPolicy` and `kind: Namespace` through parseManifest: a good one parses with the API
// server's defaults; every bad field is one line naming its path and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from '../../../src/model/manifest.js';
import { UserError } from '../../../src/model/errors.js';

const np = (spec: unknown, metadata: object = { name: 'p' }) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec });
const problem = (raw: unknown): string => {
  try {
    parseManifest(raw, 'np.yaml');
  } catch (e) {
    assert.ok(e instanceof UserError && e.kind === 'usage', `a usage error: ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  assert.fail('expected an error');
};

test('a full policy parses, with namespace and protocol defaults', () => {
  const m = parseManifest(np({
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } }, podSelector: { matchExpressions: [{ key: 'role', operator: 'In', values: ['client'] }] } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 'http' }, { port: 8000, endPort: 8100, protocol: 'TCP' }] }],
    egress: [{ to: [{ podSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }],
  }, { name: 'web', annotations: { a: 'b' } }), 'np.yaml');
  assert.equal(m.kind, 'NetworkPolicy');
  if (m.kind !== 'NetworkPolicy') return;
  assert.equal(m.policy.namespace, 'default');
  assert.deepEqual(m.policy.spec.policyTypes, ['Ingress', 'Egress']);
  assert.deepEqual(m.policy.spec.ingress?.[0].ports?.[0], { protocol: 'TCP', port: 'http' });
});

test('a Namespace parses with its labels', () => {
  assert.deepEqual(parseManifest({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } }, 'ns.yaml'), { kind: 'Namespace', name: 'team-a', labels: { team: 'a' } });
});

const BAD: [string, unknown, RegExp][] = [
  ['apiVersion', { ...np({ podSelector: {} }), apiVersion: 'v1' }, /^np\.yaml: apiVersion: a NetworkPolicy is apiVersion networking\.k8s\.io\/v1$/],
  ['no spec', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p' } }, /^np\.yaml: spec: /],
  ['no podSelector', np({}), /^np\.yaml: spec\.podSelector: is required$/],
  ['unknown field', np({ podSelector: {}, ingres: [] }), /^np\.yaml: : unknown field "ingres"|^np\.yaml: spec: unknown field "ingres": podnet does not model it; remove it$/],
  ['policyTypes value', np({ podSelector: {}, policyTypes: ['Inbound'] }), /^np\.yaml: spec\.policyTypes\[0\]: Ingress or Egress$/],
  ['policyTypes twice', np({ podSelector: {}, policyTypes: ['Ingress', 'Ingress'] }), /^np\.yaml: spec\.policyTypes: each of Ingress and Egress at most once$/],
  ['empty peer', np({ podSelector: {}, ingress: [{ from: [{}] }] }), /^np\.yaml: spec\.ingress\[0\]\.from\[0\]: a peer needs a podSelector, a namespaceSelector or an ipBlock$/],
  ['ipBlock with a selector', np({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }), /^np\.yaml: spec\.egress\[0\]\.to\[0\]: an ipBlock stands alone/],
  ['bad cidr', np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.300/8' } }] }] }), /^np\.yaml: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: "10\.0\.0\.300" is not an IPv4 address/],
  ['except outside', np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] }), /^np\.yaml: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.except\[0\]: 10\.1\.0\.0\/24 must be a strict subset of cidr 10\.0\.0\.0\/16$/],
  ['except equal', np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/16'] } }] }] }), /strict subset/],
  ['port 0', np({ podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] }), /^np\.yaml: spec\.ingress\[0\]\.ports\[0\]\.port: /],
  ['port name', np({ podSelector: {}, ingress: [{ ports: [{ port: 'HTTP_1' }] }] }), /^np\.yaml: spec\.ingress\[0\]\.ports\[0\]\.port: "HTTP_1" is not a port name/],
  ['protocol', np({ podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP' }] }] }), /^np\.yaml: spec\.ingress\[0\]\.ports\[0\]\.protocol: TCP, UDP or SCTP$/],
  ['endPort without port', np({ podSelector: {}, ingress: [{ ports: [{ endPort: 90 }] }] }), /^np\.yaml: spec\.ingress\[0\]\.ports\[0\]\.endPort: endPort needs a port/],
  ['endPort below port', np({ podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }), /endPort: 80 is below port 90/],
  ['endPort with a name', np({ podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 80 }] }] }), /endPort goes with a numeric port/],
  ['In without values', np({ podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }), /^np\.yaml: spec\.podSelector\.matchExpressions\[0\]\.values: In needs at least one value$/],
  ['Exists with values', np({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }] }] }), /namespaceSelector\.matchExpressions\[0\]\.values: Exists takes no values/],
  ['operator', np({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Has' }] } }), /operator: In, NotIn, Exists or DoesNotExist$/],
  ['name', np({ podSelector: {} }, { name: 'Deny_All' }), /^np\.yaml: metadata\.name: metadata\.name must be lowercase letters/],
  ['label value', np({ podSelector: { matchLabels: { app: 'a b' } } }), /matchLabels\.app: a label value/],
  ['namespace kind field', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels: { team: 'a' } }, data: 1 }, /unknown field "data"/],
];

for (const [what, raw, re] of BAD) {
  test(`bad: ${what} → one line naming the field`, () => {
    assert.match(problem(raw), re);
  });
}

test('an unknown kind lists the kinds podnet applies', () => {
  assert.match(problem({ apiVersion: 'v1', kind: 'ConfigMap' }), /not a kind podnet applies \(Pod, Service, NetworkPolicy, Namespace\)/);
});
