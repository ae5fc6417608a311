// The CNI conformance suite's case table (one table, several implementations: STYLE.md point 14) and
// the table of known, reasoned differences between podnet and the reference plugins. Each case is
// data: the config overrides, the steps a runtime would make, the exit codes every implementation
// must give. conformance.test.ts runs each case on a fresh world per implementation and compares.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImplId, World } from './conformance-world.js';

/** The network name every case uses (the masquerade chain name derives from it and the container ID). */
export const NETWORK = 'pncf';
/** The pod subnet of the base config. */
export const SUBNET = '10.22.0.0/24';
/** The MAC the explicit-MAC case asks for (kept literally by the normaliser). */
export const ASKED_MAC = '0a:58:0a:16:00:99';

/** One plugin call, as a runtime makes it. */
export interface Step {
  /** CNI_COMMAND (undefined: not set at all). */
  cmd: string | undefined;
  /** The pod whose namespace is CNI_NETNS (default `p1`); the container ID is `ctr-<pod>` unless `cid`. */
  pod?: string;
  cid?: string;
  ifname?: string;
  /** CNI_ARGS (default what kubelet/containerd send: IgnoreUnknown=1 and the K8S_ keys). */
  args?: string;
  /** Environment overrides; a value of undefined removes the variable. */
  env?: (w: World) => Record<string, string | undefined>;
  /** Top-level and `ipam` overrides of the config for this step (on top of the case's). */
  net?: Record<string, unknown>;
  ipam?: Record<string, unknown>;
  /** cniVersion of this step (default the case's). */
  version?: string;
  /** Raw stdin instead of the config. In the config, `@world/` in a string stands for the world's directory. */
  stdin?: string;
  /** The index of the step whose result becomes `prevResult` (CHECK, DEL). */
  prevResult?: number;
  /** Call the IPAM plugin itself, or the portmap plugin (chained after the bridge), instead of the bridge plugin. */
  plugin?: 'bridge' | 'ipam' | 'portmap';
  /** A prevResult written out (portmap cases without a bridge ADD). */
  prevJson?: unknown;
  /** Kernel changes before this step (drift, a namespace going away). */
  before?: (w: World) => void | Promise<void>;
  /** Read the kernel after this step too (not only at the end). */
  snap?: boolean;
}

/** A podnet-only case: why the reference cannot run it, and what podnet must do instead. */
export interface OnlyPodnet {
  skip: string;
  /** Checks the run (exit codes are checked by `exits` as usual). */
  expect: (run: CaseRunView) => void;
}

/** What `OnlyPodnet.expect` sees of a run: per step the parsed stdout; the final kernel, normalised. */
export interface CaseRunView {
  steps: { exit: number; json?: Record<string, unknown>; msg?: string }[];
  ipamFiles: string[];
  /** The host namespace's nat table (iptables-save lines). */
  nat?: string[];
}

/** One case of the table. */
export interface Case {
  id: string;
  title: string;
  /** Pod namespaces to make (default `['p1']`). */
  pods?: string[];
  /** Config overrides for every step. */
  net?: Record<string, unknown>;
  ipam?: Record<string, unknown>;
  /** The config of portmap steps (`runtimeConfig`, `snat`, …). */
  portmap?: Record<string, unknown>;
  /** cniVersion (default 1.0.0, the reference's newest). */
  version?: string;
  /** Kernel state made before the first step (a pre-set bridge, an eth0 already there). */
  setup?: (w: World) => void;
  steps: Step[];
  /** The exit code podnet must give per step, and the reference too unless `referenceExits` says otherwise
   * (keeps the case honest: a case where both fail for the wrong reason fails). Which one applies to a mixed
   * chain depends on the plugin the case calls (the bridge, or the IPAM plugin for `plugin: 'ipam'`). */
  exits: number[];
  referenceExits?: number[];
  /** MACs the case asked for: kept literally, not replaced by a placeholder. */
  keepMacs?: string[];
  /** The comparisons to run, first vs second (default podnet vs reference). */
  pairs?: [ImplId, ImplId][];
  /** Set for podnet-only cases (CNI 1.1.0): runs podnet alone. */
  only?: OnlyPodnet;
}

