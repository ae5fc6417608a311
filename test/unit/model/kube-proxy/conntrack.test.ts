// The UDP conntrack entries a sync deletes after it, as kube-proxy does: flows to an endpoint that
// is gone, and flows to a Service that had no endpoint at all; nothing for TCP, nothing on a full sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iptablesSync } from '../../../../src/model/kube-proxy/iptables-sync.js';
import { nftSync } from '../../../../src/model/kube-proxy/nftables-sync.js';
import type { PodEndpointSource } from '../../../../src/model/k8s.js';
import { SERVER, pod, scenario, svc } from './scenario.js';

const dns = svc('dns', '10.43.0.20', { type: 'NodePort', ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 53, nodePort: 30053 }] });
const server = (name: string, ip: string): PodEndpointSource => ({ ...pod(name, ip, 'server', 'dns'), meta: { ...pod(name, ip, 'server', 'dns').meta, ports: [] } });

for (const [mode, sync] of [['iptables', iptablesSync], ['nftables', nftSync]] as const) {
  test(`${mode}: an endpoint gone → its UDP flows go; the first endpoint → the flows that were never DNATed go`, () => {
    const two = sync(scenario([dns], [server('d1', '10.42.0.7'), server('d2', '10.42.0.8')]), SERVER, undefined);
    assert.deepEqual(two.conntrack, [], 'a full sync knows no endpoints before it');
    const one = sync(scenario([dns], [server('d1', '10.42.0.7')]), SERVER, two.record);
    assert.deepEqual(one.conntrack, [
      { proto: 'udp', dst: '10.43.0.20', dport: 53, replySrc: '10.42.0.8' },
      { proto: 'udp', dport: 30053, replySrc: '10.42.0.8' },
    ]);
    const none = sync(scenario([dns], []), SERVER, one.record);
    assert.deepEqual(none.conntrack, [{ proto: 'udp', dst: '10.43.0.20', dport: 53, replySrc: '10.42.0.7' }, { proto: 'udp', dport: 30053, replySrc: '10.42.0.7' }]);
    const back = sync(scenario([dns], [server('d1', '10.42.0.7')]), SERVER, none.record);
    assert.deepEqual(back.conntrack, [{ proto: 'udp', dst: '10.43.0.20', dport: 53 }, { proto: 'udp', dport: 30053 }]);
    const web = sync(scenario([svc('web', '10.43.0.11')], [pod('a', '10.42.0.2', 'server', 'web')]), SERVER, undefined);
    assert.deepEqual(sync(scenario([svc('web', '10.43.0.11')], []), SERVER, web.record).conntrack, [], 'TCP: nothing (its connections end)');
  });
}
