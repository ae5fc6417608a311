// A packet's journey: pick two pods (or a pod and an IP), a protocol, warm or cold; the server runs
// `podnet trace`; the hops play in time order on the drawing, with the event list beside it (play,
// pause, step forward and back; the events at the element the user selected are marked), each
// event's decoded layers and the kernel's reason, and the pcapng.
import { useEffect, useRef, useState } from 'react';
import type { Journey as JourneyDoc, JourneyEvent } from '../../src/web/api';
import { call } from './client';
import { Layers } from './Layers';
import type { Motion } from './PacketDot';

interface Props {
  pods: string[];
  /** The element the user selected: its events are marked in the list. */
  selected?: string;
  /** Shows an event on the drawing (undefined: nothing to show). */
  onShow: (m: Motion | undefined) => void;
  /** Called when a trace has run (the kernel's tables may have changed). */
  onTraced?: () => void;
  /** A trace asked for from elsewhere (a tour step): the form takes it and it runs; `n` counts the asks. */
  request?: { src: string; dst: string; protocol: 'icmp' | 'tcp' | 'udp'; port?: number; cold?: boolean; n: number };
}

const STEP_MS = 650;
const arrow = (e: JourneyEvent) => `${e.direction === 'request' ? '→' : '←'}${e.reflected ? '↺' : ''}`;

/** The move that shows event `i`: from the element of the same packet's previous hop. */
function motionOf(j: JourneyDoc, i: number): Motion | undefined {
  const e = j.events[i];
  if (!e?.element) return undefined;
  const prev = j.events.slice(0, i).reverse().find((x) => x.packet === e.packet && x.element);
  const drop = !j.answered && j.drop?.element ? { drop: { element: j.drop.element, text: `dropped: ${j.drop.reason}` } } : {};
  return { step: i, to: e.element, direction: e.direction, ...(prev ? { from: prev.element } : {}), ...drop };
}

