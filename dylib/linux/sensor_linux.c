/*
 * Linux sensor: fanotify permission group (exec, optionally open) that can
 * deny with EPERM, fanotify notification group with directory fid + name for
 * create/rename/delete/close-after-write, and the netlink proc connector for
 * fork/exec/exit. One thread polls all three; facts about a process are read
 * from /proc on that thread the moment its event arrives (a read that loses
 * the race with a fast exit is counted in enrichment_misses).
 *
 * While the agent waits in bm_sensor_wait, its waiting thread watches the
 * permission group too and handles what it reads itself (bm_core.h auth_fd),
 * and this thread leaves the group to it until it has stopped waiting for a
 * grace period (it comes back at once when it keeps up): an exec then
 * reaches the agent without a hand-off between two threads, each of which
 * costs tens of microseconds on an idle vCPU. Everything else stays here.
 *
 * Auth answers go through linux_answer (write fanotify_response, close the
 * event fd), called once per event by the core (agent, watchdog, fast path,
 * ring full, close).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../common/bm_core.h"
#include "bm_sensor_testing.h"
#include "guardian_shm.h"
#include "exec_chain.h"
#include "fs_marks.h"
#include "kernel_support.h"

/*
 * pid -> start time, written by the sensor thread at fork and exec (exit
 * records need it once /proc is gone; collisions just miss). The agent's
 * waiting thread reads it too, for permission events (see proc_identity), so
 * it is under starts_mu. ino is the process's pidfs inode (Linux 6.9+: unique
 * per process, never reused), 0 when unknown.
 */
#define START_SLOTS 65536u
typedef struct start_slot {
  int32_t pid;
  double start_ms;
  uint64_t ino;
} start_slot;

/*
 * The directory cache: (fsid, handle type, handle bytes) -> the directory's
 * path, so a burst of file events in a few directories (tar, rm -rf, git
 * clone, builds) resolves each directory once instead of once per event
 * (open_by_handle_at + readlink + close, ~7.5 µs). Direct-mapped, 256
 * entries of 512 bytes in linux_ctx; a handle or path too long for an entry
 * is resolved every time, as is everything on a filesystem
 * bm_fs_marks_paths_kept does not vouch for. Only paths that resolved are
 * kept, so a miss costs and counts as before.
 *
 * Staleness: a directory's path changes when it or a directory above it is
 * renamed. The notification group's mask has FAN_ONDIR with FAN_RENAME on
 * every marked filesystem (filesystem marks see every mount of it, in any
 * namespace), and FAN_MOVE_SELF on each directory above a marked mount, so
 * read_notif empties the cache at any directory event other than a mkdir or
 * rmdir, at a queue overflow (events were lost) and when bm_fs_marks's epoch
 * moves (mounts changed, or a directory above a mount moved): see
 * bm_fs_marks_paths_kept. Emptying is one increment (gen). A deleted
 * directory's entry is kept: it holds the path the directory had until then,
 * which the events queued before the delete want (resolving their handle
 * fails once it is gone, as in an rm -rf the sensor lags behind), and no
 * directory made later has its handle: tmpfs never reuses an inode number
 * (and adds a generation), ext4/xfs/btrfs/f2fs handles carry the inode's
 * generation (ext4 checked: a new directory on the freed inode number has
 * another handle).
 *
 * Events queued before a rename and read after it resolve to the new name,
 * as they always did; a cached path read for them gives the old one, the
 * path at the time of the event. The one case the cache reports the old name
 * where resolving would not is a file event in a directory that races the
 * directory's rename: after the rename took effect but queued before its
 * event (the kernel queues it after unlocking the moved directory). Not
 * seen at all: the mount point directory of a marked mount renamed from
 * another mount namespace, where it is no mount point, when its own
 * filesystem is not marked (its parent carries a FAN_MOVE_SELF mark, the
 * directory under the mount cannot be opened to carry one).
 *
 * Only read_notif uses it, always under ingest_mu (on the sensor thread or
 * the thread draining before a permission batch).
 */
#define DCACHE_SLOTS 256u
#define DCACHE_HANDLE_MAX 40
#define DCACHE_PATH_MAX 440
typedef struct dcache_ent {
  uint64_t gen; /* valid while equal to linux_ctx.dcache_gen */
  fsid_t fsid;
  int32_t type;
  uint16_t hlen, plen;
  unsigned char handle[DCACHE_HANDLE_MAX];
  char path[DCACHE_PATH_MAX]; /* plen bytes and a NUL */
} dcache_ent;

typedef struct linux_ctx {
  bm_sensor *s;
  int perm_fd, notif_fd, nl_fd, stop_fd;
  pthread_t thr;
  int thr_started;
  bm_fs_marks marks;     /* what is marked; fsid -> mount for file handles */
  bm_exec_chain chain;   /* the exec in flight of each process (loader, #! interpreter) */
  double boot_wall_ms;    /* wall time at boot (for /proc starttime) */
  double wall_minus_mono; /* for proc connector timestamps */
  long hz;
  char own_exe[PATH_MAX + 1]; /* the agent's executable, "" if unknown */
  pthread_mutex_t starts_mu;
  int pidfs; /* pidfds have per-process inode numbers (pidfs) */
  start_slot starts[START_SLOTS];
  uint64_t slot_hits; /* permission events whose start time came from the table (tests) */
  /* the guardian (guardian_shm.h); guard NULL when off */
  bm_guard_shm *guard;
  int guard_shm_fd;
  uint32_t guard_hint;          /* where the next publish starts looking */
  char guard_path[PATH_MAX + 32];
  int32_t guard_pid;            /* atomic: the running guardian, 0 none */
  int guard_pidfd;              /* keeper thread only */
  uint64_t guard_restarts;      /* atomic */
  uint64_t guard_started_ns;
  pthread_t keeper;
  int keeper_started;
  int keeper_stop_fd;           /* eventfd: the keeper thread ends */
  uint8_t rec[BM_MAX_RECORD]; /* permission records read by the sensor thread */
  /*
   * The notification group and the proc connector are read under ingest_mu,
   * by the sensor thread or by whichever thread reads a permission batch
   * (drain_before_auth), so their records keep one order; ingest_rec is the
   * record storage of that reading.
   */
  pthread_mutex_t ingest_mu;
  uint8_t ingest_rec[BM_MAX_RECORD];
  /* the directory cache (above), under ingest_mu */
  uint64_t dcache_gen;   /* entries of another gen are empty; starts at 1 */
  uint64_t dcache_epoch; /* marks.epoch when last emptied */
  uint64_t dcache_hits;  /* atomic: resolutions the cache answered (tests) */
  dcache_ent dcache[DCACHE_SLOTS];
} linux_ctx;

static double wall_minus_mono_ms(void) {
  struct timespec m;
  clock_gettime(CLOCK_MONOTONIC, &m);
  return bm_now_wall_ms() - ((double)m.tv_sec * 1e3 + (double)m.tv_nsec / 1e6);
}

/*
 * token = event fd, plus TOKEN_EXEC for exec permission events, plus the
 * guardian slot + 1 it is published in (0 none) from bit TOKEN_SLOT_SHIFT.
 */
#define TOKEN_EXEC (1ull << 32)
#define TOKEN_SLOT_SHIFT 33

/*
 * The kernel's own cache (cache=1, exec only): an ignore mark on the inode
 * keeps further exec permission events for it from being generated at all,
 * until the file is written (the kernel drops the ignore mask on modify). The
 * core passes cache=1 only while no deny-by-pid entry exists, since the kernel
 * would then skip that check. Limitation: a chmod/chown alone does not clear
 * it; the C cache (keyed on ctime) does notice those. Set before the response
 * is written: the event fd is still open.
 */
