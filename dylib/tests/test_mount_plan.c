/*
 * Mount selection (dylib/linux/mount_plan.c) over mountinfo fixtures: a
 * Debian VM, a desktop with btrfs subvolumes, bind mounts and network shares,
 * escaped mount points, malformed lines, and the test-only prefix filter.
 * Pure parsing: no mounts, no marks.
 */
#include <stdlib.h>
#include <string.h>

#include "../linux/mount_plan.h"
#include "check.h"

static const bm_mount_entry *find(const bm_mount_entry *e, int n, const char *point, int nth) {
  for (int i = 0; i < n; i++)
    if (strcmp(e[i].point, point) == 0 && nth-- == 0) return &e[i];
  return NULL;
}

static int marked(const bm_mount_entry *e, int n) {
  int k = 0;
  for (int i = 0; i < n; i++) k += e[i].candidate && !e[i].dup;
  return k;
}

/* This project's own CI VM (trimmed): ext4 root, tmpfs on /dev/shm and under /sys, pseudo fs. */
static const char DEBIAN_VM[] =
    "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
    "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n"
    "23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334172k,mode=755\n"
    "24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683548k\n"
    "25 23 0:23 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "41 26 0:38 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755\n"
    "42 21 0:39 / /proc/sys/fs/binfmt_misc rw,relatime shared:6 master:1 - binfmt_misc binfmt_misc rw\n"
    "43 26 8:17 / /var rw,relatime shared:7 - xfs /dev/sdb1 rw\n"
    "44 26 0:40 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n";

static void test_debian_vm(void) {
  bm_mount_policy pol = {0, NULL};
  bm_mount_entry *e;
  int n;
  CHECK(bm_mount_plan(DEBIAN_VM, strlen(DEBIAN_VM), &pol, &e, &n) == 0);
  CHECK(n == 13);
  const char *want[] = {"/", "/dev/shm", "/sys/fs/cgroup", "/run", "/var", "/tmp"};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    const bm_mount_entry *m = find(e, n, want[i], 0);
    CHECK(m && m->candidate && !m->dup && m->reason == NULL);
  }
  CHECK(marked(e, n) == 6);
  const bm_mount_entry *root = find(e, n, "/", 0);
  CHECK(root && root->mount_id == 26 && root->dev_major == 254 && root->dev_minor == 0 &&
        strcmp(root->fstype, "ext4") == 0);
  const char *pseudo[] = {"/proc", "/sys", "/dev", "/dev/pts", "/sys/fs/cgroup/cpu",
                          "/sys/fs/cgroup/unified", "/proc/sys/fs/binfmt_misc"};
  for (size_t i = 0; i < sizeof pseudo / sizeof *pseudo; i++) {
    const bm_mount_entry *m = find(e, n, pseudo[i], 0);
    CHECK(m && !m->candidate && m->reason && strstr(m->reason, "pseudo"));
  }
  /* optional fields (shared:N master:N) do not shift the type */
  const bm_mount_entry *var = find(e, n, "/var", 0);
  CHECK(var && strcmp(var->fstype, "xfs") == 0 && var->dev_major == 8 && var->dev_minor == 17);
  free(e);
}

/* btrfs subvolumes share a device; a bind mount repeats one; nfs, cifs and sshfs; overlay; vfat. */
static const char DESKTOP[] =
    "29 1 0:26 /@ / rw,relatime shared:1 - btrfs /dev/nvme0n1p2 rw,subvol=/@\n"
    "30 29 0:26 /@home /home rw,relatime shared:2 - btrfs /dev/nvme0n1p2 rw,subvol=/@home\n"
    "31 29 259:1 / /boot/efi rw,relatime shared:3 - vfat /dev/nvme0n1p1 rw\n"
    "32 29 0:26 /@/srv/data /mnt/data rw,relatime shared:1 - btrfs /dev/nvme0n1p2 rw\n"
    "33 29 0:50 / /mnt/nas rw,relatime shared:9 - nfs4 nas:/export rw,vers=4.2\n"
    "34 29 0:51 / /mnt/win rw,relatime shared:10 - cifs //win/share rw\n"
    "35 29 0:52 / /mnt/remote rw,nosuid shared:11 - fuse.sshfs me@host: rw,user_id=0\n"
    "36 29 0:53 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw,lowerdir=/a\n"
    "37 29 0:54 / /media/usb rw - exfat /dev/sda1 rw\n"
    "38 29 7:3 / /snap/core/1 ro,nodev - squashfs /dev/loop3 ro\n"
    "39 29 0:55 / /tank rw - zfs tank rw\n";

