// flock(2) without a process per lock (`podnet cni serve`, the lab verbs): Node has no
// flock, and `flock -x 0` as a child costs a spawn per IPAM call (3–7 ms here, bench/results/cni.json).
// One persistent Perl process (Perl is Essential on Debian; flock is a builtin) takes and drops locks
// on request: `L PATH` opens PATH (created 0600) and tries LOCK_EX|LOCK_NB — `K` taken, `B` busy,
// `E msg` failed; `U PATH` closes it, dropping the lock. The lock is the helper's open file
// description's, so it excludes every other process (the reference host-local, a one-shot podnet) as
// the child-held one did; within this process callers already take turns (FileMutex). A busy lock
// is not waited for here — the caller falls back to the blocking `flock -w` child — so one
// contended file never holds up the others. The helper is ended with the verb (helper.ts) and
// dies with podnet in any case (EOF on its stdin). Killed on its own while it holds a lock, it takes
// the lock with it: the critical section then running is unprotected, and later locks go back to
// `flock` children — it is started by podnet's launcher (own session: a Ctrl-C at the terminal does
// not reach it) and nothing else stops it.
import { Helper, lineDecoder } from './helper.js';

const SCRIPT = [
  '$| = 1; my %h;',
  'while (my $l = <STDIN>) {',
  '  chomp $l; my ($op, $p) = split / /, $l, 2;',
  '  if ($op eq "L") {',
  '    my $f; if (!sysopen($f, $p, 1|64|1024, 0600)) { print "E $!\\n"; next }',
  '    if (flock($f, 6)) { $h{$p} = $f; print "K\\n" } else { close $f; print "B\\n" }',
  '  } elsif ($op eq "U") { close(delete $h{$p}) if $h{$p}; print "K\\n" }',
  '}',
].join('\n');

/** The persistent helper; undefined until enabled, or after it failed. */
let helper: LockHelper | undefined;
let enabled = false;

/** Takes locks through the helper from now on in this process: the daemon's and the lab verbs' choice
 * (many locks; one lock costs the helper's start-up, about what one `flock` child costs). */
export function useLockHelper(): void {
  enabled = true;
}

/** Starts the helper ahead of need (and takes locks through it from now on): a lab verb calls it
 * before its own module loads, so the launcher's and the helper's start-ups (two Perl processes in a
 * row, ~25 ms here) overlap that instead of delaying the lab's lock. Takes no lock. */
export function warmLockHelper(): void {
  enabled = true;
  helper ??= new LockHelper();
}

/** Tries to take an exclusive flock on `path` through the helper: 'taken' (release with
 * `helperUnlock`), 'busy' (someone else holds it), or undefined (no helper: take it another way). */
export async function helperTryLock(path: string): Promise<'taken' | 'busy' | undefined> {
  if (!enabled || path.includes('\n')) return undefined;
  helper ??= new LockHelper();
  if (helper.dead) return undefined;
  const answer = await helper.ask(`L ${path}`).catch(() => undefined);
  if (answer === 'K') return 'taken';
  if (answer === 'B') return 'busy';
  return undefined;
}

/** Drops a lock the helper took. */
export async function helperUnlock(path: string): Promise<void> {
  await helper?.ask(`U ${path}`).catch(() => undefined);
}

class LockHelper extends Helper<string> {
  constructor() {
    super('lock helper', { perl: SCRIPT }, lineDecoder());
  }
}