export function Journey({ pods, selected, onShow, onTraced, request }: Props) {
  const [src, setSrc] = useState('');
  const [dst, setDst] = useState('');
  const [ip, setIp] = useState('');
  const [protocol, setProtocol] = useState<'icmp' | 'tcp' | 'udp'>('icmp');
  const [port, setPort] = useState('8080');
  const [cold, setCold] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [journey, setJourney] = useState<JourneyDoc>();
  const [index, setIndex] = useState(0);
  const [playing, setPlaying] = useState(false);
  const list = useRef<HTMLOListElement>(null);

  const from = src || pods[0] || '';
  const to = dst === '' ? pods.find((p) => p !== from) ?? '' : dst;
  const trace = async (asked?: Omit<NonNullable<Props['request']>, 'n'>) => {
    setBusy(true);
    setError(undefined);
    try {
      const body = asked ?? { src: from, dst: to === '(ip)' ? ip.trim() : to, protocol, cold, ...(protocol === 'icmp' ? {} : { port: Number(port) }) };
      const j = await call<JourneyDoc>('POST', '/api/trace', body);
      setJourney(j);
      setIndex(0);
      setPlaying(j.events.length > 1);
      onTraced?.();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (!request) return;
    const { n: _, ...asked } = request;
    setSrc(asked.src);
    if (pods.includes(asked.dst)) setDst(asked.dst); else { setDst('(ip)'); setIp(asked.dst); }
    setProtocol(asked.protocol);
    if (asked.port) setPort(String(asked.port));
    setCold(!!asked.cold);
    void trace(asked);
  }, [request?.n]); // a new ask runs once; the form's own state changes must not rerun it
  useEffect(() => onShow(journey ? motionOf(journey, index) : undefined), [journey, index, onShow]);
  useEffect(() => {
    if (!playing || !journey) return;
    if (index >= journey.events.length - 1) {
      setPlaying(false);
      return;
    }
    const t = setTimeout(() => setIndex((i) => i + 1), STEP_MS);
    return () => clearTimeout(t);
  }, [playing, index, journey]);
  useEffect(() => {
    list.current?.querySelector('.current')?.scrollIntoView({ block: 'nearest' });
  }, [index]);

  const go = (i: number) => {
    if (!journey) return;
    setPlaying(false);
    setIndex(Math.max(0, Math.min(journey.events.length - 1, i)));
  };
  const ev = journey?.events[index];
  return (
    <div className="journey">
      <form className="trace-form" onSubmit={(e) => { e.preventDefault(); void trace(); }}>
        <label>from <select value={from} onChange={(e) => setSrc(e.target.value)} name="src">{pods.map((p) => <option key={p}>{p}</option>)}</select></label>
        <label>to <select value={to} onChange={(e) => setDst(e.target.value)} name="dst">
          {pods.map((p) => <option key={p}>{p}</option>)}
          <option value="(ip)">an IP or Service…</option>
        </select></label>
        {to === '(ip)' && <input name="ip" value={ip} onChange={(e) => setIp(e.target.value)} placeholder="10.42.0.10 or web" size={14} />}
        <label>protocol <select value={protocol} onChange={(e) => setProtocol(e.target.value as 'icmp')} name="protocol">
          <option value="icmp">ICMP</option><option value="tcp">TCP</option><option value="udp">UDP</option>
        </select></label>
        {protocol !== 'icmp' && <label>port <input name="port" value={port} onChange={(e) => setPort(e.target.value)} size={6} /></label>}
        <label title="flush neighbours and the learned FDB first: ARP, flooding, learning"><input type="checkbox" checked={cold} onChange={(e) => setCold(e.target.checked)} name="cold" /> cold</label>
        <button type="submit" disabled={busy || !from || !to} data-testid="trace">{busy ? 'tracing…' : 'trace'}</button>
      </form>
      {error && <p className="error">{error}</p>}
      {journey && (
        <>
          <p className="header" data-testid="header"><code>{journey.header}</code></p>
          <p className={journey.answered ? 'verdict ok' : 'verdict fail'} data-testid="verdict">{journey.verdict}</p>
          {journey.cause && <p className="verdict fail" data-testid="cause">{journey.cause}</p>}
          {!journey.answered && journey.drop && <p className="drop" data-testid="drop">dropped at <strong>{journey.drop.point || '?'}</strong>: {journey.drop.reason} ({journey.drop.location}) — {journey.drop.meaning}</p>}
          <div className="controls">
            <button type="button" onClick={() => go(0)} aria-label="first">« first</button>
            <button type="button" onClick={() => go(index - 1)} aria-label="back">‹ back</button>
            {playing
              ? <button type="button" onClick={() => setPlaying(false)} aria-label="pause">pause</button>
              : <button type="button" onClick={() => { if (index >= journey.events.length - 1) setIndex(0); setPlaying(true); }} aria-label="play">play</button>}
            <button type="button" onClick={() => go(index + 1)} aria-label="forward">next ›</button>
            <button type="button" onClick={() => go(journey.events.length - 1)} aria-label="last">last »</button>
            <span className="position">{index + 1} / {journey.events.length}</span>
            <a href={journey.pcapng} download data-testid="pcapng">pcapng</a>
          </div>
          <ol className="events" ref={list} data-testid="events">
            {journey.events.map((e) => (
              <li key={e.index} className={`${e.index === index ? 'current' : ''} ${e.direction}${selected && e.element === selected ? ' at-selected' : ''}`} onClick={() => go(e.index)} data-point={e.point}>
                <span className="time">+{e.sinceStartMs.toFixed(3)} ms</span>
                <span className="point">{e.point}</span>
                <span className="dir">{arrow(e)}</span>
                <span className="label">{e.label}{e.nat && <span className="nat-tag" title={`${e.nat.before} → ${e.nat.after}`}>NAT</span>}</span>
              </li>
            ))}
          </ol>
          {ev && (
            <div className="event" data-testid="event">
              <h3>+{ev.sinceStartMs.toFixed(3)} ms at {ev.point} {arrow(ev)} {ev.label}</h3>
              <p className="why"><strong>kernel:</strong> {ev.explanation || '—'}</p>
              {ev.nat && <p className="nat" data-testid="nat"><strong>NAT:</strong> <code>{ev.nat.before}</code> → <code>{ev.nat.after}</code></p>}
              {ev.layers ? <Layers frame={ev.layers} /> : <p className="hint">frame not found in the capture</p>}
            </div>
          )}
          {journey.warnings.map((w) => <p className="error" key={w}>{w}</p>)}
        </>
      )}
    </div>
  );
}
