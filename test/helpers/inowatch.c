// inowatch: a child process that holds real inotify instances and watches (and fanotify groups and
// marks) for tests and the benchmark. It reads one command per line on stdin and answers one line
// "ok VALUE" or "err MESSAGE" on stdout. It exits when stdin closes, so a test that dies takes it along.
// Between commands it reads the events of its instances and notification groups as they come, as a
// watcher that keeps up does (one thread: poll), unless told to hold them.
//
//   init                  new inotify instance, read as its events come; answers its fd
//   watch FD PATH         inotify_add_watch(FD, PATH, IN_ALL_EVENTS); answers the wd
//   watchdir FD DIR       watch DIR and every entry of DIR; answers how many
//   rm FD WD              inotify_rm_watch
//   open PATH             open(PATH, O_RDONLY) as noise; answers the fd
//   opennoise N PATH      open PATH N times (noise at scale in one round trip); answers N
//   close FD              close(FD)
//   comm NAME             prctl(PR_SET_NAME): what /proc/PID/comm shows
//   commx HEX             comm with the name given as hex bytes (a newline, any byte)
//   watchx FD HEX         watch with the path given as hex bytes
//   fork                  fork a child that shares every fd, stays alive until its parent's
//                         stdin closes, and answers its pid
//   pid                   answers getpid()
//   leaderexit            the main thread exits (pthread_exit) while a new thread goes on serving
//                         the commands: /proc/PID/fd then lists nothing (the main thread's files
//                         are gone), and the fds are the other thread's (/proc/PID/task/TID/fd).
//                         Answers that thread's tid once the main thread is a zombie.
//   userns                unshare(CLONE_NEWUSER): a user namespace of its own, with every capability in it
//                         until it execs (none here); its maps are written from outside
//   setuid ID             setresgid and setresuid to ID (in a user namespace: once its maps are written)
//   faninit               new fanotify group (FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY), read as its
//                         events come; answers its fd
//   fanmark FD PATH       inode mark on PATH (FAN_OPEN | FAN_CLOSE_WRITE, FAN_EVENT_ON_CHILD)
//   fanmount FD PATH      mount mark on the mount at PATH (FAN_OPEN | FAN_CLOSE_WRITE)
//   fanfs FD PATH         filesystem mark on PATH's filesystem (FAN_OPEN | FAN_CLOSE_WRITE)
//   faninitperm           new fanotify group of class content (permission events), not read: every
//                         open under its marks waits for an answer it does not give; answers its fd
//   fanpermmount FD PATH  mount mark on the mount at PATH (FAN_OPEN_PERM)
//   fananswer FD          read FD's permission events as they come and allow each (FAN_ALLOW)
//   hold FD               stop reading FD: its events stay queued, as a stuck reader leaves them
//                         (a permission group's opens then wait)
//   fionread FD           ioctl(FD, FIONREAD): the bytes queued on FD, as inotop should read them
//
// Run as `inowatch deny NR CMD [ARG...]` it execs CMD under a seccomp filter that refuses syscall
// NR with EPERM, as a container runtime's profile does (pidfd_getfd is 438).
//
// inowatch watching PATH...: one instance watching each PATH, held until killed (a pod's process, which has
// no stdin to read commands from).
#define _GNU_SOURCE
#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static void answer_ok(long v) { printf("ok %ld\n", v); fflush(stdout); }
static void answer_err(const char *what) { printf("err %s: %s\n", what, strerror(errno)); fflush(stdout); }

// Decodes hex in place; -1 on a bad digit.
static int unhex(char *text) {
  size_t n = strlen(text);
  if (n % 2) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(text + 2 * i, "%2x", &v) != 1) return -1;
    text[i] = (char)v;
  }
  text[n / 2] = 0;
  return 0;
}

