// The portmap cases of the CNI conformance suite: podnet-portmap against the reference `portmap`
// (Debian's containernetworking-plugins 1.1.1), chained after each implementation's own bridge ADD
// (or given a written-out prevResult), with the results, exit and error codes and the host
// namespace's iptables-save / ip6tables-save compared; and the known differences with their reasons
// (docs/cni-conformance.md shows them).
import { createHash } from 'node:crypto';
import { run } from '../helpers.js';
import { NETWORK, type Case, type KnownDifference, type Step } from './conformance-cases.js';
import type { World } from './conformance-world.js';

const add = (over: Partial<Step> = {}): Step => ({ cmd: 'ADD', ...over });
const del = (over: Partial<Step> = {}): Step => ({ cmd: 'DEL', ...over });
/** A portmap step; its prevResult is the result of step `prev` (the bridge's, or an earlier portmap ADD's). */
const pm = (cmd: string, prev: number | undefined, over: Partial<Step> = {}): Step => ({ cmd, plugin: 'portmap', ...(prev !== undefined ? { prevResult: prev } : {}), ...over });

/** A mapping as kubelet hands it (protocol in lower case). */
const map = (hostPort: number, containerPort: number, protocol = 'tcp', hostIP?: string) => ({ hostPort, containerPort, protocol, ...(hostIP ? { hostIP } : {}) });
const mappings = (...m: ReturnType<typeof map>[]) => ({ runtimeConfig: { portMappings: m } });

/** Three mappings: tcp on every address, tcp on cni0's address only, udp. */
const THREE = mappings(map(8080, 80), map(8443, 443, 'tcp', '10.22.0.1'), map(5353, 53, 'udp'));

/** `iptables ARGS…` inside the world's host namespace. */
const iptables = (w: World, args: readonly string[]) => run(['nsenter', `--net=/run/netns/${w.ns.H}`, 'iptables', '-w', ...args]);

/** The reference's per-container chain name, computed here independently of podnet. */
const dnChain = (cid: string) => `CNI-DN-${createHash('sha512').update(NETWORK + cid).digest('hex').slice(0, 21)}`;

/** A previous result with an IPv4 and an IPv6 address on eth0 in a sandbox (no bridge behind it). */
const DUAL = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'cni0' }, { name: 'veth0' }, { name: 'eth0', sandbox: '/run/netns/pod' }],
  ips: [{ address: '10.22.0.7/24', interface: 2, gateway: '10.22.0.1' }, { address: 'fd00:22::7/64', interface: 2, gateway: 'fd00:22::1' }],
};

