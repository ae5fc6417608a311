// The Doctor panel: `podnet doctor`'s findings on what the page shows (GET /api/doctor, read-only),
// ordered as the doctor orders them (what breaks most first). Clicking a finding outlines on the
// topology the elements it concerns — its node, and the pod or Service it names.
import { useState } from 'react';
import type { DoctorDoc } from '../../src/web/api';
import { call, CallError } from './client';

interface Props {
  /** The element ids to outline ([] clears). */
  onHighlight: (ids: string[]) => void;
}

export function Doctor({ onHighlight }: Props) {
  const [doc, setDoc] = useState<DoctorDoc>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [open, setOpen] = useState(-1);
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setDoc(await call<DoctorDoc>('GET', '/api/doctor'));
      setOpen(-1);
      onHighlight([]);
    } catch (e) {
      setError(e instanceof CallError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const pick = (i: number) => {
    setOpen(i);
    onHighlight(doc?.findings[i]?.elements ?? []);
  };
  return (
    <div className="doctor" data-testid="doctor">
      <p><button type="button" onClick={() => void run()} disabled={busy} data-testid="run-doctor">{busy ? 'checking…' : 'run doctor'}</button>
        {' '}expected vs actual for every node (read-only, as <code>podnet doctor</code>)</p>
      {error && <p className="error">{error}</p>}
      {doc && doc.findings.length === 0 && <p className="verdict ok" data-testid="healthy">{doc.target}: no problems found</p>}
      {doc && doc.findings.length > 0 && (
        <ol className="findings">
          {doc.findings.map((f, i) => (
            <li key={`${f.id}-${f.node}-${i}`} className={i === open ? 'finding open' : 'finding'} data-finding={f.id} onClick={() => pick(i)}>
              <p className="what"><strong>{f.node}</strong>: {f.what}</p>
              {i === open && (
                <>
                  <p className="breaks">breaks: {f.breaks}</p>
                  {f.fix.length > 0 && <pre className="fix">{f.fix.join('\n')}</pre>}
                </>
              )}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