static void linux_answer(void *vctx, uint64_t token, int allow, int cache) {
  linux_ctx *c = vctx;
  int fd = (int)(token & 0xffffffffu);
  uint32_t slot = (uint32_t)(token >> TOKEN_SLOT_SHIFT);
  /* the guardian answered it already (the agent was stopped or late): not twice */
  if (slot && !bm_guard_claim(c->guard, slot - 1, fd)) {
    close(fd);
    return;
  }
  if (allow && cache && (token & TOKEN_EXEC))
    fanotify_mark(c->perm_fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM, fd, NULL);
  struct fanotify_response resp = {.fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY};
  /* a refused answer is tried once more, then counted: the exec may still wait */
  for (int tries = 0;;) {
    ssize_t w = write(c->perm_fd, &resp, sizeof resp);
    if (w == (ssize_t)sizeof resp) break;
    if (w < 0 && errno == EINTR) continue;
    if (++tries == 2) {
      BM_COUNT(c->s, answer_failures);
      break;
    }
  }
  close(fd);
}

/* The core's tables-changed hook: cached allows may be wrong now. */
static void linux_cache_flush(void *vctx) {
  linux_ctx *c = vctx;
  /* our only inode marks are ignore marks: flushing them empties the kernel cache */
  if (c->perm_fd >= 0) fanotify_mark(c->perm_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
}

/* ---- /proc helpers ------------------------------------------------------ */

/*
 * A /proc file, up to cap bytes. The kernel fills a read of these as far as
 * the buffer goes (stat and status: one seq_file record; cmdline and environ:
 * it copies page after page until the buffer or the text ends), so a short
 * read is the end of the file and the read that would return 0 is not made:
 * one system call less per file, two per exec record, one per fork record.
 */
static ssize_t read_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n < cap) {
    size_t want = cap - n;
    ssize_t r = read(fd, buf + n, want);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if ((size_t)r < want) break; /* short: the end */
  }
  close(fd);
  return (ssize_t)n;
}

static ssize_t read_link(const char *path, char *buf, size_t cap) {
  ssize_t n = readlink(path, buf, cap - 1);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

/* ppid and start time from /proc/PID/stat. Returns 0 or -1. */
static int proc_stat(linux_ctx *c, int pid, int32_t *ppid, double *start_ms) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  ssize_t n = read_file(path, buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* comm may contain spaces and parens */
  if (!p) return -1;
  char *tok = p + 2; /* field 3: state */
  int field = 3;
  while (field < 22) {
    char *sp = strchr(tok, ' ');
    if (!sp) return -1;
    tok = sp + 1;
    field++;
    if (field == 4) *ppid = (int32_t)strtol(tok, NULL, 10);
  }
  *start_ms = c->boot_wall_ms + (double)strtoull(tok, NULL, 10) * 1000.0 / (double)c->hz;
  return 0;
}

/*
 * PIDFD_GET_INFO (Linux 6.13+, linux/pidfd.h; declared here for older
 * headers): ppid, real and effective uid in one ioctl, about half the cost of
 * generating /proc/PID/status. Layout of struct pidfd_info, version 0 (64 bytes).
 */
struct bm_pidfd_info {
  uint64_t mask, cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
};
#define BM_PIDFD_INFO_CREDS 2ull
#define BM_PIDFD_GET_INFO _IOWR(0xFF, 11, struct bm_pidfd_info)
static int pidfd_info_broken; /* the kernel lacks it: /proc/PID/status from then on */

/* The pidfs inode of pid (0 when unknown): who the pid is right now. */
static uint64_t pidfd_ino(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/*
 * 0 done, -1 the process is gone, 1 the kernel lacks it (use /proc).
 * ino gets the pidfs inode when pidfs is there and want_ino, else 0.
 */
static int pidfd_facts(linux_ctx *c, int pid, int32_t *ppid, int32_t *uid, int32_t *euid,
                       uint64_t *ino, int want_ino) {
  *ino = 0;
  if (__atomic_load_n(&pidfd_info_broken, __ATOMIC_RELAXED)) return 1;
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ENOSYS) __atomic_store_n(&pidfd_info_broken, 1, __ATOMIC_RELAXED);
    return -1; /* ESRCH: gone */
  }
  struct bm_pidfd_info in;
  memset(&in, 0, sizeof in);
  in.mask = BM_PIDFD_INFO_CREDS;
  int rc = ioctl(fd, BM_PIDFD_GET_INFO, &in);
  int e = errno;
  if (c->pidfs && want_ino) *ino = pidfd_ino(fd);
  close(fd);
  if (rc == 0 && (in.mask & BM_PIDFD_INFO_CREDS)) {
    if (ppid) *ppid = (int32_t)in.ppid; /* PIDFD_INFO_PID: always filled */
    *uid = (int32_t)in.ruid;
    *euid = (int32_t)in.euid;
    return 0;
  }
  if (rc < 0 && e == ESRCH) return -1; /* exited meanwhile */
#endif
  __atomic_store_n(&pidfd_info_broken, 1, __ATOMIC_RELAXED);
  return 1;
}

static int status_uids(int pid, int32_t *uid, int32_t *euid) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  ssize_t n = read_file(path, buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *u = strstr(buf, "\nUid:");
  if (!u) return -1;
  long r, e;
  if (sscanf(u + 5, "%ld %ld", &r, &e) != 2) return -1;
  *uid = (int32_t)r;
  *euid = (int32_t)e;
  return 0;
}

/* The pidfs inode of a live pid, 0 when unknown or without pidfs. */
static uint64_t pid_ino(linux_ctx *c, int pid) {
  if (!c->pidfs) return 0;
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return 0;
  uint64_t ino = pidfd_ino(fd);
  close(fd);
  return ino;
#else
  return 0;
#endif
}

static uint8_t stream_kind(int pid, int fd, char *target, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  target[0] = 0;
  if (read_link(path, target, cap) < 0) return BM_STREAM_UNKNOWN;
  if (strcmp(target, "/dev/null") == 0) return BM_STREAM_NULL;
  if (strncmp(target, "socket:", 7) == 0) {
    /* Node and many supervisors give children socketpairs as stdio: only a
     * network socket makes "a shell on a socket" a remote shell. sockfs names
     * the protocol: "UNIX", "UNIX-STREAM" for AF_UNIX, "TCP", "UDPv6"... */
    char proto[32];
    ssize_t n = getxattr(path, "system.sockprotoname", proto, sizeof proto - 1);
    if (n > 0) {
      proto[n] = 0;
      if (strncmp(proto, "UNIX", 4) == 0) return BM_STREAM_UNIX;
    }
    return BM_STREAM_SOCKET;
  }
  if (strncmp(target, "pipe:", 5) == 0) return BM_STREAM_PIPE;
  if (strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0 ||
      strcmp(target, "/dev/console") == 0)
    return BM_STREAM_TTY;
  if (target[0] == '/') return BM_STREAM_FILE;
  return BM_STREAM_UNKNOWN;
}

/* True while pid still runs the agent's own executable (forked, not yet exec'd). */
static int is_unexeced_fork(linux_ctx *c, int pid) {
  char path[64], exe[PATH_MAX + 1];
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  return read_link(path, exe, sizeof exe) >= 0 && strcmp(exe, c->own_exe) == 0;
}

/* ---- proc connector ----------------------------------------------------- */

static void remember_start(linux_ctx *c, int32_t pid, double start, uint64_t ino) {
  if (start <= 0) return;
  start_slot *slot = &c->starts[(uint32_t)pid & (START_SLOTS - 1)];
  pthread_mutex_lock(&c->starts_mu);
  slot->pid = pid;
  slot->start_ms = start;
  slot->ino = ino;
  pthread_mutex_unlock(&c->starts_mu);
}