/** The portmap cases. Step 1 is the bridge ADD unless the case gives a prevResult itself. */
export const PORTMAP_CASES: Case[] = [
  { id: 'portmap-add-check-del', title: 'portmap: tcp 8080→80, tcp 8443→443 on 10.22.0.1 only, udp 5353→53: ADD, CHECK, DEL, bridge DEL', portmap: THREE,
    steps: [add(), pm('ADD', 0, { snap: true }), pm('CHECK', 1), pm('DEL', 1, { snap: true }), del()], exits: [0, 0, 0, 0, 0], referenceExits: [0, 0, 1, 0, 0] },
  { id: 'portmap-no-mappings', title: 'portmap without portMappings: prevResult passed on; CHECK and DEL change nothing',
    steps: [add(), pm('ADD', 0), pm('CHECK', 1), pm('DEL', 1)], exits: [0, 0, 0, 0] },
  { id: 'portmap-two-pods', title: 'portmap: two pods (8080, 8081); DEL of the first leaves the shared chains and the second\'s', pods: ['p1', 'p2'], portmap: mappings(map(8080, 80)),
    steps: [add(), add({ pod: 'p2' }), pm('ADD', 0), pm('ADD', 1, { pod: 'p2', net: mappings(map(8081, 80)) }), pm('DEL', 2)], exits: [0, 0, 0, 0, 0] },
  { id: 'portmap-add-twice', title: 'portmap ADD twice with the same mappings: nothing doubled', portmap: THREE,
    steps: [add(), pm('ADD', 0), pm('ADD', 0)], exits: [0, 0, 0] },
  { id: 'portmap-del-twice', title: 'portmap DEL twice after ADD', portmap: THREE,
    steps: [add(), pm('ADD', 0), pm('DEL', 1), pm('DEL', 1)], exits: [0, 0, 0, 0] },
  { id: 'portmap-del-never-added', title: 'portmap DEL of a container never added (mappings, no prevResult)', portmap: THREE,
    steps: [pm('DEL', undefined)], exits: [0] },
  { id: 'portmap-del-without-mappings', title: 'portmap DEL without portMappings after an ADD with them', portmap: THREE,
    steps: [add(), pm('ADD', 0), pm('DEL', 1, { net: { runtimeConfig: undefined } })], exits: [0, 0, 0] },
  { id: 'portmap-snat-false', title: 'portmap snat false: no mark chains, no hairpin or localhost rules, no route_localnet', portmap: { ...THREE, snat: false },
    steps: [add(), pm('ADD', 0)], exits: [0, 0] },
  { id: 'portmap-mark-bit', title: 'portmap markMasqBit 5: mark 0x20', portmap: { ...mappings(map(8080, 80)), markMasqBit: 5 },
    steps: [add(), pm('ADD', 0)], exits: [0, 0] },
  { id: 'portmap-external-setmark', title: 'portmap externalSetMarkChain KUBE-MARK-MASQ (made beforehand): no SETMARK/MASQ chains of its own',
    portmap: { ...mappings(map(8080, 80)), externalSetMarkChain: 'KUBE-MARK-MASQ' }, setup: (w) => iptables(w, ['-t', 'nat', '-N', 'KUBE-MARK-MASQ']),
    steps: [add(), pm('ADD', 0)], exits: [0, 0] },
  { id: 'portmap-16-ports', title: 'portmap with 16 tcp ports: multiport takes 15, so two entry rules', portmap: mappings(...Array.from({ length: 16 }, (_, i) => map(9000 + i, 80))),
    steps: [add(), pm('ADD', 0)], exits: [0, 0] },
  { id: 'portmap-dual-stack', title: 'portmap with an IPv4 and an IPv6 address (written-out prevResult): iptables and ip6tables; then DEL',
    portmap: mappings(map(8080, 80), map(9090, 90, 'tcp', 'fd00:22::1')), steps: [pm('ADD', undefined, { prevJson: DUAL, snap: true }), pm('DEL', 0)], exits: [0, 0] },
  { id: 'portmap-check-drift', title: 'portmap CHECK after the container\'s chain was flushed by hand', portmap: mappings(map(8080, 80)),
    steps: [add(), pm('ADD', 0), pm('CHECK', 1, { before: (w) => { iptables(w, ['-t', 'nat', '-F', dnChain('ctr-p1')]); } })], exits: [0, 0, 1] },
  { id: 'portmap-without-prevresult', title: 'portmap ADD without prevResult (not chained)', portmap: mappings(map(8080, 80)),
    steps: [pm('ADD', undefined)], exits: [1] },
  { id: 'portmap-bad-port', title: 'portmap hostPort 0', portmap: mappings(map(0, 80)),
    steps: [pm('ADD', undefined, { prevJson: DUAL })], exits: [1] },

  // podnet only: GC is a CNI 1.1.0 verb.
  { id: 'portmap-gc', title: 'portmap GC (1.1.0) removes the chain of the container that is no longer attached', version: '1.1.0', pods: ['p1', 'p2'],
    portmap: mappings(map(8080, 80)),
    steps: [add(), add({ pod: 'p2' }), pm('ADD', 0), pm('ADD', 1, { pod: 'p2', net: mappings(map(8081, 80)) }),
      pm('GC', undefined, { net: { runtimeConfig: undefined, 'cni.dev/valid-attachments': [{ containerID: 'ctr-p1', ifname: 'eth0' }] } })], exits: [0, 0, 0, 0, 0],
    only: {
      skip: 'the reference plugins 1.1.1 speak CNI up to 1.0.0; GC is a 1.1.0 verb (and upstream portmap has no GC yet)',
      expect: (r) => {
        const nat = r.nat ?? [];
        if (!nat.includes(`:${dnChain('ctr-p1')} -`)) throw new Error(`GC removed the valid container's chain: ${nat.join(' | ')}`);
        if (nat.some((l) => l.includes(dnChain('ctr-p2')))) throw new Error(`GC left the chain of ctr-p2: ${nat.join(' | ')}`);
        if (!nat.includes(':CNI-HOSTPORT-DNAT -')) throw new Error('GC removed the shared chain CNI-HOSTPORT-DNAT');
      },
    } },
];

/** The known differences of the portmap cases. */
export const PORTMAP_DIFFERENCES: KnownDifference[] = [
  { id: 'reference-portmap-check-ipv6', cases: ['portmap-add-check-del'], field: /^s3\.CHECK\.(exit|code)$/,
    podnet: 'CHECK passes', reference: 'CHECK fails: "could not check ipv6 dnat: chain CNI-DN-… not found in iptables table nat"',
    reason: 'A reference bug in 1.1.1: CHECK looks for the container\'s chain in ip6tables too, even for a container without an IPv6 address (fixed upstream in fb5d195f, "Only check ipv6 when an IPv6 is configured"). podnet checks the families the container has addresses in.' },
  { id: 'reference-del-makes-tables', cases: ['portmap-add-check-del', 'portmap-two-pods', 'portmap-del-twice', 'portmap-del-never-added'],
    field: /^(after\.s\d+|kernel)\.ns\.H\.ip6?tables(\.nat)?$/,
    podnet: 'DEL leaves the tables as they were (no ip6tables nat table when nothing was mapped over IPv6)', reference: 'DEL creates an empty nat table in iptables and ip6tables where there was none',
    reason: 'The reference\'s teardown flushes the container\'s chain first, and flushing a chain that does not exist makes it (utils.ClearChain → EnsureChain), which in iptables-nft makes the table with its four built-in chains; the chain is then deleted, the table stays. An empty nat table changes no verdict. podnet reads the table and writes only when there is something to remove.' },
  { id: 'portmap-typed-error-codes', cases: ['portmap-without-prevresult', 'portmap-bad-port'], field: /^s\d+\.[A-Z]+\.code$/,
    podnet: 'code 7 (invalid config), naming the field', reference: '999',
    reason: 'As for the bridge (typed-error-codes): the reference skel wraps untyped errors as 999. Exit codes are equal.' },
  { id: 'del-without-mappings', cases: ['portmap-del-without-mappings'], field: /^kernel\.ns\.H\.iptables\.nat$/,
    podnet: 'the container\'s CNI-DN-… chain and its CNI-HOSTPORT-DNAT entry are removed', reference: 'they stay (leak): DEL without portMappings returns at once',
    reason: 'Deliberate ("forgiving delete"): the chain\'s name depends only on the network and the container, so podnet removes it whatever the request says; a runtime that lost the mappings (a crash, a cache without them) would otherwise leave the host port forwarded to an address the next pod may get.' },
];
