// The views of a snapshot: plain rows and models, built from what the kernel reported (never from a
// plan), for tables, JSON/YAML, diagrams and the UI alike. Pure.
export { findNamespace, type OwnerRef } from './common.js';
export { inspectPods, type InspectPodRow } from './pods.js';
export { inspectFdb, type FdbViewRow } from './fdb.js';
export { inspectNeigh, type NeighViewRow } from './neigh.js';
export { inspectRoutes, type RouteViewRow } from './routes.js';
export { inspectLinks, type LinkViewRow } from './links.js';
export { inspectOverlay, type OverlayViewRow } from './overlay.js';
export {
  graphModel, type GraphModel, type GraphInterface, type GraphBridge, type GraphVxlan, type GraphRemote, type GraphVeth, type GraphPod, type GraphPodIface,
} from './graph.js';