/* The remembered start time of pid, 0 if none; when ino is given, only if it is that process. */
static double known_start(linux_ctx *c, int32_t pid, uint64_t ino) {
  start_slot *slot = &c->starts[(uint32_t)pid & (START_SLOTS - 1)];
  pthread_mutex_lock(&c->starts_mu);
  double start = slot->pid == pid && (!ino || slot->ino == ino) ? slot->start_ms : 0;
  pthread_mutex_unlock(&c->starts_mu);
  return start;
}

/* The pidfs inode remembered for pid, 0 if none. */
static uint64_t known_ino(linux_ctx *c, int32_t pid) {
  start_slot *slot = &c->starts[(uint32_t)pid & (START_SLOTS - 1)];
  pthread_mutex_lock(&c->starts_mu);
  uint64_t ino = slot->pid == pid ? slot->ino : 0;
  pthread_mutex_unlock(&c->starts_mu);
  return ino;
}

static double forget_start(linux_ctx *c, int32_t pid) {
  start_slot *slot = &c->starts[(uint32_t)pid & (START_SLOTS - 1)];
  pthread_mutex_lock(&c->starts_mu);
  double start = slot->pid == pid ? slot->start_ms : 0;
  if (slot->pid == pid) slot->pid = 0;
  pthread_mutex_unlock(&c->starts_mu);
  return start;
}

/*
 * ppid, start time and uids of pid, and its pidfs inode (0 if unknown).
 * PIDFD_GET_INFO gives ppid and uids. The start time does not change on exec:
 * it comes from the table filled at fork when that entry is this process,
 * else from /proc/PID/stat, the costliest read here (on a held exec's
 * critical path, for permission events). fork_seen: the caller has handled
 * every proc connector event before this one (the sensor thread's exec
 * record), so an entry for pid is this process. Otherwise (permission events,
 * which may overtake their fork record) only an entry with the same pidfs
 * inode is: a reused pid has another. Returns 1 on an enrichment miss.
 */
static int proc_identity(linux_ctx *c, int pid, int fork_seen, int32_t *ppid, double *start,
                         int32_t *uid, int32_t *euid, uint64_t *ino) {
  *start = 0;
  /* after its fork record, pid's entry is this process: its inode is known (one fstat less) */
  uint64_t seen_ino = fork_seen ? known_ino(c, pid) : 0;
  int pf = pidfd_facts(c, pid, ppid, uid, euid, ino, !seen_ino);
  if (seen_ino) *ino = seen_ino;
  if (pf == 0 && (fork_seen || *ino)) {
    *start = known_start(c, pid, fork_seen ? 0 : *ino);
    if (*start > 0) {
      if (!fork_seen) __atomic_fetch_add(&c->slot_hits, 1, __ATOMIC_RELAXED);
      return 0;
    }
  }
  int miss = proc_stat(c, pid, ppid, start) != 0;
  if (pf < 0 || (pf > 0 && status_uids(pid, uid, euid))) miss = 1;
  return miss;
}

/*
 * The configured variables of pid's environment (just exec'd: its new one),
 * from at most BM_ENV_READ_MAX bytes of /proc/PID/environ. An environment
 * that cannot be read, or is longer than that (a variable past the bound is
 * not seen), counts as an env miss.
 */
static void add_env(linux_ctx *c, bm_rec *r, int pid) {
  static __thread char buf[BM_ENV_READ_MAX + 1]; /* one byte more: tells a longer environment */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/environ", pid);
  ssize_t n = read_file(path, buf, sizeof buf);
  if (n < 0 || (size_t)n > BM_ENV_READ_MAX) BM_COUNT(c->s, env_misses);
  if (n <= 0) return;
  if ((size_t)n > BM_ENV_READ_MAX) n = BM_ENV_READ_MAX;
  bm_rec_env_block(r, &c->s->cfg, buf, (size_t)n);
}

static void on_exec(linux_ctx *c, int pid, double t) {
  bm_rec r;
  bm_rec_begin(&r, c->ingest_rec, sizeof c->ingest_rec, BM_KIND_EXEC, 0);
  bm_rec_set_f64(&r, BM_OFF_TIME, t);
  bm_rec_set_i32(&r, BM_OFF_PID, pid);
  int32_t ppid = -1, uid = -1, euid = -1;
  double start = 0;
  uint64_t ino = 0;
  int miss = proc_identity(c, pid, 1, &ppid, &start, &uid, &euid, &ino);
  bm_rec_set_i32(&r, BM_OFF_PPID, ppid);
  bm_rec_set_f64(&r, BM_OFF_START, start);
  remember_start(c, pid, start, ino);
  bm_rec_set_i32(&r, BM_OFF_UID, uid);
  bm_rec_set_i32(&r, BM_OFF_EUID, euid);
  char path[64], buf[PATH_MAX + 1];
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  if (read_link(path, buf, sizeof buf) >= 0) bm_rec_cstr(&r, BM_STR_EXECUTABLE, buf);
  else miss = 1;
  static __thread char args[65536];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  ssize_t n = read_file(path, args, sizeof args);
  if (n > 0) {
    for (ssize_t i = 0; i < n;) {
      size_t len = strnlen(args + i, (size_t)(n - i));
      bm_rec_str(&r, BM_STR_ARG, args + i, len);
      i += (ssize_t)len + 1;
    }
  } else if (n < 0) {
    miss = 1;
  }
  snprintf(path, sizeof path, "/proc/%d/cwd", pid);
  if (read_link(path, buf, sizeof buf) >= 0) bm_rec_cstr(&r, BM_STR_CWD, buf);
  else miss = 1;
  if (bm_exec_chain_end(&c->chain, pid, buf, sizeof buf)) bm_rec_cstr(&r, BM_STR_SCRIPT, buf);
  if (c->s->cfg.n_env) add_env(c, &r, pid);
  uint8_t in = stream_kind(pid, 0, buf, sizeof buf);
  if (in == BM_STREAM_TTY) bm_rec_cstr(&r, BM_STR_TTY, buf);
  uint8_t out = stream_kind(pid, 1, buf, sizeof buf);
  bm_rec_set_u8(&r, BM_OFF_STDIN, in);
  bm_rec_set_u8(&r, BM_OFF_STDOUT, out);
  if (miss) {
    r.buf[BM_OFF_FLAGS] |= BM_FLAG_ENRICH_MISS;
    BM_COUNT(c->s, enrichment_misses);
  }
  bm_core_submit_notify(c->s, &r);
}

