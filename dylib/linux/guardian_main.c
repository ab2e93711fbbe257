/*
 * bm_guardian - answers the agent's fanotify permission events when the agent
 * cannot: dead (kill -9, OOM), dying, stopped (SIGSTOP, a debugger, a frozen
 * cgroup) or late past its deadline. See guardian_shm.h for how.
 *
 * Started by the Linux sensor (sensor_linux.c) with the permission group on
 * fd 3 and the shared page on fd 4, as a child of the agent in its own
 * session (terminal signals meant for the agent do not reach it). It leaves
 * the agent's cgroups for the root of each hierarchy that can freeze
 * (cgroup2, v1 freezer), so freezing the agent's cgroup does not freeze it.
 *
 * Each round (at least every BM_GUARD_BEAT_MS):
 *  - the agent is dead, or the sensor is closing: answer every published
 *    event, exit (closing the group's last fd makes the kernel allow what is
 *    still pending and drops the marks);
 *  - the agent is dying (PF_EXITING: its fds may be closing, and releasing
 *    its notification group waits for pending permission events) or its
 *    heartbeat is older than stale_ms: take over: answer every published
 *    event, read and answer new ones from our duplicate of the group, and
 *    answer by number every fd the (stopped) agent holds, which covers
 *    events it read but had not published yet;
 *  - otherwise leave everything to the agent.
 * Every answer is the configured fail-open default.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guardian_shm.h"

#define PF_EXITING_FLAG 0x4u

static volatile sig_atomic_t terminated;
static void on_term(int sig) {
  (void)sig;
  terminated = 1;
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bm_guard_shm *g;
static struct fanotify_response answer_of(int fd) {
  return (struct fanotify_response){.fd = fd, .response = g->fail_open ? FAN_ALLOW : FAN_DENY};
}

/* 1 when the kernel took the answer (ENOENT: nothing pending under that number). */
static int respond(int fd) {
  struct fanotify_response r = answer_of(fd);
  for (int i = 0; i < 2; i++) {
    ssize_t w = write(BM_GUARD_FD_GROUP, &r, sizeof r);
    if (w == (ssize_t)sizeof r) return 1;
    if (w < 0 && errno == ENOENT) return 0;
  }
  return 0;
}

static void counted(void) { __atomic_fetch_add(&g->answered, 1, __ATOMIC_RELAXED); }

/* Answers every event the agent published. */
static void answer_slots(void) {
  for (uint32_t i = 0; i < BM_GUARD_SLOTS; i++) {
    int32_t v = __atomic_load_n(&g->slots[i], __ATOMIC_ACQUIRE);
    if (v > 0 && bm_guard_claim(g, i, v - 1) && respond(v - 1)) counted();
  }
}

/* Reads and answers new events from our duplicate of the group (it is nonblocking). */
static void read_and_answer(void) {
  static char buf[8192] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(BM_GUARD_FD_GROUP, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (struct fanotify_event_metadata *md = (void *)buf; FAN_EVENT_OK(md, n);
         md = FAN_EVENT_NEXT(md, n)) {
      if (md->fd < 0) continue;
      if (respond(md->fd)) counted();
      close(md->fd);
    }
  }
}

/*
 * Answers by number every fd the agent holds: an event it read but had not
 * published yet is pending under one of them. Numbers with nothing pending
 * get ENOENT. Only while the agent is stopped or late: our own reads are
 * answered before this runs, so no number of ours is pending.
 */
static void sweep(int32_t agent) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", agent);
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name) continue;
    if (respond((int)fd)) counted();
  }
  closedir(d);
}

/* 1 when the agent is exiting (PF_EXITING, zombie) or gone. */
static int exiting(int32_t agent) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", agent);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 1;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return 0;
  char state = p[2];
  if (state == 'Z' || state == 'X') return 1;
  /* field 9 (flags) is the 7th after the state */
  char *tok = p + 2;
  for (int field = 3; field < 9; field++) {
    tok = strchr(tok, ' ');
    if (!tok) return 0;
    tok++;
  }
  return (strtoul(tok, NULL, 10) & PF_EXITING_FLAG) != 0;
}

/* Moves this process to the root of every hierarchy that can freeze it (best effort). */
static void leave_freezable_cgroups(void) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char root[1024], mnt[1024], type[64];
    const char *sep = strstr(line, " - ");
    if (!sep || sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 ||
        sscanf(sep + 3, "%63s", type) != 1 || strcmp(root, "/") != 0)
      continue;
    int v2 = strcmp(type, "cgroup2") == 0;
    if (!v2 && !(strcmp(type, "cgroup") == 0 && strstr(sep, "freezer"))) continue;
    char procs[1100];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", mnt);
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t w = write(fd, "0\n", 2);
    (void)w;
    close(fd);
  }
  fclose(f);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term; /* no SA_RESTART: poll returns */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_NAME, "bm-guardian", 0, 0, 0);

  void *m = mmap(NULL, sizeof(bm_guard_shm), PROT_READ | PROT_WRITE, MAP_SHARED,
                 BM_GUARD_FD_SHM, 0);
  if (m == MAP_FAILED) {
    fprintf(stderr, "bm-guardian: Cannot map the shared page: %s\n", strerror(errno));
    return 1;
  }
  close(BM_GUARD_FD_SHM);
  g = m;
  int32_t agent = g->agent_pid;
  if (g->magic != BM_GUARD_MAGIC || agent <= 1 || getppid() != agent) {
    fprintf(stderr, "bm-guardian: Not started by a bm agent\n");
    return 1;
  }
  int pidfd = -1;
#ifdef SYS_pidfd_open
  pidfd = (int)syscall(SYS_pidfd_open, agent, 0);
#endif
  leave_freezable_cgroups();

  int take = 0;
  uint64_t next_sweep = 0;
  for (;;) {
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN},
                          {.fd = take ? BM_GUARD_FD_GROUP : -1, .events = POLLIN}};
    int r = poll(p, 2, BM_GUARD_BEAT_MS);
    int dead = (r > 0 && (p[0].revents & POLLIN)) || (kill(agent, 0) < 0 && errno == ESRCH);
    if (dead || terminated || __atomic_load_n(&g->closing, __ATOMIC_ACQUIRE)) {
      answer_slots();
      if (dead) {
        if (!take) __atomic_fetch_add(&g->takeovers, 1, __ATOMIC_RELAXED);
        read_and_answer();
      }
      return 0; /* exit closes our fd of the group */
    }
    uint64_t now = mono_ns();
    uint64_t beat = __atomic_load_n(&g->heartbeat_ns, __ATOMIC_ACQUIRE);
    int dying = exiting(agent);
    int stale = now > beat && now - beat > (uint64_t)g->stale_ms * 1000000ull;
    if (dying || stale) {
      if (!take) {
        take = 1;
        __atomic_fetch_add(&g->takeovers, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&g->takeover_now, 1, __ATOMIC_RELEASE);
        next_sweep = now;
      }
      answer_slots();
      read_and_answer();
      if (!dying && now >= next_sweep) {
        sweep(agent);
        next_sweep = now + 1000000000ull;
      }
    } else if (take) {
      take = 0;
      __atomic_store_n(&g->takeover_now, 0, __ATOMIC_RELEASE);
    }
  }
}
