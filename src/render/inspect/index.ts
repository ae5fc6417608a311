// `podnet inspect` and `podnet graph` as text: the columns of each view of src/views, and the
// topology renderers. One import for the CLI.
export { podColumns, podWideColumns } from './pods.js';
export { fdbColumns, fdbWideColumns } from './fdb.js';
export { neighColumns } from './neigh.js';
export { routeColumns, routeWideColumns } from './routes.js';
export { linkColumns } from './links.js';
export { overlayColumns, overlayWideColumns } from './overlay.js';
export { renderGraphMermaid } from './mermaid.js';
export { renderGraphDot } from './dot.js';
export { renderGraphSvg } from './svg.js';
