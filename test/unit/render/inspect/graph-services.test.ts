// Services in `podnet graph`: the view joins each Service port's endpoints to the drawn pod
// interfaces (on this node or another), and DOT and Mermaid draw the Service with an edge to each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphModel } from '../../../../src/views/index.js';
import { graphServices } from '../../../../src/views/graph-services.js';
import { renderGraphDot, renderGraphMermaid } from '../../../../src/render/inspect/index.js';
import { renderClusterDot, renderClusterMermaid } from '../../../../src/render/inspect/cluster.js';
import { serviceEndpoints, type PodEndpointSource, type Service } from '../../../../src/model/k8s.js';
import { fixedSnapshot } from '../../../fixtures/inspect/snapshot.js';

const web: Service = {
  name: 'web', namespace: 'default', type: 'NodePort', clusterIP: '10.43.0.20', selector: { app: 'web' },
  ports: [{ protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }], externalTrafficPolicy: 'Cluster', sessionAffinity: 'None', createdAt: '2026-01-01T00:00:00Z',
};
const pod = (name: string, ip: string, node: string, app: string, ready = true): PodEndpointSource =>
  ({ meta: { name, namespace: 'default', labels: { app }, ports: [] }, ip, node, ready });
// pod1 (10.42.0.2) is drawn on `server`; pod9 runs on another node, not in this drawing; pod2 is not selected.
const ports = serviceEndpoints([web], [pod('pod1', '10.42.0.2', 'server', 'web'), pod('pod2', '10.42.0.3', 'server', 'db'), pod('pod9', '10.42.1.9', 'agent1', 'web', false)]);

test('the Service node: name, ClusterIP:port, type and NodePort, an edge per endpoint', () => {
  const g = graphModel(fixedSnapshot());
  const [s, ...rest] = graphServices(ports, [g]);
  assert.equal(rest.length, 0);
  assert.deepEqual([s.id, s.type, s.clusterIP, s.ports, s.nodePorts], ['svc_default_web', 'NodePort', '10.43.0.20', ['10.43.0.20:80/TCP'], [30080]]);
  const pod1 = g.pods.find((p) => p.name === 'pod1')!.ifaces[0].id;
  assert.deepEqual(s.edges.map((e) => [e.endpoint, e.pod, e.node, e.iface, e.ready]), [
    ['10.42.0.2:8080', 'pod1', 'server', pod1, true], ['10.42.1.9:8080', 'pod9', 'agent1', '', false],
  ], 'pod2 is not selected; pod9 is an endpoint but not drawn here');
});

test('DOT and Mermaid draw the Service and its edge to the endpoint pod', () => {
  const g = graphModel(fixedSnapshot());
  const drawn = { ...g, services: graphServices(ports, [g]) };
  const pod1 = g.pods.find((p) => p.name === 'pod1')!.ifaces[0].id;
  const d = renderGraphDot(drawn);
  assert.match(d, /"svc_default_web" \[label="Service default\/web\\n10\.43\.0\.20:80\/TCP\\nNodePort 30080", shape=hexagon/);
  assert.ok(d.includes(`"svc_default_web" -- "${pod1}" [`), d);
  assert.match(d, /label="80\/TCP → 10\.42\.0\.2:8080"/);
  assert.equal((d.match(/"svc_default_web" -- /g) ?? []).length, 1, 'no edge to an endpoint that is not drawn');
  assert.ok(d.trimEnd().endsWith('}'));
  const m = renderGraphMermaid(drawn);
  assert.ok(m.includes('svc_default_web{{"Service default/web 10.43.0.20:80/TCP NodePort 30080"}}'), m);
  assert.ok(m.includes(`svc_default_web -->|"80/TCP → 10.42.0.2:8080"| ${pod1}`), m);
  assert.match(m, /class svc_default_web service\n$/);
  assert.equal(renderGraphDot(g), renderGraphDot({ ...g, services: [] }), 'no Services: the drawing is unchanged');
});

test('a cluster drawing carries the Services once, with edges to pods on any node', () => {
  const g = graphModel(fixedSnapshot());
  const c = { nodes: [g], tunnels: [], services: graphServices(ports, [g]) };
  assert.equal((renderClusterDot(c).match(/shape=hexagon/g) ?? []).length, 1);
  assert.equal((renderClusterMermaid(c).match(/\{\{"Service default\/web/g) ?? []).length, 1);
});