const add = (over: Partial<Step> = {}): Step => ({ cmd: 'ADD', ...over });
const del = (over: Partial<Step> = {}): Step => ({ cmd: 'DEL', ...over });
const check = (prevResult: number, over: Partial<Step> = {}): Step => ({ cmd: 'CHECK', prevResult, ...over });

/** A bridge named cni0 with a wrong address, made by hand before ADD (flannel#1850). */
const presetBridge = (w: World) => {
  w.ip('H', ['link', 'add', 'cni0', 'type', 'bridge']);
  w.ip('H', ['addr', 'add', '10.22.9.1/24', 'dev', 'cni0']);
  w.ip('H', ['link', 'set', 'cni0', 'up']);
};

/** A resolv.conf in the world's directory, for `ipam.resolvConf`. */
const resolvConf = (w: World) => writeFileSync(join(w.dir, 'resolv.conf'), '# test\nnameserver 10.43.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n');

/** Mixed chains: podnet's bridge with the reference host-local, the reference bridge with podnet's host-local. */
const MIXED: [ImplId, ImplId][] = [['podnet', 'reference'], ['podnet-bridge+ref-ipam', 'reference'], ['ref-bridge+podnet-ipam', 'reference']];

/** The table. Base config: `{bridge: "cni0", isGateway: true, ipam: {ranges: [[{subnet: 10.22.0.0/24}]], dataDir}}`.
 * A failed ADD is followed by DEL, as a runtime does; the kernel is read after both. */
