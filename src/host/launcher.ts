// The processes podnet talks to for a whole verb — the Perl helpers (rtnetlink, locks, the pause
// spawner) and the shells of ShellRunner — are started by one Perl process per podnet process, the
// launcher, instead of by Node. Why: Node's spawn() forks the whole Node process and waits for the
// child's exec, 4–11 ms of main-thread time per child on the machines of docs/benchmarks.md (up to
// 33 ms while a lab's pause processes exit), and a `lab up` started six such children, a `lab down`
// two. Perl forks a small process in a fraction of that, off Node's thread.
//
// How a launched process reaches podnet: podnet listens on an abstract Unix socket of its own
// (`@podnet-PID-RANDOM`: no file, gone with the process, in podnet's network namespace; Node binds it
// with the whole 108-byte sun_path, NUL-padded, so the launcher connects to exactly that); the launcher
// forks, and the child connects to it, says which launch it is (a random token podnet handed the
// launcher), puts the connection on its stdin and stdout (a second one on its stderr when asked),
// and execs the program. A connection without a token podnet is waiting for is closed. The launcher
// reaps its children and reports each exit; it and they have their own session (no terminal's
// Ctrl-C reaches them, as with `spawn(…, { detached: true })`), end when podnet closes their
// connections, and die with it in any case (EOF). Equivalent to starting `argv` with its stdio piped.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

// Builtins only (Perl is Essential on Debian; no module loads). Requests: `TOKEN FLAGS ENV PROGRAM
// ARGV…`, every field `x` + hex (so an empty one survives the split; ENV: `K=V` pairs joined by NUL);
// FLAGS `e` asks for a second connection for stderr (else /dev/null). Answers: `S TOKEN PID` (forked), `F TOKEN` (could not fork), `X PID STATUS`.
// Children are reaped in the loop: Perl runs a SIGCHLD handler only between its own operations, so
// an exit just before read() blocked went unreported until the next request (a `lab up` hung ending
// its helpers); SIGCHLD now only interrupts select(), which also wakes every 0.1 s.
const SCRIPT = String.raw`
$| = 1; my $name = "\0" . $ARGV[0]; my $in = ''; my $rin = ''; vec($rin, fileno(STDIN), 1) = 1;
$SIG{CHLD} = sub {}; sub reap { while ((my $p = waitpid(-1, 1)) > 0) { print "X $p $?\n" } }
sub link_to { my ($tok, $side) = @_; socket(my $s, 1, 1, 0) or exit 126; connect($s, pack('S a108', 1, $name)) or exit 126; syswrite($s, "$tok $side\n"); return $s }
sub start {
  my ($tok, $flags, $env, @argv) = map { pack('H*', substr($_, 1)) } split / /, $_[0];
  my $pid = fork;
  if (!defined $pid) { print "F $tok\n"; return }
  if ($pid) { print "S $tok $pid\n"; return }
  $SIG{CHLD} = 'DEFAULT';
  my $a = link_to($tok, 'A');
  my $b = $flags =~ /e/ ? link_to($tok, 'B') : undef;
  open(STDIN, '<&', $a); open(STDOUT, '>&', $a); close $a;
  if ($b) { open(STDERR, '>&', $b); close $b } else { open(STDERR, '>', '/dev/null') }
  for (split /\0/, $env) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v }
  my ($prog, @args) = @argv;
  exec { $prog } @args;
  exit 127;
}
while (1) {
  reap();
  next if select(my $rout = $rin, undef, undef, 0.1) <= 0;
  my $n = sysread(STDIN, $in, 65536, length $in);
  if (!defined $n) { next if $! == 4; last }
  last if $n == 0;
  while ($in =~ s/\A([^\n]*)\n//) { start($1) }
}
`;

const field = (s: string) => `x${Buffer.from(s).toString('hex')}`;

/** A process the launcher started: its stdio once it connected, its PID once forked. */
export class Launched {
  pid: number | undefined;
  /** Its stdin and stdout (one connection), and its stderr when asked for. */
  readonly ready: Promise<{ io: Socket; err?: Socket }>;
  /** Resolves once it has exited (reaped by the launcher) and its connections are closed — or it
   * never started. */
  readonly exited: Promise<void>;
  private readonly reapedP: Promise<void>;
  private resolveReady!: (s: { io: Socket; err?: Socket }) => void;
  private rejectReady!: (e: Error) => void;
  private reaped!: () => void;
  private io?: Socket;
  private err?: Socket;
  /** Set once its connections are all there, or it ended. */
  settled = false;
  private done = false;

  constructor(readonly token: string, private readonly wantsErr: boolean, private readonly hold: (on: boolean) => void) {
    this.ready = new Promise((resolve, reject) => { this.resolveReady = resolve; this.rejectReady = reject; });
    this.ready.catch(() => undefined);
    const reaped = new Promise<void>((resolve) => { this.reaped = resolve; });
    this.reapedP = reaped;
    this.exited = this.ready.then(
      ({ io, err }) => Promise.all([reaped, closed(io), err && closed(err)]).then(() => undefined),
      () => undefined,
    );
  }

