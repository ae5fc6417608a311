// The Tour panel: `podnet tour`'s chapters on the lab the page shows, step by step — the explanation,
// the command as typed and its real output with what matters marked, the elements the step is about
// outlined on the topology, and the question: typed, or answered by clicking the element on the
// topology (the veth the reply leaves through). The server checks every answer against the kernel
// (a hint after a wrong one, the evidence after a right one) and keeps progress in the same file
// the terminal's tour does.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { TourAnswerDoc, TourDoc, TourStepDoc } from '../../src/web/api';
import { call, CallError } from './client';

interface Props {
  /** The last click on the topology (its element, and a count): while a question waits, a click answers it. */
  pick: { id: string; n: number };
  /** The elements the current step is about ([] clears). */
  onElements: (ids: string[]) => void;
  /** Plays a trace step's packet on the drawing (the Journey tab). */
  onPlay: (req: NonNullable<TourStepDoc['journey']>) => void;
}

/** The output with the server's spans marked. */
function Marked({ text, spans }: { text: string; spans: { start: number; end: number }[] }) {
  const parts: ReactNode[] = [];
  let at = 0;
  spans.forEach((s, i) => {
    parts.push(<span key={`t${i}`}>{text.slice(at, s.start)}</span>, <mark key={`m${i}`}>{text.slice(s.start, s.end)}</mark>);
    at = s.end;
  });
  parts.push(<span key="rest">{text.slice(at)}</span>);
  return <pre className="tour-output" data-testid="tour-output">{parts}</pre>;
}

export function Tour({ pick, onElements, onPlay }: Props) {
  const [doc, setDoc] = useState<TourDoc>();
  const [step, setStep] = useState<TourStepDoc>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [typed, setTyped] = useState('');
  const [result, setResult] = useState<TourAnswerDoc>();
  const asked = useRef(pick.n);
  const fail = (e: unknown) => setError(e instanceof CallError ? e.message : String(e));
  const list = () => call<TourDoc>('GET', '/api/tour').then(setDoc, fail);
  useEffect(() => { void list(); }, []);

  const run = async (chapter: number, index: number) => {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    setTyped('');
    try {
      const s = await call<TourStepDoc>('POST', '/api/tour/step', { chapter, step: index });
      asked.current = pick.n;
      setStep(s);
      onElements(s.elements);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const answer = async (body: { answer: string } | { element: string }) => {
    if (!step) return;
    try {
      setResult(await call<TourAnswerDoc>('POST', '/api/tour/answer', { chapter: step.chapter, step: step.index, ...body }));
    } catch (e) {
      fail(e);
    }
  };
  // A click on the topology while the question waits is the answer.
  useEffect(() => {
    if (!step?.question || result?.right || !pick.id || pick.n === asked.current) return;
    asked.current = pick.n;
    void answer({ element: pick.id });
  }, [pick]); // only a new selection answers: the answer function changes with every render

  if (!doc) return <div className="tour" data-testid="tour">{error ? <p className="error">{error}</p> : <p className="hint">loading the chapters…</p>}</div>;
  if (!step) {
    return (
      <div className="tour" data-testid="tour">
        <p>The blog, chapter by chapter, on lab <strong>{doc.lab || '(none)'}</strong>: each step runs its command for real and its questions are checked against the kernel.{' '}
          {!doc.canRun && <span className="error">Read-only: start <code>podnet ui --allow-changes</code> to run the steps here, or take them in a terminal (<code>podnet tour N</code>).</span>}
          {doc.canRun && <span className="meta">A chapter that needs another lab shape makes lab {doc.lab} again.</span>}</p>
        {error && <p className="error">{error}</p>}
        <ol className="chapters">
          {doc.chapters.map((c) => (
            <li key={c.number}><button type="button" disabled={busy || !doc.canRun} data-chapter={c.number} onClick={() => void run(c.number, 0)}>{c.number}. {c.title}</button>
              <span className="meta"> {c.steps} steps, {c.nodes} node{c.nodes > 1 ? 's' : ''} — {c.status}</span></li>
          ))}
        </ol>
      </div>
    );
  }
  const last = step.index + 1 >= step.total;
  const done = !step.question || result?.right || result?.evidence !== undefined;
  return (
    <div className="tour" data-testid="tour" data-chapter={step.chapter} data-step={step.index}>
      <p className="meta"><button type="button" onClick={() => { setStep(undefined); onElements([]); void list(); }}>chapters</button> Chapter {step.chapter}: {step.title} — step {step.index + 1}/{step.total}</p>
      <h3 data-testid="tour-title">{step.stepTitle}</h3>
      {step.labNote && <p className="meta">{step.labNote}</p>}
      <p className="explain">{step.explain}</p>
      {step.command && <code className="command" data-testid="tour-command">$ {step.command}</code>}
      {step.output !== undefined && (!step.question?.predict || done) && <Marked text={step.output} spans={step.highlights} />}
      {step.journey && (!step.question?.predict || done) && <p><button type="button" data-testid="tour-play" onClick={() => onPlay(step.journey!)}>play this trace on the drawing</button> <span className="meta">(a new trace of the same packet, in the Journey tab)</span></p>}
      {step.output !== undefined && step.question?.predict && !done && <p className="meta" data-testid="tour-predict">Predict first: the output shows after your answer.</p>}
      {error && <p className="error">{error}</p>}
      {step.question && (
        <div className="question" data-testid="tour-question">
          <p><strong>?</strong> {step.question.ask}</p>
          <form onSubmit={(e) => { e.preventDefault(); void answer({ answer: typed }); }}>
            <input name="answer" value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="type it, or click it on the topology" disabled={result?.right} />
            <button type="submit" disabled={result?.right}>answer</button>{' '}
            <button type="button" onClick={() => void answer({ answer: '' })} disabled={result?.right}>show me</button>
          </form>
          {result && !result.right && result.hint && <p className="hint-wrong" data-testid="tour-hint">✗ not {result.given}. hint: {result.hint}</p>}
          {result?.evidence && <p className={result.right ? 'right' : 'shown'} data-testid="tour-evidence">{result.right ? `✓ right: ${result.answer}` : `the kernel's answer: ${result.answer}`}<br />evidence: {result.evidence}</p>}
        </div>
      )}
      {last && done && step.summary && <ul className="summary" data-testid="tour-summary">{step.summary.map((s) => <li key={s}>{s}</li>)}</ul>}
      {!last && <button type="button" data-testid="tour-next" disabled={busy || !done} onClick={() => void run(step.chapter, step.index + 1)}>{busy ? 'running…' : 'next step'}</button>}
    </div>
  );
}
