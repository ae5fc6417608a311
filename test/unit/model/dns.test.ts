// The cluster DNS as pure data: which records a set of Services, endpoints and pods give (as CoreDNS's
// kubernetes plugin answers them), their unbound syntax, and kubelet's resolv.conf.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultServices, serviceEndpoints, type PodEndpointSource, type Service } from '../../../src/model/k8s.js';
import {
  dnsPolicyOf, podFqdn, recordData, resolvConf, reverseName, reverseZone, srvWeight, unboundLocalData, unboundServerConf, zoneRecords, type DnsRecord,
} from '../../../src/model/dns.js';

const base = { type: 'ClusterIP' as const, externalTrafficPolicy: 'Cluster' as const, sessionAffinity: 'None' as const, createdAt: '2026-01-01T00:00:00.000Z' };
const web: Service = { ...base, name: 'web', namespace: 'default', clusterIP: '10.43.0.11', selector: { app: 'web' }, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }, { protocol: 'UDP', port: 9, targetPort: 9 }] };
const db: Service = { ...base, name: 'db', namespace: 'data', clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', protocol: 'TCP', port: 5432, targetPort: 5432 }] };
const pod = (name: string, ns: string, app: string, ip: string, ready = true): PodEndpointSource => ({
  meta: { name, namespace: ns, labels: { app }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }, ip, node: 'server', ready,
});
const pods = [pod('w1', 'default', 'web', '10.42.0.5'), pod('d1', 'data', 'db', '10.42.0.7'), pod('d2', 'data', 'db', '10.42.1.2'), pod('d3', 'data', 'db', '10.42.0.9', false)];
const services = [...defaultServices('10.43.0.0/16', { name: 'server', ip: '198.51.100.2' }, base.createdAt), web, db];
const records = zoneRecords({
  services, endpoints: serviceEndpoints(services, pods), dnsIP: '10.43.0.10', serial: 7,
  pods: pods.map((p) => ({ namespace: p.meta.namespace, ip: p.ip })),
});
const lines = (name: string) => records.filter((r) => r.name === name).map((r) => recordData(r));

describe('zoneRecords', () => {
  test('a ClusterIP Service: A → the ClusterIP, PTR back, SRV per named port to the Service name', () => {
    assert.deepEqual(lines('web.default.svc.cluster.local'), ['web.default.svc.cluster.local. 5 IN A 10.43.0.11']);
    assert.deepEqual(lines('11.0.43.10.in-addr.arpa'), ['11.0.43.10.in-addr.arpa. 5 IN PTR web.default.svc.cluster.local.']);
    assert.deepEqual(lines('_http._tcp.web.default.svc.cluster.local'), ['_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.']);
    assert.equal(records.some((r) => r.type === 'SRV' && r.name.includes('_udp.web')), false, 'an unnamed port has no SRV record');
  });

  test('the kube-dns and kubernetes Services are in the zone', () => {
    assert.deepEqual(lines('kube-dns.kube-system.svc.cluster.local'), ['kube-dns.kube-system.svc.cluster.local. 5 IN A 10.43.0.10']);
    assert.deepEqual(lines('_dns._udp.kube-dns.kube-system.svc.cluster.local'), ['_dns._udp.kube-dns.kube-system.svc.cluster.local. 5 IN SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.']);
    assert.deepEqual(lines('kubernetes.default.svc.cluster.local'), ['kubernetes.default.svc.cluster.local. 5 IN A 10.43.0.1']);
  });

  test('a headless Service: A per ready endpoint, endpoint names, SRV to each endpoint at its port', () => {
    assert.deepEqual(lines('db.data.svc.cluster.local'), ['db.data.svc.cluster.local. 5 IN A 10.42.0.7', 'db.data.svc.cluster.local. 5 IN A 10.42.1.2']);
    assert.deepEqual(lines('10-42-1-2.db.data.svc.cluster.local'), ['10-42-1-2.db.data.svc.cluster.local. 5 IN A 10.42.1.2']);
    assert.deepEqual(lines('_pg._tcp.db.data.svc.cluster.local'), [
      '_pg._tcp.db.data.svc.cluster.local. 5 IN SRV 0 50 5432 10-42-0-7.db.data.svc.cluster.local.',
      '_pg._tcp.db.data.svc.cluster.local. 5 IN SRV 0 50 5432 10-42-1-2.db.data.svc.cluster.local.',
    ]);
    assert.equal(records.some((r) => r.type === 'A' && r.ip === '10.42.0.9' && r.name.includes('.svc.')), false, 'a pod that is not ready is no endpoint');
  });

  test('every pod: a-b-c-d.<ns>.pod.cluster.local', () => {
    assert.equal(podFqdn('10.42.0.5', 'default'), '10-42-0-5.default.pod.cluster.local');
    assert.deepEqual(lines('10-42-0-9.data.pod.cluster.local'), ['10-42-0-9.data.pod.cluster.local. 5 IN A 10.42.0.9']);
  });

  test("the zone's SOA (the serial given), NS and schema version", () => {
    assert.deepEqual(lines('cluster.local'), [
      'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 5',
      'cluster.local. 5 IN NS ns.dns.cluster.local.',
    ]);
    assert.deepEqual(lines('dns-version.cluster.local'), ['dns-version.cluster.local. 5 IN TXT "1.1.0"']);
  });

  test('names that are not DNS labels are left out (they could break the configuration)', () => {
    const bad: Service = { ...web, name: 'x" local-zone: "evil' };
    const r = zoneRecords({ services: [bad], endpoints: [], pods: [{ namespace: 'Bad NS', ip: '10.42.0.2' }], dnsIP: '10.43.0.10', serial: 1 });
    assert.deepEqual(r.map((x) => x.type), ['SOA', 'NS', 'A', 'TXT']);
  });

  test('SRV weights share 100 as CoreDNS does', () => {
    assert.deepEqual([1, 2, 3, 0].map(srvWeight), [100, 50, 33, 100]);
  });
});

describe('unbound syntax', () => {
  test('local-data lines in a static cluster.local zone and the Service reverse zone', () => {
    const text = unboundLocalData([{ name: 'a.cluster.local', type: 'A', ip: '10.43.0.20' } satisfies DnsRecord], reverseZone('10.43.0.0/16'));
    assert.equal(text, "server:\n  local-zone: \"cluster.local.\" static\n  local-zone: \"43.10.in-addr.arpa.\" static\n  local-data: 'a.cluster.local. 5 IN A 10.43.0.20'\n");
  });

  test('the server configuration: every address on 53, REFUSED outside the cluster, control socket, the records included', () => {
    const conf = unboundServerConf({ dir: '/s/lab/dns', recordsFile: '/s/lab/dns/records.conf', controlSocket: '/s/lab/dns/control.sock' });
    for (const line of ['  interface: 0.0.0.0', '  port: 53', '  local-zone: "." refuse', '  include: "/s/lab/dns/records.conf"', '  control-interface: "/s/lab/dns/control.sock"', '  access-control: 0.0.0.0/0 allow']) {
      assert.ok(conf.split('\n').includes(line), `${line} in:\n${conf}`);
    }
  });

  test('reverse names', () => {
    assert.equal(reverseName('10.43.0.11'), '11.0.43.10.in-addr.arpa');
    assert.equal(reverseZone('10.43.0.0/16'), '43.10.in-addr.arpa');
    assert.equal(reverseZone('10.0.0.0/8'), '10.in-addr.arpa');
  });
});

describe("kubelet's resolv.conf", () => {
  test('search path of the pod namespace, the cluster DNS, ndots:5', () => {
    assert.equal(resolvConf('shop', '10.43.0.10'), 'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n');
  });

  test('dnsPolicy: the DNS pods resolve with the node, every other pod ClusterFirst', () => {
    assert.equal(dnsPolicyOf({ namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }), 'Default');
    assert.equal(dnsPolicyOf({ namespace: 'default', labels: { 'k8s-app': 'kube-dns' } }), 'ClusterFirst');
    assert.equal(dnsPolicyOf({ namespace: 'kube-system', labels: {} }), 'ClusterFirst');
  });
});
