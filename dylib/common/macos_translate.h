/*
 * macos_translate.h - the platform-neutral half of the macOS sensor.
 *
 * dylib/macos/bm_sensor_macos.m copies the fields it uses out of an
 * es_message_t into the plain structs below (pointer + length, no copies, no
 * allocation) and everything else happens here, in C that builds and is
 * tested on Linux (dylib/tests/test_macos_translate.c): record encoding with
 * the macOS extras (signing id, team id, cdhash, platform binary, responsible
 * and parent pids, tty), mach-time deadlines, seq_num gap counting, exit
 * status, file identity keys and the es_new_client error messages.
 */
#ifndef BM_MACOS_TRANSLATE_H
#define BM_MACOS_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>

#include "bm_core.h"

/* es_string_token_t: bytes, not NUL-terminated. */
typedef struct bm_mac_str {
  const char *data;
  size_t len;
} bm_mac_str;

/* es_file_t: path plus the stat fields bm records. */
typedef struct bm_mac_file {
  bm_mac_str path;
  int has_stat;   /* stat below is meaningful */
  int32_t uid;    /* st_uid */
  uint32_t mode;  /* st_mode */
  double size;    /* st_size */
  uint64_t dev, ino;
  int64_t ctime_sec, ctime_nsec; /* st_ctimespec: changes on write/chmod/rename */
} bm_mac_file;

/* es_process_t, with the audit tokens already turned into pids/uids. */
typedef struct bm_mac_proc {
  int32_t pid;             /* audit_token_to_pid(audit_token) */
  int32_t ppid;            /* ppid (msg version >= 4: pid of parent_audit_token) */
  int32_t uid, euid;       /* audit_token_to_ruid / _euid */
  int32_t responsible_pid; /* pid of responsible_audit_token (version >= 4), 0 none */
  double start_ms;         /* start_time (version >= 3) in ms since epoch, 0 unknown */
  bm_mac_str executable;   /* executable->path */
  bm_mac_str signing_id;
  bm_mac_str team_id;
  bm_mac_str tty;          /* tty->path (version >= 2), empty none */
  uint8_t cdhash[20];
  int platform_binary;     /* is_platform_binary */
} bm_mac_proc;

/* es_event_create_t / es_event_rename_t destination. */
typedef struct bm_mac_dest {
  int is_new_path;    /* ES_DESTINATION_TYPE_NEW_PATH */
  bm_mac_file file;   /* existing_file */
  bm_mac_str dir;     /* new_path.dir->path */
  bm_mac_str name;    /* new_path.filename */
  uint32_t new_mode;  /* create new_path.mode */
} bm_mac_dest;

/* Lazily fetched argv (es_exec_arg). */
typedef bm_mac_str (*bm_mac_arg_fn)(const void *ctx, uint32_t index);

/* One ES message, reduced to what bm records. */
typedef struct bm_mac_event {
  uint8_t kind;        /* BM_KIND_* */
  int auth;            /* ES_ACTION_TYPE_AUTH */
  double time_ms;      /* message time (timespec) in ms since epoch */
  bm_mac_proc proc;    /* exec: the new image (exec.target); fork: the child; else the actor */
  bm_mac_file file;    /* exec: target executable; file events: the file */
  bm_mac_dest dest;    /* create (where), rename (to) */
  bm_mac_str cwd;      /* exec.cwd (version >= 3) */
  bm_mac_str xattr;    /* setextattr/deleteextattr */
  bm_mac_str launch_item; /* BTM item url */
  int exit_status;     /* exit: wait(2) status */
  uint32_t argc;       /* exec */
  bm_mac_arg_fn arg;
  const void *arg_ctx;
  uint32_t envc;       /* exec: es_exec_env_count */
  bm_mac_arg_fn env;   /* es_exec_env ("NAME=value"), arg_ctx */
  /* exec: the sensor's config, whose env names say which variables are recorded (NULL none) */
  const bm_config *cfg;
} bm_mac_event;

/*
 * Encodes `ev` into r (storage buf[cap]); leaves the record open so the core's
 * submit calls can finish it. Returns 0, or -1 when a string had to be cut
 * (the record is still valid).
 */
int bm_macos_encode(const bm_mac_event *ev, bm_rec *r, uint8_t *buf, uint32_t cap);

/* wait(2) status -> exit code (128 + signal when killed). */
int32_t bm_macos_exit_code(int status);

/* Lowercase hex of a cdhash; out must hold 41 bytes. All-zero hash -> "". */
void bm_macos_cdhash_hex(const uint8_t cdhash[20], char out[41]);

/* Mach ticks -> nanoseconds with the timebase (numer/denom), without overflow. */
uint64_t bm_mach_to_ns(uint64_t ticks, uint32_t numer, uint32_t denom);

/*
 * An ES message deadline (mach ticks; es_deadline 0 = none) as a time of the
 * monotonic clock of bm_now_mono_ns(), for bm_core_submit_auth_deadline:
 * now_ns + the ticks left (0 left when the deadline has passed). Returns 0
 * when there is no deadline.
 */
uint64_t bm_macos_deadline_ns(uint64_t now_ns, uint64_t mach_now, uint64_t es_deadline,
                              uint32_t numer, uint32_t denom);

/*
 * seq_num gap counting. ES numbers messages per client and per event type;
 * a jump means the kernel dropped messages for this client. Returns how many
 * were missed since the last call for this type (0 on the first message).
 */
typedef struct bm_seq_track {
  uint64_t last;
  int seen;
} bm_seq_track;
uint64_t bm_seq_missed(bm_seq_track *t, uint64_t seq);

/* Adds `missed` messages lost by the OS: counted as dropped, one queue error per gap. */
void bm_macos_count_missed(bm_sensor *s, uint64_t missed);

/* Allow-cache key of a file: identity plus change time, so a rewrite misses. */
bm_key bm_macos_file_key(const bm_mac_file *f);

/* es_new_client results, in ES's order; the .m maps ES's enum onto these. */
enum bm_mac_new_client {
  BM_MAC_NC_SUCCESS = 0,
  BM_MAC_NC_INVALID_ARGUMENT,
  BM_MAC_NC_INTERNAL,
  BM_MAC_NC_NOT_ENTITLED,
  BM_MAC_NC_NOT_PERMITTED,
  BM_MAC_NC_NOT_PRIVILEGED,
  BM_MAC_NC_TOO_MANY_CLIENTS,
  BM_MAC_NC_UNKNOWN,
};
/* One actionable line for a failed es_new_client (capitalised, no final period). */
const char *bm_macos_new_client_error(enum bm_mac_new_client code);

#endif
