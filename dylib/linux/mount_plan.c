/* Mount selection for "filesystem" mode: see mount_plan.h. */
#include "mount_plan.h"

#include <stdlib.h>
#include <string.h>

static int in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcmp(s, *list) == 0) return 1;
  return 0;
}

/* Kernel-backed views, not storage: nothing to execute from or to persist to. */
static const char *const PSEUDO[] = {
    "proc", "sysfs", "cgroup", "cgroup2", "devpts", "devtmpfs", "securityfs", "debugfs",
    "tracefs", "bpf", "mqueue", "pstore", "configfs", "fusectl", "binfmt_misc", "nsfs",
    "autofs", "hugetlbfs", "efivarfs", "rpc_pipefs", "nfsd", "selinuxfs", "smackfs",
    "fuse.lxcfs", "fuse.portal", "pipefs", "sockfs", "anon_inodefs",
    NULL};

static const char *const NETWORK[] = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "ceph", "glusterfs", "9p", "afs",
    "coda", "lustre", "beegfs", "gpfs", "orangefs", "davfs", "fuse.sshfs", "fuse.s3fs",
    "fuse.rclone", "fuse.gcsfuse", "fuse.glusterfs", "fuse.ceph-fuse", "fuse.cephfs",
    "fuse.davfs", "fuse.gvfsd-fuse", "fuse.curlftpfs", "fuse.juicefs", "fuse.goofys",
    "fuse.blobfuse", "fuse.blobfuse2", "fuse.mountpoint-s3", NULL};

int bm_fs_class(const char *fstype) {
  if (in_list(fstype, PSEUDO)) return BM_FS_PSEUDO;
  if (in_list(fstype, NETWORK)) return BM_FS_NETWORK;
  return BM_FS_LOCAL;
}

/* Copies one space-separated field, decoding mountinfo's \ooo escapes. Returns 0 or -1. */
static int field(const char **p, const char *end, char *dst, size_t cap, int decode) {
  const char *s = *p;
  while (s < end && *s == ' ') s++;
  size_t n = 0;
  while (s < end && *s != ' ') {
    char c = *s++;
    if (decode && c == '\\' && end - s >= 3 && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' &&
        s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
      c = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
      s += 3;
    }
    if (n + 1 >= cap) return -1;
    dst[n++] = c;
  }
  dst[n] = 0;
  *p = s;
  return n ? 0 : -1;
}

static int under(const char *point, const char *prefix) {
  size_t n = strlen(prefix);
  while (n > 1 && prefix[n - 1] == '/') n--;
  return strncmp(point, prefix, n) == 0 && (point[n] == 0 || point[n] == '/');
}

/* Parses one line (without its newline) into e. Returns 0, -1 malformed. */
static int parse_line(const char *s, const char *end, bm_mount_entry *e) {
  char tok[BM_MOUNT_POINT_MAX];
  memset(e, 0, sizeof *e);
  if (field(&s, end, tok, sizeof tok, 0)) return -1;
  e->mount_id = atoi(tok);
  if (field(&s, end, tok, sizeof tok, 0)) return -1; /* parent id */
  if (field(&s, end, tok, sizeof tok, 0)) return -1; /* major:minor */
  char *colon = strchr(tok, ':');
  if (!colon) return -1;
  e->dev_major = (unsigned)strtoul(tok, NULL, 10);
  e->dev_minor = (unsigned)strtoul(colon + 1, NULL, 10);
  if (field(&s, end, tok, sizeof tok, 1)) return -1; /* root within the fs */
  if (field(&s, end, e->point, sizeof e->point, 1)) return -1;
  /* mount options, then optional fields up to the lone "-" */
  for (;;) {
    if (field(&s, end, tok, sizeof tok, 0)) return -1;
    if (strcmp(tok, "-") == 0) break;
  }
  if (field(&s, end, e->fstype, sizeof e->fstype, 1)) return -1;
  return 0;
}

int bm_mount_plan(const char *text, size_t len, const bm_mount_policy *pol, bm_mount_entry **out,
                  int *n) {
  *out = NULL;
  *n = 0;
  int cap = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    bm_mount_entry e;
    int ok = parse_line(p, le, &e) == 0;
    p = nl ? nl + 1 : end;
    if (!ok) continue;
    if (pol->only_under && (!under(e.point, pol->only_under) || strcmp(e.fstype, "tmpfs") != 0))
      continue;
    int cls = bm_fs_class(e.fstype);
    if (cls == BM_FS_PSEUDO) e.reason = "pseudo filesystem";
    else if (cls == BM_FS_NETWORK && !pol->network)
      e.reason = "network filesystem (sensor.marks.network is off)";
    else e.candidate = 1;
    if (e.candidate) {
      for (int i = 0; i < *n; i++) {
        bm_mount_entry *o = &(*out)[i];
        if (o->candidate && o->dev_major == e.dev_major && o->dev_minor == e.dev_minor) {
          e.dup = 1;
          break;
        }
      }
    }
    if (*n == cap) {
      int nc = cap ? cap * 2 : 64;
      bm_mount_entry *grown = realloc(*out, (size_t)nc * sizeof **out);
      if (!grown) {
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
      }
      *out = grown;
      cap = nc;
    }
    (*out)[(*n)++] = e;
  }
  return 0;
}
