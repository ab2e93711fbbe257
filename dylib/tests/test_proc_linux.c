/*
 * bm_proc_info / bm_proc_children (linux/proc_linux.c) against real
 * processes: this test forks a child that forks a grandchild, then checks
 * parents, children, states (S, T, Z) and start times, and that a reaped pid
 * is reported as gone. Runs as any user.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bm_sensor.h"

#include "check.h"

static double wall_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int contains(const int32_t *a, int32_t n, int32_t v) {
  for (int32_t i = 0; i < n; i++) {
    if (a[i] == v) return 1;
  }
  return 0;
}

/* Waits (up to 2 s) until pid shows state `want`; returns the last state seen. */
static uint8_t wait_state(int32_t pid, uint8_t want) {
  int32_t pp;
  double st;
  uint8_t s = 0;
  for (int i = 0; i < 200; i++) {
    if (bm_proc_info(pid, &pp, &st, &s) == 0 && s == want) return s;
    usleep(10000);
  }
  return s;
}

int main(void) {
  int fds[2];
  if (pipe(fds) != 0) return 2;
  double before = wall_ms();
  pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    pid_t g = fork();
    if (g == 0) {
      for (;;) pause();
    }
    int32_t v = (int32_t)g;
    if (write(fds[1], &v, sizeof v) != sizeof v) _exit(3);
    for (;;) pause(); /* never reaps g: a killed g stays a zombie */
  }
  int32_t grand = 0;
  if (read(fds[0], &grand, sizeof grand) != sizeof grand) return 2;
  double after = wall_ms();

  int32_t ppid = 0;
  double start = 0;
  uint8_t state = 0;
  CHECK(bm_proc_info(child, &ppid, &start, &state) == 0);
  CHECK(ppid == getpid());
  CHECK(start > before - 1000 && start < after + 1000);
  CHECK(wait_state(child, 'S') == 'S');

  CHECK(bm_proc_info(grand, &ppid, &start, &state) == 0);
  CHECK(ppid == child);
  CHECK(start > before - 1000 && start < after + 1000);

  int32_t kids[64];
  int32_t n = bm_proc_children(getpid(), kids, 64);
  CHECK(n == 1 && contains(kids, n, child));
  n = bm_proc_children(child, kids, 64);
  CHECK(n == 1 && kids[0] == grand);
  CHECK(bm_proc_children(grand, kids, 64) == 0);
  CHECK(bm_proc_children(child, kids, 0) == 0); /* no room: nothing written */
  CHECK(bm_proc_children(child, NULL, 4) == -1);
  CHECK(bm_proc_info(child, NULL, &start, &state) == -1);

  kill(child, SIGSTOP);
  CHECK(wait_state(child, 'T') == 'T');
  kill(child, SIGCONT);
  kill(grand, SIGKILL);
  CHECK(wait_state(grand, 'Z') == 'Z'); /* child never reaps it */

  kill(child, SIGKILL);
  int status;
  waitpid(child, &status, 0);
  CHECK(bm_proc_info(child, &ppid, &start, &state) == 1);
  CHECK(bm_proc_children(child, kids, 64) == 0);
  CHECK(bm_proc_info(0, &ppid, &start, &state) == 1);
  CHECK(bm_proc_info(-5, &ppid, &start, &state) == 1);

  return check_result("test_proc_linux");
}
