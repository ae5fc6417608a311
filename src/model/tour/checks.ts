// The questions a chapter can ask, by kind: each is answered from the live kernel by an evaluator in
// src/cli/tour (this file is only their names and parameters, so a chapter file can be checked
// without a lab). A kind not listed here, or one missing a parameter, is a chapter that cannot be
// evaluated and is refused when the chapter is loaded.

/** A check's parameters by name; `pod`/`node`/`peer` name lab objects, `dst`/`ip`/`name` are values. */
export type CheckParam = 'pod' | 'node' | 'peer' | 'in' | 'dst' | 'ip' | 'entry' | 'service' | 'name';

/** One kind of question: the parameters it needs and what it asks the kernel. */
export interface CheckKind {
  required: readonly CheckParam[];
  optional?: readonly CheckParam[];
  /** What the kernel is asked (docs/tour.md lists these). */
  reads: string;
}

/** Every kind of check a chapter may use. */
export const CHECK_KINDS = {
  'host-veth': { required: ['pod'], reads: 'the host end of the pod\'s eth0 veth pair (ip -j link, both namespaces)' },
  'veth-index': { required: ['pod'], reads: 'the ifindex of the pod\'s host veth: the N of eth0@ifN' },
  'pod-ifindex': { required: ['pod'], reads: 'the ifindex of eth0 inside the pod: the N of vethXXXX@ifN' },
  'master': { required: ['pod'], reads: 'the bridge the pod\'s host veth is a port of (ip -j link: master)' },
  'port-count': { required: ['node'], reads: 'how many ports cni0 has on the node (ip -j link show master cni0)' },
  'mac': { required: ['pod'], reads: 'the MAC of eth0 in the pod' },
  'ip': { required: ['pod'], reads: 'the IPv4 address of eth0 in the pod' },
  'fdb-port': { required: ['pod'], reads: 'the cni0 port where the bridge learned the pod\'s MAC (bridge -j fdb)' },
  'fdb-kind': { required: ['pod', 'entry'], reads: 'the kind (learned, permanent, self) of an FDB entry: entry pod = the pod\'s MAC, veth = its host veth\'s own MAC, bridge = cni0\'s own MAC' },
  'gateway': { required: ['pod'], reads: 'the gateway of the pod\'s default route (ip -j route)' },
  'route-dev': { required: ['in', 'dst'], reads: 'the device the kernel sends to dst through, from inside a pod or node (ip -j route get)' },
  'route-via': { required: ['in', 'dst'], reads: 'the next hop the kernel chooses for dst, inside a pod or node (ip -j route get)' },
  'neigh-mac': { required: ['in', 'ip'], reads: 'the MAC the neighbour table of a pod or node holds for ip (ip -j neigh)' },
  'vtep-mac': { required: ['node'], reads: 'the MAC of the node\'s flannel.1' },
  'vxlan-dst': { required: ['node', 'peer'], reads: 'where flannel.1 on node sends frames for peer\'s VTEP MAC: the FDB entry\'s dst (bridge -j fdb show dev flannel.1)' },
  'vxlan-port': { required: ['node'], reads: 'the UDP port of flannel.1 (ip -d -j link)' },
  'vni': { required: ['node'], reads: 'the VXLAN network identifier of flannel.1' },
  'service-endpoints': { required: ['node', 'service'], reads: 'the endpoints kube-proxy\'s DNAT rules send a Service to on a node (iptables-save -t nat: KUBE-SEP … DNAT --to-destination)' },
  'dns-answer': { required: ['pod', 'name'], reads: 'the address a name resolves to from inside a pod (nslookup through the pod\'s resolv.conf)' },
} as const satisfies Record<string, CheckKind>;

/** The name of a check kind. */
export type CheckKindName = keyof typeof CHECK_KINDS;

/** True when `k` names a check kind. */
export const isCheckKind = (k: string): k is CheckKindName => Object.hasOwn(CHECK_KINDS, k);
