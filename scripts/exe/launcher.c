// The first code the single executable runs: it makes the file independent of the node's libc.
//
// scripts/exe/elf.mjs puts this code, freestanding and position-independent, in a segment of its
// own at the end of Node's binary, with Debian's dynamic loader and the libraries Node and koffi
// link against after it, removes the binary's PT_INTERP and points its entry here. The kernel then
// starts the file as a static program, which runs launch(): it copies the loader and libraries
// into memory files (memfd_create: nothing is written to any filesystem; sendfile from the file
// itself, so that the kernel copies from its page cache and this process faults in none of it)
// and executes the loader
// on the file itself, preloading the libraries:
//
//   LD_PRELOAD=/proc/self/fd/A:/proc/self/fd/B:... /proc/self/fd/L (as ARGV0) /proc/self/fd/SELF ARGS...
//
// The loader maps the file again as an ordinary dynamic program (it satisfies every DT_NEEDED with
// the preloaded objects, by soname) and jumps to the same entry, this time with the address of
// its finaliser in the first argument register, where the kernel passes 0: then the entry goes on
// to Node's own _start. The node needs no libc, no loader and no file system that allows writes;
// it needs /proc (which inotop reads anyway) and a kernel that runs memfds (3.17 or later,
// vm.memfd_noexec below 2).
//
// Node is told what happened through the environment: INOTOP_EXECUTABLE (this file's path, for
// process.execPath), INOTOP_LAUNCHER_FDS (the descriptors to close) and INOTOP_LD_PRELOAD (the
// node's own LD_PRELOAD); src/exe/main.ts reads them and puts the environment back before
// anything else runs.
//
// No libc here: system calls are made directly. Nothing may need a relocation (the builder links
// this code at two addresses and refuses it unless both images are the same bytes).

typedef unsigned long u64;
typedef unsigned int u32;
typedef long i64;

#define O_RDONLY 0
#define PATH_MAX 4096
#define MAX_MEMBERS 16

#if defined(__x86_64__)
#define SYS_write 1
#define SYS_open 2
#define SYS_sendfile 40
#define SYS_readlink 89
#define SYS_execve 59
#define SYS_exit_group 231
#define SYS_memfd_create 319

static i64 syscall3(i64 number, i64 a, i64 b, i64 c) {
  i64 result;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return result;
}

static i64 syscall4(i64 number, i64 a, i64 b, i64 c, i64 d) {
  i64 result;
  register i64 r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return result;
}

// The loader passes its finaliser in %rdx, the kernel 0 (x86-64 psABI, 3.4.1). The stack is
// left as the caller made it for Node's _start.
__asm__(".section .text.start,\"ax\",@progbits\n"
        ".globl _start\n"
        "_start:\n"
        "  test %rdx, %rdx\n"
        "  jnz 1f\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call launch\n"
        "  hlt\n"
        "1:\n"
        "  jmp *header+8(%rip)\n"
        ".previous\n");
#elif defined(__aarch64__)
#define SYS_openat 56
#define SYS_readlinkat 78
#define SYS_write 64
#define SYS_sendfile 71
#define SYS_execve 221
#define SYS_exit_group 94
#define SYS_memfd_create 279
#define AT_FDCWD -100

static i64 syscall3(i64 number, i64 a, i64 b, i64 c) {
  register i64 x8 __asm__("x8") = number;
  register i64 x0 __asm__("x0") = a;
  register i64 x1 __asm__("x1") = b;
  register i64 x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}

static i64 syscall4(i64 number, i64 a, i64 b, i64 c, i64 d) {
  register i64 x8 __asm__("x8") = number;
  register i64 x0 __asm__("x0") = a;
  register i64 x1 __asm__("x1") = b;
  register i64 x2 __asm__("x2") = c;
  register i64 x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}

