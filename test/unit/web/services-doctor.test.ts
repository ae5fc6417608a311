// The UI's Services column and doctor highlights, on the fixed node: the Service box sits right of
// the drawing, its wires end on the endpoint pod's right border; a finding names its node's group,
// and the pod or Service its subject names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphModel } from '../../../src/views/index.js';
import { graphServices } from '../../../src/views/graph-services.js';
import { placeServices } from '../../../src/web/layout-services.js';
import { findingElements } from '../../../src/web/doctor.js';
import type { Drawing, TopologyNode } from '../../../src/web/api.js';
import { serviceEndpoints, type Service } from '../../../src/model/k8s.js';
import { fixedSnapshot } from '../../fixtures/inspect/snapshot.js';

const g = graphModel(fixedSnapshot());
const web: Service = {
  name: 'web', namespace: 'default', type: 'ClusterIP', clusterIP: '10.43.0.20', selector: { app: 'web' },
  ports: [{ protocol: 'TCP', port: 80, targetPort: 8080 }], externalTrafficPolicy: 'Cluster', sessionAffinity: 'None', createdAt: '2026-01-01T00:00:00Z',
};
const services = graphServices(serviceEndpoints([web], [{ meta: { name: 'pod1', namespace: 'default', labels: { app: 'web' }, ports: [] }, ip: '10.42.0.2', node: 'server', ready: true }]), [g]);
const iface = g.pods[0].ifaces[0];
const nodes: TopologyNode[] = [{ id: 'node:server', name: 'server', netnsId: '', netns: '', graph: g }];

test('the Service box is placed right of the drawing, its wire ends on the pod\'s right border', () => {
  const d: Drawing = { width: 400, height: 200, wires: [], boxes: [
    { id: g.pods[0].id, kind: 'pod', lines: ['pod1'], x: 300, y: 50, w: 80, h: 40 },
    { id: iface.id, kind: 'pod-iface', lines: ['eth0'], x: 280, y: 55, w: 40, h: 30, owner: g.pods[0].id },
  ] };
  const out = placeServices(d, { services });
  const box = out.boxes.find((b) => b.id === 'svc_default_web')!;
  assert.equal(box.kind, 'service');
  assert.ok(box.x > 400 && box.x + box.w <= out.width, 'right of the drawing, inside the new width');
  const [w] = out.wires;
  assert.deepEqual([w.kind, w.source, w.target], ['service-endpoint', 'svc_default_web', iface.id]);
  assert.deepEqual(w.points.at(-1), { x: 380, y: 70 }, 'the pod\'s right border, level with its eth0');
  assert.equal(placeServices(d, {}), d, 'no Services: the drawing as it was');
});

test('a finding outlines its node, and the pod or Service its subject names', () => {
  assert.deepEqual(findingElements({ node: 'server' }, { nodes }), ['node:server']);
  assert.deepEqual(findingElements({ node: 'server', subject: 'pod1' }, { nodes, services }), ['node:server', g.pods[0].id]);
  assert.deepEqual(findingElements({ node: 'cluster', subject: 'default/web' }, { nodes, services }), ['svc_default_web']);
  assert.deepEqual(findingElements({ node: 'agent9' }, { nodes }), [], 'a node not drawn: nothing');
});
