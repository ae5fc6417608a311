// The Perl text of an installed plugin client (install.ts fills in the @@NAME@@ values). Perl
// because it is Essential on Debian and starts in ~2 ms using builtins only. The common path (a daemon
// listens and answers) is all that is compiled on every call: no `use strict` (loading strict.pm cost
// ~0.65 ms a call; a unit test compiles the client under strict instead) and the rare paths (start a
// daemon, one-shot, retries) are a heredoc compiled only when taken (another ~0.65 ms a call) —
// together a third of the client's time, measured in docs/benchmarks.md.
//
// The client's decisions, in order (docs/cni.md, "No daemon to start by hand"):
// 1. connect to the daemon's socket and hand the request over;
// 2. nobody listens and auto-start is on (installed for it, root, no PODNET_CNI_SOCKET): take the
//    flock of SOCKET.lock, connect again (a client racing us may have started it), else start
//    `podnet cni serve --socket SOCKET --idle-exit N` detached (own session, stdin /dev/null, output
//    appended to SOCKET.log) and wait, bounded, until it listens — clients racing here start one;
// 3. no daemon: exec the one-shot Node plugin.
// A daemon that answers nothing (killed, stopping, over its connection limit): an ADD says "try again
// later" (code 11; the runtime DELs a failed ADD) — it may have half run. Anything else runs again
// (at most three more times): through the daemon if it still listens, else a new one or one-shot.

/** The client, with @@MARKER@@, @@TYPE@@, @@SOCKET@@, @@AUTOSTART@@, @@IDLE@@, @@NODE@@, @@MAIN@@,
 * @@PODNET@@, @@NODE_TEXT@@ to fill in. */
export const CLIENT_TEMPLATE = String.raw`#!/usr/bin/perl
@@MARKER@@
# Hands the CNI request (CNI_* environment, stdin) to podnet cni serve on a unix socket and prints its answer.
# With no daemon listening it may start one (one per socket, under the flock of SOCKET.lock,
# detached, output to SOCKET.log, exiting after @@IDLE@@ s without requests); when no daemon can run,
# it runs the plugin itself with Node (one-shot).
my $type = @@TYPE@@;
my $env_sock = $ENV{PODNET_CNI_SOCKET};
my $sock = $env_sock // @@SOCKET@@;
# A socket named in the environment is a daemon its owner runs: never start one there.
my $auto = @@AUTOSTART@@ && !defined($env_sock) && $> == 0;
my ($node, $main, $podnet) = (@@NODE@@, @@MAIN@@, @@PODNET@@);
binmode STDIN; binmode STDOUT;
my $in;

sub conn {
  my $s;
  socket($s, 1, 1, 0) or return;
  connect($s, pack('S Z108', 1, $sock)) or return;
  return $s;
}

# Sends the request; returns (exit code, stdout), or nothing when no answer came.
sub ask {
  my ($s) = @_;
  $in //= do { local $/; <STDIN> } // '';
  my $start = '';
  if (open(my $st, '<', '/proc/self/stat')) { local $/; my $t = <$st>; $start = (split ' ', substr($t, rindex($t, ')') + 2))[19] // ''; }
  my $req = "PODNET-CNI 1\ntype $type\npid $$\nstart $start\n";
  for my $k (sort keys %ENV) { next unless $k =~ /^CNI_/; (my $v = $ENV{$k}) =~ s/\n/ /g; $req .= "env $k=$v\n"; }
  $req .= 'stdin ' . length($in) . "\n" . $in;
  # MSG_NOSIGNAL: a daemon that closes the connection (over its connection limit, stopping) must not
  # kill us with SIGPIPE: the send fails, the read finds no answer, and we say so in the spec's words.
  # (Not $SIG{PIPE}: touching %SIG costs a sigaction per signal when Perl exits.)
  for (my $off = 0; $off < length $req;) { my $n = send($s, substr($req, $off), 0x4000); last unless defined $n && $n > 0; $off += $n; }
  my $resp = '';
  while (1) { my $n = sysread($s, my $chunk, 65536); last unless $n; $resp .= $chunk; }
  close $s;
  return ($1, substr($resp, $+[0], $2)) if $resp =~ /\A(\d+)\n(\d+)\n/;
  return;
}

# The rare paths, compiled only when taken: no daemon listening, or no answer from it.
my $cold = <<'COLD';
use strict;
# Starts the daemon unless a client racing us did (both under the flock of SOCKET.lock), in a
# directory only root may write; returns a connected socket, or nothing when no daemon came up.
sub start_daemon {
  my ($dir) = $sock =~ m{\A(/.*)/[^/]+\z} or return;
  mkdir $dir, 0700;
  my @st = lstat $dir;
  return unless @st && -d _ && $st[4] == 0 && !($st[2] & 022);
  sysopen(my $lock, "$sock.lock", 65, 0600) or return;
  my $locked = eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm 30; my $ok = flock($lock, 2); alarm 0; $ok };
  alarm 0;
  return unless $locked;
  my $s = conn();
  return $s if $s;
  my $pid = fork;
  return unless defined $pid;
  if ($pid == 0) {
    require POSIX;
    POSIX::setsid();
    chdir '/';
    umask 077;
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>>', "$sock.log"); open(STDERR, '>&', \*STDOUT);
    exec { $node } $node, $podnet, 'cni', 'serve', '--socket', $sock, '--idle-exit', '@@IDLE@@' or POSIX::_exit(127);
  }
  for (my $i = 0; $i < 1000; $i++) {
    $s = conn();
    return $s if $s;
    last if waitpid($pid, 1) == $pid;
    select(undef, undef, undef, 0.01);
  }
  return;
}

# The one-shot plugin. Stdin a daemon already took is handed on through a pipe.
sub oneshot {
  if (defined $in) {
    pipe(my $r, my $w);
    my $pid = fork;
    if (defined $pid && $pid == 0) { close $r; binmode $w; print $w $in; close $w; exit 0; }
    close $w;
    open(STDIN, '<&', $r);
  }
  exec { $node } $node, $main, $type or do {
    print '{"cniVersion":"1.0.0","code":999,"msg":"cannot run @@NODE_TEXT@@: install Node.js 20 or run podnet cni install again"}', "\n";
    exit 1;
  };
}

# Nobody listened: start the daemon (when allowed) or run one-shot.
if (!$s) {
  $s = $auto && start_daemon();
  oneshot() unless $s;
  @a = ask($s);
}
# No answer: a request other than ADD runs again, a few times (a daemon still dying may take one more
# connection and drop it).
for (my $try = 1; !@a && $try <= 3 && ($ENV{CNI_COMMAND} // '') ne 'ADD'; $try++) {
  select(undef, undef, undef, 0.05 * $try);
  my $again = conn() || ($auto && start_daemon());
  oneshot() unless $again;
  @a = ask($again);
}
1;
COLD

my $s = conn();
my @a = $s ? ask($s) : ();
if (!@a) { eval $cold or die $@; }
if (@a) { print $a[1]; exit $a[0]; }
print '{"cniVersion":"1.0.0","code":11,"msg":"podnet cni serve did not answer: try again later"}', "\n";
exit 1;
`;