// The loader passes its finaliser in x0, the kernel 0 (AArch64 ELF ABI; the kernel clears every
// register at exec). x16 is the intra-procedure scratch register.
__asm__(".section .text.start,\"ax\",%progbits\n"
        ".globl _start\n"
        "_start:\n"
        "  cbnz x0, 1f\n"
        "  mov x0, sp\n"
        "  bl launch\n"
        "  brk #0\n"
        "1:\n"
        "  adr x16, header\n"
        "  ldr x16, [x16, #8]\n"
        "  br x16\n"
        ".previous\n");
#else
#error "the launcher is written for x86-64 and AArch64"
#endif

static i64 sys_open(const char *path, int flags) {
#if defined(__x86_64__)
  return syscall3(SYS_open, (i64)path, flags, 0);
#else
  return syscall4(SYS_openat, AT_FDCWD, (i64)path, flags, 0);
#endif
}

static i64 sys_readlink(const char *path, char *buffer, u64 size) {
#if defined(__x86_64__)
  return syscall3(SYS_readlink, (i64)path, (i64)buffer, (i64)size);
#else
  return syscall4(SYS_readlinkat, AT_FDCWD, (i64)path, (i64)buffer, (i64)size);
#endif
}

/** One file the builder appended: `offset` is where it starts in the executable's file. */
struct member {
  u64 offset;
  u64 size;
  char name[48];
};

/**
 * Filled in by scripts/exe/elf.mjs: Node's entry, and the loader (member 0) and the libraries to
 * preload, in the order of Node's DT_NEEDED (the order the loader would have searched them in).
 */
struct header {
  char magic[8];
  u64 node_entry;
  u32 count;
  u32 reserved;
  struct member members[MAX_MEMBERS];
};

__attribute__((used, section(".rodata.header"))) const struct header header = {{'I', 'N', 'O', 'T', 'O', 'P', 'L', '1'}, 0, 0, 0, {{0, 0, {0}}}};

/** The header as the builder filled it in: read through a pointer the compiler cannot see through (it would fold the zeros above). */
static const struct header *table(void) {
  const struct header *h = &header;
  __asm__("" : "+r"(h));
  return h;
}

// gcc may call these for copies and clears of its own.
void *memcpy(void *to, const void *from, u64 size) {
  char *d = to;
  const char *s = from;
  while (size--) *d++ = *s++;
  return to;
}

void *memset(void *to, int value, u64 size) {
  char *d = to;
  while (size--) *d++ = (char)value;
  return to;
}

static u64 length(const char *text) {
  u64 n = 0;
  while (text[n]) n++;
  return n;
}

static char *append(char *at, const char *text) {
  while (*text) *at++ = *text++;
  *at = 0;
  return at;
}

static char *append_number(char *at, u64 number) {
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + number % 10);
  while (number /= 10);
  while (n) *at++ = digits[--n];
  *at = 0;
  return at;
}

static int starts_with(const char *text, const char *prefix) {
  while (*prefix)
    if (*text++ != *prefix++) return 0;
  return 1;
}

__attribute__((noreturn)) static void fail(const char *what, i64 error) {
  char message[256];
  char *at = append(message, "inotop: cannot start: ");
  at = append(at, what);
  at = append(at, " failed with errno ");
  at = append_number(at, (u64)-error);
  at = append(at, "\n");
  syscall3(SYS_write, 2, (i64)message, (i64)(at - message));
  syscall3(SYS_exit_group, 127, 0, 0);
  __builtin_unreachable();
}

/**
 * Copies a member from the executable (`self`) into a new memory file; returns its descriptor
 * (inherited by the loader: no MFD_CLOEXEC).
 */
static int memory_file(const struct member *member, int self) {
  i64 fd = syscall3(SYS_memfd_create, (i64)member->name, 0, 0);
  if (fd < 0) fail("memfd_create (a kernel before 3.17, or vm.memfd_noexec=2?)", fd);
  i64 offset = (i64)member->offset;
  for (u64 done = 0; done < member->size;) {
    i64 copied = syscall4(SYS_sendfile, fd, self, (i64)&offset, (i64)(member->size - done));
    if (copied <= 0) fail("copying a library into a memory file", copied < 0 ? copied : -5);
    done += (u64)copied;
  }
  return (int)fd;
}

