/*
 * A bare netlink proc connector listener, the floor of bm's overhead
 * baseline in bench/sensor_bench.ts: it subscribes to fork/exec/exit events
 * exactly as the sensor does (dylib/linux/kernel_support.h) and reads each
 * batch the moment it arrives (poll, then drain), doing nothing else: no
 * /proc reads, no records, no agent. Its cost to a spawning process is the
 * kernel's: building each event and waking a sleeping reader. Prints "ready"
 * once subscribed; runs until killed.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>

#include "../dylib/linux/kernel_support.h"

int main(void) {
  const char *step = "";
  int fd = bm_proc_connector_open(&step);
  if (fd < 0) {
    fprintf(stderr, "proc_listener: %s: %s\n", step, strerror(errno));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  static char buf[65536];
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, -1) < 0) continue;
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
  }
}
