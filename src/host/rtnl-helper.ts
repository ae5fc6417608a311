// rtnetlink from podnet's own process, without a native addon: Node cannot open a netlink socket or
// enter a namespace, so one persistent Perl process (Perl is Essential on Debian; `socket`, `send`,
// `recv` and `syscall` are builtins) does exactly that and no more. podnet encodes every message and
// decodes every answer itself (src/model/rtnetlink.ts); the helper only carries bytes. Every request
// names its session (ID), so one helper holds many sessions at once:
//
//   N ID PATH        open session ID in the namespace at PATH: setns into it, make a NETLINK_ROUTE
//                    socket there (a socket stays in the namespace it was made in), setns back home
//   F ID SLOT PATH   open PATH as file descriptor 100+SLOT (a namespace for IFLA_NET_NS_FD); the
//                    slot is the helper's, unique among its open sessions, and closed with ID
//   M ID HEX         send one message on ID's socket, answer every message the kernel sent back up to
//                    its ACK/DONE
//   S ID KEY VALUE   write /proc/sys/KEY inside ID's namespace (`X` when a net/ipv6 key is absent)
//   C ID             end session ID (close its socket, its namespace, its slots)
//
// Every request gets one answer, in order: a line `K`, `X` or `E errno message`, or `M LENGTH` and that
// many bytes (the kernel's messages as they came). Requests may be sent before earlier ones are
// answered (a session's `N`, its messages and its `C` travel together); the helper answers all the
// requests one read brought in one write. A session's requests are carried out in the order sent;
// sessions interleave, so the helper works on one while podnet reads another's answers (a helper
// held by one session at a time idled through each of its round trips). The
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
my (%sock, %nsf, %slots, $out);
sub enter { syscall($SETNS, fileno($_[0]), 0x40000000) == 0 }
sub err { my $e = $! + 0; $out .= "E $e $!\n" }
sub endsession {
  my $id = shift;
  close $sock{$id} if $sock{$id}; close $nsf{$id} if $nsf{$id};
  syscall($CLOSE, $_) for @{$slots{$id} || []};
  delete $sock{$id}; delete $nsf{$id}; delete $slots{$id};
}
sub one {
  my ($op, $id, $rest) = split / /, $_[0], 3;
  if ($op eq 'N') {
    endsession($id); my ($f, $s);
    return err() unless open($f, '<', $rest);
    return err() unless enter($f);
    my $ok = socket($s, 16, 3, 0); my ($e, $m) = ($! + 0, "$!");
    enter($home) or die "cannot return home: $!";
    return $out .= "E $e $m\n" unless $ok;
    setsockopt($s, 270, 11, 1); setsockopt($s, 270, 10, 1);
    setsockopt($s, 1, 8, 1 << 20); setsockopt($s, 1, 7, 1 << 20);
    $sock{$id} = $s; $nsf{$id} = $f; $out .= "K\n";
  } elsif ($op eq 'F') {
    my ($slot, $path) = split / /, $rest, 2; my $f;
    return err() unless open($f, '<', $path);
    my $fd = 100 + $slot; if (syscall($DUP3, fileno($f), $fd, 0) < 0) { err(); close $f; return }
    close $f; push @{$slots{$id}}, $fd; $out .= "K\n";
  } elsif ($op eq 'M') {
    my $sock = $sock{$id};
    return $out .= "E 9 no session\n" unless $sock;
    my $msg = pack('H*', $rest); my $seq = unpack('x8 L', $msg);
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
    my $nsf = $nsf{$id};
    return $out .= "E 9 no session\n" unless $nsf;
    my ($key, $value) = split / /, $rest, 2;
    return err() unless enter($nsf);
    my $p = "/proc/sys/$key"; my $w;
    if ($key =~ m{^net/ipv6/} && !-e $p) { enter($home) or die; return $out .= "X\n" }
    my $ok = open($w, '>', $p) && defined syswrite($w, $value); my ($e, $m) = ($! + 0, "$!");
    close $w if $w; enter($home) or die "cannot return home: $!";
    $out .= $ok ? "K\n" : "E $e $m\n";
  } elsif ($op eq 'C') { endsession($id); $out .= "K\n" }
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
  private readonly slots: number[] = [];
  constructor(private readonly helper: RtnlHelper, private readonly id: number) {}
  /** Sends one request of this session (`M HEX`, `S KEY VALUE`, `F SLOT PATH`…); resolves with its answer. */
  ask(request: string): Promise<HelperAnswer> {
    const sp = request.indexOf(' ');
    return this.helper.ask(sp < 0 ? `${request} ${this.id}` : `${request.slice(0, sp)} ${this.id}${request.slice(sp)}`);
  }
  /** A slot (file descriptor 100+SLOT in the helper) for `F`, this session's until it ends. */
  slot(): number {
    const n = this.helper.freeSlots.pop() ?? this.helper.nextSlot++;
    this.slots.push(n);
    return n;
  }
  /** Ends the session (not waited for: the helper takes it before any later request). */
  close(): void {
    this.helper.ask(`C ${this.id}`).catch(() => undefined);
    this.helper.freeSlots.push(...this.slots.splice(0));
    this.helper.sessions--;
    waiting.shift()?.();
  }
}