static void test_desktop(void) {
  bm_mount_policy pol = {0, NULL};
  bm_mount_entry *e;
  int n;
  CHECK(bm_mount_plan(DESKTOP, strlen(DESKTOP), &pol, &e, &n) == 0);
  CHECK(n == 11);
  const bm_mount_entry *root = find(e, n, "/", 0), *home = find(e, n, "/home", 0),
                       *data = find(e, n, "/mnt/data", 0);
  CHECK(root && root->candidate && !root->dup);
  CHECK(home && home->candidate && home->dup); /* one superblock: one mark */
  CHECK(data && data->candidate && data->dup);
  const char *local[] = {"/boot/efi", "/var/lib/docker/overlay2/abc/merged", "/media/usb",
                         "/snap/core/1", "/tank"};
  for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
    const bm_mount_entry *m = find(e, n, local[i], 0);
    CHECK(m && m->candidate && !m->dup);
  }
  const char *net[] = {"/mnt/nas", "/mnt/win", "/mnt/remote"};
  for (size_t i = 0; i < sizeof net / sizeof *net; i++) {
    const bm_mount_entry *m = find(e, n, net[i], 0);
    CHECK(m && !m->candidate && m->reason && strstr(m->reason, "network"));
  }
  CHECK(marked(e, n) == 6);
  free(e);
  /* sensor.marks.network = true: the shares are marked too */
  pol.network = 1;
  CHECK(bm_mount_plan(DESKTOP, strlen(DESKTOP), &pol, &e, &n) == 0);
  CHECK(marked(e, n) == 9);
  const bm_mount_entry *nas = find(e, n, "/mnt/nas", 0);
  CHECK(nas && nas->candidate && nas->reason == NULL);
  free(e);
}

/* Escaped names, a line without its separator, a truncated line, no final newline. */
static const char ODD[] =
    "50 1 0:60 / /mnt/with\\040space\\011tab\\134slash\\012nl rw - tmpfs tmpfs rw\n"
    "51 1 0:61 / /mnt/no-separator rw tmpfs tmpfs rw\n"
    "52 1 0:62\n"
    "garbage\n"
    "\n"
    "53 1 0:63 / /mnt/last rw - ext4 /dev/sdc1 rw";

static void test_odd_lines(void) {
  bm_mount_policy pol = {0, NULL};
  bm_mount_entry *e;
  int n;
  CHECK(bm_mount_plan(ODD, strlen(ODD), &pol, &e, &n) == 0);
  CHECK(n == 2);
  CHECK(n >= 1 && strcmp(e[0].point, "/mnt/with space\ttab\\slash\nnl") == 0);
  CHECK(n >= 2 && strcmp(e[1].point, "/mnt/last") == 0 && strcmp(e[1].fstype, "ext4") == 0);
  free(e);
  CHECK(bm_mount_plan("", 0, &pol, &e, &n) == 0 && n == 0);
  free(e);
}

/* The test-only filter: tmpfs at or under the prefix, nothing else, not even as skipped. */
static void test_only_under(void) {
  static const char T[] =
      "26 1 254:0 / / rw - ext4 /dev/vda rw\n"
      "44 26 0:40 / /tmp rw - tmpfs tmpfs rw\n"
      "60 44 0:70 / /tmp/bm_x/a rw - tmpfs bm_test rw\n"
      "61 44 0:71 / /tmp/bm_x rw - tmpfs bm_test rw\n"
      "62 44 0:72 / /tmp/bm_xy rw - tmpfs bm_test rw\n"
      "63 44 254:0 /srv /tmp/bm_x/bind rw - ext4 /dev/vda rw\n"
      "64 44 0:73 / /tmp/bm_x/p rw - proc proc rw\n";
  bm_mount_policy pol = {0, "/tmp/bm_x/"};
  bm_mount_entry *e;
  int n;
  CHECK(bm_mount_plan(T, strlen(T), &pol, &e, &n) == 0);
  CHECK(n == 2);
  CHECK(n >= 2 && strcmp(e[0].point, "/tmp/bm_x/a") == 0 && strcmp(e[1].point, "/tmp/bm_x") == 0);
  CHECK(marked(e, n) == 2);
  free(e);
}

static void test_classes(void) {
  CHECK(bm_fs_class("ext4") == BM_FS_LOCAL);
  CHECK(bm_fs_class("tmpfs") == BM_FS_LOCAL);
  CHECK(bm_fs_class("fuseblk") == BM_FS_LOCAL);
  CHECK(bm_fs_class("f2fs") == BM_FS_LOCAL);
  CHECK(bm_fs_class("nsfs") == BM_FS_PSEUDO);
  CHECK(bm_fs_class("tracefs") == BM_FS_PSEUDO);
  CHECK(bm_fs_class("fuse.lxcfs") == BM_FS_PSEUDO);
  CHECK(bm_fs_class("smb3") == BM_FS_NETWORK);
  CHECK(bm_fs_class("9p") == BM_FS_NETWORK);
}

int main(void) {
  test_debian_vm();
  test_desktop();
  test_odd_lines();
  test_only_under();
  test_classes();
  return check_result("test_mount_plan");
}
