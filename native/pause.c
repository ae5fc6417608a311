// podnet's pause spawner (src/host/pause.ts): makes the processes that hold a pod's network namespace,
// as Kubernetes' pause container does, without a fork per pod. It reads one namespace path per line
// on stdin; for each it enters that namespace (setns), makes a pause process there and returns home,
// answering `K PID` or `E ERRNO MESSAGE` on stdout, one line per request, in order (the answers to
// the requests one read brought come in one write).
//
// Why C, and why clone(CLONE_VM): on the virtual machines of docs/benchmarks.md a fork costs ~2 ms of
// CPU whatever the process (page tables copied, then a copy-on-write fault, each a trap to the
// hypervisor), so 100 pods cost a Perl spawner ~330 ms of CPU. A child made with CLONE_VM shares
// the spawner's memory instead of copying it: ~0.1 ms. It is still a process of its own (its own
// PID, thread group, session, file table, namespaces and signal handlers), so it is seen, entered and
// killed as any pause process; it runs only the few system calls below, on a stack of its own, and
// then sleeps. The memory it shares stays alive as long as one of them does (the spawner's exit
// does not end them).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define STACK (64 * 1024)
#define MAX_HELD 64

static int nullfd = -1;
static int held[MAX_HELD];
static int nheld;

// The pause process: its own session (no terminal's signals reach it), /dev/null on its stdio, no
// other file the spawner held, `/` as its directory, named `pause`; then it sleeps until a signal ends it.
// Only system calls that cannot fail here: errno belongs to the spawner's thread, whose memory this shares.
static int pause_child(void *arg) {
  int nsfd = (int)(intptr_t)arg;
  setsid();
  for (int fd = 0; fd < 3; fd++) dup2(nullfd, fd);
  for (int i = 0; i < nheld; i++) close(held[i]);
  close(nsfd);
  if (chdir("/") != 0) _exit(1);
  signal(SIGCHLD, SIG_DFL);
  prctl(PR_SET_NAME, "pause", 0, 0, 0);
  for (;;) pause();
  return 0;
}

static void answer_errno(char *out, size_t *olen, size_t cap, int e) {
  *olen += snprintf(out + *olen, cap - *olen, "E %d %s\n", e, strerror(e));
}

// One request: a pause process in the namespace at `path`.
static void one(const char *path, int home, char *out, size_t *olen, size_t cap) {
  int f = open(path, O_RDONLY);
  if (f < 0) return answer_errno(out, olen, cap, errno);
  if (setns(f, CLONE_NEWNET) != 0) {
    int e = errno;
    close(f);
    return answer_errno(out, olen, cap, e);
  }
  pid_t pid = -1;
  void *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack != MAP_FAILED) pid = clone(pause_child, (char *)stack + STACK, CLONE_VM | SIGCHLD, (void *)(intptr_t)f);
  int e = errno;
  if (setns(home, CLONE_NEWNET) != 0) {
    dprintf(2, "pause spawner: cannot return home: %s\n", strerror(errno));
    _exit(1);
  }
  close(f);
  if (pid < 0) {
    if (stack != MAP_FAILED) munmap(stack, STACK);
    return answer_errno(out, olen, cap, e);
  }
  *olen += snprintf(out + *olen, cap - *olen, "K %d\n", (int)pid);
}

static int write_all(const char *buf, size_t len) {
  for (size_t off = 0; off < len;) {
    ssize_t w = write(1, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    off += (size_t)w;
  }
  return 1;
}

int main(void) {
  signal(SIGCHLD, SIG_IGN); // its children are reaped by the kernel
  prctl(PR_SET_NAME, "pause-spawner", 0, 0, 0);
  int home = open("/proc/self/ns/net", O_RDONLY);
  nullfd = open("/dev/null", O_RDWR);
  if (home < 0 || nullfd < 0) {
    dprintf(2, "pause spawner: %s\n", strerror(errno));
    return 1;
  }
  // Every file held besides stdio (inherited ones, home, /dev/null): what a pause process closes.
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 1;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    int fd = atoi(e->d_name);
    if (fd > 2 && fd != dirfd(d) && nheld < MAX_HELD) held[nheld++] = fd;
  }
  closedir(d);
  static char in[65536], out[65536];
  size_t len = 0;
  int skipping = 0; // within a line longer than `in`, already refused
  for (;;) {
    ssize_t n = read(0, in + len, sizeof in - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    len += (size_t)n;
    size_t olen = 0, start = 0;
    for (char *nl; (nl = memchr(in + start, '\n', len - start)) != NULL; start = (size_t)(nl - in) + 1) {
      *nl = '\0';
      if (skipping) {
        skipping = 0;
        continue;
      }
      if (olen > sizeof out - 512) { // written before the buffer could overflow
        if (!write_all(out, olen)) return 1;
        olen = 0;
      }
      one(in + start, home, out, &olen, sizeof out);
    }
    memmove(in, in + start, len - start);
    len -= start;
    if (len == sizeof in) { // a line longer than any path: refused, and the rest of it dropped
      if (!skipping) answer_errno(out, &olen, sizeof out, ENAMETOOLONG);
      skipping = 1;
      len = 0;
    }
    if (!write_all(out, olen)) return 1;
  }
}
