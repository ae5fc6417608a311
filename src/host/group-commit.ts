// Group commit: requests for the same target that arrive while one run is in flight wait and then go
// together in the next run. One process serves many callers (DESIGN.md: "Fast by construction").

interface Pending<Req, Res> {
  req: Req;
  resolve: (r: Res) => void;
  reject: (e: unknown) => void;
}

/** Queues requests and hands them to `exec` in groups, one group in flight at a time. `exec` returns one
 * result per request, an Error in a slot rejecting just that caller. */
export class GroupCommit<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private running = false;

  constructor(private readonly exec: (reqs: Req[]) => Promise<(Res | Error)[]>) {}

  /** Adds `req` to the next group and resolves with its own result. */
  submit(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    // Let callers that are ready in this turn of the event loop join the group.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0);
    try {
      const results = await this.exec(group.map((p) => p.req));
      group.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      });
    } catch (err) {
      for (const p of group) p.reject(err);
    } finally {
      this.running = false;
      this.kick();
    }
  }
}