export const CASES: Case[] = [
  // Life cycle.
  { id: 'add-check-del', title: 'ADD, CHECK with the ADD result, DEL (kernel read after ADD and after DEL)', steps: [add({ snap: true }), check(0), del({ prevResult: 0 })], exits: [0, 0, 0],
    pairs: [...MIXED, ['podnet-oneshot', 'reference']] },
  { id: 'k3s-delegate', title: "K3s's bridge delegate (hairpin, forceAddress, isDefaultGateway, mtu 1450, route 10.42.0.0/16); CHECK",
    net: { hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: 1450 },
    ipam: { ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '10.42.0.0/16' }] }, steps: [add(), check(0)], exits: [0, 0], referenceExits: [0, 1], pairs: MIXED },
  { id: 'two-pods', title: 'two pods on one bridge (the second gets the next address)', pods: ['p1', 'p2'], steps: [add(), add({ pod: 'p2' })], exits: [0, 0], pairs: MIXED },
  { id: 'add-twice', title: 'ADD twice for the same container and interface', steps: [add(), add()], exits: [0, 1] },
  { id: 'add-del-add', title: 'ADD, DEL, ADD (round robin: the second ADD gets the next address)', steps: [add(), del(), add()], exits: [0, 0, 0] },
  { id: 'del-twice', title: 'DEL twice after ADD', steps: [add(), del(), del()], exits: [0, 0, 0] },
  { id: 'del-never-added', title: 'DEL of a container that was never added', steps: [del()], exits: [0] },
  { id: 'del-netns-gone', title: 'DEL after the pod namespace was deleted (ipMasq on)', net: { ipMasq: true },
    steps: [add(), del({ before: (w) => w.deleteNetns('p1') })], exits: [0, 0] },
  { id: 'del-empty-netns', title: 'DEL with CNI_NETNS empty (IPAM release only; the interface stays)', steps: [add(), del({ env: () => ({ CNI_NETNS: '' }) })], exits: [0, 0] },
  { id: 'check-drift', title: "CHECK after the pod's address was changed by hand",
    steps: [add(), check(0, { before: (w) => { w.ip('p1', ['addr', 'flush', 'dev', 'eth0']); w.ip('p1', ['addr', 'add', '10.22.0.50/24', 'dev', 'eth0']); } })], exits: [0, 1] },
  { id: 'check-without-prevresult', title: 'CHECK without prevResult', steps: [add(), { cmd: 'CHECK' }], exits: [0, 1] },

  // Gateway, bridge and port options.
  { id: 'gateway-off', title: 'isGateway false: no address on the bridge, no gateway in the result', net: { isGateway: false }, steps: [add()], exits: [0] },
  { id: 'default-gateway', title: 'isDefaultGateway true (implies isGateway): default route in the pod', net: { isGateway: undefined, isDefaultGateway: true }, steps: [add()], exits: [0] },
  { id: 'ipam-gateway', title: 'a gateway given by IPAM (10.22.0.254) goes on the bridge', net: { isDefaultGateway: true },
    ipam: { ranges: [[{ subnet: SUBNET, gateway: '10.22.0.254' }]] }, steps: [add()], exits: [0] },
  { id: 'hairpin', title: 'hairpinMode true', net: { hairpinMode: true }, steps: [add()], exits: [0] },
  { id: 'promisc', title: 'promiscMode true', net: { promiscMode: true }, steps: [add()], exits: [0] },
  { id: 'hairpin-and-promisc', title: 'hairpinMode and promiscMode together are refused', net: { hairpinMode: true, promiscMode: true }, steps: [add(), del()], exits: [1, 0] },
  { id: 'mtu', title: 'mtu 1400 on a new bridge and the veth', net: { mtu: 1400 }, steps: [add()], exits: [0] },
  { id: 'mtu-existing-bridge', title: 'mtu 1400 with cni0 already there (MTU 1500): the bridge is not reconfigured',
    net: { mtu: 1400 }, setup: (w) => w.ip('H', ['link', 'add', 'cni0', 'type', 'bridge']), steps: [add()], exits: [0] },
  { id: 'ipmasq', title: 'ipMasq true: the CNI-… chain after ADD, gone after DEL', net: { ipMasq: true }, steps: [add({ snap: true }), del()], exits: [0, 0] },
  { id: 'force-address', title: 'forceAddress true with a wrong address already on cni0', net: { forceAddress: true }, setup: presetBridge, steps: [add()], exits: [0] },
  { id: 'no-force-address', title: 'forceAddress false with a wrong address already on cni0; then DEL', net: { forceAddress: false }, setup: presetBridge,
    steps: [add({ snap: true }), del()], exits: [1, 0] },
  { id: 'not-a-bridge', title: 'cni0 exists but is a veth', setup: (w) => w.ip('H', ['link', 'add', 'cni0', 'type', 'veth', 'peer', 'name', 'cni0peer']), steps: [add(), del()], exits: [1, 0] },
  { id: 'eth0-exists', title: 'the pod already has an eth0; then DEL', setup: (w) => w.ip('p1', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']),
    steps: [add({ snap: true }), del()], exits: [1, 0] },
  { id: 'dns', title: 'dns in the network config becomes the result\'s dns', net: { dns: { nameservers: ['10.43.0.10'], search: ['svc.cluster.local'] } }, steps: [add()], exits: [0] },
  { id: 'ipam-dns-dropped', title: 'IPAM\'s dns (resolvConf) is not the bridge result\'s', setup: resolvConf, ipam: { resolvConf: '@world/resolv.conf' }, steps: [add()], exits: [0], pairs: MIXED },
  { id: 'unknown-field', title: 'an unknown top-level field is ignored', net: { podnetNoSuchField: { x: 1 } }, steps: [add()], exits: [0] },

  // Addresses asked for, ranges, routes.
  { id: 'explicit-ip', title: 'CNI_ARGS IP=10.22.0.9', steps: [add({ args: 'IgnoreUnknown=1;IP=10.22.0.9' })], exits: [0] },
  { id: 'explicit-mac', title: `CNI_ARGS MAC=${ASKED_MAC}; CHECK`, keepMacs: [ASKED_MAC], steps: [add({ args: `IgnoreUnknown=1;MAC=${ASKED_MAC}` }), check(0)], exits: [0, 0] },
  { id: 'bad-mac', title: 'CNI_ARGS MAC= not a MAC; then DEL', steps: [add({ args: 'IgnoreUnknown=1;MAC=zz:zz', snap: true }), del({ args: 'IgnoreUnknown=1;MAC=zz:zz' })], exits: [1, 0] },
  { id: 'args-without-ignoreunknown', title: 'CNI_ARGS IP=10.22.0.9 without IgnoreUnknown', steps: [add({ args: 'IP=10.22.0.9' })], exits: [0], referenceExits: [1] },
  { id: 'ip-outside-range', title: 'CNI_ARGS IP= outside the range; then DEL', steps: [add({ args: 'IgnoreUnknown=1;IP=10.99.0.9', snap: true }), del()], exits: [1, 0] },
  { id: 'range-start-end', title: 'rangeStart .100, rangeEnd .101: two pods fit, the third does not; then DEL of the third', pods: ['p1', 'p2', 'p3'],
    ipam: { ranges: [[{ subnet: SUBNET, rangeStart: '10.22.0.100', rangeEnd: '10.22.0.101' }]] },
    steps: [add(), add({ pod: 'p2' }), add({ pod: 'p3', snap: true }), del({ pod: 'p3' })], exits: [0, 0, 1, 0] },
  { id: 'exhausted-30', title: 'a /30: one pod fits (the gateway takes .1), the second exhausts it; then DEL of the second', pods: ['p1', 'p2'],
    ipam: { ranges: [[{ subnet: '10.22.0.0/30' }]] }, steps: [add(), add({ pod: 'p2', snap: true }), del({ pod: 'p2' })], exits: [0, 1, 0] },
  { id: 'routes', title: 'IPAM routes (one with a gw) plus isDefaultGateway; CHECK', net: { isDefaultGateway: true },
    ipam: { routes: [{ dst: '10.0.0.0/8' }, { dst: '192.168.5.0/24', gw: '10.22.0.254' }] }, steps: [add(), check(0)], exits: [0, 0], referenceExits: [0, 1] },
  { id: 'two-range-sets', title: 'two IPv4 range sets (isGateway, forceAddress false): two pods', pods: ['p1', 'p2'],
    ipam: { ranges: [[{ subnet: SUBNET }], [{ subnet: '10.23.0.0/24' }]] }, steps: [add(), add({ pod: 'p2' })], exits: [0, 0], referenceExits: [1, 1] },
  { id: 'two-range-sets-force', title: 'two IPv4 range sets with forceAddress true', net: { forceAddress: true },
    ipam: { ranges: [[{ subnet: SUBNET }], [{ subnet: '10.23.0.0/24' }]] }, steps: [add()], exits: [0] },
  { id: 'ipam-alone', title: 'host-local called directly: ADD, CHECK, DEL, CHECK (rangeStart .10, resolvConf)', setup: resolvConf,
    ipam: { ranges: [[{ subnet: SUBNET, rangeStart: '10.22.0.10' }]], routes: [{ dst: '0.0.0.0/0' }], resolvConf: '@world/resolv.conf' },
    steps: [add({ plugin: 'ipam' }), check(0, { plugin: 'ipam' }), del({ plugin: 'ipam' }), check(0, { plugin: 'ipam' })], exits: [0, 0, 0, 1] },

  // Bad environment.
  { id: 'missing-command', title: 'CNI_COMMAND not set', steps: [add({ cmd: undefined })], exits: [1], referenceExits: [0] },
  { id: 'unknown-command', title: 'CNI_COMMAND=FROB', steps: [add({ cmd: 'FROB' })], exits: [1] },
  { id: 'ifname-too-long', title: 'CNI_IFNAME of 16 characters', steps: [add({ ifname: 'eth0123456789abc' })], exits: [1] },
  { id: 'ifname-slash', title: 'CNI_IFNAME with a slash', steps: [add({ ifname: 'eth/0' })], exits: [1] },
  { id: 'bad-containerid', title: 'CNI_CONTAINERID starting with "-"', steps: [add({ cid: '-ctr' })], exits: [1] },
  { id: 'missing-netns', title: 'ADD without CNI_NETNS', steps: [add({ env: () => ({ CNI_NETNS: undefined }) })], exits: [1] },
  { id: 'netns-not-there', title: 'ADD with CNI_NETNS naming no namespace', steps: [add({ env: (w) => ({ CNI_NETNS: w.netnsPath('nope') }) })], exits: [1] },
  { id: 'missing-cni-path', title: 'ADD without CNI_PATH', steps: [add({ env: () => ({ CNI_PATH: undefined }) })], exits: [1] },

  // Bad config.
  { id: 'bad-json', title: 'stdin is not JSON', steps: [add({ stdin: '{"cniVersion": "1.0.0", "name": ' })], exits: [1] },
  { id: 'mtu-string', title: '"mtu": "big"', net: { mtu: 'big' }, steps: [add()], exits: [1] },
  { id: 'isgateway-string', title: '"isGateway": "yes"', net: { isGateway: 'yes' }, steps: [add()], exits: [1] },
  { id: 'ranges-string', title: 'ipam "ranges" a string; then DEL', ipam: { ranges: SUBNET }, steps: [add({ snap: true }), del()], exits: [1, 1] },
  { id: 'bad-version', title: 'cniVersion 9.9.9', version: '9.9.9', steps: [add()], exits: [1] },
  { id: 'missing-name', title: 'config without "name"', net: { name: undefined }, steps: [add()], exits: [1] },

  // Versions.
  { id: 'version-command', title: 'CNI_COMMAND=VERSION', steps: [add({ cmd: 'VERSION' })], exits: [0] },
  { id: 'version-0.3.1', title: 'cniVersion 0.3.1: ADD result converted; CHECK refused; DEL', version: '0.3.1', steps: [add(), check(0), del({ prevResult: 0 })], exits: [0, 1, 0] },
  { id: 'version-0.4.0', title: 'cniVersion 0.4.0: ADD result converted; CHECK; DEL', version: '0.4.0', steps: [add(), check(0), del({ prevResult: 0 })], exits: [0, 0, 0] },
  { id: 'version-1.1.0-add', title: 'cniVersion 1.1.0 ADD (beyond the reference)', version: '1.1.0', steps: [add()], exits: [0], referenceExits: [1] },

  // podnet only: CNI 1.1.0 verbs the reference (spec ≤ 1.0.0) does not have.
  { id: 'gc', title: 'GC (1.1.0) keeps the valid attachment, releases the other', version: '1.1.0', pods: ['p1', 'p2'],
    steps: [add(), add({ pod: 'p2' }), { cmd: 'GC', net: { 'cni.dev/valid-attachments': [{ containerID: 'ctr-p1', ifname: 'eth0' }] } }], exits: [0, 0, 0],
    only: {
      skip: 'the reference plugins 1.1.1 speak CNI up to 1.0.0; GC is a 1.1.0 verb (they answer code 1)',
      expect: (r) => {
        const ips = r.ipamFiles.filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
        if (ips.join() !== '10.22.0.2') throw new Error(`GC should keep only 10.22.0.2 (ctr-p1), kept [${ips.join(', ')}]`);
      },
    } },
  { id: 'status', title: 'STATUS (1.1.0): ready, then code 50 when the data dir is unusable', version: '1.1.0',
    steps: [{ cmd: 'STATUS' }, { cmd: 'STATUS', ipam: { dataDir: '/proc/version' } }], exits: [0, 1],
    only: {
      skip: 'the reference plugins 1.1.1 speak CNI up to 1.0.0; STATUS is a 1.1.0 verb (they answer code 1)',
      expect: (r) => {
        const code = r.steps[1].json?.code;
        if (code !== 50) throw new Error(`STATUS on an unusable data dir should be code 50, got ${String(code)}: ${r.steps[1].msg}`);
      },
    } },
];

