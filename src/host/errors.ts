// Typed errors for commands run on the machine. Each keeps the argv, exit code and stderr (execa's
// lesson), and iproute2's messages map to kinds callers can act on ("exists", "not found").

/** What went wrong, in terms a caller can branch on. */
export type HostErrorKind = 'exists' | 'not-found' | 'permission' | 'busy' | 'invalid' | 'failed';

/** A command that failed: argv, exit code and stderr kept; `message` is one line. */
export class HostError extends Error {
  readonly kind: HostErrorKind;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  /** For input read from stdin (`ip -batch`, `iptables-restore`, `nft -f -`): the 1-based line that failed, when the tool said which. */
  readonly line?: number;

  constructor(opts: { kind: HostErrorKind; argv: readonly string[]; exitCode: number | null; stderr: string; line?: number; message?: string; cause?: unknown }) {
    const first = opts.stderr.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('Command failed')) ?? `exit code ${opts.exitCode}`;
    super(opts.message ?? `${opts.argv.slice(0, 4).join(' ')}${opts.argv.length > 4 ? ' …' : ''}: ${first}`, { cause: opts.cause });
    this.name = 'HostError';
    this.kind = opts.kind;
    this.argv = opts.argv;
    this.exitCode = opts.exitCode;
    this.stderr = opts.stderr;
    if (opts.line !== undefined) this.line = opts.line;
  }
}

const KINDS: [RegExp, HostErrorKind][] = [
  [/File exists|already exists|Address already assigned/i, 'exists'],
  [/Cannot find device|No such device|No such file or directory|does not exist|Address not found|No such process|Cannot open network namespace|not found/i, 'not-found'],
  [/Operation not permitted|Permission denied/i, 'permission'],
  [/Device or resource busy|Resource temporarily unavailable/i, 'busy'],
  [/Invalid argument|invalid|Error: argument|Unknown device type|Nexthop has invalid gateway/i, 'invalid'],
];

/** Classifies an iproute2 / coreutils error message. */
export function classifyStderr(stderr: string): HostErrorKind {
  for (const [re, kind] of KINDS) if (re.test(stderr)) return kind;
  return 'failed';
}

/** True when `err` is a HostError of the given kind. */
export function isKind(err: unknown, kind: HostErrorKind): err is HostError {
  return err instanceof HostError && err.kind === kind;
}

/** Splits `ip -batch` stderr into per-line failures: "…message…\nCommand failed -:N". */
export function batchFailures(stderr: string): { line: number; message: string }[] {
  const out: { line: number; message: string }[] = [];
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const m = /^Command failed (?:-|\S+):(\d+)$/.exec(raw.trim());
    if (m) {
      out.push({ line: Number(m[1]), message: pending.join('\n').trim() });
      pending = [];
    } else if (raw.trim()) {
      pending.push(raw.trim());
    }
  }
  return out;
}
