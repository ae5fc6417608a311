// The details of the clicked element: the server's `podnet inspect` tables for it (links with their
// addresses, routes, neighbours, a bridge's FDB with each MAC's owner and kind), each under the
// command that prints the same table.
import { useEffect, useState } from 'react';
import type { DetailSection, ElementDetails } from '../../src/web/api';
import { call } from './client';

/** The FDB's EXPLANATION column is prose: it goes on a line of its own under each entry. */
const PROSE = 'EXPLANATION';

function Section({ s }: { s: DetailSection }) {
  const prose = s.columns.indexOf(PROSE);
  const cols = s.columns.filter((c) => c !== PROSE);
  const cells = (r: string[]) => r.filter((_, j) => j !== prose);
  return (
    <section className="detail" data-section={s.title}>
      <h3>{s.title} <span className="count">({s.rows.length})</span></h3>
      <code className="command">$ {s.command}</code>
      {s.rows.length === 0 ? <p className="empty">No entries.</p> : (
        <div className="scroll">
          <table>
            <thead><tr>{cols.map((c) => <th key={c}>{c}</th>)}</tr></thead>
            <tbody>{s.rows.map((r, i) => [
              <tr key={i} className={prose >= 0 ? 'has-prose' : ''}>{cells(r).map((cell, j) => <td key={j}>{cell}</td>)}</tr>,
              prose >= 0 && <tr key={`${i}p`} className="prose"><td colSpan={cols.length}><span>{r[prose]}</span></td></tr>,
            ])}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Loads and shows one element's details; they are read again when the topology changed (`version`)
 * or the kernel's tables may have (`reread`: after a trace); meanwhile the last read stays shown. */
export function Details({ id, version, reread = 0 }: { id: string; version: number; reread?: number }) {
  const [details, setDetails] = useState<ElementDetails>();
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);
  useEffect(() => {
    if (!id) return;
    let live = true;
    setError(undefined);
    call<ElementDetails>('GET', `/api/element/${encodeURIComponent(id)}`).then(
      (d) => { if (live) setDetails(d); },
      (e: Error) => { if (live) { setDetails(undefined); setError(e.message); } },
    );
    return () => { live = false; };
  }, [id, version, reload, reread]);
  if (!id) return <p className="hint">Click any element of the topology: a node, an interface, cni0, flannel.1, a veth, a pod.</p>;
  if (error) return <p className="error">{error}</p>;
  if (!details || details.id !== id) return <p className="hint">loading…</p>;
  return (
    <div className="details" data-testid="details" data-kind={details.kind}>
      <h2>{details.title}</h2>
      <p className="meta">read {new Date(details.takenAt).toLocaleTimeString()} <button type="button" onClick={() => setReload((n) => n + 1)}>read again</button></p>
      {details.sections.map((s) => <Section key={s.title} s={s} />)}
    </div>
  );
}
