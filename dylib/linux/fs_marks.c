/* Marked filesystems and mount following: see fs_marks.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fs_marks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/bm_core.h"

void bm_fs_marks_init(bm_fs_marks *m, int perm_fd, uint64_t perm_mask, int notif_fd,
                      uint64_t notif_mask) {
  memset(m, 0, sizeof *m);
  pthread_mutex_init(&m->mu, NULL);
  m->mountinfo_fd = -1;
  m->perm_fd = perm_fd;
  m->perm_mask = perm_mask;
  m->notif_fd = notif_fd;
  m->notif_mask = notif_mask;
}

static int same_fsid(const fsid_t *a, const fsid_t *b) { return memcmp(a, b, sizeof *a) == 0; }

/*
 * Filesystem types whose directories change path only through the VFS (so a
 * filesystem mark reports every rename and delete), and whose file handles
 * carry an inode generation (a directory made after one is deleted never has
 * its handle): see bm_fs_marks_paths_kept.
 */
static int keeps_paths(const struct statfs *sf) {
  switch ((unsigned long)sf->f_type) {
    case 0xEF53ul:     /* ext2, ext3, ext4 */
    case 0x58465342ul: /* xfs */
    case 0x9123683Eul: /* btrfs */
    case 0xF2F52010ul: /* f2fs */
    case 0x01021994ul: /* tmpfs */
    case 0x794C7630ul: /* overlay */
      return 1;
    default:
      return 0;
  }
}

/* The static-mode message for a refused mark (kept from the first sensor: tests and users know it). */
static void mark_error(char *err, uint32_t err_len, const char *path, int e, uint64_t mask,
                       const char *what) {
  if (e == ENOENT || e == ENOTDIR)
    bm_set_err(err, err_len, "Cannot mark \"%s\": %s", path, strerror(e));
  else if (e == EINVAL && (mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM)))
    bm_set_err(err, err_len,
               "Kernel lacks fanotify permission events (CONFIG_FANOTIFY_ACCESS_PERMISSIONS): marking \"%s\": %s",
               path, strerror(e));
  else
    bm_set_err(err, err_len, "Cannot mark \"%s\" for %s events: %s", path, what, strerror(e));
}

static void anchor_one(bm_fs_marks *m, bm_fs_mark *k);

int bm_fs_marks_add_static(bm_fs_marks *m, const char *path, unsigned perm_flags, char *err,
                           uint32_t err_len) {
  struct statfs sf;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fstatfs(fd, &sf)) {
    bm_set_err(err, err_len, "Cannot open mount \"%s\": %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  bm_fs_mark *grown = realloc(m->marks, (size_t)(m->n_marks + 1) * sizeof *grown);
  if (!grown) {
    close(fd);
    bm_set_err(err, err_len, "Out of memory");
    return -1;
  }
  m->marks = grown;
  bm_fs_mark *k = &m->marks[m->n_marks++];
  memset(k, 0, sizeof *k);
  k->fd = fd;
  k->fsid = sf.f_fsid;
  k->keep_paths = keeps_paths(&sf);
  snprintf(k->point, sizeof k->point, "%s", path);
  snprintf(k->fstype, sizeof k->fstype, "%s", "");
  if (m->perm_fd >= 0 &&
      fanotify_mark(m->perm_fd, FAN_MARK_ADD | perm_flags, m->perm_mask, AT_FDCWD, path)) {
    mark_error(err, err_len, path, errno, m->perm_mask, "permission");
    return -1;
  }
  /* directory-entry events cannot use mount marks: the mount's whole filesystem is watched */
  if (m->notif_fd >= 0 &&
      fanotify_mark(m->notif_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, m->notif_mask, AT_FDCWD, path)) {
    mark_error(err, err_len, path, errno, m->notif_mask, "file");
    return -1;
  }
  if (m->notif_fd >= 0) {
    /* a mount moved changes the paths under it: the directory cache hears of it by a rescan */
    if (m->mountinfo_fd < 0) m->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    anchor_one(m, k);
    m->epoch++;
  }
  return 0;
}

/* Reads all of /proc/self/mountinfo (bounded at 64 MiB). Returns a malloc'd buffer or NULL. */
static char *read_mountinfo(size_t *len) {
  int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap >= (64u << 20)) break;
      char *g = realloc(buf, cap * 2);
      if (!g) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = g;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  *len = n;
  return buf;
}

