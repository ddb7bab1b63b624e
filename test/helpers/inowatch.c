// inowatch: a child process that holds real inotify instances and watches (and fanotify groups and
// marks) for tests and the benchmark. It reads one command per line on stdin and answers one line
// "ok VALUE" or "err MESSAGE" on stdout. It exits when stdin closes, so a test that dies takes it along.
//
//   init                  new inotify instance; answers its fd
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
//   userns                unshare(CLONE_NEWUSER): a user namespace of its own, with every capability in it
//                         until it execs (none here); its maps are written from outside
//   setuid ID             setresgid and setresuid to ID (in a user namespace: once its maps are written)
//   faninit               new fanotify group (FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY); answers its fd
//   fanmark FD PATH       inode mark on PATH (FAN_OPEN | FAN_CLOSE_WRITE, FAN_EVENT_ON_CHILD)
//   fanmount FD PATH      mount mark on the mount at PATH (FAN_OPEN | FAN_CLOSE_WRITE)
//   fanfs FD PATH         filesystem mark on PATH's filesystem (FAN_OPEN | FAN_CLOSE_WRITE)
#define _GNU_SOURCE
#include <dirent.h>
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

int main(void) {
  char line[8192];
  setvbuf(stdin, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *arg = strchr(line, ' ');
    if (arg) *arg++ = 0;
    if (!strcmp(line, "init")) {
      int fd = inotify_init1(IN_CLOEXEC);
      if (fd < 0) answer_err("inotify_init1"); else answer_ok(fd);
    } else if (!strcmp(line, "watch") && arg) {
      int fd = atoi(arg);
      char *path = strchr(arg, ' ');
      if (!path) { errno = EINVAL; answer_err("watch"); continue; }
      int wd = inotify_add_watch(fd, path + 1, IN_ALL_EVENTS | IN_DONT_FOLLOW);
      if (wd < 0) answer_err("inotify_add_watch"); else answer_ok(wd);
    } else if (!strcmp(line, "watchdir") && arg) {
      int fd = atoi(arg);
      char *dir = strchr(arg, ' ');
      if (!dir) { errno = EINVAL; answer_err("watchdir"); continue; }
      dir++;
      if (inotify_add_watch(fd, dir, IN_ALL_EVENTS) < 0) { answer_err("inotify_add_watch"); continue; }
      long n = 1;
      DIR *d = opendir(dir);
      if (!d) { answer_err("opendir"); continue; }
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
      if (sscanf(arg, "%d %d", &fd, &wd) != 2) { errno = EINVAL; answer_err("rm"); continue; }
      if (inotify_rm_watch(fd, wd) < 0) answer_err("inotify_rm_watch"); else answer_ok(0);
    } else if (!strcmp(line, "open") && arg) {
      int fd = open(arg, O_RDONLY);
      if (fd < 0) answer_err("open"); else answer_ok(fd);
    } else if (!strcmp(line, "opennoise") && arg) {
      char *path = strchr(arg, ' ');
      if (!path) { errno = EINVAL; answer_err("opennoise"); continue; }
      long n = atol(arg), opened = 0;
      while (opened < n && open(path + 1, O_RDONLY) >= 0) opened++;
      if (opened < n) answer_err("open"); else answer_ok(opened);
    } else if (!strcmp(line, "close") && arg) {
      if (close(atoi(arg)) < 0) answer_err("close"); else answer_ok(0);
    } else if (!strcmp(line, "comm") && arg) {
      if (prctl(PR_SET_NAME, arg, 0, 0, 0) < 0) answer_err("prctl"); else answer_ok(0);
    } else if (!strcmp(line, "commx") && arg) {
      if (unhex(arg) < 0) { errno = EINVAL; answer_err("commx"); continue; }
      if (prctl(PR_SET_NAME, arg, 0, 0, 0) < 0) answer_err("prctl"); else answer_ok(0);
    } else if (!strcmp(line, "watchx") && arg) {
      int fd = atoi(arg);
      char *path = strchr(arg, ' ');
      if (!path || unhex(path + 1) < 0) { errno = EINVAL; answer_err("watchx"); continue; }
      int wd = inotify_add_watch(fd, path + 1, IN_ALL_EVENTS | IN_DONT_FOLLOW);
      if (wd < 0) answer_err("inotify_add_watch"); else answer_ok(wd);
    } else if (!strcmp(line, "fork")) {
      int ready[2];
      if (pipe(ready) < 0) { answer_err("pipe"); continue; }
      pid_t pid = fork();
      if (pid < 0) { answer_err("fork"); continue; }
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
      if (fd < 0) answer_err("fanotify_init"); else answer_ok(fd);
    } else if (!strcmp(line, "fanmark") && arg) {
      fan_mark(arg, 0, FAN_OPEN | FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD);
    } else if (!strcmp(line, "fanmount") && arg) {
      fan_mark(arg, FAN_MARK_MOUNT, FAN_OPEN | FAN_CLOSE_WRITE);
    } else if (!strcmp(line, "fanfs") && arg) {
      fan_mark(arg, FAN_MARK_FILESYSTEM, FAN_OPEN | FAN_CLOSE_WRITE);
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
  return 0;
}
