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
  int mountinfo_fd;           /* following: poll it for POLLPRI; else -1 */
  bm_mount_policy policy;
  char only_under[1024];      /* policy.only_under storage (test builds) */
  int perm_fd, notif_fd;      /* the groups to mark (-1 none) */
  uint64_t perm_mask, notif_mask;
  uint64_t rescans;           /* times mountinfo was read (tests) */
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

/* Following mode: mountinfo changed (or may have): marks new filesystems, drops gone ones. */
void bm_fs_marks_rescan(bm_fs_marks *m);

/* An fd on the filesystem with this fsid, -1 unknown (following mode opens it for this batch). */
int bm_fs_marks_mount_fd(bm_fs_marks *m, const fsid_t *fsid);

/* End of a batch of file events: closes what bm_fs_marks_mount_fd opened (following mode). */
void bm_fs_marks_batch_done(bm_fs_marks *m);

/* bm_sensor_marks' text (see bm_sensor.h). Any thread. */
int32_t bm_fs_marks_describe(bm_fs_marks *m, uint8_t *buf, uint32_t cap);

/* Closes and frees everything. */
void bm_fs_marks_free(bm_fs_marks *m);

#endif