static void handle_proc_event(linux_ctx *c, const struct proc_event *ev) {
  double t = c->wall_minus_mono + (double)ev->timestamp_ns / 1e6;
  bm_rec r;
  switch (ev->what) {
    case PROC_EVENT_FORK: {
      const struct fork_proc_event *f = &ev->event_data.fork;
      if (f->child_pid != f->child_tgid) return; /* a thread */
      bm_tables_on_fork(&c->s->tables, f->parent_tgid, f->child_tgid);
      if (!c->s->cfg.notify_forks) return;
      bm_rec_begin(&r, c->ingest_rec, sizeof c->ingest_rec, BM_KIND_FORK, 0);
      bm_rec_set_f64(&r, BM_OFF_TIME, t);
      bm_rec_set_i32(&r, BM_OFF_PID, f->child_tgid);
      bm_rec_set_i32(&r, BM_OFF_PPID, f->parent_tgid);
      int32_t ppid = -1;
      double start = 0;
      if (proc_stat(c, f->child_tgid, &ppid, &start) == 0) {
        bm_rec_set_f64(&r, BM_OFF_START, start);
        /* with its pidfs inode, so a permission event can trust the slot (proc_identity) */
        remember_start(c, f->child_tgid, start, pid_ino(c, f->child_tgid));
      }
      bm_core_submit_notify(c->s, &r);
      return;
    }
    case PROC_EVENT_EXEC:
      on_exec(c, ev->event_data.exec.process_tgid, t);
      return;
    case PROC_EVENT_EXIT: {
      const struct exit_proc_event *x = &ev->event_data.exit;
      if (x->process_pid != x->process_tgid) return;
      bm_tables_on_exit(&c->s->tables, x->process_tgid);
      bm_exec_chain_end(&c->chain, x->process_tgid, NULL, 0);
      bm_rec_begin(&r, c->ingest_rec, sizeof c->ingest_rec, BM_KIND_EXIT, 0);
      bm_rec_set_f64(&r, BM_OFF_TIME, t);
      bm_rec_set_i32(&r, BM_OFF_PID, x->process_tgid);
      bm_rec_set_i32(&r, BM_OFF_PPID, (int32_t)x->parent_tgid);
      /* /proc is gone by now: the start time remembered at fork/exec keeps entity_id stable */
      double start = forget_start(c, x->process_tgid);
      if (start > 0) bm_rec_set_f64(&r, BM_OFF_START, start);
      int st = (int)x->exit_code;
      bm_rec_set_i32(&r, BM_OFF_AUX, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
      bm_core_submit_notify(c->s, &r);
      return;
    }
    default:
      return;
  }
}

static void read_netlink(linux_ctx *c) {
  static __thread char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (;;) {
    ssize_t n = recv(c->nl_fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) { /* the kernel dropped events for us */
        BM_COUNT(c->s, queue_errors);
        BM_COUNT(c->s, dropped);
        continue;
      }
      return; /* EAGAIN */
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_NOOP) continue;
      const struct cn_msg *m = NLMSG_DATA(h);
      if (m->id.idx != CN_IDX_PROC || m->id.val != CN_VAL_PROC) continue;
      if (m->len < sizeof(struct proc_event) - sizeof(((struct proc_event *)0)->event_data)) continue;
      /* cn_msg data sits at a 4-byte offset: copy out before reading its u64 fields */
      struct proc_event ev;
      memset(&ev, 0, sizeof ev);
      memcpy(&ev, m->data, m->len < sizeof ev ? m->len : sizeof ev);
      handle_proc_event(c, &ev);
    }
  }
}

static int open_proc_connector(linux_ctx *c, char *err, uint32_t err_len) {
  const char *step = "";
  c->nl_fd = bm_proc_connector_open(&step);
  if (c->nl_fd < 0) {
    bm_set_err(err, err_len, "Proc connector unavailable: %s: %s", step, strerror(errno));
    return -1;
  }
  return 0;
}

/* ---- fanotify permission events ---------------------------------------- */

static void read_notif(linux_ctx *c, int max_reads);

/*
 * Before a permission batch becomes records, the file events queued before it
 * become records first. The two fanotify groups are separate queues: a payload's
 * close-after-write is queued before its exec starts (the writer closed it
 * before anyone could run it), but the exec's permission event can be read
 * first, by the waiting agent or by this thread, and the engine would then judge
 * the exec of a file it has not seen written (a drop-then-run rule misses). A
 * full fanotify queue is 16,384 events, about 18 reads of 64 KiB; 32 reads bound
 * the time an exec waits here when a writer keeps the queue full.
 */
#define DRAIN_BEFORE_AUTH_READS 32
static void drain_before_auth(linux_ctx *c) {
  if (c->notif_fd < 0) return;
  pthread_mutex_lock(&c->ingest_mu);
  read_notif(c, DRAIN_BEFORE_AUTH_READS);
  pthread_mutex_unlock(&c->ingest_mu);
}

/*
 * The loader or #! interpreter that pid's execve in flight opens (exec_chain.h):
 * answered here, part of that exec, not a new one. A process denied by pid is
 * still denied. Returns 1 when handled.
 */
static int read_follower(linux_ctx *c, int fd, int pid, uint64_t slot_bits) {
  char lp[64], path[PATH_MAX + 1];
  snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
  const char *pathp = read_link(lp, path, sizeof path) >= 0 ? path : NULL;
  if (!bm_exec_chain_event(&c->chain, pid, fd, pathp)) return 0;
  BM_COUNT(c->s, exec_followers);
  bm_key none = {0, 0};
  linux_answer(c, (uint64_t)fd | slot_bits, bm_tables_decide(&c->s->tables, pid, NULL, none) != 0, 0);
  return 1;
}

/*
 * Reads permission events and holds or answers each one. once=0 (the sensor
 * thread) reads until none are left; once=1 (the agent's waiting thread, see
 * auth_fd in bm_core.h) reads one batch. rec[cap] is the caller's record
 * storage: both threads may run this at once. Returns the events read, or -1
 * on a read error other than "none left".
 */
static int read_perm_into(linux_ctx *c, uint8_t *rec, uint32_t cap, int once) {
  static __thread char buf[8192] __attribute__((aligned(8)));
  int got = 0;
  for (;;) {
    ssize_t n = read(c->perm_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return got ? got : -1;
    if (n <= 0) return got;
    /*
     * Before anything else, the guardian learns which fds hold an event
     * (guardian_shm.h): if this process stops or dies from here on, it
     * answers them. An event that finds no free slot is allowed at once.
     */
    uint32_t slots[sizeof buf / sizeof(struct fanotify_event_metadata) + 1];
    uint32_t k = 0;
    ssize_t left = n; /* FAN_EVENT_NEXT counts it down */
    for (struct fanotify_event_metadata *md = (void *)buf; FAN_EVENT_OK(md, left); md = FAN_EVENT_NEXT(md, left), k++)
      slots[k] = c->guard && md->vers == FANOTIFY_METADATA_VERSION && md->fd >= 0
                     ? bm_guard_publish(c->guard, &c->guard_hint, md->fd)
                     : 0;
    drain_before_auth(c);
    k = 0;
    for (struct fanotify_event_metadata *md = (void *)buf; FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n), k++) {
      if (md->vers != FANOTIFY_METADATA_VERSION) continue;
      if (md->mask & FAN_Q_OVERFLOW) {
        BM_COUNT(c->s, queue_errors);
        continue;
      }
      if (md->fd < 0) continue;
      int fd = md->fd, pid = md->pid;
      uint64_t sl = (uint64_t)slots[k] << TOKEN_SLOT_SHIFT;
      got++;
      if (c->guard && !slots[k]) { /* the guardian could not cover it */
        BM_COUNT(c->s, auth_ring_full);
        linux_answer(c, (uint64_t)fd, c->s->cfg.fail_open, 0);
        continue;
      }
      if (pid == c->s->cfg.own_pid) { /* never hold ourselves; skip /proc reads */
        BM_COUNT(c->s, own_pid_skips);
        linux_answer(c, (uint64_t)fd | sl, 1, 0);
        continue;
      }
      int exec = (md->mask & FAN_OPEN_EXEC_PERM) != 0;
      if (exec && read_follower(c, fd, pid, sl)) continue;
      bm_rec r;
      bm_rec_begin(&r, rec, cap, exec ? BM_KIND_EXEC : BM_KIND_OPEN, BM_FLAG_AUTH);
      bm_rec_set_f64(&r, BM_OFF_TIME, bm_now_wall_ms());
      bm_rec_set_i32(&r, BM_OFF_PID, pid);
      char lp[64], path[PATH_MAX + 1];
      snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
      const char *pathp = NULL;
      if (read_link(lp, path, sizeof path) >= 0) {
        pathp = path;
        if (exec) bm_rec_cstr(&r, BM_STR_EXECUTABLE, path);
        bm_rec_cstr(&r, BM_STR_PATH, path);
      }
      bm_key key = {0, 0};
      struct stat st;
      if (fstat(fd, &st) == 0) {
        key.a = (uint64_t)st.st_ino;
        key.b = ((uint64_t)st.st_dev << 40) ^ ((uint64_t)st.st_ctim.tv_sec * 1000000000ull +
                                                (uint64_t)st.st_ctim.tv_nsec) ^
                ((uint64_t)st.st_size << 17) ^ 1ull;
        bm_rec_set_i32(&r, BM_OFF_FILE_UID, (int32_t)st.st_uid);
        bm_rec_set_u32(&r, BM_OFF_FILE_MODE, st.st_mode);
        bm_rec_set_f64(&r, BM_OFF_FILE_SIZE, (double)st.st_size);
      }
      int32_t ppid = -1, uid = -1, euid = -1;
      double start = 0;
      uint64_t ino = 0;
      int miss = proc_identity(c, pid, 0, &ppid, &start, &uid, &euid, &ino);
      if (ppid == c->s->cfg.own_pid && c->own_exe[0] && is_unexeced_fork(c, pid)) {
        /*
         * A child the agent is spawning (still the agent's image, between
         * fork and exec) is never held: the agent may be blocked in spawn
         * waiting for this very exec. Once it runs its own image it is
         * treated like any other process.
         */
        BM_COUNT(c->s, own_pid_skips);
        linux_answer(c, (uint64_t)fd | sl, 1, 0);
        continue;
      }
      /*
       * Fast path before the other /proc reads: a cached allow is answered at once and
       * not queued (the proc connector's exec record follows); a deny is
       * answered at once and still reported, as a notify record.
       */
      int d = bm_tables_decide(&c->s->tables, pid, pathp, key);
      if (d == 1) {
        BM_COUNT(c->s, fast_path_answers);
        linux_answer(c, (uint64_t)fd | sl | (exec ? TOKEN_EXEC : 0), 1, bm_core_os_cache_ok(c->s));
        continue;
      }
      if (d == 0) {
        BM_COUNT(c->s, fast_path_answers);
        linux_answer(c, (uint64_t)fd | sl, 0, 0);
        r.buf[BM_OFF_FLAGS] &= (uint8_t)~BM_FLAG_AUTH;
      }
      bm_rec_set_i32(&r, BM_OFF_PPID, ppid);
      bm_rec_set_f64(&r, BM_OFF_START, start);
      bm_rec_set_i32(&r, BM_OFF_UID, uid);
      bm_rec_set_i32(&r, BM_OFF_EUID, euid);
      if (miss) {
        r.buf[BM_OFF_FLAGS] |= BM_FLAG_ENRICH_MISS;
        BM_COUNT(c->s, enrichment_misses);
      }
      if (d == 0) {
        bm_core_submit_report(c->s, &r);
        continue;
      }
      int cacheable = exec || !c->s->cfg.avoid_open_cache;
      uint64_t token = (uint64_t)fd | sl | (exec ? TOKEN_EXEC : 0);
      bm_core_submit_auth(c->s, &r, token, pid, pathp, key, cacheable);
    }
    if (once) return got;
  }
}

