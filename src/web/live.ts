// The live topology: the latest scan, laid out, with a version that increases when the drawing
// changes. While at least one client listens (GET /api/events), a poll every `tickMs` reads a cheap
// fingerprint (pinned namespaces, the lab's state file); when it changed in the last `settleMs`, or
// the last scan is older than `idleRescanMs`, the target is rescanned, and listeners hear of every
// change. With no listener nothing runs; requests scan on demand when the last scan is too old.
// close() ends it at once: no scan starts after it, and one in flight is abandoned (its callers get
// Closed; it is neither waited for nor laid out).
import { buildTopology, topologyKey, type BuiltTopology, type Scanned } from './topology.js';
import type { Drawing, TopologyDoc } from './api.js';

/** What a scan or a wait for one ends with once the live topology is closed. */
export class Closed extends Error {
  constructor() {
    super('podnet ui is stopping');
  }
}

/** A drawn scan: the document the API serves and the indexes behind it. */
export interface LiveState extends BuiltTopology {
  doc: TopologyDoc;
  /** When the scan started (ms since the epoch). */
  scannedAt: number;
  /** How many changes had been noted when the scan started (a later change makes it stale). */
  changeSeq: number;
}

export interface LiveOptions {
  scan: () => Promise<Scanned>;
  /** Lays a changed topology out (an unchanged one keeps its drawing). */
  layout: (doc: BuiltTopology['doc']) => Promise<Drawing>;
  fingerprint: () => Promise<string>;
  readOnly: boolean;
  tickMs?: number;
  settleMs?: number;
  idleRescanMs?: number;
  /** Where a failed background scan is reported (it is retried on the next tick). */
  onError?: (e: unknown) => void;
}

export class LiveTopology {
  private state?: LiveState;
  private key = '';
  private drawing: Drawing = { width: 0, height: 0, boxes: [], wires: [] };
  private version = 0;
  private inFlight?: Promise<LiveState>;
  private readonly listeners = new Set<(doc: TopologyDoc) => void>();
  private timer?: NodeJS.Timeout;
  private lastPrint = '';
  private lastChange = 0;
  /** Changes noted so far (a counter: two in one millisecond still count twice). */
  private changes = 0;
  private closed = false;
  /** Rejects with Closed when close() is called: what a scan in flight is raced against. */
  private readonly ended: Promise<never>;
  private end: () => void = () => undefined;

  constructor(private readonly o: LiveOptions) {
    this.ended = new Promise<never>((_, reject) => { this.end = () => reject(new Closed()); });
    this.ended.catch(() => undefined);
  }

  /** `p`, unless close() comes first: then Closed at once (p goes on unwatched, its failure ignored). */
  private unlessClosed<T>(p: Promise<T>): Promise<T> {
    if (this.closed) {
      p.catch(() => undefined);
      return Promise.reject(new Closed());
    }
    return Promise.race([p, this.ended]);
  }

  /** The latest state, rescanned first when it is older than `maxAgeMs` or than the last poke(). */
  async current(maxAgeMs: number): Promise<LiveState> {
    const fresh = (s: LiveState | undefined): s is LiveState => s !== undefined && s.changeSeq === this.changes && Date.now() - s.scannedAt <= maxAgeMs;
    if (fresh(this.state)) return this.state;
    const s = await this.refresh();
    // A scan that started before the last change may have missed it: one more.
    return s.changeSeq === this.changes ? s : this.refresh();
  }

  /** Rescans now (a scan already running is shared), tells listeners when the drawing changed. */
  refresh(): Promise<LiveState> {
    if (this.closed) return Promise.reject(new Closed());
    this.inFlight ??= this.rescan().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  /** The latest state, however old (the poll pushes a newer one if the target changed since). */
  latest(): LiveState | undefined {
    return this.state;
  }

  private async rescan(): Promise<LiveState> {
    const scannedAt = Date.now();
    const changeSeq = this.changes;
    // A change is a fingerprint that differs from the one read just before the last scan.
    this.lastPrint = await this.unlessClosed(this.o.fingerprint());
    const built = buildTopology(await this.unlessClosed(this.o.scan()));
    const key = topologyKey(built.doc);
    const changed = key !== this.key;
    if (changed) {
      this.drawing = await this.unlessClosed(this.o.layout(built.doc));
      this.key = key;
      this.version++;
    }
    const state: LiveState = { ...built, doc: { ...built.doc, version: this.version, readOnly: this.o.readOnly, drawing: this.drawing }, scannedAt, changeSeq };
    this.state = state;
    if (changed) for (const l of this.listeners) l(state.doc);
    return state;
  }

  /** Calls `fn` with every new drawing; the poll runs while anyone listens. Returns the unsubscribe. */
  subscribe(fn: (doc: TopologyDoc) => void): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1) this.schedule(0);
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) clearTimeout(this.timer);
    };
  }

  /** Marks the target as just changed (a pod added through the API): the next ticks rescan. */
  poke(): void {
    this.noteChange(Date.now());
    if (this.listeners.size) this.schedule(0);
  }

  private noteChange(at: number): void {
    this.lastChange = at;
    this.changes++;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const { tickMs = 250, settleMs = 2000, idleRescanMs = 5000 } = this.o;
    try {
      const print = await this.o.fingerprint();
      const now = Date.now();
      if (print !== this.lastPrint) this.noteChange(now);
      if (!this.state || now - this.lastChange < settleMs || now - this.state.scannedAt >= idleRescanMs) await this.refresh();
    } catch (e) {
      if (!(e instanceof Closed)) this.o.onError?.(e);
    }
    if (this.listeners.size && !this.closed) this.schedule(tickMs);
  }

  /** Stops the poll for good and abandons a scan in flight: nothing of this object runs after it. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
    this.end();
  }
}
