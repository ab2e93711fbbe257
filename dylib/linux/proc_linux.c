/*
 * bm_proc_info / bm_proc_children on Linux, from /proc. Same semantics as
 * LinuxProcessInspector (src/response/process_inspector.ts): start time is
 * boot wall time (now - CLOCK_BOOTTIME, which /proc/uptime reports) plus
 * /proc/PID/stat starttime ticks; children are the union over every thread's
 * /proc/PID/task/TID/children.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bm_sensor.h"

/* Reads a whole small /proc file into buf (NUL-terminated); returns bytes or -1 (errno set). */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n + 1 < cap) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  return (ssize_t)n;
}

static double boot_wall;
static pthread_once_t boot_wall_once = PTHREAD_ONCE_INIT;

static void boot_wall_init(void) {
  struct timespec now, up;
  clock_gettime(CLOCK_REALTIME, &now);
  clock_gettime(CLOCK_BOOTTIME, &up);
  boot_wall = ((double)now.tv_sec - (double)up.tv_sec) * 1e3 +
              ((double)now.tv_nsec - (double)up.tv_nsec) / 1e6;
}

/*
 * Boot time on the wall clock, read once: two reads of the two clocks differ
 * by however long the thread was preempted between them, so a start time
 * recomputed per call drifted by fractions of a millisecond under load, and
 * the kill action (which re-checks a descendant's start time exactly before
 * each signal) skipped a live descendant. LinuxProcessInspector reads it once
 * per inspector for the same reason.
 */
static double boot_wall_ms(void) {
  pthread_once(&boot_wall_once, boot_wall_init);
  return boot_wall;
}

int32_t bm_proc_info(int32_t pid, int32_t *ppid, double *start_ms, uint8_t *state) {
  if (!ppid || !start_ms || !state) return -1;
  if (pid <= 0) return 1;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_small(path, buf, sizeof buf) < 0) return (errno == ENOENT || errno == ESRCH) ? 1 : -1;
  char *p = strrchr(buf, ')'); /* comm may contain spaces and parens */
  if (!p || p[1] != ' ' || !p[2]) return -1;
  char *tok = p + 2; /* field 3: state */
  uint8_t st = (uint8_t)tok[0];
  long pp = -1;
  for (int field = 3; field < 22; field++) {
    char *sp = strchr(tok, ' ');
    if (!sp) return -1;
    tok = sp + 1;
    if (field + 1 == 4) pp = strtol(tok, NULL, 10);
  }
  char *end;
  errno = 0;
  unsigned long long ticks = strtoull(tok, &end, 10);
  if (end == tok || errno) return -1;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  *ppid = (int32_t)pp;
  *state = st;
  *start_ms = boot_wall_ms() + (double)ticks * 1000.0 / (double)hz;
  return 0;
}

int32_t bm_proc_children(int32_t pid, int32_t *out, int32_t cap) {
  if (!out || cap < 0) return -1;
  if (pid <= 0) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (!d) return (errno == ENOENT || errno == ESRCH) ? 0 : -1;
  int32_t n = 0;
  struct dirent *e;
  char buf[8192];
  while (n < cap && (e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char cp[320];
    snprintf(cp, sizeof cp, "/proc/%d/task/%s/children", (int)pid, e->d_name);
    if (read_small(cp, buf, sizeof buf) < 0) continue; /* thread exited meanwhile */
    char *s = buf;
    while (n < cap) {
      char *end;
      long c = strtol(s, &end, 10);
      if (end == s) break;
      s = end;
      int dup = 0;
      for (int32_t i = 0; i < n; i++) {
        if (out[i] == (int32_t)c) dup = 1;
      }
      if (!dup && c > 0) out[n++] = (int32_t)c;
    }
  }
  closedir(d);
  return n;
}