/* bm_sensor_testing.h: permission events whose start time came from the table. */
uint64_t bm_linux_debug_slot_hits(bm_sensor *s) {
  linux_ctx *c = s->ctx;
  return __atomic_load_n(&c->slot_hits, __ATOMIC_RELAXED);
}

/* bm_sensor_testing.h: directory paths the directory cache answered. */
uint64_t bm_linux_debug_dcache_hits(bm_sensor *s) {
  linux_ctx *c = s->ctx;
  return __atomic_load_n(&c->dcache_hits, __ATOMIC_RELAXED);
}

static void read_perm(linux_ctx *c) { read_perm_into(c, c->rec, sizeof c->rec, 0); }

/* The core's auth_read: called on the agent's waiting thread. */
static int linux_auth_read(void *vctx) {
  linux_ctx *c = vctx;
  /* a permission record carries two paths at most: header + 2 * (4 + PATH_MAX) */
  uint8_t rec[BM_RECORD_HEADER_SIZE + 2 * (4 + PATH_MAX + 1) + 8] __attribute__((aligned(8)));
  return read_perm_into(c, rec, sizeof rec, 1);
}

/* ---- fanotify notification events (dir fid + name) --------------------- */

static void dcache_flush(linux_ctx *c) { c->dcache_gen++; }

static dcache_ent *dcache_slot(linux_ctx *c, const fsid_t *fsid, const struct file_handle *fh) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  const unsigned char *p = (const unsigned char *)fsid;
  for (size_t i = 0; i < sizeof *fsid; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  h = (h ^ (uint32_t)fh->handle_type) * 0x100000001b3ull;
  for (unsigned i = 0; i < fh->handle_bytes; i++) h = (h ^ fh->f_handle[i]) * 0x100000001b3ull;
  return &c->dcache[(h ^ (h >> 32)) & (DCACHE_SLOTS - 1)];
}

static int dcache_match(const linux_ctx *c, const dcache_ent *e, const fsid_t *fsid,
                        const struct file_handle *fh) {
  return e->gen == c->dcache_gen && e->hlen == fh->handle_bytes && e->type == fh->handle_type &&
         memcmp(&e->fsid, fsid, sizeof *fsid) == 0 && memcmp(e->handle, fh->f_handle, e->hlen) == 0;
}

/* Resolves a dir handle + name into dst. Returns 0, -1 when the dir is gone. */
static int resolve_dfid_name(linux_ctx *c, const struct fanotify_event_info_fid *fid, char *dst, size_t cap) {
  const struct file_handle *fh = (const struct file_handle *)fid->handle;
  const char *name = (const char *)fh->f_handle + fh->handle_bytes;
  const fsid_t *fsid = (const fsid_t *)&fid->fsid;
  int mfd = bm_fs_marks_mount_fd(&c->marks, fsid);
  char dirbuf[PATH_MAX + 1] = "";
  const char *dir = dirbuf;
  int ok = -1;
  dcache_ent *e = NULL;
  if (mfd >= 0 && fh->handle_bytes <= DCACHE_HANDLE_MAX && bm_fs_marks_paths_kept(&c->marks, fsid)) {
    if (c->dcache_epoch != c->marks.epoch) {
      dcache_flush(c);
      c->dcache_epoch = c->marks.epoch;
    }
    e = dcache_slot(c, fsid, fh);
    if (dcache_match(c, e, fsid, fh)) {
      dir = e->path;
      ok = 0;
      __atomic_fetch_add(&c->dcache_hits, 1, __ATOMIC_RELAXED);
    }
  }
  if (ok && mfd >= 0) {
    /* open_by_handle_at wants a mutable handle */
    char hbuf[sizeof(struct file_handle) + MAX_HANDLE_SZ] __attribute__((aligned(8)));
    size_t hl = sizeof(struct file_handle) + fh->handle_bytes;
    if (hl <= sizeof hbuf) {
      memcpy(hbuf, fh, hl);
      int dfd = open_by_handle_at(mfd, (struct file_handle *)hbuf, O_PATH | O_CLOEXEC);
      if (dfd >= 0) {
        char lp[64];
        snprintf(lp, sizeof lp, "/proc/self/fd/%d", dfd);
        ssize_t n = read_link(lp, dirbuf, sizeof dirbuf);
        if (n >= 0) ok = 0;
        close(dfd);
        /* a path that fits, and not one the kernel marks as removed meanwhile */
        static const char gone[] = " (deleted)";
        size_t gl = sizeof gone - 1;
        if (e && n > 0 && dirbuf[0] == '/' && (size_t)n < DCACHE_PATH_MAX &&
            !((size_t)n >= gl && memcmp(dirbuf + n - gl, gone, gl) == 0)) {
          e->gen = c->dcache_gen;
          e->fsid = *fsid;
          e->type = fh->handle_type;
          e->hlen = (uint16_t)fh->handle_bytes;
          memcpy(e->handle, fh->f_handle, fh->handle_bytes);
          e->plen = (uint16_t)n;
          memcpy(e->path, dirbuf, (size_t)n + 1);
        }
      }
    }
  }
  if (strcmp(name, ".") == 0 || name[0] == 0) snprintf(dst, cap, "%s", dir);
  else if (strcmp(dir, "/") == 0) snprintf(dst, cap, "/%s", name);
  else snprintf(dst, cap, "%s/%s", dir, name);
  return ok;
}

