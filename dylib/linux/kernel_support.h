/*
 * What this Linux kernel offers the sensor, and the proc connector
 * subscription, shared by the sensor, its C tests and the benchmark's bare
 * listener (bench/proc_listener.c), so the baseline subscribes exactly as the
 * sensor does.
 */
#ifndef BM_KERNEL_SUPPORT_H
#define BM_KERNEL_SUPPORT_H

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux 6.9+: a pidfd's inode is its process's own (pidfs), not the shared anon inode. */
static inline int bm_have_pidfs(void) {
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (fd < 0) return 0;
  struct statfs sf;
  int ok = fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == 0x50494446ul; /* PIDFS_MAGIC */
  close(fd);
  return ok;
#else
  return 0;
#endif
}

/*
 * A nonblocking netlink socket subscribed to every proc connector event, with
 * a 32 MiB receive buffer. Returns the fd, or -1 with errno set and *step
 * naming the call that failed.
 */
static inline int bm_proc_connector_open(const char **step) {
  int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) {
    *step = "socket(NETLINK_CONNECTOR)";
    return -1;
  }
  int sz = 32 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz))
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
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
  *step = "bind";
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
    *step = "listen";
    if (send(fd, &msg, sizeof msg, 0) >= 0) return fd;
  }
  int e = errno;
  close(fd);
  errno = e;
  return -1;
}

#endif