  /** Sends `signal` to it while it runs. */
  kill(signal: NodeJS.Signals): void {
    if (this.pid === undefined || this.done) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // gone already
    }
  }

  /** A connection of this launch arrived. */
  connected(side: string, sock: Socket): void {
    if (side === 'A' && !this.io) this.io = sock;
    else if (side === 'B' && this.wantsErr && !this.err) this.err = sock;
    else {
      sock.destroy();
      return;
    }
    if (this.io && (this.err || !this.wantsErr)) {
      this.settled = true;
      this.resolveReady({ io: this.io, ...(this.err ? { err: this.err } : {}) });
    }
  }

  /** Resolves once it has exited and its connections are closed; meanwhile the launcher's report of
   * the exit keeps podnet alive. */
  waitExit(): Promise<void> {
    return this.holding(this.exited);
  }

  /** Resolves once it has exited (reaped by the launcher), whoever still holds its connections. */
  waitReaped(): Promise<void> {
    return this.holding(this.reapedP);
  }

  private async holding(p: Promise<void>): Promise<void> {
    this.hold(true);
    try {
      await p;
    } finally {
      this.hold(false);
    }
  }

  /** It exited, or the launcher is gone (then whoever holds its connections sees them close). */
  ended(why: string): void {
    this.done = true;
    this.settled = true;
    this.rejectReady(new Error(why));
    this.reaped();
  }
}

const closed = (s: Socket) => new Promise<void>((resolve) => {
  if (s.destroyed) resolve();
  else s.once('close', () => resolve());
});

class Launcher {
  private readonly name = `podnet-${process.pid}-${randomBytes(8).toString('hex')}`;
  private readonly server: Server;
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly byToken = new Map<string, Launched>();
  private readonly byPid = new Map<number, Launched>();
  private buf = '';
  /** Callers waiting for an exit report. */
  private holds = 0;
  dead = false;

  constructor() {
    this.server = createServer((sock) => this.accept(sock));
    this.server.on('error', () => this.die('the launcher\'s socket failed'));
    this.server.listen(`\0${this.name}`);
    this.server.unref();
    this.child = spawn('perl', ['-e', SCRIPT, this.name], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (c: string) => this.answer(c));
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', () => this.die('perl could not be started'));
    this.child.on('exit', () => this.die('the launcher exited'));
    this.idle();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The abstract socket launched processes connect to (`\0NAME`). */
  get address(): string {
    return `\0${this.name}`;
  }

  /** Starts `argv` (argv[0] the program, found on PATH; `argv0` the name it runs under). */
  launch(argv: readonly string[], o: { argv0?: string; env?: Record<string, string>; stderr?: boolean }): Launched {
    const token = randomBytes(12).toString('hex');
    const l = new Launched(token, !!o.stderr, (on) => { this.holds += on ? 1 : -1; this.idle(); });
    if (this.dead) {
      l.ended('the launcher is gone');
      return l;
    }
    this.byToken.set(token, l);
    const env = Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`).join('\0');
    const fields = [token, o.stderr ? 'e' : '-', env, argv[0], o.argv0 ?? argv[0], ...argv.slice(1)];
    this.idle(true);
    this.child.stdin.write(`${fields.map(field).join(' ')}\n`);
    void l.exited.then(() => this.forget(l));
    return l;
  }

  /** Ends the launcher (EOF) and resolves once it has exited; what it started is not waited for. */
  async end(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.ref();
    this.child.stdin.end();
    await exited;
  }

  private accept(sock: Socket): void {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => sock.destroy(), 5000).unref();
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 64) sock.destroy();
        return;
      }
      sock.off('data', onData);
      sock.pause();
      clearTimeout(timer);
      const [token, side] = head.subarray(0, nl).toString('latin1').split(' ');
      const rest = head.subarray(nl + 1);
      if (rest.length) sock.unshift(rest);
      const l = this.byToken.get(token);
      if (l) l.connected(side, sock);
      else sock.destroy();
      this.idle();
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
  }

  private answer(chunk: string): void {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop() ?? '';
    for (const line of lines) {
      const [what, a, b] = line.split(' ');
      if (what === 'S') {
        const l = this.byToken.get(a);
        if (l) {
          l.pid = Number(b);
          this.byPid.set(l.pid, l);
        }
      } else if (what === 'F') {
        this.byToken.get(a)?.ended('the launcher could not fork');
      } else if (what === 'X') {
        this.byPid.get(Number(a))?.ended(`exited (${b})`);
      }
    }
    this.idle();
  }

  private forget(l: Launched): void {
    this.byToken.delete(l.token);
    if (l.pid !== undefined) this.byPid.delete(l.pid);
    this.idle();
  }

  private die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    for (const l of this.byToken.values()) l.ended(why);
    this.server.close();
    if (launcher === this) launcher = undefined;
  }

  /** The launcher (its pipes, its socket) keeps podnet alive only while a launch waits for its
   * connections or someone waits for an exit report. */
  private idle(busy = false): void {
    const on = busy || this.holds > 0 || [...this.byToken.values()].some((l) => !l.settled);
    for (const h of [this.child, this.child.stdout, this.child.stdin, this.server] as unknown as { ref(): void; unref(): void }[]) {
      if (on) h.ref();
      else h.unref();
    }
  }
}

let launcher: Launcher | undefined;

/** Starts `argv` through this process's launcher (started on first use). */
export function launch(argv: readonly string[], o: { argv0?: string; env?: Record<string, string>; stderr?: boolean } = {}): Launched {
  launcher ??= new Launcher();
  return launcher.launch(argv, o);
}

/** The launcher's PID, while it runs. */
export function launcherPid(): number | undefined {
  return launcher?.pid;
}

/** The launcher's socket address, while it runs (for tests: a connection without a token is closed). */
export function launcherAddress(): string | undefined {
  return launcher?.address;
}

/** Ends the launcher (after whoever called it ended what it started). */
export async function endLauncher(): Promise<void> {
  const l = launcher;
  launcher = undefined;
  await l?.end();
}