typedef struct scan {
  bm_fs_mark *marks;
  int n_marks;
  bm_fs_skip *skips;
  int n_skips;
  int perm_einval, perm_ok; /* for "kernel lacks permission events" */
} scan;

static void skip(scan *s, const bm_mount_entry *e, const char *fmt, const char *detail) {
  bm_fs_skip *k = &s->skips[s->n_skips++];
  snprintf(k->point, sizeof k->point, "%s", e->point);
  snprintf(k->fstype, sizeof k->fstype, "%s", e->fstype);
  snprintf(k->reason, sizeof k->reason, fmt, detail);
}

static int have_dev(const scan *s, const bm_mount_entry *e) {
  for (int i = 0; i < s->n_marks; i++)
    if (s->marks[i].dev_major == e->dev_major && s->marks[i].dev_minor == e->dev_minor) return 1;
  return 0;
}

/* Drops the "covered" skip an earlier mount of the same filesystem left, now that it is marked. */
static void forget_covered(scan *s, const bm_mount_entry *e, const bm_mount_entry *all, int n) {
  for (int i = 0; i < s->n_skips;) {
    int drop = 0;
    for (int j = 0; j < n && !drop; j++)
      drop = &all[j] != e && all[j].dev_major == e->dev_major && all[j].dev_minor == e->dev_minor &&
             strcmp(all[j].point, s->skips[i].point) == 0 &&
             strstr(s->skips[i].reason, "covered") != NULL;
    if (drop) s->skips[i] = s->skips[--s->n_skips];
    else i++;
  }
}

/* Marks one candidate mount (idempotent for a filesystem already marked). */
static void mark_one(bm_fs_marks *m, scan *s, const bm_mount_entry *e, const bm_mount_entry *all,
                     int n) {
  if (have_dev(s, e)) return; /* another mount of this superblock is marked */
  int fd = open(e->point, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    skip(s, e, "cannot open the mount point: %s", strerror(errno));
    return;
  }
  /* the path may lead to another mount stacked on top: only this mount's own id will do */
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID) &&
      sx.stx_mnt_id != (uint64_t)e->mount_id) {
    close(fd);
    skip(s, e, "%s", "mount point covered by another mount");
    return;
  }
  struct statfs sf;
  if (fstatfs(fd, &sf)) {
    skip(s, e, "statfs: %s", strerror(errno));
    close(fd);
    return;
  }
  for (int i = 0; i < s->n_marks; i++) {
    if (same_fsid(&s->marks[i].fsid, &sf.f_fsid)) { /* one mark per fsid */
      close(fd);
      return;
    }
  }
  char lp[64];
  snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd); /* exactly this mount, found above */
  int pe = 0, ne = 0;
  if (m->perm_fd >= 0 &&
      fanotify_mark(m->perm_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, m->perm_mask, AT_FDCWD, lp))
    pe = errno;
  if (m->notif_fd >= 0 &&
      fanotify_mark(m->notif_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, m->notif_mask, AT_FDCWD, lp))
    ne = errno;
  close(fd);
  if (m->perm_fd >= 0) {
    if (pe == EINVAL) s->perm_einval = 1;
    if (!pe) s->perm_ok = 1;
  }
  int perm_ok = m->perm_fd < 0 || !pe, notif_ok = m->notif_fd < 0 || !ne;
  if ((m->perm_fd < 0 || pe) && (m->notif_fd < 0 || ne)) {
    skip(s, e, "mark refused: %s", strerror(pe ? pe : ne));
    return;
  }
  forget_covered(s, e, all, n);
  bm_fs_mark *k = &s->marks[s->n_marks++];
  memset(k, 0, sizeof *k);
  k->fd = -1;
  k->fsid = sf.f_fsid;
  k->keep_paths = keeps_paths(&sf);
  k->dev_major = e->dev_major;
  k->dev_minor = e->dev_minor;
  snprintf(k->point, sizeof k->point, "%s", e->point);
  snprintf(k->fstype, sizeof k->fstype, "%s", e->fstype);
  if (!perm_ok)
    snprintf(k->reason, sizeof k->reason, "exec marks refused: %s (file events seen)", strerror(pe));
  else if (!notif_ok)
    snprintf(k->reason, sizeof k->reason, "file event marks refused: %s (execs seen)", strerror(ne));
}

