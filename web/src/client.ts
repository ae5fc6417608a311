// Talking to podnet's server: JSON calls that turn the API's `{ error }` answers into exceptions,
// and the live topology from the event stream. The session cookie goes along by itself.
import { useEffect, useState } from 'react';
import type { ApiError, TopologyDoc } from '../../src/web/api';

/** A failed call: the server's one-line error and its status. */
export class CallError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Calls the API; resolves with its JSON, or throws a CallError with the server's message. */
export async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as T | ApiError;
  if (!res.ok) throw new CallError(res.status, (json as ApiError).error ?? `${res.status}`);
  return json as T;
}

/** The live topology (GET /api/events): the latest document, and whether the stream is open. */
export function useTopology(): { doc?: TopologyDoc; connected: boolean } {
  const [doc, setDoc] = useState<TopologyDoc>();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/events');
    source.addEventListener('topology', (e) => setDoc(JSON.parse((e as MessageEvent<string>).data) as TopologyDoc));
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    return () => source.close();
  }, []);
  return { doc, connected };
}
