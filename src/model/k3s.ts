// Defaults of the system podnet reproduces (K3s with flannel's VXLAN backend), as plain constants
// with no dependencies, so the CLI's flag definitions can show them without loading anything.

/** flannel's subnet lease TTL, seconds: 24 hours (an agent renews it before it runs out). */
export const FLANNEL_LEASE_TTL_S = 24 * 3600;