/* Scans mountinfo into s. Returns 0, -1 when it cannot be read. */
static int scan_mounts(bm_fs_marks *m, scan *s) {
  memset(s, 0, sizeof *s);
  size_t len = 0;
  char *text = read_mountinfo(&len);
  if (!text) return -1;
  bm_mount_entry *e = NULL;
  int n = 0;
  int rc = bm_mount_plan(text, len, &m->policy, &e, &n);
  free(text);
  if (rc) return -1;
  s->marks = calloc((size_t)(n ? n : 1), sizeof *s->marks);
  s->skips = calloc((size_t)(n ? n : 1), sizeof *s->skips);
  if (!s->marks || !s->skips) {
    free(s->marks);
    free(s->skips);
    free(e);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    if (!e[i].candidate) {
      /* one line per superblock: the same pseudo filesystem mounted twice is listed once */
      int seen = 0;
      for (int j = 0; j < i && !seen; j++)
        seen = e[j].dev_major == e[i].dev_major && e[j].dev_minor == e[i].dev_minor;
      if (!seen) skip(s, &e[i], "%s", e[i].reason);
      continue;
    }
    mark_one(m, s, &e[i], e, n);
  }
  free(e);
  m->rescans++;
  return 0;
}

static void install(bm_fs_marks *m, scan *s) {
  pthread_mutex_lock(&m->mu);
  bm_fs_mark *old = m->marks;
  int n_old = m->n_marks;
  bm_fs_skip *old_skips = m->skips;
  m->marks = s->marks;
  m->n_marks = s->n_marks;
  m->skips = s->skips;
  m->n_skips = s->n_skips;
  pthread_mutex_unlock(&m->mu);
  for (int i = 0; i < n_old; i++)
    if (old[i].fd >= 0) close(old[i].fd);
  free(old);
  free(old_skips);
}

int bm_fs_marks_follow(bm_fs_marks *m, int network, const char *only_under, char *err,
                       uint32_t err_len) {
  m->follow = 1;
  m->policy.network = network;
  if (only_under && only_under[0]) {
    snprintf(m->only_under, sizeof m->only_under, "%s", only_under);
    m->policy.only_under = m->only_under;
  }
  m->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  scan s;
  if (m->mountinfo_fd < 0 || scan_mounts(m, &s)) {
    bm_set_err(err, err_len, "Cannot read /proc/self/mountinfo: %s", strerror(errno));
    return -1;
  }
  if (s.perm_einval && !s.perm_ok) {
    bm_set_err(err, err_len,
               "Kernel lacks fanotify permission events (CONFIG_FANOTIFY_ACCESS_PERMISSIONS): no filesystem took a permission mark");
    free(s.marks);
    free(s.skips);
    return -1;
  }
  install(m, &s);
  bm_fs_marks_anchor(m);
  return 0;
}

void bm_fs_marks_rescan(bm_fs_marks *m) {
  scan s;
  if (m->follow && scan_mounts(m, &s) == 0) install(m, &s); /* else keep the last good table */
  bm_fs_marks_anchor(m);
}

static bm_fs_mark *find(bm_fs_marks *m, const fsid_t *fsid) {
  for (int i = 0; i < m->n_marks; i++)
    if (same_fsid(&m->marks[i].fsid, fsid)) return &m->marks[i];
  return NULL;
}