/** "FD PATH" -> fanotify_mark(FD, FAN_MARK_ADD | how, mask, AT_FDCWD, PATH). */
static void fan_mark(const char *arg, unsigned int how, unsigned long long mask) {
  char *path = strchr(arg, ' ');
  if (!path) { errno = EINVAL; answer_err("fanotify_mark"); return; }
  if (fanotify_mark(atoi(arg), FAN_MARK_ADD | how, mask, AT_FDCWD, path + 1) < 0) answer_err("fanotify_mark");
  else answer_ok(0);
}

// Execs argv under a seccomp filter that fails syscall `nr` with EPERM and allows the rest.
static int deny_and_exec(long nr, char **argv) {
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = { .len = sizeof filter / sizeof filter[0], .filter = filter };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) < 0) {
    perror("inowatch deny: seccomp");
    return 125;
  }
  execvp(argv[0], argv);
  perror("inowatch deny: exec");
  return 127;
}

// The fds read as their events come: the data of each says how.
enum reading { READ_INOTIFY, READ_FANOTIFY, ANSWER_FANOTIFY };
static int readers = -1;

static int read_as_events_come(int fd, enum reading how) {
  struct epoll_event event = { .events = EPOLLIN, .data.u64 = (uint64_t)fd << 8 | how };
  return epoll_ctl(readers, EPOLL_CTL_ADD, fd, &event);
}

/** Reads every fd that has events: inotify's are dropped; fanotify's fds closed, permission events allowed. */
static void read_ready(void) {
  struct epoll_event ready[64];
  int n = epoll_wait(readers, ready, 64, 0);
  static char buffer[65536];
  for (int i = 0; i < n; i++) {
    int fd = (int)(ready[i].data.u64 >> 8);
    enum reading how = (enum reading)(ready[i].data.u64 & 0xff);
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0 || how == READ_INOTIFY) continue;
    for (struct fanotify_event_metadata *event = (void *)buffer; FAN_EVENT_OK(event, got); event = FAN_EVENT_NEXT(event, got)) {
      struct fanotify_response response = { .fd = event->fd, .response = FAN_ALLOW };
      if (how == ANSWER_FANOTIFY && (event->mask & FAN_ALL_PERM_EVENTS)) (void)!write(fd, &response, sizeof response);
      if (event->fd >= 0) close(event->fd);
    }
  }
}

static void command(char *line);
static void *serve(void *arg);

// The commands read and not yet served; whichever thread serves them (leaderexit) takes them on.
static char lines[16384];
static size_t have;
/** Set by leaderexit: once its line is served, a new thread serves the rest and the main thread exits. */
static int leader_exits;

int main(int argc, char **argv) {
  if (argc > 3 && !strcmp(argv[1], "deny")) return deny_and_exec(atol(argv[2]), argv + 3);
  if (argc > 2 && !strcmp(argv[1], "watching")) {
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) { perror("inotify_init1"); return 1; }
    for (int i = 2; i < argc; i++)
      if (inotify_add_watch(fd, argv[i], IN_ALL_EVENTS) < 0) { perror(argv[i]); return 1; }
    for (;;) pause();
  }
  // Far above the fds the tests make (their first instance is fd 3); under a lower fd limit
  // (prlimit --nofile, a test running a process out of fds), the highest fd it allows.
  int made = epoll_create1(EPOLL_CLOEXEC);
  struct rlimit nofile;
  long above = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur <= 901 ? (long)nofile.rlim_cur - 1 : 900;
  readers = made < 0 ? -1 : above <= made ? made : fcntl(made, F_DUPFD_CLOEXEC, above);
  if (readers < 0) { perror("inowatch: epoll_create1"); return 1; }
  if (readers != made) close(made);
  serve(NULL);
  return 0;
}

/**
 * The main thread, or the thread that takes over from it (leaderexit: `arg` non-null), once the
 * main thread is a zombie: answers that thread's tid.
 */
