// The JSON documents of `podnet ui`'s HTTP API (docs/ui.md), as types shared by the server
// (src/web) and the front end (web/src). Pure types: every value in them is drawn from a live
// snapshot or trace by the server; the front end only lays them out and draws them.
import type { GraphModel } from '../views/graph.js';
import type { GraphService } from '../views/graph-services.js';
import type { DecodedFrame } from '../model/packet.js';
import type { Direction, PointRole, TraceAsk } from '../model/trace.js';
import type { DoctorReport, Finding } from '../model/doctor/types.js';

/** What the UI looks at: a lab (by name), or the machine podnet runs on (`--host`). */
export type UiSource =
  | { kind: 'lab'; lab: string; status: 'up' | 'absent' | 'creating' | 'deleting' }
  | { kind: 'host'; name: string };

/** How two drawn elements are connected, and why (every edge is read from the snapshot). */
export type EdgeKind =
  /** underlay switch → one of its ports (the port is enslaved to the switch's bridge). */
  | 'switch-port'
  /** underlay port → a node's interface: the two ends of one veth pair. */
  | 'underlay'
  /** node interface → bridge: the interface the node's default route leaves by (`podnet graph`'s uplink). */
  | 'uplink'
  /** node interface → VXLAN device: the interface holding the device's `local` address. */
  | 'vxlan-underlay'
  /** bridge → VXLAN device: the node routes pod subnets through the device (`ip route … dev flannel.1`). */
  | 'routed'
  /** VXLAN device → a remote node it sends to that is not drawn as a node (flannel's route, neighbour, FDB entry). */
  | 'vxlan-remote'
  /** bridge → host veth: the veth is a port of the bridge (`master cni0`). */
  | 'bridge-port'
  /** host veth → pod interface: the two ends of one veth pair. */
  | 'veth-pair'
  /** Service → an endpoint's pod interface (kube-proxy DNATs the ClusterIP to it). */
  | 'service-endpoint';

/** A drawn connection between two element ids. */
export interface TopologyEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
}

/** One node: its namespace and `podnet graph -o json` of it (its `remotes` only those not drawn as
 * nodes here). Element ids are the graph's ids. */
export interface TopologyNode {
  /** `node:<name>`. */
  id: string;
  name: string;
  /** The node namespace's id (`ino:<inode>`). */
  netnsId: string;
  /** Its pinned name (or path). */
  netns: string;
  graph: GraphModel;
}

/** The lab's underlay switch: its bridge and one port per node. */
export interface TopologyUnderlay {
  /** `underlay`. */
  id: string;
  netnsId: string;
  netns: string;
  /** The switch's bridge (sw0) and its addresses. */
  bridge: { id: string; name: string; ips: string[] };
  /** One veth per node, enslaved to the bridge; `peer` names the node end (`server:eth0`). */
  ports: { id: string; name: string; label: string; peer: string }[];
}

/** What a drawn box is: an element, or a node's group. */
export type BoxKind = ElementKind | 'group';

/** A box of the drawing: an element (or a node's group), its text lines, in page coordinates. A port
 * (a node's uplink interface, a pod's eth0, an underlay port) sits on the border of `owner`'s box. */
export interface Box {
  id: string;
  kind: BoxKind;
  lines: string[];
  x: number;
  y: number;
  w: number;
  h: number;
  owner?: string;
}

/** An edge as drawn: its polyline in page coordinates. */
export interface Wire {
  id: string;
  kind: EdgeKind;
  source: string;
  target: string;
  points: { x: number; y: number }[];
}

/** The topology laid out by ELK on the server: what the page draws, as it is. */
export interface Drawing {
  width: number;
  height: number;
  boxes: Box[];
  wires: Wire[];
}

/** `GET /api/topology` and every `topology` event of `GET /api/events`. */
export interface TopologyDoc {
  /** Increases by one whenever the drawn topology changes. */
  version: number;
  /** When the snapshot it was drawn from was taken. */
  takenAt: string;
  source: UiSource;
  /** True unless the server was started with `--allow-changes` on a lab. */
  readOnly: boolean;
  underlay?: TopologyUnderlay;
  nodes: TopologyNode[];
  edges: TopologyEdge[];
  /** A lab's Services (name, ClusterIP:port, type, NodePorts) with an edge to each endpoint. */
  services?: GraphService[];
  /** The same, laid out. */
  drawing: Drawing;
}

/** One table of an element's details, exactly as a `podnet inspect` view shows it. */
export interface DetailSection {
  /** `Links`, `Routes`, `Neighbours`, `FDB`, `Pod`. */
  title: string;
  /** The command that shows the same table (`podnet inspect fdb -o wide`). */
  command: string;
  /** The JSON list kind of that view (`FdbList`, …). */
  kind: string;
  /** The view's column headers and cells, as the table prints them. */
  columns: string[];
  rows: string[][];
  /** The view's rows as `-o json` prints them. */
  items: unknown[];
}

/** `GET /api/element/:id`. */
export interface ElementDetails {
  id: string;
  kind: ElementKind;
  title: string;
  /** Who owns the namespace it lives in (node or pod name). */
  owner: string;
  netnsId: string;
  takenAt: string;
  sections: DetailSection[];
}

/** What an element id stands for. */
export type ElementKind = 'node' | 'interface' | 'bridge' | 'vxlan' | 'remote' | 'veth' | 'pod' | 'pod-iface' | 'underlay' | 'underlay-bridge' | 'underlay-port' | 'service';

/** `POST /api/trace` body: what a trace is asked for, as the CLI's arguments say it. */
export type TraceBody = TraceAsk;

/** A decoded frame as JSON (the decoder's layers; VXLAN's inner frame nested). */
export type FrameLayers = DecodedFrame;