int bm_fs_marks_mount_fd(bm_fs_marks *m, const fsid_t *fsid) {
  bm_fs_mark *k = find(m, fsid);
  if (!k) return -1;
  if (k->fd >= 0 || !m->follow) return k->fd;
  int fd = open(k->point, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct statfs sf;
  if (fd >= 0 && (fstatfs(fd, &sf) || !same_fsid(&sf.f_fsid, fsid))) { /* gone or covered */
    close(fd);
    fd = -1;
  }
  k->fd = fd;
  return fd;
}

int bm_fs_marks_paths_kept(bm_fs_marks *m, const fsid_t *fsid) {
  bm_fs_mark *k = find(m, fsid);
  return k && k->keep_paths && k->anchored;
}

/*
 * Marks the directories above k's mount (".." from the mount's root crosses
 * to the mount point's parent) up to the root, which cannot move. The mount
 * point itself cannot be renamed while mounted here.
 */
static void anchor_one(bm_fs_marks *m, bm_fs_mark *k) {
  k->anchored = 0;
  if (!k->keep_paths || m->notif_fd < 0) return;
  int cur = m->follow ? open(k->point, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                      : openat(k->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct statfs sf;
  struct stat sc, su;
  if (cur < 0) return;
  if (fstatfs(cur, &sf) || !same_fsid(&sf.f_fsid, &k->fsid) || fstat(cur, &sc)) {
    close(cur);
    return;
  }
  for (int depth = 0; depth < 256; depth++) {
    int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (up < 0 || fstat(up, &su)) {
      if (up >= 0) close(up);
      break;
    }
    if (su.st_dev == sc.st_dev && su.st_ino == sc.st_ino) { /* cur is the root */
      close(up);
      k->anchored = 1;
      break;
    }
    int r = fanotify_mark(m->notif_fd, FAN_MARK_ADD, FAN_MOVE_SELF | FAN_ONDIR, up, NULL);
    close(cur);
    cur = up;
    sc = su;
    if (r) break; /* e.g. a filesystem without file handles: not vouched for */
  }
  close(cur);
}

void bm_fs_marks_anchor(bm_fs_marks *m) {
  for (int i = 0; i < m->n_marks; i++) anchor_one(m, &m->marks[i]);
  /* after the marks: a move before its directory was marked is behind this point */
  m->epoch++;
}

void bm_fs_marks_batch_done(bm_fs_marks *m) {
  if (!m->follow) return;
  for (int i = 0; i < m->n_marks; i++) {
    if (m->marks[i].fd >= 0) {
      close(m->marks[i].fd);
      m->marks[i].fd = -1;
    }
  }
}

/* Appends src with \ooo escapes for tab, newline and backslash. Returns 0, -1 no room. */
static int put_escaped(char *dst, size_t cap, size_t *n, const char *src) {
  for (; *src; src++) {
    unsigned char ch = (unsigned char)*src;
    if (ch == '\t' || ch == '\n' || ch == '\\') {
      if (*n + 4 > cap) return -1;
      *n += (size_t)snprintf(dst + *n, cap - *n, "\\%03o", ch);
    } else {
      if (*n + 1 > cap) return -1;
      dst[(*n)++] = (char)ch;
    }
  }
  return 0;
}

static size_t line(char *buf, size_t cap, const char *state, const char *point, const char *type,
                   const char *reason) {
  size_t n = 0;
  n += (size_t)snprintf(buf, cap, "%s\t", state);
  if (n >= cap || put_escaped(buf, cap, &n, point)) return 0;
  int w = reason ? snprintf(buf + n, cap - n, "\t%s\t%s\n", type, reason)
                 : snprintf(buf + n, cap - n, "\t%s\n", type);
  if (w < 0 || (size_t)w >= cap - n) return 0;
  return n + (size_t)w;
}

int32_t bm_fs_marks_describe(bm_fs_marks *m, uint8_t *buf, uint32_t cap) {
  char one[BM_MOUNT_POINT_MAX * 4 + 512];
  uint32_t n = 0;
  pthread_mutex_lock(&m->mu);
  for (int i = 0; i < m->n_marks + m->n_skips; i++) {
    size_t l;
    if (i < m->n_marks) {
      const bm_fs_mark *k = &m->marks[i];
      l = k->reason[0] ? line(one, sizeof one, "unmarked", k->point, k->fstype, k->reason)
                       : line(one, sizeof one, "marked", k->point, k->fstype, NULL);
    } else {
      const bm_fs_skip *k = &m->skips[i - m->n_marks];
      l = line(one, sizeof one, "unmarked", k->point, k->fstype, k->reason);
    }
    if (!l || l > cap - n) break;
    memcpy(buf + n, one, l);
    n += (uint32_t)l;
  }
  pthread_mutex_unlock(&m->mu);
  return (int32_t)n;
}

void bm_fs_marks_free(bm_fs_marks *m) {
  for (int i = 0; i < m->n_marks; i++)
    if (m->marks[i].fd >= 0) close(m->marks[i].fd);
  free(m->marks);
  free(m->skips);
  if (m->mountinfo_fd >= 0) close(m->mountinfo_fd);
  pthread_mutex_destroy(&m->mu);
  memset(m, 0, sizeof *m);
  m->mountinfo_fd = -1;
}
