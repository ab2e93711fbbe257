/* The platform-neutral half of the macOS sensor: see macos_translate.h. */
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "macos_translate.h"

static void put_str(bm_rec *r, uint8_t tag, bm_mac_str s, int *cut) {
  if (!s.data || !s.len) return;
  /* ES strings may carry their NUL inside `length` on some versions */
  size_t n = s.len;
  while (n && s.data[n - 1] == 0) n--;
  if (n && bm_rec_str(r, tag, s.data, n)) *cut = 1;
}

static void put_joined(bm_rec *r, uint8_t tag, bm_mac_str dir, bm_mac_str name, int *cut) {
  char tmp[4096 + 256];
  size_t dn = dir.data ? dir.len : 0, nn = name.data ? name.len : 0;
  while (dn && dir.data[dn - 1] == 0) dn--;
  while (nn && name.data[nn - 1] == 0) nn--;
  int slash = dn && dir.data[dn - 1] != '/';
  if (dn + (size_t)slash + nn > sizeof tmp) {
    *cut = 1;
    if (dn > sizeof tmp - 1) dn = sizeof tmp - 1;
    nn = sizeof tmp - dn - (size_t)slash;
  }
  if (dn) memcpy(tmp, dir.data, dn);
  if (slash) tmp[dn] = '/';
  if (nn) memcpy(tmp + dn + (size_t)slash, name.data, nn);
  if (bm_rec_str(r, tag, tmp, dn + (size_t)slash + nn)) *cut = 1;
}

static void put_file_facts(bm_rec *r, const bm_mac_file *f) {
  if (!f->has_stat) return;
  bm_rec_set_i32(r, BM_OFF_FILE_UID, f->uid);
  bm_rec_set_u32(r, BM_OFF_FILE_MODE, f->mode);
  bm_rec_set_f64(r, BM_OFF_FILE_SIZE, f->size);
  if (S_ISDIR(f->mode)) r->buf[BM_OFF_FLAGS] |= BM_FLAG_DIR;
}

void bm_macos_cdhash_hex(const uint8_t cdhash[20], char out[41]) {
  static const char hex[] = "0123456789abcdef";
  int any = 0;
  for (int i = 0; i < 20; i++) {
    any |= cdhash[i];
    out[2 * i] = hex[cdhash[i] >> 4];
    out[2 * i + 1] = hex[cdhash[i] & 15];
  }
  out[any ? 40 : 0] = 0;
}

int32_t bm_macos_exit_code(int status) {
  /* the wait(2) encoding, spelled out so it means the same on every host */
  int sig = status & 0x7f;
  if (sig == 0) return (status >> 8) & 0xff; /* exited */
  if (sig != 0x7f) return 128 + sig;         /* killed by a signal */
  return -1;                                 /* stopped: not an exit */
}

int bm_macos_encode(const bm_mac_event *ev, bm_rec *r, uint8_t *buf, uint32_t cap) {
  const bm_mac_proc *p = &ev->proc;
  int cut = 0;
  uint8_t flags = p->platform_binary ? (uint8_t)BM_FLAG_PLATFORM_BINARY : 0;
  bm_rec_begin(r, buf, cap, ev->kind, flags);
  bm_rec_set_f64(r, BM_OFF_TIME, ev->time_ms);
  bm_rec_set_f64(r, BM_OFF_START, p->start_ms);
  bm_rec_set_i32(r, BM_OFF_PID, p->pid);
  bm_rec_set_i32(r, BM_OFF_PPID, p->ppid);
  bm_rec_set_i32(r, BM_OFF_UID, p->uid);
  bm_rec_set_i32(r, BM_OFF_EUID, p->euid);
  bm_rec_set_i32(r, BM_OFF_RESPONSIBLE, p->responsible_pid);
  if (ev->kind == BM_KIND_EXIT) bm_rec_set_i32(r, BM_OFF_AUX, bm_macos_exit_code(ev->exit_status));

  put_str(r, BM_STR_EXECUTABLE, p->executable, &cut);
  if (ev->kind == BM_KIND_EXEC) {
    for (uint32_t i = 0; i < ev->argc && ev->arg; i++) {
      put_str(r, BM_STR_ARG, ev->arg(ev->arg_ctx, i), &cut);
    }
    put_str(r, BM_STR_CWD, ev->cwd, &cut);
    /* the configured variables of the exec's environment (sensor.envVars), as on Linux */
    uint32_t seen = 0;
    for (uint32_t i = 0; ev->cfg && ev->cfg->n_env && i < ev->envc && ev->env; i++) {
      bm_mac_str kv = ev->env(ev->arg_ctx, i);
      if (kv.data && kv.len) bm_rec_env(r, ev->cfg, kv.data, kv.len, &seen);
    }
  }
  put_str(r, BM_STR_SIGNING_ID, p->signing_id, &cut);
  put_str(r, BM_STR_TEAM_ID, p->team_id, &cut);
  char hex[41];
  bm_macos_cdhash_hex(p->cdhash, hex);
  if (hex[0] && bm_rec_str(r, BM_STR_CDHASH, hex, 40)) cut = 1;
  put_str(r, BM_STR_TTY, p->tty, &cut);

  switch (ev->kind) {
  case BM_KIND_EXEC:
    /* file.* is the image being executed, as on Linux */
    put_str(r, BM_STR_PATH, ev->file.path, &cut);
    put_file_facts(r, &ev->file);
    break;
  case BM_KIND_OPEN:
  case BM_KIND_CLOSE_MODIFIED:
  case BM_KIND_UNLINK:
    put_str(r, BM_STR_PATH, ev->file.path, &cut);
    put_file_facts(r, &ev->file);
    break;
  case BM_KIND_SETXATTR:
  case BM_KIND_DELETEXATTR:
    put_str(r, BM_STR_PATH, ev->file.path, &cut);
    put_file_facts(r, &ev->file);
    put_str(r, BM_STR_XATTR, ev->xattr, &cut);
    break;
  case BM_KIND_CREATE:
    if (ev->dest.is_new_path) {
      put_joined(r, BM_STR_PATH, ev->dest.dir, ev->dest.name, &cut);
      if (ev->dest.new_mode) bm_rec_set_u32(r, BM_OFF_FILE_MODE, ev->dest.new_mode);
    } else {
      put_str(r, BM_STR_PATH, ev->dest.file.path, &cut);
      put_file_facts(r, &ev->dest.file);
    }
    break;
  case BM_KIND_RENAME:
    put_str(r, BM_STR_PATH, ev->file.path, &cut);
    put_file_facts(r, &ev->file);
    if (ev->dest.is_new_path) put_joined(r, BM_STR_TARGET_PATH, ev->dest.dir, ev->dest.name, &cut);
    else put_str(r, BM_STR_TARGET_PATH, ev->dest.file.path, &cut);
    break;
  case BM_KIND_LAUNCH_ITEM_ADD:
    put_str(r, BM_STR_PATH, ev->file.path, &cut);
    put_str(r, BM_STR_LAUNCH_ITEM, ev->launch_item, &cut);
    break;
  default:
    break;
  }
  return cut ? -1 : 0;
}