static void *serve(void *arg) {
  if (arg) {
    // The main thread's files go in its exit (exit_files) before it becomes a zombie: a test
    // that reads /proc once answered sees them gone.
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", getpid(), getpid());
    for (int tries = 0; tries < 5000; tries++) {
      int fd = open(path, O_RDONLY);
      ssize_t n = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
      if (fd >= 0) close(fd);
      if (n <= 0) break;
      stat[n] = 0;
      char *state = strrchr(stat, ')');
      if (state && state[1] == ' ' && state[2] == 'Z') break;
      usleep(1000);
    }
    answer_ok((long)syscall(SYS_gettid));
  }
  for (;;) {
    char *end;
    while ((end = memchr(lines, '\n', have))) {
      *end = 0;
      command(lines);
      size_t used = (size_t)(end + 1 - lines);
      memmove(lines, end + 1, have - used);
      have -= used;
      if (leader_exits) {
        leader_exits = 0;
        pthread_t next;
        int failed = pthread_create(&next, NULL, serve, (void *)1);
        if (!failed) pthread_exit(NULL);
        errno = failed;
        answer_err("pthread_create");
      }
    }
    struct pollfd wait[2] = { { .fd = 0, .events = POLLIN }, { .fd = readers, .events = POLLIN } };
    if (poll(wait, 2, -1) < 0) {
      if (errno == EINTR) continue;
      exit(1);
    }
    if (wait[1].revents) read_ready();
    if (!wait[0].revents) continue;
    ssize_t n = read(0, lines + have, sizeof lines - 1 - have);
    // exit, not return: from the thread that took over, a return would end that thread alone.
    if (n <= 0) exit(0);
    have += (size_t)n;
  }
}

