// What one `ip -batch` process did, split back per caller: iproute2 reports a failed line as
// "…message…\nCommand failed -:N" on stderr and prints one JSON array per `show` line on stdout.
import { HostError, batchFailures, classifyStderr, type HostErrorKind } from './errors.js';

type Json = Record<string, unknown>;

/** One failed line of a batch, numbered within the caller's own lines (1-based). */
export interface LineFailure {
  line: number;
  text: string;
  message: string;
  kind: HostErrorKind;
}

/** A sysctl key (slash form) and the value to write. */
export type SysctlEntry = readonly [key: string, value: string];

/** What a batch did: the failures, and the JSON printed by each `… show …` line that succeeded, in order. */
export class BatchResult {
  constructor(readonly argv: readonly string[], readonly lines: readonly string[], readonly failures: LineFailure[], readonly shows: Json[][], readonly sysctlFailures: string[] = []) {}

  /** Throws the first failure not accepted by `tolerate` (e.g. "exists" on an idempotent add). */
  ok(tolerate: (f: LineFailure) => boolean = () => false): this {
    const bad = this.failures.find((f) => !tolerate(f));
    if (bad) {
      const program = this.argv.includes('bridge') ? 'bridge' : 'ip';
      throw new HostError({ kind: bad.kind, argv: this.argv, exitCode: 1, stderr: bad.message, line: bad.line,
        message: `${program} ${bad.text}: ${bad.message.split('\n')[0]}` });
    }
    if (this.sysctlFailures.length) {
      throw new HostError({ kind: 'failed', argv: this.argv, exitCode: 1, stderr: this.sysctlFailures[0], message: `sysctl ${this.sysctlFailures[0]}: cannot write it` });
    }
    return this;
  }
}

/** Lines that print JSON in a batch (`link show`; `addr show` is unsafe in a shared batch: see NetHandle.addrShow). */
const isShow = (line: string) => /^\S+ (show|list|get)\b/.test(line.trim());

/** Splits one batch run into a result per group of lines. Throws when the batch did not run at all
 * (the namespace is gone, ip is missing): then every caller fails the same way. */
export function splitBatch(argv: readonly string[], groups: readonly (readonly string[])[], r: { stdout: string; stderr: string; exitCode: number }): BatchResult[] {
  if (r.exitCode !== 0 && !/Command failed|^sysctl: cannot write/m.test(r.stderr)) {
    throw new HostError({ kind: classifyStderr(r.stderr), argv, exitCode: r.exitCode, stderr: r.stderr });
  }
  const failed = new Map(batchFailures(r.stderr).map((f) => [f.line, f.message]));
  const outputs = r.stdout.split('\n').filter((l) => l.trim().startsWith('['));
  let out = 0;
  let offset = 0;
  return groups.map((lines) => {
    const failures: LineFailure[] = [];
    const shows: Json[][] = [];
    lines.forEach((text, i) => {
      const message = failed.get(offset + i + 1);
      if (message !== undefined) failures.push({ line: i + 1, text, message, kind: classifyStderr(message) });
      else if (isShow(text)) shows.push(JSON.parse(outputs[out++] ?? '[]') as Json[]);
    });
    offset += lines.length;
    return new BatchResult(argv, lines, failures, shows);
  });
}