static char *fd_path(char *at, int fd) {
  return append_number(append(at, "/proc/self/fd/"), (u64)fd) + 1;
}

__attribute__((noreturn, used)) void launch(i64 *stack) {
  int argc = (int)stack[0];
  char **argv = (char **)(stack + 1);
  char **envp = argv + argc + 1;
  int envc = 0;
  while (envp[envc]) envc++;
  const struct header *h = table();
  u32 count = h->count;
  if (count < 2 || count > MAX_MEMBERS) fail("reading the launcher's table", -8);

  // The loader (member 0) and the libraries, copied from this file, then this file itself: the
  // loader opens it by path, and /proc/self/exe would name the loader by then.
  i64 self = sys_open("/proc/self/exe", O_RDONLY);
  if (self < 0) fail("opening /proc/self/exe (is /proc mounted?)", self);
  int fds[MAX_MEMBERS + 1];
  for (u32 i = 0; i < count; i++) fds[i] = memory_file(&h->members[i], (int)self);
  fds[count] = (int)self;

  char executable[PATH_MAX + 32];
  char *at = append(executable, "INOTOP_EXECUTABLE=");
  i64 n = sys_readlink("/proc/self/exe", at, PATH_MAX);
  if (n < 0 || n >= PATH_MAX) n = 0;
  at[n] = 0;

  // Every string the new argv and environment point to: /proc/self/fd/N paths and three variables.
  char strings[(MAX_MEMBERS + 1) * 32 + MAX_MEMBERS * 32 + 64];
  char *next = strings;
  char *loader = next;
  next = fd_path(next, fds[0]);
  char *program = next;
  next = fd_path(next, fds[count]);
  char *preload = next;
  next = append(next, "LD_PRELOAD=");
  for (u32 i = 1; i < count; i++) {
    if (i > 1) next = append(next, ":");
    next = append_number(append(next, "/proc/self/fd/"), (u64)fds[i]);
  }
  next++;
  char *inherited = next;
  next = append(next, "INOTOP_LAUNCHER_FDS=");
  for (u32 i = 0; i <= count; i++) {
    if (i > 0) next = append(next, ",");
    next = append_number(next, (u64)fds[i]);
  }

  // The loader runs the file as `LOADER FILE ARGS`: its options go in the environment, not on the
  // command line, whose head the kernel keeps showing (/proc/PID/cmdline) where Node's
  // process.title cannot reach: ARGV0, then what src/exe/main.ts writes over FILE and ARGS.
  const char *args[argc + 3];
  int a = 0;
  args[a++] = argc > 0 ? argv[0] : "inotop";
  args[a++] = program;
  for (int i = 1; i < argc; i++) args[a++] = argv[i];
  args[a] = 0;

  // The node's own LD_PRELOAD, if any, waits in INOTOP_LD_PRELOAD for src/exe/main.ts to put back
  // (for the programs inotop runs): Node itself runs on the loader's libraries alone.
  const char *own = 0;
  for (int i = 0; i < envc; i++)
    if (starts_with(envp[i], "LD_PRELOAD=")) own = envp[i] + sizeof "LD_PRELOAD=" - 1;
  char saved[own ? length(own) + 32 : 1];
  if (own) append(append(saved, "INOTOP_LD_PRELOAD="), own);
  const char *env[envc + 5];
  int e = 0;
  env[e++] = executable;
  env[e++] = inherited;
  env[e++] = preload;
  if (own) env[e++] = saved;
  for (int i = 0; i < envc; i++) {
    if (starts_with(envp[i], "INOTOP_EXECUTABLE=") || starts_with(envp[i], "INOTOP_LAUNCHER_FDS=") || starts_with(envp[i], "INOTOP_LD_PRELOAD=") ||
        starts_with(envp[i], "LD_PRELOAD="))
      continue;
    env[e++] = envp[i];
  }
  env[e] = 0;

  i64 error = syscall3(SYS_execve, (i64)loader, (i64)args, (i64)env);
  fail("executing the loader from memory (vm.memfd_noexec, or a security module?)", error);
}