/** One persistent helper process, holding `sessions` sessions now. */
class RtnlHelper extends Helper<HelperAnswer> {
  sessions = 0;
  nextId = 1;
  nextSlot = 0;
  readonly freeSlots: number[] = [];
  constructor(n: SyscallNumbers) {
    const answers = new Answers();
    super('rtnetlink helper', { perl: SCRIPT, args: [n.setns, n.dup3, n.close].map(String) }, (chunk) => answers.feed(chunk));
  }
}

/** Helpers in the pool; a session goes to the one holding fewest. Two: the changes of one and the
 * reading, encoding and sysctl writes of the other overlap (the kernel's RTNL lock serializes most
 * changes anyway). */
const MAX_HELPERS = 2;
/** Sessions one helper holds at most (more wait their turn): each holds two descriptors (its socket,
 * its namespace), and with the helper's few own they must stay below the slots' (SLOT_FD_BASE). */
const MAX_SESSIONS = 40;
const pool: RtnlHelper[] = [];
const waiting: (() => void)[] = [];
let disabled = process.env.PODNET_NETLINK === '0' || SYSCALLS[process.arch] === undefined;

/** True when podnet may speak rtnetlink through the helper (not disabled with PODNET_NETLINK=0, a
 * known architecture, the helper not found broken). */
export function rtnlAvailable(): boolean {
  return !disabled;
}

/** The pool without its dead helpers, filled up to MAX_HELPERS with new ones. */
function fillPool(): void {
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i].dead) pool.splice(i, 1);
  while (pool.length < MAX_HELPERS) pool.push(new RtnlHelper(SYSCALLS[process.arch]!));
}

/** Starts the pool's helpers now, idle, unless they run already (Runner.warm). */
export function warmRtnlHelpers(): void {
  if (!disabled) fillPool();
}

/** A new session on the helper holding fewest (a dead helper's place taken by a new one), once one
 * has room. */
async function open(): Promise<RtnlSession> {
  for (;;) {
    fillPool();
    const h = pool.reduce((a, b) => (b.sessions < a.sessions ? b : a));
    if (h.sessions < MAX_SESSIONS) {
      h.sessions++;
      return new RtnlSession(h, h.nextId++);
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
}

/** Runs `work` in a session in the namespace at `path` on a helper of the pool. The session's opening
 * travels with the first messages (not waited for); resolves with what `work` gave, or with the
 * failed opening (then `work`'s outcome is dropped), or undefined (having done nothing) when the
 * helper cannot run at all — the caller then runs iproute2. */
export async function withRtnlSession<T>(path: string, work: (s: RtnlSession) => Promise<T>): Promise<{ value: T } | { opened: HelperAnswer } | undefined> {
  if (disabled) return undefined;
  const s = await open();
  try {
    const opening = s.ask(`N ${path}`);
    const done = work(s).then((value) => ({ value }), (error: unknown) => ({ error }));
    let opened: HelperAnswer;
    try {
      opened = await opening;
    } catch {
      disabled = true; // perl missing or broken: iproute2 from now on
      await done;
      return undefined;
    }
    const outcome = await done;
    if (!opened.ok) return { opened };
    if ('error' in outcome) throw outcome.error;
    return outcome;
  } finally {
    s.close();
  }
}
