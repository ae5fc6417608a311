// Defaults of the system podnet reproduces (K3s with flannel's VXLAN backend), as plain constants
// with no dependencies, so the CLI's flag definitions can show them without loading anything.

/** flannel's subnet lease TTL, seconds: 24 hours (an agent renews it before it runs out). */
export const FLANNEL_LEASE_TTL_S = 24 * 3600;

/** What flannel's VXLAN adds to each packet (outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8): its device's
 * MTU, and the pods', is the underlay's minus this. */
export const VXLAN_OVERHEAD = 50;

/** The MTU of a lab's underlay links (veths on its switch; the kernel's default). */
export const LAB_UNDERLAY_MTU = 1500;
