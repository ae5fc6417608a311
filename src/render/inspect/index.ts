// `podnet inspect` and `podnet graph`: the views of a Snapshot (plain rows for table, JSON and
// YAML) and the topology renderers. One import for the CLI.
export { findNamespace, type OwnerRef } from './common.js';
export { inspectPods, podColumns, podWideColumns, type InspectPodRow } from './pods.js';
export { inspectFdb, fdbColumns, fdbWideColumns, type FdbViewRow } from './fdb.js';
export { inspectNeigh, neighColumns, type NeighViewRow } from './neigh.js';
export { inspectRoutes, routeColumns, routeWideColumns, type RouteViewRow } from './routes.js';
export { inspectLinks, linkColumns, type LinkViewRow } from './links.js';
export { inspectOverlay, overlayColumns, overlayWideColumns, type OverlayViewRow } from './overlay.js';
export {
  graphModel, type GraphModel, type GraphInterface, type GraphBridge, type GraphVxlan, type GraphRemote, type GraphVeth, type GraphPod, type GraphPodIface,
} from './graph.js';
export { renderGraphMermaid } from './mermaid.js';
export { renderGraphDot } from './dot.js';
export { renderGraphSvg } from './svg.js';
