/*
 * A bare netlink proc connector listener, the floor of bm's overhead
 * baseline in bench/sensor_bench.ts: it subscribes to fork/exec/exit events
 * and reads each batch the moment it arrives (poll, then drain), doing
 * nothing else: no /proc reads, no records, no agent. Its cost to a spawning
 * process is the kernel's: building each event and waking a sleeping reader.
 * Prints "ready" once subscribed; runs until killed.
 */
#define _GNU_SOURCE
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) {
    perror("socket(NETLINK_CONNECTOR)");
    return 1;
  }
  int sz = 32 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa)) {
    perror("bind");
    return 1;
  }
  struct {
    struct nlmsghdr h;
    struct cn_msg m;
    enum proc_cn_mcast_op op;
  } __attribute__((packed)) msg;
  memset(&msg, 0, sizeof msg);
  msg.h.nlmsg_len = sizeof msg;
  msg.h.nlmsg_type = NLMSG_DONE;
  msg.h.nlmsg_pid = (unsigned)getpid();
  msg.m.id.idx = CN_IDX_PROC;
  msg.m.id.val = CN_VAL_PROC;
  msg.m.len = sizeof(enum proc_cn_mcast_op);
  msg.op = PROC_CN_MCAST_LISTEN;
  if (send(fd, &msg, sizeof msg, 0) < 0) {
    perror("listen");
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