static void emit_file(linux_ctx *c, uint8_t kind, int pid, int ondir, const char *path, const char *target,
                      int miss) {
  bm_rec r;
  bm_rec_begin(&r, c->ingest_rec, sizeof c->ingest_rec, kind, ondir ? BM_FLAG_DIR : 0);
  bm_rec_set_f64(&r, BM_OFF_TIME, bm_now_wall_ms());
  bm_rec_set_i32(&r, BM_OFF_PID, pid);
  bm_rec_cstr(&r, BM_STR_PATH, path);
  if (target) bm_rec_cstr(&r, BM_STR_TARGET_PATH, target);
  if (miss) {
    r.buf[BM_OFF_FLAGS] |= BM_FLAG_ENRICH_MISS;
    BM_COUNT(c->s, enrichment_misses);
  }
  bm_core_submit_notify(c->s, &r);
}

/* Reads at most max_reads batches (-1: until none are left). Under ingest_mu. */
static void read_notif(linux_ctx *c, int max_reads) {
  static __thread char buf[65536] __attribute__((aligned(8)));
  char path[PATH_MAX + 1], oldp[PATH_MAX + 1], newp[PATH_MAX + 1];
  for (int reads = 0; max_reads < 0 || reads < max_reads; reads++) {
    ssize_t n = read(c->notif_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    /* The proc connector queues fork/exec when they happen, so every exec that
     * precedes these file events is already waiting on the netlink socket:
     * emit those first, or a short-lived writer's file events would reach the
     * agent before its exec record and be charged to its pre-exec image. */
    if (c->nl_fd >= 0) read_netlink(c);
    /* events with names are padded to 4 bytes, not 8: each header is copied out to be read */
    for (ssize_t off = 0; off + (ssize_t)FAN_EVENT_METADATA_LEN <= n;) {
      struct fanotify_event_metadata mdv;
      memcpy(&mdv, buf + off, sizeof mdv);
      if (mdv.event_len < FAN_EVENT_METADATA_LEN || mdv.event_len > (size_t)(n - off)) break;
      const struct fanotify_event_metadata *md = &mdv;
      char *ev = buf + off;
      off += mdv.event_len;
      if (md->fd >= 0) close(md->fd);
      /*
       * Lost events may have renamed directories; a directory renamed (any
       * directory event but a mkdir or rmdir, whoever did it: the agent's own
       * too) takes the cached paths with it: the directory cache starts over.
       * An rmdir changes no other directory's path, and its own entry is what
       * the events queued before it want (see the cache's comment above): an
       * rm -rf the sensor lags behind still names the files it unlinks.
       */
      if ((md->mask & FAN_Q_OVERFLOW) ||
          ((md->mask & FAN_ONDIR) && (md->mask & ~(uint64_t)(FAN_ONDIR | FAN_CREATE | FAN_DELETE))))
        dcache_flush(c);
      /* only the marks above a mount ask for it: that mount moved, perhaps under new parents */
      if (md->mask & FAN_MOVE_SELF) bm_fs_marks_anchor(&c->marks);
      if (md->mask & FAN_Q_OVERFLOW) {
        BM_COUNT(c->s, queue_errors);
        BM_COUNT(c->s, dropped);
        continue;
      }
      if (md->pid == c->s->cfg.own_pid) continue; /* the agent's own writes */
      int have = 0, have_old = 0, have_new = 0, miss = 0;
      for (char *p = ev + md->metadata_len; p < ev + md->event_len;) {
        const struct fanotify_event_info_header *ih = (const void *)p;
        if (ih->len == 0) break;
        const struct fanotify_event_info_fid *fid = (const void *)p;
        if (ih->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
          miss |= resolve_dfid_name(c, fid, path, sizeof path) != 0;
          have = 1;
        } else if (ih->info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME) {
          miss |= resolve_dfid_name(c, fid, oldp, sizeof oldp) != 0;
          have_old = 1;
        } else if (ih->info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME) {
          miss |= resolve_dfid_name(c, fid, newp, sizeof newp) != 0;
          have_new = 1;
        }
        p += ih->len;
      }
      int ondir = (md->mask & FAN_ONDIR) != 0;
      if ((md->mask & FAN_RENAME) && have_old && have_new)
        emit_file(c, BM_KIND_RENAME, md->pid, ondir, oldp, newp, miss);
      if (!have) continue;
      if (md->mask & FAN_CREATE) emit_file(c, BM_KIND_CREATE, md->pid, ondir, path, NULL, miss);
      if (md->mask & FAN_CLOSE_WRITE) emit_file(c, BM_KIND_CLOSE_MODIFIED, md->pid, 0, path, NULL, miss);
      if (md->mask & FAN_DELETE) emit_file(c, BM_KIND_UNLINK, md->pid, ondir, path, NULL, miss);
    }
    bm_fs_marks_batch_done(&c->marks); /* no fd stays on a mount: its umount must not fail */
  }
}

/* ---- the guardian (guardian_shm.h) ------------------------------------ */

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The guardian program: the config's path, else bm_guardian beside this library. */
static void guardian_path(linux_ctx *c, const char *configured) {
  if (configured[0]) {
    snprintf(c->guard_path, sizeof c->guard_path, "%s", configured);
    return;
  }
  char here[PATH_MAX + 1] = "";
  Dl_info di;
  memset(&di, 0, sizeof di);
  /* a library loaded through a descriptor (/proc/self/fd/N) has no folder: the
     caller must say where the guardian is (the agent does) */
  if (dladdr((void *)bm_sensor_open, &di) && di.dli_fname && strncmp(di.dli_fname, "/proc/", 6) != 0 &&
      strncmp(di.dli_fname, "/dev/fd/", 8) != 0 && realpath(di.dli_fname, here)) {
    char *slash = strrchr(here, '/');
    if (slash) *slash = 0;
    snprintf(c->guard_path, sizeof c->guard_path, "%s/bm_guardian", here);
  } else {
    c->guard_path[0] = 0; /* guardian_spawn says so */
  }
}

/* Starts the guardian with the group on fd 3 and the shared page on fd 4. */
static int guardian_spawn(linux_ctx *c, char *err, uint32_t err_len) {
  struct stat st;
  if (stat(c->guard_path, &st) != 0 || !S_ISREG(st.st_mode)) {
    bm_set_err(err, err_len, "Cannot find the guardian \"%s\": %s", c->guard_path,
               errno ? strerror(errno) : "not a file");
    return -1;
  }
  /* it runs as root holding the group: only root may have written it */
  if (st.st_uid != 0 || (st.st_mode & 022)) {
    bm_set_err(err, err_len, "Refusing the guardian \"%s\": not root-owned, or writable by group or others",
               c->guard_path);
    return -1;
  }
  /* above the target numbers, so dup2 always clears close-on-exec */
  int gfd = fcntl(c->perm_fd, F_DUPFD_CLOEXEC, 10);
  int sfd = fcntl(c->guard_shm_fd, F_DUPFD_CLOEXEC, 10);
  int rc = gfd < 0 || sfd < 0 ? errno : 0;
  pid_t pid = 0;
  if (!rc) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, gfd, BM_GUARD_FD_GROUP);
    posix_spawn_file_actions_adddup2(&fa, sfd, BM_GUARD_FD_SHM);
    posix_spawn_file_actions_addclosefrom_np(&fa, BM_GUARD_FD_SHM + 1);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    char *argv[] = {"bm_guardian", NULL}, *envp[] = {NULL};
    rc = posix_spawn(&pid, c->guard_path, &fa, &at, argv, envp);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
  }
  if (gfd >= 0) close(gfd);
  if (sfd >= 0) close(sfd);
  if (rc) {
    bm_set_err(err, err_len, "Cannot start the guardian \"%s\": %s", c->guard_path, strerror(rc));
    return -1;
  }
  c->guard_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  c->guard_started_ns = bm_now_mono_ns();
  __atomic_store_n(&c->guard_pid, (int32_t)pid, __ATOMIC_RELEASE);
  return 0;
}

