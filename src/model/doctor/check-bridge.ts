// cni0 and its ports: the bridge is there and up with its gateway address, and every pod's port
// forwards, learns and (on K3s) hairpins. One finding per node and problem, listing the ports. Pure.
import { inNs } from './commands.js';
import { linkNamed, listed, on, plural, v4Of, type Check } from './node.js';
import type { Finding, NodeObservation, PodObservation } from './types.js';

/** The pods whose host veth is a port of `bridge`. */
const portsOf = (obs: NodeObservation, bridge: string): (PodObservation & { hostVeth: NonNullable<PodObservation['hostVeth']> })[] =>
  obs.pods.filter((p): p is PodObservation & { hostVeth: NonNullable<PodObservation['hostVeth']> } => p.hostVeth?.master === bridge);

/** The bridge exists (when the node has pods or should have a gateway), is up, holds its address. */
export const checkBridgeDevice: Check = (exp, obs) => {
  const br = linkNamed(obs, exp.bridge);
  const show = { command: inNs(obs.ns, ['ip', '-d', 'addr', 'show', 'dev', exp.bridge]), value: '' };
  if (!br) {
    if (obs.pods.length === 0 || !exp.k3s) return [];
    return [on(obs, {
      id: 'bridge-missing', severity: 'error', reach: 'node', what: `The pods' bridge ${exp.bridge} does not exist`,
      breaks: 'No pod on this node reaches anything: their host veths are attached to nothing.',
      evidence: [{ ...show, value: `Device "${exp.bridge}" does not exist.` }],
      fix: [`# the bridge plugin makes ${exp.bridge} on the next pod ADD; for the pods that run now:`, inNs(obs.ns, ['ip', 'link', 'add', exp.bridge, 'type', 'bridge'])],
    })];
  }
  const out: Finding[] = [];
  if (!br.up) {
    out.push(on(obs, {
      id: 'bridge-down', severity: 'error', reach: 'node', what: `${exp.bridge} is down`,
      breaks: 'No pod on this node reaches anything beyond its own veth.',
      evidence: [{ ...show, value: `${exp.bridge}: state ${br.operstate}, flags ${br.flags.join(',')}` }],
      fix: [inNs(obs.ns, ['ip', 'link', 'set', exp.bridge, 'up'])],
    }));
  }
  const have = v4Of(obs, exp.bridge);
  if (exp.bridgeIP && !have.includes(exp.bridgeIP)) {
    out.push(on(obs, {
      id: 'bridge-address', severity: 'error', reach: 'node',
      what: `${exp.bridge} holds ${have.join(', ') || 'no IPv4 address'}, not the pods' gateway ${exp.bridgeIP}`,
      breaks: 'Pods send everything off their subnet to a gateway address nobody answers for.',
      evidence: [{ ...show, value: `inet ${have.join(', inet ') || '(none)'}` }],
      fix: [...have.map((a) => inNs(obs.ns, ['ip', 'addr', 'del', a, 'dev', exp.bridge])), inNs(obs.ns, ['ip', 'addr', 'add', exp.bridgeIP, 'dev', exp.bridge])],
    }));
  }
  return out;
};

/** Every pod's bridge port is forwarding, learning and (K3s: hairpinMode) hairpinned. */
export const checkPorts: Check = (exp, obs) => {
  const ports = portsOf(obs, exp.bridge);
  const show = (p: PodObservation) => inNs(obs.ns, ['bridge', '-d', 'link', 'show', 'dev', p.hostVeth!.name]);
  const out: Finding[] = [];
  const blocked = ports.filter((p) => p.hostVeth.port && p.hostVeth.port.state !== 'forwarding' && p.hostVeth.up);
  if (blocked.length) {
    out.push(on(obs, {
      id: 'port-state', severity: 'error', reach: 'pod', subject: blocked.map((p) => p.name).join(','),
      what: `${plural(blocked.length, 'bridge port')} of ${exp.bridge} ${blocked.length === 1 ? 'is' : 'are'} not forwarding (${listed(blocked.map((p) => `${p.hostVeth.name} of ${p.name}: ${p.hostVeth.port?.state}`))})`,
      breaks: `${listed(blocked.map((p) => p.name))} can send and receive nothing through ${exp.bridge}.`,
      evidence: blocked.slice(0, 4).map((p) => ({ command: show(p), value: `state ${p.hostVeth.port?.state}` })),
      fix: blocked.map((p) => inNs(obs.ns, ['ip', 'link', 'set', p.hostVeth.name, 'type', 'bridge_slave', 'state', '3'])),
    }));
  }
  const deaf = ports.filter((p) => p.hostVeth.port && !p.hostVeth.port.learning);
  if (deaf.length) {
    out.push(on(obs, {
      id: 'port-learning-off', severity: 'warning', reach: 'speed', subject: deaf.map((p) => p.name).join(','),
      what: `Learning is off on ${plural(deaf.length, 'bridge port')} of ${exp.bridge} (${listed(deaf.map((p) => p.hostVeth.name))})`,
      breaks: `${exp.bridge} never learns where ${listed(deaf.map((p) => p.name))} ${deaf.length === 1 ? 'is' : 'are'}, so every frame for ${deaf.length === 1 ? 'it' : 'them'} is flooded to every port.`,
      evidence: deaf.slice(0, 4).map((p) => ({ command: show(p), value: 'learning off' })),
      fix: deaf.map((p) => inNs(obs.ns, ['ip', 'link', 'set', p.hostVeth.name, 'type', 'bridge_slave', 'learning', 'on'])),
    }));
  }
  const noHairpin = exp.hairpin ? ports.filter((p) => p.hostVeth.port && !p.hostVeth.port.hairpin) : [];
  if (noHairpin.length) {
    out.push(on(obs, {
      id: 'hairpin-off', severity: 'error', reach: 'pod', subject: noHairpin.map((p) => p.name).join(','),
      what: `Hairpin mode is off on ${plural(noHairpin.length, 'pod port')} of ${exp.bridge} (${listed(noHairpin.map((p) => `${p.hostVeth.name} of ${p.name}`))})`,
      breaks: `${listed(noHairpin.map((p) => p.name))} cannot reach ${noHairpin.length === 1 ? 'itself' : 'themselves'} through a Service: the bridge never sends a frame back out the port it came in on.`,
      evidence: noHairpin.slice(0, 4).map((p) => ({ command: show(p), value: 'hairpin off' })),
      fix: noHairpin.map((p) => inNs(obs.ns, ['ip', 'link', 'set', p.hostVeth.name, 'type', 'bridge_slave', 'hairpin', 'on'])),
    }));
  }
  return out;
};

export const bridgeChecks: Check[] = [checkBridgeDevice, checkPorts];
