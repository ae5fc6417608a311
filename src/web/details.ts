// What the details panel shows for a clicked element: the rows of the `podnet inspect` views
// (links, routes, neighbours, FDB, pods) that concern it, with the same columns the CLI prints.
// Pure: the element's re-hosted snapshot in, tables out.
import type { Column } from '../render/table.js';
import { fdbWideColumns, linkColumns, neighColumns, podColumns, routeWideColumns } from '../render/inspect/index.js';
import { inspectFdb, inspectLinks, inspectNeigh, inspectPods, inspectRoutes } from '../views/index.js';
import { labFlag } from '../lab/names.js';
import type { Target } from '../lab/target.js';
import type { DetailSection, ElementDetails } from './api.js';
import type { ElementRef } from './topology.js';

/** A table as the CLI would print it, with the command that prints it. */
function section<T>(title: string, command: string, kind: string, items: T[], columns: readonly Column<T>[]): DetailSection {
  return { title, command, kind, columns: columns.map((c) => c.header), rows: items.map((r) => columns.map((c) => String(c.cell(r)))), items };
}

/** The CLI arguments that show what `ref` is seen from: `server --name lab`, `--host`, `--netns …` for the underlay. */
function viewArgs(ref: ElementRef, t: Target): { node: string; flags: string } {
  if (t.kind === 'host') return { node: '', flags: '--host' };
  if (t.kind === 'netns') return { node: '', flags: `--netns ${t.label}` };
  const name = labFlag(t.lab).trim();
  if (ref.kind.startsWith('underlay')) {
    const ns = ref.view.namespaces.find((n) => n.id === ref.view.host);
    return { node: '', flags: `--netns ${ns?.names[0] ?? ns?.path ?? ''}` };
  }
  const host = ref.view.namespaces.find((n) => n.id === ref.view.host);
  return { node: host?.identity.name ?? '', flags: name };
}

/** The details of one element; `t` names the viewpoint in the commands shown beside each table. */
export function elementDetails(ref: ElementRef, t: Target): ElementDetails {
  const s = ref.view;
  const ns = ref.netnsId;
  const link = ref.link;
  const onDev = <T extends { dev: string }>(rows: T[]) => (link === undefined ? rows : rows.filter((r) => r.dev === link));
  const links = inspectLinks(s).filter((r) => r.netnsId === ns && (link === undefined || r.name === link));
  const routes = onDev(inspectRoutes(s, ns));
  const neigh = onDev(inspectNeigh(s).filter((r) => r.netnsId === ns));
  const fdb = inspectFdb(s);
  const pods = inspectPods(s);
  const { node, flags } = viewArgs(ref, t);
  const words = (...w: string[]) => w.filter(Boolean).join(' ');
  const cmd = (view: string, extra = '') => words('podnet inspect', view, node, flags, extra);

  const sections: DetailSection[] = [];
  const linksS = () => section('Links', cmd('links'), 'LinkList', links, linkColumns);
  const routesS = () => section('Routes', words('podnet inspect routes', ref.kind.startsWith('underlay') ? '' : ref.owner, flags, '-o wide'), 'RouteList', routes, routeWideColumns);
  const neighS = () => section('Neighbours', cmd('neigh'), 'NeighList', neigh, neighColumns);
  const fdbS = (rows: typeof fdb) => section('FDB', cmd('fdb', '-o wide'), 'FdbList', rows, fdbWideColumns);
  const podS = (rows: typeof pods) => section('Pod', cmd(''), 'InspectPodList', rows, podColumns);

  switch (ref.kind) {
    case 'node':
    case 'underlay':
      sections.push(linksS(), routesS(), neighS(), fdbS(fdb));
      if (ref.kind === 'node') sections.push(podS(pods));
      break;
    case 'interface':
      sections.push(linksS(), routesS(), neighS());
      break;
    case 'bridge':
    case 'underlay-bridge':
      sections.push(linksS(), routesS(), neighS(), fdbS(fdb.filter((r) => r.bridge === link)));
      break;
    case 'vxlan':
      sections.push(linksS(), routesS(), neighS(), fdbS(fdb.filter((r) => r.port === link)));
      break;
    case 'remote': {
      // What the VXLAN device's entries say of that node: its subnet's route, its VTEP's neighbour and FDB entry.
      const r = ref.remote ?? { ip: '', vtepMac: '', subnet: '' };
      sections.push(
        section('Routes', words('podnet inspect routes', ref.owner, flags, '-o wide'), 'RouteList', routes.filter((x) => x.dst === r.subnet), routeWideColumns),
        section('Neighbours', cmd('neigh'), 'NeighList', neigh.filter((x) => x.mac === r.vtepMac), neighColumns),
        fdbS(fdb.filter((x) => x.port === link && (x.dst === r.ip || x.mac === r.vtepMac))),
      );
      break;
    }
    case 'veth':
    case 'underlay-port':
      sections.push(linksS(), fdbS(fdb.filter((r) => r.port === link)));
      if (ref.kind === 'veth') sections.push(podS(pods.filter((p) => p.hostVeth.split('@')[0] === link)));
      break;
    case 'service': {
      const svc = ref.service;
      const rows = (svc?.edges ?? []).map((e) => ({ ...e, ready: e.ready ? 'yes' : 'no' }));
      const columns = (['port', 'endpoint', 'pod', 'node', 'ready'] as const).map((k) => ({ header: k.toUpperCase(), cell: (r: (typeof rows)[number]) => r[k] }));
      sections.push(section('Endpoints', `podnet get endpoints -n ${svc?.namespace ?? 'default'}`, 'EndpointList', rows, columns));
      break;
    }
    case 'pod':
    case 'pod-iface':
      sections.push(linksS(), routesS(), neighS(), podS(pods.filter((p) => p.netnsId === ns && (link === undefined || p.iface.split('@')[0] === link))));
      break;
  }
  return { id: ref.id, kind: ref.kind, title: ref.title, owner: ref.owner, netnsId: ns, takenAt: s.takenAt, sections };
}
