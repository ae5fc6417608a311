// A pod's pause process without an exec. What holds a pod's namespace in K3s is a tiny program that
// only sleeps (/pause); podnet's plain one is `busybox sleep 2147483647`, started through nsenter from
// a shell: a fork and two execs per pod, at 100 pods half a second of this machine's CPU during
// `lab up` (docs/benchmarks.md). So one Perl process per owner, started as `pause` with the owner's
// mark in its environment, forks them instead: per request it enters the namespace (setns), forks and
// returns home. The child makes its own session (no terminal's signals reach it, as a shell keeps them
// from a background job), closes every file it inherited (stdio on /dev/null), leaves the directory,
// names itself `pause` (comm; its command line is the spawner's, `pause`) and sleeps until a signal
// ends it. Children inherit the mark with the environment, so a forked pause process is found and
// stopped exactly as an exec'd one. (Perl's `$0` cannot name it: on Linux it overwrites the
// environment, and the mark with it.)
//
//   PATH      fork a pause process in the namespace at PATH; answer `K PID` or `E errno message`
//
// The spawner reads its program and then its requests from stdin (perl-helper.ts, `name`); its
// children are reaped by the kernel (SIGCHLD ignored).
import { HostError, classifyStderr } from './errors.js';
import { PerlHelper, SYSCALLS, lineDecoder, type SyscallNumbers } from './perl-helper.js';

/** The pause program as podnet starts it where it cannot fork one (argv). */
export const PAUSE_ARGV: readonly string[] = ['busybox', 'sleep', '2147483647'];

// On this kind of machine a fork costs ~3 ms of CPU, most of it copy-on-write faults: so the child
// runs as little Perl as it can. Every file the spawner holds besides its stdio (those it inherited,
// its home namespace, /dev/null) is listed once, up front; the child puts /dev/null on its stdio with
// dup3 and closes the list and the namespace it was forked in, with syscalls only.
const script = (n: SyscallNumbers) => String.raw`
my ($SETNS, $SETSID, $PRCTL, $CLOSE, $DUP3) = (${n.setns}, ${n.setsid}, ${n.prctl}, ${n.close}, ${n.dup3});
$SIG{CHLD} = 'IGNORE';
my $me = 'pause-spawner'; syscall($PRCTL, 15, $me);
open(my $home, '<', '/proc/self/ns/net') or die "home: $!";
open(my $null, '+<', '/dev/null') or die "/dev/null: $!";
my $nullfd = fileno($null);
opendir(my $d, '/proc/self/fd') or die "/proc/self/fd: $!";
my @held = map { $_ + 0 } grep { /^\d+$/ && $_ > 2 && $_ != fileno($d) } readdir $d; closedir $d;
my $name = 'pause';
sub enter { syscall($SETNS, fileno($_[0]), 0x40000000) == 0 }
sub fail { my $m = 'E ' . ($! + 0) . " $!\n"; close $_[0] if $_[0]; $m }
sub one {
  my ($path) = @_; my $f;
  return fail() unless open($f, '<', $path);
  return fail($f) unless enter($f);
  my $ffd = fileno($f);
  my $pid = fork;
  if (defined $pid && $pid == 0) {
    syscall($SETSID); syscall($DUP3, $nullfd, $_, 0) for 0, 1, 2;
    syscall($CLOSE, $_) for @held, $ffd;
    chdir '/'; $SIG{CHLD} = 'DEFAULT'; syscall($PRCTL, 15, $name);
    sleep while 1;
  }
  my $answer = defined $pid ? "K $pid\n" : fail();
  enter($home) or die "cannot return home: $!"; close $f;
  $answer;
}
while (my $l = <DATA>) { chomp $l; my $a = one($l); syswrite(STDOUT, $a) == length $a or die "stdout: $!" }
`;

/** What a runner may fork instead of starting the pause program: in the namespace at `netns`, with
 * the environment variable `env` (podnet's mark) set. */
export interface PauseWork {
  netns: string;
  env: Record<string, string>;
}

/** How a fork went: the child's PID, or why there is none. */
type ForkAnswer = { pid: number } | { errno: number; message: string };

class PauseSpawner extends PerlHelper<string> {
  constructor(n: SyscallNumbers, env: Record<string, string>) {
    super('pause spawner', script(n), [], lineDecoder(), { env, name: 'pause' });
  }
}

/** One spawner per environment (per owner), made on first use and again if it died. */
const spawners = new Map<string, PauseSpawner>();

/** The spawner of `env`, made unless it runs already; undefined where podnet does not fork. */
function spawnerFor(env: Record<string, string>): PauseSpawner | undefined {
  if (process.env.PODNET_PAUSE_FORK === '0' || SYSCALLS[process.arch] === undefined) return undefined;
  const key = JSON.stringify(env);
  let s = spawners.get(key);
  if (!s || s.dead) spawners.set(key, (s = new PauseSpawner(SYSCALLS[process.arch]!, env)));
  return s;
}

/** Starts the spawner of `env` now, ahead of its first fork (Runner.warm). */
export function warmPauseSpawner(env: Record<string, string>): void {
  spawnerFor(env);
}

/** Forks a pause process as `work` says. Undefined when podnet cannot (PODNET_PAUSE_FORK=0, an
 * architecture without a syscall table, the spawner gone): the caller starts the program instead. */
async function forkPause(work: PauseWork): Promise<ForkAnswer | undefined> {
  const s = spawnerFor(work.env);
  if (!s) return undefined;
  let line: string;
  try {
    line = await s.ask(work.netns);
  } catch {
    return undefined;
  }
  const m = /^(?:K (\d+)|E (\d+) (.*))$/.exec(line);
  if (!m) return undefined;
  return m[1] ? { pid: Number(m[1]) } : { errno: Number(m[2]), message: m[3] };
}

/** Ends the spawner of `env` (if any) and waits until it has exited; the next request starts another. */
export async function endPauseSpawner(env: Record<string, string>): Promise<void> {
  const key = JSON.stringify(env);
  const s = spawners.get(key);
  spawners.delete(key);
  await s?.end();
}

/** Starts the command `argv` stands for by forking it (`work`), when podnet can: resolves with the
 * PID, or undefined (the caller starts `argv`). A namespace that cannot be entered fails as nsenter would. */
export async function startByFork(argv: readonly string[], work: PauseWork): Promise<number | undefined> {
  const a = await forkPause(work);
  if (!a || 'pid' in a) return a?.pid;
  const stderr = `nsenter: reassociate to namespace 'ns/net' failed: ${work.netns}: ${a.message}`;
  throw new HostError({ kind: classifyStderr(a.message), argv, exitCode: 1, stderr });
}