/* Reaps the guardian that ended (or must end now: kill=1). */
static void guardian_reap(linux_ctx *c, int kill_it) {
  int32_t pid = __atomic_load_n(&c->guard_pid, __ATOMIC_ACQUIRE);
  if (!pid) return;
  if (kill_it) {
    kill(pid, SIGTERM); /* not reaped yet: the pid is still ours */
    struct pollfd p = {.fd = c->guard_pidfd, .events = POLLIN};
    if (c->guard_pidfd < 0 || poll(&p, 1, 2000) <= 0) kill(pid, SIGKILL);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (c->guard_pidfd >= 0) close(c->guard_pidfd);
  c->guard_pidfd = -1;
  __atomic_store_n(&c->guard_pid, 0, __ATOMIC_RELEASE);
}

/*
 * The keeper thread: notices a dead guardian (its pidfd), reaps it and starts
 * another (counted in guardian_restarts), at most once a second. Spawning
 * from here, not from the sensor thread: the new guardian's exec may raise a
 * permission event that the sensor thread must be free to read (it allows it
 * at once: a child of the agent still running the agent's image).
 */
static void *keeper_main(void *arg) {
  linux_ctx *c = arg;
  pthread_setname_np(pthread_self(), "bm-guard-keeper");
  for (;;) {
    struct pollfd p[2] = {{.fd = c->keeper_stop_fd, .events = POLLIN},
                          {.fd = c->guard_pidfd, .events = POLLIN}};
    int r = poll(p, 2, c->guard_pidfd >= 0 ? -1 : 1000);
    if (r < 0 && errno == EINTR) continue;
    if (p[0].revents) break;
    if (c->guard_pidfd >= 0) {
      if (!(p[1].revents & (POLLIN | POLLHUP))) continue;
      uint64_t lived = bm_now_mono_ns() - c->guard_started_ns;
      guardian_reap(c, 0);
      struct pollfd q = {.fd = c->keeper_stop_fd, .events = POLLIN};
      if (lived < 1000000000ull && poll(&q, 1, 1000) > 0) break;
    }
    char err[512];
    if (guardian_spawn(c, err, sizeof err) == 0)
      __atomic_fetch_add(&c->guard_restarts, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* Creates the shared page and starts the guardian; the keeper thread starts later. */
static int guardian_open(linux_ctx *c, const bm_config *cfg, char *err, uint32_t err_len) {
  c->guard_pidfd = -1;
  c->guard_shm_fd = -1;
  if (c->perm_fd < 0 || strcmp(cfg->guardian, "off") == 0) return 0;
  guardian_path(c, cfg->guardian);
  c->guard_shm_fd = (int)syscall(SYS_memfd_create, "bm-guardian", MFD_CLOEXEC);
  if (c->guard_shm_fd < 0 || ftruncate(c->guard_shm_fd, sizeof(bm_guard_shm))) {
    bm_set_err(err, err_len, "Cannot create the guardian's shared page: %s", strerror(errno));
    return -1;
  }
  void *m = mmap(NULL, sizeof(bm_guard_shm), PROT_READ | PROT_WRITE, MAP_SHARED, c->guard_shm_fd, 0);
  if (m == MAP_FAILED) {
    bm_set_err(err, err_len, "Cannot map the guardian's shared page: %s", strerror(errno));
    return -1;
  }
  c->guard = m;
  c->guard->magic = BM_GUARD_MAGIC;
  c->guard->agent_pid = (int32_t)getpid();
  c->guard->fail_open = cfg->fail_open;
  /* the guardian steps in when the watchdog thread (the heartbeat) would have answered */
  int32_t stale = cfg->auth_deadline_ms - cfg->deadline_margin_ms;
  c->guard->stale_ms = stale < 250 ? 250 : stale;
  c->guard->heartbeat_ns = bm_now_mono_ns();
  char e[512];
  guardian_spawn(c, e, sizeof e); /* not fatal: the keeper retries every second */
  return 0;
}

/* At close: the guardian answers what is left (nothing, normally) and exits. */
static void guardian_close(linux_ctx *c) {
  if (!c->guard) return;
  __atomic_store_n(&c->guard->closing, 1, __ATOMIC_RELEASE);
  guardian_reap(c, 1);
  munmap(c->guard, sizeof(bm_guard_shm));
  c->guard = NULL;
  c->s->heartbeat = NULL;
}

static void linux_stats_extra(void *vctx, bm_sensor_stats *st) {
  linux_ctx *c = vctx;
  if (!c->guard) return;
  st->auth_by_guardian = __atomic_load_n(&c->guard->answered, __ATOMIC_RELAXED);
  st->guardian_restarts = __atomic_load_n(&c->guard_restarts, __ATOMIC_RELAXED);
  st->guardian_pid = (uint64_t)__atomic_load_n(&c->guard_pid, __ATOMIC_ACQUIRE);
}

/*
 * kill -9 releases a process's fds at exit, and releasing a fanotify group
 * waits for every pending permission event on any group (SRCU). If the
 * notification group went first while an exec is held, its release would
 * wait for an answer that only the permission group's release gives: the
 * exit hangs, and so does every exec on the marked filesystems. The
 * permission group must therefore be released first; see README.
 */
static void order_groups(linux_ctx *c) {
  if (c->perm_fd < 0 || c->notif_fd < 0 || c->perm_fd > c->notif_fd) return;
  int hi = fcntl(c->perm_fd, F_DUPFD_CLOEXEC, c->notif_fd + 1);
  if (hi < 0) return;
  close(c->perm_fd);
  c->perm_fd = hi;
}

/* ---- thread, open, close ----------------------------------------------- */

static void *sensor_main(void *arg) {
  linux_ctx *c = arg;
  pthread_setname_np(pthread_self(), "bm-sensor");
  struct pollfd p[6] = {
      {.fd = c->stop_fd, .events = POLLIN},
      {.fd = c->perm_fd, .events = POLLIN},
      {.fd = c->nl_fd, .events = POLLIN},
      {.fd = c->notif_fd, .events = POLLIN},
      {.fd = c->s->kick_fd, .events = POLLIN},
      /* a mount or umount anywhere in our namespace: POLLPRI (following mode) */
      {.fd = c->marks.mountinfo_fd, .events = POLLPRI},
  };
  for (;;) {
    /* while the agent waits, it reads permission events itself (bm_core.h auth_fd) */
    int recheck = -1;
    int yield = c->perm_fd >= 0 && bm_core_platform_may_yield(c->s, &recheck);
    p[1].fd = yield ? -1 : c->perm_fd;
    p[3].fd = c->s->cfg.debug_hold_notify ? -1 : c->notif_fd;
    int r = poll(p, 6, recheck);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents) break;
    if (p[4].revents & POLLIN) {
      uint64_t v;
      ssize_t n = read(c->s->kick_fd, &v, sizeof v);
      (void)n;
    }
    if (p[1].revents & POLLIN) read_perm(c);
    pthread_mutex_lock(&c->ingest_mu);
    /* mounts first: file events read after a mount moved must not use paths cached before */
    if (p[5].revents & (POLLPRI | POLLERR)) bm_fs_marks_rescan(&c->marks);
    if (p[2].revents & POLLIN) read_netlink(c);
    if (p[3].revents & POLLIN) read_notif(c, -1);
    pthread_mutex_unlock(&c->ingest_mu);
    /* permission events first: they hold a process */
    if (c->perm_fd >= 0 && !yield) read_perm(c);
  }
  return NULL;
}

static void linux_stop(void *vctx, int release) {
  linux_ctx *c = vctx;
  if (!release) {
    /* the keeper first: a guardian it is spawning may wait for its exec's permission
       event, which the sensor thread answers (a child of the agent) while it runs */
    if (c->keeper_started) {
      uint64_t one = 1;
      ssize_t w = write(c->keeper_stop_fd, &one, sizeof one);
      (void)w;
      pthread_join(c->keeper, NULL);
      c->keeper_started = 0;
    }
    if (c->thr_started) {
      uint64_t one = 1;
      ssize_t w = write(c->stop_fd, &one, sizeof one);
      (void)w;
      pthread_join(c->thr, NULL);
      c->thr_started = 0;
    }
    return;
  }
  guardian_close(c);
  /* closing the permission group lets the kernel allow anything still pending */
  if (c->perm_fd >= 0) close(c->perm_fd);
  if (c->notif_fd >= 0) close(c->notif_fd);
  if (c->nl_fd >= 0) close(c->nl_fd);
  if (c->stop_fd >= 0) close(c->stop_fd);
  if (c->guard_shm_fd >= 0) close(c->guard_shm_fd);
  if (c->keeper_stop_fd >= 0) close(c->keeper_stop_fd);
  if (c->s->wake_fd >= 0) close(c->s->wake_fd); /* no waiter is left by now */
  if (c->s->kick_fd >= 0) close(c->s->kick_fd);
  bm_fs_marks_free(&c->marks);
  bm_exec_chain_free(&c->chain);
  pthread_mutex_destroy(&c->starts_mu);
  pthread_mutex_destroy(&c->ingest_mu);
  free(c);
}

static int32_t linux_describe_marks(void *vctx, uint8_t *buf, uint32_t cap) {
  linux_ctx *c = vctx;
  return bm_fs_marks_describe(&c->marks, buf, cap);
}

bm_sensor *bm_sensor_open(const char *config, char *err, uint32_t err_len) {
  bm_config cfg;
  if (bm_config_parse(config, &cfg, err, err_len)) return NULL;
  if (geteuid() != 0) {
    bm_set_err(err, err_len, "Not running as root: fanotify and the proc connector need CAP_SYS_ADMIN");
    return NULL;
  }
  if (cfg.n_mounts == 0 && cfg.marks_mounts) {
    bm_set_err(err, err_len, "Bad sensor config: marks=mounts needs at least one mount=PATH");
    return NULL;
  }
  bm_sensor *s = calloc(1, sizeof *s);
  linux_ctx *c = calloc(1, sizeof *c);
  if (!s || !c) {
    free(s);
    free(c);
    bm_set_err(err, err_len, "Out of memory");
    return NULL;
  }
  c->s = s;
  /* linux_stop closes these: not fd 0 on an early failure */
  s->wake_fd = s->kick_fd = s->auth_fd = -1;
  c->perm_fd = c->notif_fd = c->nl_fd = c->stop_fd = -1;
  c->guard_shm_fd = c->guard_pidfd = c->keeper_stop_fd = -1;
  c->hz = sysconf(_SC_CLK_TCK);
  pthread_mutex_init(&c->starts_mu, NULL);
  pthread_mutex_init(&c->ingest_mu, NULL);
  c->dcache_gen = 1;
  bm_fs_marks_init(&c->marks, -1, 0, -1, 0);
  if (bm_exec_chain_init(&c->chain)) {
    bm_set_err(err, err_len, "Out of memory");
    goto fail;
  }
  c->pidfs = bm_have_pidfs();
  struct timespec bt;
  clock_gettime(CLOCK_BOOTTIME, &bt);
  c->boot_wall_ms = bm_now_wall_ms() - ((double)bt.tv_sec * 1e3 + (double)bt.tv_nsec / 1e6);
  c->wall_minus_mono = wall_minus_mono_ms();
  unsigned where = cfg.marks_mounts ? FAN_MARK_MOUNT : FAN_MARK_FILESYSTEM;
  {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/exe", cfg.own_pid);
    if (read_link(p, c->own_exe, sizeof c->own_exe) < 0) c->own_exe[0] = 0;
  }

  c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

  if (cfg.exec_auth || cfg.open_auth) {
    c->perm_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (c->perm_fd < 0) {
      int e = errno;
      if (e == ENOSYS) bm_set_err(err, err_len, "Kernel lacks fanotify (CONFIG_FANOTIFY)");
      else if (e == EINVAL) bm_set_err(err, err_len, "Kernel lacks fanotify permission events: fanotify_init: %s", strerror(e));
      else bm_set_err(err, err_len, "Cannot start fanotify permission group: %s", strerror(e));
      goto fail;
    }
    c->marks.perm_fd = c->perm_fd;
    c->marks.perm_mask = (cfg.exec_auth ? FAN_OPEN_EXEC_PERM : 0) | (cfg.open_auth ? FAN_OPEN_PERM : 0);
    /* before the marks: its exec cannot be held */
    if (guardian_open(c, &cfg, err, err_len)) goto fail;
  }
  if (cfg.notify_files) {
    c->notif_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK,
                                O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (c->notif_fd < 0) {
      bm_set_err(err, err_len, "Kernel lacks fanotify directory events (FAN_REPORT_DFID_NAME, Linux 5.9+): %s",
                 strerror(errno));
      goto fail;
    }
    c->marks.notif_fd = c->notif_fd;
    c->marks.notif_mask = FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_CLOSE_WRITE | FAN_ONDIR;
  }
  if (cfg.n_mounts) {
    for (int i = 0; i < cfg.n_mounts; i++)
      if (bm_fs_marks_add_static(&c->marks, cfg.mounts[i], where, err, err_len)) goto fail;
  } else {
    /* every local filesystem, now and as mounts come and go */
    const char *only_under = NULL;
#ifdef BM_TEST_HOOKS
    only_under = cfg.marks_only_under[0] ? cfg.marks_only_under : NULL;
#endif
    /* the test suite's safety catch: on a shared machine a global permission mark freezes everyone */
    if (!only_under && getenv("BM_TEST_NO_GLOBAL_MARKS")) {
      bm_set_err(err, err_len, "Refusing to mark every filesystem: BM_TEST_NO_GLOBAL_MARKS is set");
      goto fail;
    }
    if (bm_fs_marks_follow(&c->marks, cfg.marks_network, only_under, err, err_len)) goto fail;
  }
  order_groups(c);
  c->marks.perm_fd = c->perm_fd; /* rescans mark through the group under its new number */
  if (open_proc_connector(c, err, err_len)) goto fail;
  if (c->guard) {
    s->heartbeat = &c->guard->heartbeat_ns;
    s->stats_extra = linux_stats_extra;
  }
  if (bm_core_init(s, &cfg, linux_answer, linux_stop, c, err, err_len)) goto fail_core;
  s->describe_marks = linux_describe_marks;
  if (c->perm_fd >= 0) {
    s->tables_changed = linux_cache_flush;
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd >= 0 && s->kick_fd >= 0) {
      s->auth_fd = c->perm_fd;
      s->auth_read = linux_auth_read;
    }
  }
  if (pthread_create(&c->thr, NULL, sensor_main, c)) {
    bm_set_err(err, err_len, "Cannot start the sensor thread");
    bm_sensor_close(s);
    return NULL;
  }
  c->thr_started = 1;
  if (c->guard) {
    c->keeper_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->keeper_stop_fd < 0 || pthread_create(&c->keeper, NULL, keeper_main, c)) {
      bm_set_err(err, err_len, "Cannot start the guardian's keeper thread");
      bm_sensor_close(s);
      return NULL;
    }
    c->keeper_started = 1;
  }
  return s;
fail_core:
  free(s->held);
  bm_ring_free(&s->ring);
fail:
  linux_stop(c, 1);
  free(s);
  return NULL;
}
