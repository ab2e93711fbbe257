/*
 * One execve, one exec record (dylib/linux/exec_chain.c), over real files:
 * which file an execve opens next (a #! line's interpreter, an ELF file's
 * PT_INTERP loader), and the per-process chain that tells the loader and the
 * interpreter from a new exec. No root, no marks.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../linux/exec_chain.h"
#include "check.h"

static char dir[] = "/tmp/bm_exec_chain_XXXXXX";

static int open_ro(const char *p) {
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) perror(p);
  return fd;
}

static char *write_file(const char *name, const char *text) {
  static char paths[8][PATH_MAX];
  static int n;
  char *p = paths[n++ & 7];
  snprintf(p, PATH_MAX, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return p;
}

static int same_file(const char *p, uint64_t dev, uint64_t ino) {
  struct stat st;
  return stat(p, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

/* The ELF loader of /bin/sh, as its PT_INTERP names it (found by reading it the same way). */
static const char *loader_of_sh(void) {
  static const char *const known[] = {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1",
                                      "/lib/ld-linux-armhf.so.3", "/lib/ld-musl-x86_64.so.1", NULL};
  int fd = open_ro("/bin/sh");
  uint64_t dev = 0, ino = 0;
  int script = 1;
  int got = bm_exec_next_file(fd, "", &dev, &ino, &script);
  close(fd);
  for (int i = 0; got && known[i]; i++)
    if (same_file(known[i], dev, ino)) return known[i];
  return NULL;
}

static void test_next_file(void) {
  uint64_t dev = 0, ino = 0;
  int script = 0;
  /* a #! script: its interpreter, with options after it */
  char *s = write_file("s.sh", "#! /bin/sh -e\necho hi\n");
  int fd = open_ro(s);
  CHECK(bm_exec_next_file(fd, "", &dev, &ino, &script) == 1 && script == 1);
  CHECK(same_file("/bin/sh", dev, ino));
  close(fd);
  /* a dynamically linked ELF binary: its loader */
  const char *ld = loader_of_sh();
  CHECK(ld != NULL);
  /* relative, missing or absent interpreters, plain text: nothing expected */
  const char *none[] = {"#!sh\n", "#!/nonexistent/interp\n", "#!\n", "echo hi\n", ""};
  for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
    fd = open_ro(write_file("n", none[i]));
    CHECK(bm_exec_next_file(fd, "", &dev, &ino, &script) == 0);
    close(fd);
  }
  /* a truncated ELF header is not read past its end */
  fd = open_ro(write_file("elf", "\177ELF\002\001\001"));
  CHECK(bm_exec_next_file(fd, "", &dev, &ino, &script) == 0);
  close(fd);
  /* resolved under the process's root */
  fd = open_ro(s);
  CHECK(bm_exec_next_file(fd, "/proc/self/root", &dev, &ino, &script) == 1 &&
        same_file("/bin/sh", dev, ino));
  close(fd);
}

static void test_chain(void) {
  bm_exec_chain t;
  CHECK(bm_exec_chain_init(&t) == 0);
  int pid = getpid();
  char *s = write_file("run.sh", "#!/bin/sh\ntrue\n");
  const char *ld = loader_of_sh();
  int fs = open_ro(s), fsh = open_ro("/bin/sh"), fld = ld ? open_ro(ld) : -1,
      fenv = open_ro("/usr/bin/env");
  char script[PATH_MAX] = "";
  /* execve(script): the script is a new exec; /bin/sh and its loader belong to it */
  CHECK(bm_exec_chain_event(&t, pid, fs, s) == 0);
  CHECK(bm_exec_chain_event(&t, pid, fsh, "/bin/sh") == 1);
  CHECK(fld >= 0 && bm_exec_chain_event(&t, pid, fld, ld) == 1);
  /* the proc connector's exec ends it and names the script */
  CHECK(bm_exec_chain_end(&t, pid, script, sizeof script) == 1 && strcmp(script, s) == 0);
  /* after the exec, the same files are new execs again */
  CHECK(bm_exec_chain_event(&t, pid, fsh, "/bin/sh") == 0);
  /* execve(/bin/sh): only its loader follows; another binary is a new exec, and ends the chain */
  CHECK(bm_exec_chain_event(&t, pid, fenv, "/usr/bin/env") == 0);
  CHECK(bm_exec_chain_event(&t, pid, fld, ld) == 1);
  CHECK(bm_exec_chain_end(&t, pid, script, sizeof script) == 0); /* not a script */
  /* another pid's loader is not this exec's */
  CHECK(bm_exec_chain_event(&t, pid, fsh, "/bin/sh") == 0);
  CHECK(bm_exec_chain_event(&t, pid + 1, fld, ld) == 0);
  /* an exit forgets the chain */
  bm_exec_chain_end(&t, pid, NULL, 0);
  CHECK(bm_exec_chain_event(&t, pid, fld, ld) == 0);
  close(fs);
  close(fsh);
  if (fld >= 0) close(fld);
  close(fenv);
  bm_exec_chain_free(&t);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_next_file();
  test_chain();
  const char *made[] = {"s.sh", "n", "elf", "run.sh"};
  char p[PATH_MAX];
  for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, made[i]);
    unlink(p);
  }
  rmdir(dir);
  return check_result("test_exec_chain");
}
