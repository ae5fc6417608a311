// A pod's reach under the lab's NetworkPolicies (GET /api/reach): "may reach" lists every other pod
// the selected one may open connections to, "reached by" every pod that may open one to it — each
// with the ports allowed, or the sentence saying which policy isolates which end — and the topology
// shows the same: allowed pods and Services green, the others struck through, the rest dimmed.
import { useEffect, useState } from 'react';
import type { ReachDoc } from '../../src/web/api';
import { call, CallError } from './client';
import type { Reach as Highlight } from './Topology';

interface Props {
  /** The selected pod's name. */
  pod: string;
  /** The topology's version: an open answer is asked again when the lab changed. */
  version: number;
  onHighlight: (r: Highlight | undefined) => void;
}

export function Reach({ pod, version, onHighlight }: Props) {
  const [direction, setDirection] = useState<'egress' | 'ingress'>();
  const [doc, setDoc] = useState<ReachDoc>();
  const [error, setError] = useState<string>();
  // Another pod selected: the answer and the highlight are about the old one.
  useEffect(() => { setDirection(undefined); setDoc(undefined); onHighlight(undefined); }, [pod, onHighlight]);
  useEffect(() => {
    if (!direction) return;
    let live = true;
    call<ReachDoc>('GET', `/api/reach?pod=${encodeURIComponent(pod)}&direction=${direction}`).then((d) => {
      if (!live) return;
      setDoc(d);
      setError(undefined);
      onHighlight({ from: d.element, allowed: d.allowed, denied: d.denied });
    }, (e: unknown) => { if (live) setError(e instanceof CallError ? e.message : String(e)); });
    return () => { live = false; };
  }, [pod, direction, version, onHighlight]);
  const toggle = (d: 'egress' | 'ingress') => {
    if (direction === d) { setDirection(undefined); setDoc(undefined); onHighlight(undefined); } else setDirection(d);
  };
  return (
    <section className="reach detail" data-testid="reach">
      <h3>NetworkPolicy reach</h3>
      <p>
        <button type="button" className={direction === 'egress' ? 'on' : ''} data-testid="reach-egress" onClick={() => toggle('egress')}>may reach</button>{' '}
        <button type="button" className={direction === 'ingress' ? 'on' : ''} data-testid="reach-ingress" onClick={() => toggle('ingress')}>reached by</button>
      </p>
      {error && <p className="error">{error}</p>}
      {doc && doc.direction === direction && (
        <>
          <p className="meta">{doc.policies.length ? `isolated for ${direction} by ${doc.policies.join(', ')}` : `not isolated for ${direction}: no policy selects ${pod}`}</p>
          <ul className="reach-list">
            {doc.targets.map((t) => {
              const ok = t.ports.filter((p) => p.allowed).map((p) => p.label);
              const no = t.ports.find((p) => !p.allowed);
              return (
                <li key={`${t.namespace}/${t.pod}`} className={t.allowed ? 'ok' : 'no'} data-pod={t.pod} data-allowed={t.allowed}>
                  <strong>{t.allowed ? '✓' : '✗'} {t.namespace === doc.namespace ? t.pod : `${t.namespace}/${t.pod}`}</strong> ({t.node})
                  {t.allowed ? `: ${ok.join(', ')}` : ''}
                  {no && <span className="why">{t.allowed ? ` — not ${no.label}: ` : ': '}{no.sentence}</span>}
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}
