// rtnetlink from podnet's own process, without a native addon: Node cannot open a netlink socket or
// enter a namespace, so one persistent Perl process (Perl is Essential on Debian; `socket`, `send`,
// `recv` and `syscall` are builtins) does exactly that and no more. podnet encodes every message and
// decodes every answer itself (src/model/rtnetlink.ts); the helper only carries bytes:
//
//   N PATH        open a session in the namespace at PATH: setns into it, make a NETLINK_ROUTE
//                 socket there (a socket stays in the namespace it was made in), setns back home
//   F SLOT PATH   open PATH as file descriptor 100+SLOT (a namespace for IFLA_NET_NS_FD)
//   M HEX         send one message, answer every message the kernel sent back up to its ACK/DONE
//   S KEY VALUE   write /proc/sys/KEY inside the session's namespace (`X` when a net/ipv6 key is absent)
//   C             end the session (close the socket, the namespace, the slots)
//
// Every request gets one answer, in order: a line `K`, `X` or `E errno message`, or `M LENGTH` and that
// many bytes (the kernel's messages as they came). Requests may be sent before earlier ones are
// answered (a session's `N`, its messages and its `C` travel together); the helper answers all the
// requests one read brought in one write. Sessions are strictly
// sequential per helper; concurrent callers take turns or use another helper of the pool. The
// process plumbing (start, order of answers, ending) is helper.ts's.
import { Helper } from './helper.js';

/** The system calls the helper makes with Perl's `syscall`, which takes numbers (the POSIX module would
 * cost it ~6 ms of start-up), by architecture. Another architecture: no helper (iproute2 as
 * before). */
interface SyscallNumbers { setns: number; dup3: number; close: number }
const SYSCALLS: Partial<Record<string, SyscallNumbers>> = {
  x64: { setns: 308, dup3: 292, close: 3 },
  arm64: { setns: 268, dup3: 24, close: 57 },
};

const SCRIPT = String.raw`
my ($SETNS, $DUP3, $CLOSE) = @ARGV;
open(my $home, '<', '/proc/self/ns/net') or die "home: $!";
my ($sock, $nsf, @slots, $out);
sub enter { syscall($SETNS, fileno($_[0]), 0x40000000) == 0 }
sub err { my $e = $! + 0; $out .= "E $e $!\n" }
sub endsession { close $sock if $sock; close $nsf if $nsf; undef $sock; undef $nsf; syscall($CLOSE, $_) for @slots; @slots = () }
sub one {
  my ($op, $a, $b) = split / /, $_[0], 3;
  if ($op eq 'N') {
    endsession(); my ($f, $s);
    return err() unless open($f, '<', $a);
    return err() unless enter($f);
    my $ok = socket($s, 16, 3, 0); my ($e, $m) = ($! + 0, "$!");
    enter($home) or die "cannot return home: $!";
    return $out .= "E $e $m\n" unless $ok;
    setsockopt($s, 270, 11, 1); setsockopt($s, 270, 10, 1);
    setsockopt($s, 1, 8, 1 << 20); setsockopt($s, 1, 7, 1 << 20);
    $sock = $s; $nsf = $f; $out .= "K\n";
  } elsif ($op eq 'F') {
    my $f; return err() unless open($f, '<', $b);
    my $fd = 100 + $a; if (syscall($DUP3, fileno($f), $fd, 0) < 0) { err(); close $f; return }
    close $f; push @slots, $fd; $out .= "K\n";
  } elsif ($op eq 'M') {
    my $msg = pack('H*', $a); my $seq = unpack('x8 L', $msg);
    return $out .= "E 9 no session\n" unless $sock;
    return err() unless defined send($sock, $msg, 0);
    my ($got, $done) = ('', 0);
    while (!$done) {
      my $buf; if (!defined recv($sock, $buf, 1 << 20, 0)) { $got = undef; last }
      $got .= $buf; my $off = 0;
      while ($off + 16 <= length $buf) {
        my ($len, $type, $flags, $s) = unpack("x$off L S S L", $buf);
        last if $len < 16;
        $done = 1 if $s == $seq && ($type == 2 || $type == 3);
        $off += ($len + 3) & ~3;
      }
    }
    if (defined $got) { $out .= 'M ' . length($got) . "\n" . $got } else { err() }
  } elsif ($op eq 'S') {
    return $out .= "E 9 no session\n" unless $nsf;
    return err() unless enter($nsf);
    my $p = "/proc/sys/$a"; my $w;
    if ($a =~ m{^net/ipv6/} && !-e $p) { enter($home) or die; return $out .= "X\n" }
    my $ok = open($w, '>', $p) && defined syswrite($w, $b); my ($e, $m) = ($! + 0, "$!");
    close $w if $w; enter($home) or die "cannot return home: $!";
    $out .= $ok ? "K\n" : "E $e $m\n";
  } elsif ($op eq 'C') { endsession(); $out .= "K\n" }
  else { $out .= "E 22 unknown request\n" }
}
# Everything that has arrived is answered in one write: one wake-up of podnet per batch, not per answer.
my $in = '';
while (sysread(STDIN, $in, 1 << 20, length $in)) {
  $out = '';
  while ((my $i = index($in, "\n")) >= 0) { my $l = substr($in, 0, $i); substr($in, 0, $i + 1) = ''; one($l) }
  for (my $off = 0; $off < length $out;) { my $n = syswrite(STDOUT, $out, length($out) - $off, $off); die "stdout: $!" unless $n; $off += $n }
}
`;


