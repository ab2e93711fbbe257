/*
 * mount_plan.h - which filesystems the Linux sensor marks in "filesystem"
 * mode, decided from /proc/self/mountinfo text alone (no system calls), so
 * the choice is tested with fixtures (dylib/tests/test_mount_plan.c) and the
 * live code only carries it out.
 *
 * Every local filesystem is a candidate (disk filesystems, tmpfs, overlay,
 * squashfs, fuse other than the network ones...); pseudo filesystems are
 * skipped, and network filesystems unless `network` is set. Each entry says
 * why it is skipped. Bind mounts and btrfs subvolumes of one superblock share
 * its device number (mountinfo's major:minor): only the first reachable one
 * is marked (`dup` marks the later ones).
 */
#ifndef BM_MOUNT_PLAN_H
#define BM_MOUNT_PLAN_H

#include <stddef.h>

#define BM_MOUNT_POINT_MAX 1024
#define BM_MOUNT_TYPE_MAX 64

typedef struct bm_mount_entry {
  int mount_id;                    /* mountinfo field 1 (statx STATX_MNT_ID) */
  unsigned dev_major, dev_minor;   /* the superblock's device */
  char point[BM_MOUNT_POINT_MAX];  /* mount point, octal escapes decoded */
  char fstype[BM_MOUNT_TYPE_MAX];  /* e.g. "ext4", "fuse.sshfs" */
  int candidate;                   /* 1: to be marked; 0: skipped for `reason` */
  int dup;                         /* a candidate whose device an earlier candidate has */
  const char *reason;              /* static text when skipped, else NULL */
} bm_mount_entry;

typedef struct bm_mount_policy {
  int network; /* mark network filesystems too (sensor.marks.network) */
  /*
   * Tests only (honoured by test builds, see sensor_linux.c): when set, only
   * tmpfs mounts at or under this path are considered at all; every other
   * line is left out of the plan (not even listed as skipped).
   */
  const char *only_under;
} bm_mount_policy;

/* What kind of filesystem a mountinfo type is. */
enum bm_fs_class { BM_FS_LOCAL = 0, BM_FS_PSEUDO = 1, BM_FS_NETWORK = 2 };
int bm_fs_class(const char *fstype);

/*
 * Parses mountinfo text (len bytes) into a malloc'd array (*out, free() it)
 * of *n entries, in mountinfo order, each classified. Malformed lines are
 * skipped. Returns 0, or -1 when out of memory.
 */
int bm_mount_plan(const char *text, size_t len, const bm_mount_policy *pol, bm_mount_entry **out,
                  int *n);

#endif