uint64_t bm_mach_to_ns(uint64_t ticks, uint32_t numer, uint32_t denom) {
  if (!denom) return ticks;
  /* split to keep ticks * numer from overflowing 64 bits */
  uint64_t q = ticks / denom, rem = ticks % denom;
  return q * numer + rem * numer / denom;
}

uint64_t bm_macos_deadline_ns(uint64_t now_ns, uint64_t mach_now, uint64_t es_deadline,
                              uint32_t numer, uint32_t denom) {
  if (!es_deadline) return 0;
  uint64_t left = es_deadline > mach_now ? bm_mach_to_ns(es_deadline - mach_now, numer, denom) : 0;
  return now_ns + left;
}

uint64_t bm_seq_missed(bm_seq_track *t, uint64_t seq) {
  uint64_t missed = 0;
  if (t->seen && seq > t->last + 1) missed = seq - t->last - 1;
  /* a lower number means the counter restarted (new client): not a drop */
  t->last = seq;
  t->seen = 1;
  return missed;
}

void bm_macos_count_missed(bm_sensor *s, uint64_t missed) {
  if (!missed) return;
  pthread_mutex_lock(&s->mu);
  s->st.dropped += missed;
  s->st.queue_errors++;
  pthread_mutex_unlock(&s->mu);
}

bm_key bm_macos_file_key(const bm_mac_file *f) {
  if (!f->has_stat || !f->ino) return (bm_key){0, 0};
  uint64_t b = f->dev * 0x9E3779B97F4A7C15ull;
  b ^= (uint64_t)f->ctime_sec * 0xBF58476D1CE4E5B9ull;
  b ^= (uint64_t)f->ctime_nsec * 0x94D049BB133111EBull;
  return (bm_key){f->ino, b | 1u};
}

const char *bm_macos_new_client_error(enum bm_mac_new_client code) {
  switch (code) {
  case BM_MAC_NC_SUCCESS:
    return "";
  case BM_MAC_NC_NOT_ENTITLED:
    return "Cannot start the EndpointSecurity client: not entitled: the bm binary lacks the "
           "com.apple.developer.endpoint-security.client entitlement (sign it with "
           "packaging/macos/bm.entitlements and a provisioning profile that grants it)";
  case BM_MAC_NC_NOT_PERMITTED:
    return "Cannot start the EndpointSecurity client: not permitted: grant Full Disk Access to "
           "bm in System Settings > Privacy & Security > Full Disk Access, or deploy the PPPC "
           "profile (packaging/macos/mdm/bm-pppc.mobileconfig)";
  case BM_MAC_NC_NOT_PRIVILEGED:
    return "Cannot start the EndpointSecurity client: not privileged: run \"bm daemon\" as root "
           "(the LaunchDaemon org.bm-project.bm does)";
  case BM_MAC_NC_TOO_MANY_CLIENTS:
    return "Cannot start the EndpointSecurity client: too many clients: the system limit of "
           "EndpointSecurity clients is reached; stop another security agent or restart the Mac";
  case BM_MAC_NC_INVALID_ARGUMENT:
    return "Cannot start the EndpointSecurity client: invalid argument: a bug in bm, please "
           "report it";
  case BM_MAC_NC_INTERNAL:
    return "Cannot start the EndpointSecurity client: internal error in the EndpointSecurity "
           "subsystem: retry, and see \"log show --last 5m --predicate 'process == \\\"bm\\\"'\"";
  case BM_MAC_NC_UNKNOWN:
  default:
    return "Cannot start the EndpointSecurity client: unknown result from es_new_client";
  }
}