/** One hop of the journey, in time order. */
export interface JourneyEvent {
  /** 0-based position in time order. */
  index: number;
  /** Index into `packets`. */
  packet: number;
  /** Time since the first frame of the trace, ms (3 decimals) and ns. */
  sinceStartMs: number;
  sinceStartNs: number;
  /** The capture point (`pod1/eth0`, `server/cni0`). */
  point: string;
  role: PointRole;
  /** The drawn element the point is ('' when it is not drawn). */
  element: string;
  direction: Direction;
  /** A frame seen again at a point it passed (hairpin). */
  reflected: boolean;
  /** `ICMP echo request`, `ARP who-has 10.42.0.3`, … */
  label: string;
  /** tcpdump-like one line. */
  summary: string;
  /** The kernel's reason for this hop. */
  explanation: string;
  srcMac: string;
  dstMac: string;
  ttl?: number;
  /** The packet's addresses here, when NAT rewrote them on the way (`10.42.0.2:39738 > 10.42.1.2:8080`). */
  addrs?: string;
  /** Set on the first hop after a rewrite (DNAT to an endpoint, SNAT, the reply un-NATed): the
   * addresses at the previous hop and here. */
  nat?: { before: string; after: string };
  /** The frame as captured at this point, decoded layer by layer; absent when it could not be matched. */
  layers?: FrameLayers;
}

/** `POST /api/trace` answer, and `GET /api/trace/:id`. */
export interface Journey {
  id: string;
  /** `trace pod1 (10.42.0.2) -> pod2 (10.42.0.3), icmp, warm, 5 capture points`. */
  header: string;
  answered: boolean;
  verdict: string;
  /** Why it failed, from the trace's evidence (`dropped at agent1/eth0 → kernel: …`). */
  cause?: string;
  /** Where the packet died and the kernel's reason, when the trace caught the drop. */
  drop?: { point: string; element: string; reason: string; location: string; meaning: string };
  points: { id: string; owner: string; iface: string; role: PointRole; position: number; element: string }[];
  packets: { key: string; kind: string; direction: Direction; label: string; summary: string; flow?: string }[];
  events: JourneyEvent[];
  /** Where the pcapng is: `/api/trace/<id>/pcapng`. */
  pcapng: string;
  /** The same document as `podnet trace -o json`. */
  trace: object;
  warnings: string[];
}

/** `POST /api/pods` body. */
export interface PodBody {
  name: string;
  node?: string;
}

/** `POST /api/nodes` body. */
export interface NodeBody {
  name: string;
}

/** Every error: `{ "error": "<one line>" }` with a 4xx (5xx only for a failure of the machine). */
export interface ApiError {
  error: string;
}

/** `GET /api/doctor`: `podnet doctor -o json`'s report, each finding with the drawn element ids it concerns. */
export interface DoctorDoc extends Omit<DoctorReport, 'findings'> {
  findings: (Finding & { elements: string[] })[];
}

/** `GET /api/reach?pod=NAME&direction=egress|ingress`: where a lab's pod may open connections to
 * (egress), or who may open them to it (ingress), under its NetworkPolicies — each far pod with the
 * verdict per port, and the drawn elements to highlight. */
export interface ReachDoc {
  pod: string;
  namespace: string;
  direction: 'egress' | 'ingress';
  /** The policies selecting the pod for that direction (none: it is not isolated in it). */
  policies: string[];
  /** The pod's own drawn element. */
  element: string;
  targets: { pod: string; namespace: string; node: string; element: string; allowed: boolean; ports: { label: string; allowed: boolean; sentence: string }[] }[];
  /** Services by their endpoints: allowed when the pod may reach (be reached by) an endpoint on its port. */
  services: { id: string; name: string; allowed: boolean }[];
  /** Drawn element ids: allowed, denied. */
  allowed: string[];
  denied: string[];
}

/** `GET /api/tour`: the chapters of `podnet tour` with the learner's progress (the terminal's file). */
export interface TourDoc {
  /** The lab the page shows: the tour runs its chapters there. */
  lab: string;
  /** Steps run only with `podnet ui --allow-changes` (a step runs a command; a chapter may remake the lab). */
  canRun: boolean;
  chapters: { number: number; title: string; steps: number; nodes: number; status: string }[];
}

/** `POST /api/tour/step` `{chapter, step}`: one step run on the lab — what the terminal prints for it. */
export interface TourStepDoc {
  chapter: number;
  title: string;
  /** 0-based; `total` steps in the chapter. */
  index: number;
  total: number;
  stepTitle: string;
  explain: string;
  /** The command as the learner would type it, and what it printed with the parts that matter. */
  command?: string;
  output?: string;
  status?: number;
  highlights: { start: number; end: number }[];
  /** Drawn elements the step is about (outlined on the topology). */
  elements: string[];
  question?: { ask: string; predict: boolean; choices: string[]; byElement: boolean };
  /** Set when the lab had to be made (again) for the chapter. */
  labNote?: string;
  /** The chapter's summary, with the last step. */
  summary?: string[];
  /** A `podnet trace` step: the same trace as a body for POST /api/trace, to play on the drawing. */
  journey?: { src: string; dst: string; protocol: 'icmp' | 'tcp' | 'udp'; port?: number; cold?: boolean };
}

/** `POST /api/tour/answer` `{chapter, step, answer}` or `{chapter, step, element}`: checked against the kernel now. */
export interface TourAnswerDoc {
  right: boolean;
  /** After a wrong answer. */
  hint?: string;
  /** After a right answer, or when the learner gives up (`answer: ""`): the kernel's answer and its evidence. */
  answer?: string;
  evidence?: string;
  /** What the clicked element was read as. */
  given: string;
}