/** One answer of the helper. */
export type HelperAnswer = { ok: true; bytes?: Buffer; skipped?: boolean } | { ok: false; errno: number; message: string };

function parse(line: string): HelperAnswer {
  if (line === 'K') return { ok: true };
  if (line === 'X') return { ok: true, skipped: true };
  const m = /^E (\d+) (.*)$/.exec(line);
  return { ok: false, errno: m ? Number(m[1]) : 0, message: m ? m[2] : line };
}

/** Cuts the helper's output into answers: lines, and `M LENGTH` frames with their bytes. */
class Answers {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes a frame still needs before it is worth looking again (chunks wait in `parts` till then). */
  private need = 0;
  private parts: Buffer[] = [];
  private have = 0;
  /** Feeds bytes; returns the answers now complete. */
  feed(chunk: Buffer): HelperAnswer[] {
    this.parts.push(chunk);
    this.have += chunk.length;
    if (this.have < this.need) return [];
    this.buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.parts = [];
    this.need = 0;
    const out: HelperAnswer[] = [];
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) break;
      const line = this.buf.toString('latin1', 0, nl);
      if (line.startsWith('M ')) {
        const len = Number(line.slice(2));
        if (this.buf.length < nl + 1 + len) {
          this.need = nl + 1 + len;
          break;
        }
        out.push({ ok: true, bytes: Buffer.from(this.buf.subarray(nl + 1, nl + 1 + len)) });
        this.buf = this.buf.subarray(nl + 1 + len);
      } else {
        out.push(parse(line));
        this.buf = this.buf.subarray(nl + 1);
      }
    }
    if (this.buf.length) this.parts.push(this.buf);
    this.have = this.buf.length;
    return out;
  }
}

/** A session in one namespace on one helper: requests are pipelined and answered in order. */
export class RtnlSession {
  constructor(private readonly helper: RtnlHelper) {}
  /** Sends one request line; resolves with its answer. */
  ask(line: string): Promise<HelperAnswer> {
    return this.helper.ask(line);
  }
}

/** One persistent helper process; `busy` while a session holds it. */
class RtnlHelper extends Helper<HelperAnswer> {
  busy = false;
  constructor(n: SyscallNumbers) {
    const answers = new Answers();
    super('rtnetlink helper', { perl: SCRIPT, args: [n.setns, n.dup3, n.close].map(String) }, (chunk) => answers.feed(chunk));
  }
}

/** Helpers at most: sessions beyond wait their turn (the kernel's RTNL lock serializes changes anyway). */
const MAX_HELPERS = 2;
const pool: RtnlHelper[] = [];
const queue: ((h: RtnlHelper) => void)[] = [];
let disabled = process.env.PODNET_NETLINK === '0' || SYSCALLS[process.arch] === undefined;

/** True when podnet may speak rtnetlink through the helper (not disabled with PODNET_NETLINK=0, a
 * known architecture, the helper not found broken). */
export function rtnlAvailable(): boolean {
  return !disabled;
}

/** Starts the pool's helpers now, idle, unless they run already (Runner.warm). */
export function warmRtnlHelpers(): void {
  if (disabled) return;
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i].dead && !pool[i].busy) pool.splice(i, 1);
  while (pool.length < MAX_HELPERS) pool.push(new RtnlHelper(SYSCALLS[process.arch]!));
}

function take(): Promise<RtnlHelper> {
  const free = pool.find((h) => !h.busy && !h.dead);
  if (free) {
    free.busy = true;
    return Promise.resolve(free);
  }
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i].dead) pool.splice(i, 1);
  if (pool.length < MAX_HELPERS) {
    const h = new RtnlHelper(SYSCALLS[process.arch]!);
    h.busy = true;
    pool.push(h);
    return Promise.resolve(h);
  }
  return new Promise((resolve) => queue.push(resolve));
}

function give(h: RtnlHelper): void {
  const next = queue.shift();
  if (next && !h.dead) next(h);
  else if (next) void take().then(next);
  else h.busy = false;
}

/** Runs `work` in a session in the namespace at `path` on a helper of the pool. The session's opening
 * travels with the first messages (not waited for); resolves with what `work` gave, or with the
 * failed opening (then `work`'s outcome is dropped), or undefined (having done nothing) when the
 * helper cannot run at all — the caller then runs iproute2. */
export async function withRtnlSession<T>(path: string, work: (s: RtnlSession) => Promise<T>): Promise<{ value: T } | { opened: HelperAnswer } | undefined> {
  if (disabled) return undefined;
  const h = await take();
  try {
    const opening = h.ask(`N ${path}`);
    const done = work(new RtnlSession(h)).then((value) => ({ value }), (error: unknown) => ({ error }));
    let opened: HelperAnswer;
    try {
      opened = await opening;
    } catch {
      disabled = true; // perl missing or broken: iproute2 from now on
      await done;
      return undefined;
    }
    const outcome = await done;
    // The end of the session is not waited for: the helper takes it before the next session's opening.
    h.ask('C').catch(() => undefined);
    if (!opened.ok) return { opened };
    if ('error' in outcome) throw outcome.error;
    return outcome;
  } finally {
    give(h);
  }
}