static void command(char *line) {
  char *arg = strchr(line, ' ');
  if (arg) *arg++ = 0;
  if (!strcmp(line, "init")) {
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0 || read_as_events_come(fd, READ_INOTIFY) < 0) answer_err("inotify_init1"); else answer_ok(fd);
  } else if (!strcmp(line, "watch") && arg) {
    int fd = atoi(arg);
    char *path = strchr(arg, ' ');
    if (!path) { errno = EINVAL; answer_err("watch"); return; }
    int wd = inotify_add_watch(fd, path + 1, IN_ALL_EVENTS | IN_DONT_FOLLOW);
    if (wd < 0) answer_err("inotify_add_watch"); else answer_ok(wd);
  } else if (!strcmp(line, "watchdir") && arg) {
    int fd = atoi(arg);
    char *dir = strchr(arg, ' ');
    if (!dir) { errno = EINVAL; answer_err("watchdir"); return; }
    dir++;
    if (inotify_add_watch(fd, dir, IN_ALL_EVENTS) < 0) { answer_err("inotify_add_watch"); return; }
    long n = 1;
    DIR *d = opendir(dir);
    if (!d) { answer_err("opendir"); return; }
    struct dirent *e;
    char path[8192];
    int failed = 0;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      if (inotify_add_watch(fd, path, IN_ALL_EVENTS | IN_DONT_FOLLOW) < 0) { failed = 1; break; }
      n++;
    }
    closedir(d);
    if (failed) answer_err("inotify_add_watch"); else answer_ok(n);
  } else if (!strcmp(line, "rm") && arg) {
    int fd, wd;
    if (sscanf(arg, "%d %d", &fd, &wd) != 2) { errno = EINVAL; answer_err("rm"); return; }
    if (inotify_rm_watch(fd, wd) < 0) answer_err("inotify_rm_watch"); else answer_ok(0);
  } else if (!strcmp(line, "open") && arg) {
    int fd = open(arg, O_RDONLY);
    if (fd < 0) answer_err("open"); else answer_ok(fd);
  } else if (!strcmp(line, "opennoise") && arg) {
    char *path = strchr(arg, ' ');
    if (!path) { errno = EINVAL; answer_err("opennoise"); return; }
    long n = atol(arg), opened = 0;
    while (opened < n && open(path + 1, O_RDONLY) >= 0) opened++;
    if (opened < n) answer_err("open"); else answer_ok(opened);
  } else if (!strcmp(line, "close") && arg) {
    if (close(atoi(arg)) < 0) answer_err("close"); else answer_ok(0);
  } else if (!strcmp(line, "comm") && arg) {
    if (prctl(PR_SET_NAME, arg, 0, 0, 0) < 0) answer_err("prctl"); else answer_ok(0);
  } else if (!strcmp(line, "commx") && arg) {
    if (unhex(arg) < 0) { errno = EINVAL; answer_err("commx"); return; }
    if (prctl(PR_SET_NAME, arg, 0, 0, 0) < 0) answer_err("prctl"); else answer_ok(0);
  } else if (!strcmp(line, "watchx") && arg) {
    int fd = atoi(arg);
    char *path = strchr(arg, ' ');
    if (!path || unhex(path + 1) < 0) { errno = EINVAL; answer_err("watchx"); return; }
    int wd = inotify_add_watch(fd, path + 1, IN_ALL_EVENTS | IN_DONT_FOLLOW);
    if (wd < 0) answer_err("inotify_add_watch"); else answer_ok(wd);
  } else if (!strcmp(line, "fork")) {
    int ready[2];
    if (pipe(ready) < 0) { answer_err("pipe"); return; }
    pid_t pid = fork();
    if (pid < 0) { answer_err("fork"); return; }
    if (pid == 0) {
      // The child shares stdin with its parent: it must not read commands. It dies with the
      // parent (PDEATHSIG) or when the test kills it.
      prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      close(ready[0]);
      close(ready[1]);
      for (;;) pause();
    }
    close(ready[1]);
    char c;
    (void)!read(ready[0], &c, 1); // returns at once when the child closed its end
    close(ready[0]);
    answer_ok(pid);
  } else if (!strcmp(line, "faninit")) {
    int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);
    if (fd < 0 || read_as_events_come(fd, READ_FANOTIFY) < 0) answer_err("fanotify_init"); else answer_ok(fd);
  } else if (!strcmp(line, "fanmark") && arg) {
    fan_mark(arg, 0, FAN_OPEN | FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD);
  } else if (!strcmp(line, "fanmount") && arg) {
    fan_mark(arg, FAN_MARK_MOUNT, FAN_OPEN | FAN_CLOSE_WRITE);
  } else if (!strcmp(line, "fanfs") && arg) {
    fan_mark(arg, FAN_MARK_FILESYSTEM, FAN_OPEN | FAN_CLOSE_WRITE);
  } else if (!strcmp(line, "faninitperm")) {
    int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
    if (fd < 0) answer_err("fanotify_init"); else answer_ok(fd);
  } else if (!strcmp(line, "fanpermmount") && arg) {
    fan_mark(arg, FAN_MARK_MOUNT, FAN_OPEN_PERM);
  } else if (!strcmp(line, "fananswer") && arg) {
    if (read_as_events_come(atoi(arg), ANSWER_FANOTIFY) < 0) answer_err("epoll_ctl"); else answer_ok(0);
  } else if (!strcmp(line, "hold") && arg) {
    if (epoll_ctl(readers, EPOLL_CTL_DEL, atoi(arg), NULL) < 0) answer_err("epoll_ctl"); else answer_ok(0);
  } else if (!strcmp(line, "fionread") && arg) {
    int queued;
    if (ioctl(atoi(arg), FIONREAD, &queued) < 0) answer_err("ioctl FIONREAD"); else answer_ok(queued);
  } else if (!strcmp(line, "leaderexit")) {
    leader_exits = 1; // answered by the thread that takes over (serve)
  } else if (!strcmp(line, "pid")) {
    answer_ok(getpid());
  } else if (!strcmp(line, "userns")) {
    if (unshare(CLONE_NEWUSER) < 0) answer_err("unshare"); else answer_ok(0);
  } else if (!strcmp(line, "setuid") && arg) {
    uid_t id = (uid_t)atol(arg);
    if (setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0) answer_err("setresuid"); else answer_ok(0);
  } else {
    errno = EINVAL;
    answer_err(line);
  }
}