/** A difference between podnet and the reference that is known and has a reason. */
export interface KnownDifference {
  /** Short name (docs/cni-conformance.md uses it). */
  id: string;
  /** The cases it explains ('*': any case). */
  cases: readonly string[] | '*';
  /** The fields it explains (matched against `s1.ADD.code`, `kernel.H.links.cni0.mtu`, …). */
  field: RegExp;
  /** podnet's value and the reference's, in words. */
  podnet: string;
  reference: string;
  reason: string;
}

/** The cases whose ADD fails after the reference has created things (the veth, or only cni0). */
const FAILED_ADDS = ['no-force-address', 'range-start-end', 'exhausted-30', 'ip-outside-range', 'ranges-string'];

/** Every difference the suite accepts. Anything else fails the case; an entry that no longer occurs fails too.
 * docs/cni-conformance.md shows this table. */
export const KNOWN_DIFFERENCES: KnownDifference[] = [
  { id: 'ipam-file-modes', cases: '*', field: /(^|\.)ipam\.(mode|files\..+\.mode)$/,
    podnet: 'data dir 0700, files (IPs, last_reserved_ip.N, lock) 0600', reference: 'dir 0755, files 0644, lock 0750',
    reason: 'Upstream host-local creates its files 0600 since 2023 (commit 33ccedc6, CIS Kubernetes benchmark 1.1.9); Debian\'s 1.1.1 predates that. podnet keeps the directory 0700 too: it says which container holds which address. Names and contents are equal.' },
  { id: 'veth-txqlen', cases: '*', field: /\.links\.(<veth\d+>|eth0)\.txqlen$/,
    podnet: 'txqlen 1000 on both veth ends (the kernel default)', reference: 'txqlen 0 (ip -json prints no txqlen)',
    reason: 'The netlink library of 1.1.1 sends IFLA_TXQLEN 0 for veths (a zero-valued LinkAttrs, the very bug its ensureBridge comments on for bridges); upstream now uses NewLinkAttrs (kernel default), as podnet does. With the default noqueue qdisc nothing changes; a qdisc sized from txqlen (bandwidth shaping) would get 0.' },
  { id: 'empty-dns', cases: '*', field: /\.result\.dns$/,
    podnet: 'no "dns" key when there is no DNS', reference: '"dns": {}',
    reason: 'Go\'s encoding/json cannot omit an empty struct; the spec marks dns optional and runtimes read both as "no DNS". A non-empty dns is equal (case dns).' },
  { id: 'typed-error-codes',
    cases: ['check-without-prevresult', 'hairpin-and-promisc', 'bad-mac', 'ip-outside-range', 'mtu-string', 'isgateway-string', 'ranges-string', 'netns-not-there', 'ipam-alone'],
    field: /^s\d+\.[A-Z]+\.code$/,
    podnet: 'the spec\'s code: 7 invalid config, 5 I/O (netns), 3 unknown container (host-local CHECK)', reference: '999',
    reason: 'The reference skel wraps every untyped plugin error as 999; the spec has codes for these (SPEC.md "Error"). Exit codes are equal.' },
  { id: 'failed-add-undone', cases: FAILED_ADDS, field: /^after\.s\d+\.(ns|ipam)\./,
    podnet: 'right after the failed ADD: no veth, no eth0, nothing reserved', reference: 'the veth pair stays (in no-force-address also eth0 with its address and routes) until the runtime\'s DEL',
    reason: 'Deliberate (docs/cni.md): a failed ADD undoes itself. The runtime\'s DEL (the next step of each case) brings both to the same state, which the suite checks.' },
  { id: 'refused-add-leaves-cni0', cases: ['no-force-address'], field: /^kernel\.ns\.H\.links\.cni0\.(accept_ra|flags|mac)$/,
    podnet: 'cni0 as it was: accept_ra 1, carrier on (no port ever joined), its own MAC', reference: 'accept_ra 0, no carrier, MAC 00:00:00:00:00:00',
    reason: 'podnet refuses before it touches cni0. The reference has already set accept_ra=0 and attached a veth; after DEL the bridge has no port, and a bridge whose MAC is not pinned takes the lowest port MAC — with none, 00:00:00:00:00:00 (the kernel\'s br_stp_recalculate_bridge_id), which is why the plugins pin it.' },
  { id: 'checks-before-changes', cases: ['ip-outside-range', 'bad-mac', 'ranges-string', 'netns-not-there'],
    field: /^(after\.s\d+|kernel)\.(ns\.[^.]+\.|ipam\.(exists|files\.(last_reserved_ip\.0|lock)\.content)$)/,
    podnet: 'nothing on the host: cni0 is not made, host-local reserves nothing', reference: 'cni0 is made first and stays (DEL never removes it); ip-outside-range: host-local reserves .2, fails, releases it (last_reserved_ip.0 = .2)',
    reason: 'Deliberate: podnet reads the whole request (config, MAC, CNI_NETNS, requested IP) before it touches the host; the reference makes the bridge before it opens the netns or runs IPAM.' },
  { id: 'ipam-before-veth', cases: ['eth0-exists'], field: /^(after\.s1|kernel)\.(ns\.H\.|ipam\.)/,
    podnet: 'cni0 holds 10.22.0.1/24 (MAC pinned), ip_forward=1, last_reserved_ip.0 = .2 (reserved, then released)', reference: 'cni0 bare, ip_forward=0, no IPAM directory',
    reason: 'Deliberate (docs/cni.md): IPAM runs before the veth and the host side is one batch (bridge, gateway, veth), so when the veth cannot be made the gateway is already on cni0 and an address was reserved and released. The next ADD would put the same gateway there; round robin moves on by one.' },
  { id: 'missing-command', cases: ['missing-command'], field: /^s1\.\(unset\)\.(exit|code)$/,
    podnet: 'exit 1, code 4 "required env variables [CNI_COMMAND] missing"', reference: 'exit 0, prints "CNI bridge plugin version unknown" on stderr',
    reason: 'The reference skel treats a missing CNI_COMMAND as a human asking "what are you" (its `about` text); the spec lists CNI_COMMAND as required, so podnet answers like for any missing variable.' },
  { id: 'version-list', cases: ['version-command'], field: /^s1\.VERSION\.result\.(cniVersion|supportedVersions)$/,
    podnet: '1.1.0; 0.3.0 … 1.1.0', reference: '1.0.0; 0.1.0 … 1.0.0',
    reason: 'podnet speaks CNI 1.1.0 (GC, STATUS) and not the pre-0.3.0 results.' },
  { id: 'cni-1.1.0', cases: ['version-1.1.0-add'], field: /^(s1\.|kernel\.)/,
    podnet: 'ADD succeeds, result in 1.1.0', reference: 'code 1 "incompatible CNI versions", nothing made',
    reason: 'The reference 1.1.1 speaks CNI up to 1.0.0.' },
  { id: 'args-known-keys', cases: ['args-without-ignoreunknown'], field: /^(s1\.|kernel\.)/,
    podnet: 'ADD succeeds with 10.22.0.9', reference: 'code 999 \'ARGS: unknown args ["IP=10.22.0.9"]\'',
    reason: 'podnet\'s bridge knows the CNI_ARGS keys its IPAM plugin and Kubernetes use (IP, MAC, K8S_POD_*); the reference bridge knows only MAC and refuses the rest unless IgnoreUnknown=1, which every runtime sends.' },
  { id: 'reference-check-routes', cases: ['k3s-delegate', 'routes'], field: /^s2\.CHECK\.(exit|code)$/,
    podnet: 'CHECK passes', reference: 'CHECK fails: "Expected Route {Dst:10.42.0.0/16 GW:<nil>} not found in routing table"',
    reason: 'A reference bug: ADD installs a route without "gw" via the gateway, CHECK then looks for it without one (RT_FILTER_GW with a nil gateway). podnet checks such a route by destination. (containerd does not call CHECK, so K3s never sees this.)' },
  { id: 'two-ipv4-gateways', cases: ['two-range-sets', 'two-range-sets-force'], field: /^(s\d+\.ADD\.|kernel\.)/,
    podnet: 'both gateways (10.22.0.1/24, 10.23.0.1/24) on cni0; every ADD succeeds', reference: 'without forceAddress: every ADD fails "already has an IP address different from 10.23.0.1/24" (veth left); with it: 10.22.0.1 is removed, only 10.23.0.1 stays',
    reason: 'A reference limitation: ensureAddr treats the first IPv4 gateway as "a different address". podnet does not count the gateways of the same ADD as different.' },
  { id: 'del-masq-netns-gone', cases: ['del-netns-gone'], field: /^kernel\.ns\.H\.iptables\.nat$/,
    podnet: 'the CNI-… chain and its POSTROUTING jump are removed', reference: 'they stay (leak)',
    reason: 'Deliberate (docs/cni.md): the reference only tears down masquerading for addresses it finds on the interface, which is gone with the namespace.' },
];
