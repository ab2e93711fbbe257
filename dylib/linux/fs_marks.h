/*
 * fs_marks.h - the filesystems the Linux sensor marks, and the table that
 * turns a fanotify event's fsid back into a mount to resolve its file handle.
 *
 * Two modes. Static: the configured paths (marks=mounts, or marks=filesystem
 * with mount=...), opened once and kept open; a mark that fails fails
 * bm_sensor_open. Following (marks=filesystem without mount=): every local
 * filesystem in /proc/self/mountinfo (mount_plan.h decides which), marked
 * once per superblock, and marked again whenever mountinfo changes (the
 * sensor thread polls it for POLLPRI); a filesystem that refuses a mark is
 * listed with the errno text and never stops the sensor. In this mode no fd
 * is kept on a mount (that would make its umount fail with EBUSY): the mount
 * is opened by path for the length of one batch of file events and checked
 * to still be the same filesystem (fsid).
 *
 * Owned by the sensor thread; only bm_fs_marks_describe runs elsewhere (the
 * agent's health call), under the table's mutex.
 */
#ifndef BM_FS_MARKS_H
#define BM_FS_MARKS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include "mount_plan.h"

typedef struct bm_fs_mark {
  int fd;            /* static: open for the sensor's life; following: -1 between batches */
  fsid_t fsid;
  unsigned dev_major, dev_minor;
  char point[BM_MOUNT_POINT_MAX];
  char fstype[BM_MOUNT_TYPE_MAX];
  char reason[160];  /* "" marked fully, else which mark was refused and why */
  int keep_paths;     /* a filesystem type whose directories move only by renames it reports */
  int anchored;       /* every directory above its mount has a move mark (bm_fs_marks_anchor) */
} bm_fs_mark;

typedef struct bm_fs_skip {
  char point[BM_MOUNT_POINT_MAX];
  char fstype[BM_MOUNT_TYPE_MAX];
  char reason[160];
} bm_fs_skip;

typedef struct bm_fs_marks {
  pthread_mutex_t mu;         /* guards the arrays' replacement against describe */
  bm_fs_mark *marks;          /* every filesystem with at least one mark */
  int n_marks;
  bm_fs_skip *skips;          /* skipped or refused */
  int n_skips;
  int follow;                 /* following mountinfo */
  int mountinfo_fd;           /* poll it for POLLPRI (static mode: with a notification group); else -1 */
  bm_mount_policy policy;
  char only_under[1024];      /* policy.only_under storage (test builds) */
  int perm_fd, notif_fd;      /* the groups to mark (-1 none) */
  uint64_t perm_mask, notif_mask;
  uint64_t rescans;           /* times mountinfo was read (tests) */
  /*
   * Changes whenever the paths under a marked filesystem may have moved
   * without a file event of its own: the table was rebuilt or mounts
   * changed, or a directory above a mount moved (bm_fs_marks_anchor). Whoever
   * remembers directory paths across batches forgets them when it changes.
   */
  uint64_t epoch;
} bm_fs_marks;

/* Prepares an empty table for the groups. */
void bm_fs_marks_init(bm_fs_marks *m, int perm_fd, uint64_t perm_mask, int notif_fd,
                      uint64_t notif_mask);

/*
 * Static mode: marks path (perm group with perm_flags: FAN_MARK_MOUNT or
 * FAN_MARK_FILESYSTEM; the notify group always by filesystem). Returns 0, or
 * -1 with err set.
 */
int bm_fs_marks_add_static(bm_fs_marks *m, const char *path, unsigned perm_flags, char *err,
                           uint32_t err_len);

/*
 * Following mode: opens /proc/self/mountinfo and marks what it lists. Returns
 * 0, or -1 with err set when mountinfo cannot be read (refused marks are not
 * errors). only_under: test builds' restriction, NULL otherwise.
 */
int bm_fs_marks_follow(bm_fs_marks *m, int network, const char *only_under, char *err,
                       uint32_t err_len);

/*
 * mountinfo changed (or may have). Following mode: marks new filesystems,
 * drops gone ones. Both: marks the directories above each mount again and
 * moves epoch (bm_fs_marks_anchor).
 */
void bm_fs_marks_rescan(bm_fs_marks *m);

/* An fd on the filesystem with this fsid, -1 unknown (following mode opens it for this batch). */
int bm_fs_marks_mount_fd(bm_fs_marks *m, const fsid_t *fsid);

/*
 * For remembering directory paths across batches (the sensor's directory
 * cache): 1 when every change to the paths of directories on the
 * filesystem with this fsid reaches the notification group as an event, so
 * that emptying the cache at each such event (and when epoch moves) keeps it
 * right. That needs a local filesystem type whose directories move only
 * through the VFS and whose file handles carry a generation (ext2/3/4, xfs,
 * btrfs, f2fs, tmpfs, overlay; not network or FUSE filesystems, whose server
 * renames behind the kernel's back): its filesystem mark (FAN_RENAME,
 * FAN_DELETE, FAN_ONDIR) reports its own directories moving. What moves its
 * mount, and so every path under it, without an event on it is a directory
 * above the mount point renamed on another filesystem, or a mount moved:
 * the former is reported by a FAN_MOVE_SELF mark on each directory above
 * the mount (bm_fs_marks_anchor; a filesystem whose chain cannot be marked
 * is not vouched for), the latter by mountinfo (rescans, both modes). No
 * system call.
 */
int bm_fs_marks_paths_kept(bm_fs_marks *m, const fsid_t *fsid);

/*
 * Puts a FAN_MOVE_SELF inode mark on every directory above each marked
 * filesystem's mount, up to the root (again after one of them moved: the
 * chain may have new members), then moves epoch. Marks are added, never
 * removed: a directory that has left a chain costs at most a spurious
 * emptying of the cache when it moves again.
 */
void bm_fs_marks_anchor(bm_fs_marks *m);

/* End of a batch of file events: closes what bm_fs_marks_mount_fd opened (following mode). */
void bm_fs_marks_batch_done(bm_fs_marks *m);

/* bm_sensor_marks' text (see bm_sensor.h). Any thread. */
int32_t bm_fs_marks_describe(bm_fs_marks *m, uint8_t *buf, uint32_t cap);

/* Closes and frees everything. */
void bm_fs_marks_free(bm_fs_marks *m);

#endif
