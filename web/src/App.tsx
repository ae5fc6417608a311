// The page: a header saying what is shown, the live topology, and a side panel with the details of
// the clicked element, the journey of a packet, and (when allowed) the lab controls. A journey never
// takes the selection away: on the Journey tab the selected element's details stay in view under the
// journey, its mark stays on the drawing beside the journey's own, and they are read again after a trace.
import { useCallback, useMemo, useState } from 'react';
import type { TopologyDoc } from '../../src/web/api';
import { useTopology } from './client';
import { Details } from './Details';
import { Doctor } from './Doctor';
import { Reach } from './Reach';
import { Tour } from './Tour';
import { Journey } from './Journey';
import { LabControls } from './LabControls';
import type { Motion } from './PacketDot';
import { Topology, type Reach as ReachHighlight } from './Topology';

type Tab = 'details' | 'journey' | 'lab' | 'doctor' | 'tour';

function title(doc: TopologyDoc): string {
  if (doc.source.kind === 'host') return `host ${doc.source.name}`;
  const pods = doc.nodes.reduce((n, x) => n + x.graph.pods.length, 0);
  const state = doc.source.status === 'up' ? '' : ` (${doc.source.status === 'absent' ? 'not up' : doc.source.status})`;
  return `lab ${doc.source.lab}${state}: ${doc.nodes.length} node${doc.nodes.length === 1 ? '' : 's'}, ${pods} pod${pods === 1 ? '' : 's'}`;
}

export function App() {
  const { doc, connected } = useTopology();
  const drawing = doc?.drawing;
  const [selected, setSelected] = useState('');
  const [tab, setTab] = useState<Tab>('details');
  const [motion, setMotion] = useState<Motion>();
  const [flagged, setFlagged] = useState<string[]>([]);
  const [reach, setReach] = useState<ReachHighlight>();
  const [about, setAbout] = useState<string[]>([]);
  /** Every click on the drawing, counted: the Tour takes a click as an answer, even on the element already selected. */
  const [pick, setPick] = useState({ id: '', n: 0 });
  /** A trace a tour step asked the Journey tab to play. */
  const [play, setPlay] = useState<{ src: string; dst: string; protocol: 'icmp' | 'tcp' | 'udp'; port?: number; cold?: boolean; n: number }>();
  const playTrace = useCallback((req: Omit<NonNullable<typeof play>, 'n'>) => { setPlay((p) => ({ ...req, n: (p?.n ?? 0) + 1 })); setTab('journey'); }, []);
  /** The lab pod the selection is (or is an interface of): the Reach control is about it. */
  const selectedPod = useMemo(() => (doc?.source.kind !== 'lab' ? undefined
    : doc.nodes.flatMap((n) => n.graph.pods).find((p) => p.kind === 'pod' && (p.id === selected || p.ifaces.some((i) => i.id === selected)))?.name), [doc, selected]);
  const pods = useMemo(() => doc?.nodes.flatMap((n) => n.graph.pods.filter((p) => p.kind === 'pod').map((p) => p.name)) ?? [], [doc]);
  const canChange = doc !== undefined && !doc.readOnly && doc.source.kind === 'lab';
  /** Traces run so far: the selection's details are read again after each (a trace can change the FDB). */
  const [traces, setTraces] = useState(0);
  const traced = useCallback(() => setTraces((n) => n + 1), []);
  // A click on the drawing shows the element's details; during a journey they open under it.
  const select = useCallback((id: string) => {
    setSelected(id);
    setPick((p) => ({ id, n: p.n + 1 }));
    if (id) setTab((t) => (t === 'journey' || t === 'tour' ? t : 'details'));
  }, []);
  const detailsPanel = tab === 'details' ? 'panel' : tab === 'journey' && selected ? 'panel split' : 'panel hidden';
  return (
    <div className="app">
      <header>
        <h1>podnet</h1>
        <span className="what" data-testid="title">{doc ? title(doc) : 'connecting…'}</span>
        <span className={connected ? 'live on' : 'live off'} title="the topology follows the kernel while this page is open">{connected ? '● live' : '○ reconnecting'}</span>
        {doc && <span className="mode">{canChange ? 'changes allowed' : 'read-only'}</span>}
      </header>
      <main>
        <section className="stage">
          {doc?.source.kind === 'lab' && doc.source.status === 'absent' && <p className="hint">Lab {doc.source.lab} is not up: run <code>podnet lab up --name {doc.source.lab}</code>; it will appear here.</p>}
          {drawing ? <Topology drawing={drawing} selected={selected} current={motion?.to} motion={motion} flagged={tab === 'doctor' ? flagged : undefined} reach={tab === 'details' && selectedPod ? reach : undefined} about={tab === 'tour' ? about : undefined} onSelect={select} /> : <p className="hint">reading the kernel…</p>}
        </section>
        <aside>
          <nav>
            <button type="button" className={tab === 'details' ? 'on' : ''} onClick={() => setTab('details')}>Details</button>
            <button type="button" className={tab === 'journey' ? 'on' : ''} onClick={() => setTab('journey')}>Journey</button>
            {canChange && <button type="button" className={tab === 'lab' ? 'on' : ''} onClick={() => setTab('lab')}>Lab</button>}
            <button type="button" className={tab === 'doctor' ? 'on' : ''} onClick={() => setTab('doctor')}>Doctor</button>
            {doc?.source.kind === 'lab' && <button type="button" className={tab === 'tour' ? 'on' : ''} onClick={() => setTab('tour')}>Tour</button>}
          </nav>
          <div className={detailsPanel} data-testid="details-panel"><Details id={selected} version={doc?.version ?? 0} reread={traces} />{selectedPod && tab === 'details' && <Reach pod={selectedPod} version={doc?.version ?? 0} onHighlight={setReach} />}</div>
          <div className={tab === 'journey' ? 'panel' : 'panel hidden'}><Journey pods={pods} selected={selected} onShow={setMotion} onTraced={traced} request={play} /></div>
          <div className={tab === 'doctor' ? 'panel' : 'panel hidden'}><Doctor onHighlight={setFlagged} /></div>
          {doc?.source.kind === 'lab' && <div className={tab === 'tour' ? 'panel' : 'panel hidden'}><Tour pick={pick} onElements={setAbout} onPlay={playTrace} /></div>}
          {canChange && <div className={tab === 'lab' ? 'panel' : 'panel hidden'}><LabControls nodes={doc.nodes.map((n) => n.name)} pods={pods} /></div>}
        </aside>
      </main>
    </div>
  );
}
