/*
 * bm_core.h - platform-neutral core shared by the Linux and macOS sensors:
 * config parsing, record encoding, the ring, the held-auth table with its
 * deadline watchdog, and the fast-path tables. A platform supplies:
 *   - bm_sensor_open() (public ABI) which calls bm_core_init(), starts its
 *     OS source and submits records with bm_core_submit_notify/auth;
 *   - an answer callback (Linux: write fanotify_response; macOS:
 *     es_respond_auth_result) called exactly once per held auth event, from
 *     whichever thread answers (agent, watchdog, ring-full path, close),
 *     with a cache flag saying whether the OS may remember this allow;
 *   - optionally a tables-changed callback (OS caches to flush);
 *   - a stop callback that the core calls from bm_sensor_close(): first
 *     (release=0) to stop its threads, then, after answering whatever is
 *     still held, (release=1) to free its OS resources.
 */
#ifndef BM_CORE_H
#define BM_CORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/bm_sensor.h"

#define BM_MAX_MOUNTS 32
#define BM_MAX_RECORD (BM_RECORD_HEADER_SIZE + 262144u)
#define BM_MAX_ENV 16        /* variables an exec record may carry */
#define BM_ENV_NAME_MAX 64   /* a variable name, with its NUL */
#define BM_ENV_VALUE_MAX 1024 /* a value is cut there */
#define BM_ENV_READ_MAX 65536 /* bytes of an environment block read at exec (Linux) */

typedef struct bm_config {
  int32_t auth_deadline_ms;
  int32_t deadline_margin_ms;
  int32_t fail_open;
  int32_t exec_auth;
  int32_t open_auth;
  int32_t avoid_open_cache;
  int32_t notify_forks;
  int32_t notify_files;
  int32_t marks_mounts; /* 0 filesystem, 1 mounts */
  int32_t n_mounts;
  char mounts[BM_MAX_MOUNTS][1024];
  uint32_t ring_bytes;
  int32_t own_pid;
  int32_t notify_latency_ms; /* notify-only batches may wait this long to grow */
  char guardian[1024];       /* Linux: guardian program, "" default, "off" none */
  int32_t marks_network;     /* filesystem mode: mark network filesystems too */
  /* Test builds only (BM_TEST_HOOKS): filesystem mode follows only tmpfs mounts under this path */
  char marks_only_under[1024];
  /* Test builds only: the sensor thread leaves the notification queue alone, so only the
     drain before a permission batch reads it (test_linux checks that order) */
  int32_t debug_hold_notify;
  int32_t n_env;             /* environment variables reported with an exec */
  char env[BM_MAX_ENV][BM_ENV_NAME_MAX];
} bm_config;

/* Parses key=value lines; on error writes a message into err and returns -1. */
int bm_config_parse(const char *text, bm_config *cfg, char *err, uint32_t err_len);

/* ---- record encoding -------------------------------------------------- */

typedef struct bm_rec {
  uint8_t *buf;   /* caller storage of cap bytes (>= BM_RECORD_HEADER_SIZE) */
  uint32_t cap;
  uint32_t len;   /* bytes used so far */
  uint16_t nstr;
  int truncated;  /* a string did not fit and was cut */
} bm_rec;

/* Starts a record: fills the header with defaults (ids -1, times 0). */
void bm_rec_begin(bm_rec *r, uint8_t *buf, uint32_t cap, uint8_t kind, uint8_t flags);
/* Header setters (little-endian regardless of host). */
void bm_rec_set_u8(bm_rec *r, uint32_t off, uint8_t v);
void bm_rec_set_u32(bm_rec *r, uint32_t off, uint32_t v);
void bm_rec_set_i32(bm_rec *r, uint32_t off, int32_t v);
void bm_rec_set_f64(bm_rec *r, uint32_t off, double v);
uint32_t bm_rec_get_u32(const uint8_t *rec, uint32_t off);
double bm_rec_get_f64(const uint8_t *rec, uint32_t off);
/* Appends a string (cut at BM_STR_MAX or the space left). Returns 0, -1 if cut/dropped. */
int bm_rec_str(bm_rec *r, uint8_t tag, const char *s, size_t len);
int bm_rec_cstr(bm_rec *r, uint8_t tag, const char *s);
/*
 * Environment at exec: appends kv ("NAME=value", len bytes) as BM_STR_ENV
 * when NAME is one of cfg->env and not yet in *seen (a bit per name; the
 * first binding wins, as getenv's does), its value cut at BM_ENV_VALUE_MAX.
 * Returns 1 when added. bm_rec_env_block does it for a NUL-separated block
 * (/proc/PID/environ) and returns how many were added.
 */
int bm_rec_env(bm_rec *r, const bm_config *cfg, const char *kv, size_t len, uint32_t *seen);
int bm_rec_env_block(bm_rec *r, const bm_config *cfg, const char *block, size_t len);
/* The first string of tag in a finished record (its length in *out_len), or NULL. */
const uint8_t *bm_rec_find_str(const uint8_t *rec, uint32_t len, uint8_t tag, uint32_t *out_len);
/* FNV-1a of a path, never 0 (0 = unknown / free in the tables that key by it). */
uint64_t bm_path_hash(const uint8_t *s, uint32_t len);
/* Pads to 8, writes size and nstr. Returns the record size. */
uint32_t bm_rec_finish(bm_rec *r);

/* Header offsets. */
enum {
  BM_OFF_SIZE = 0, BM_OFF_VERSION = 4, BM_OFF_KIND = 6, BM_OFF_FLAGS = 7, BM_OFF_SEQ = 8,
  BM_OFF_AUTH_ID = 12, BM_OFF_TIME = 16, BM_OFF_DEADLINE = 24, BM_OFF_START = 32,
  BM_OFF_PID = 40, BM_OFF_PPID = 44, BM_OFF_UID = 48, BM_OFF_EUID = 52, BM_OFF_AUX = 56,
  BM_OFF_RESPONSIBLE = 60, BM_OFF_FILE_UID = 64, BM_OFF_FILE_MODE = 68, BM_OFF_FILE_SIZE = 72,
  BM_OFF_STDIN = 80, BM_OFF_STDOUT = 81, BM_OFF_NSTR = 82, BM_OFF_RESERVED = 84,
};

/* ---- ring ------------------------------------------------------------- */

/* Byte ring of whole records; producers and the consumer take one mutex. */
typedef struct bm_ring {
  uint8_t *data;
  uint32_t cap;
  uint32_t head; /* next write offset */
  uint32_t tail; /* next read offset */
  uint32_t used; /* bytes in use incl. wrap padding */
  uint32_t wrap; /* when non-zero, data from `wrap` to cap is padding */
} bm_ring;

int bm_ring_init(bm_ring *q, uint32_t cap);
void bm_ring_free(bm_ring *q);
/* Copies one record in; returns 0, -1 when it does not fit. Caller locks. */
int bm_ring_push(bm_ring *q, const uint8_t *rec, uint32_t len);
/* Copies whole records out (up to cap bytes); returns bytes. Caller locks. */
uint32_t bm_ring_pop(bm_ring *q, uint8_t *out, uint32_t cap);

/* ---- fast-path tables ------------------------------------------------- */

typedef struct bm_key { uint64_t a, b; } bm_key; /* file identity; {0,0} = none */

typedef struct bm_tables {
  pthread_mutex_t mu;
  int cache_enabled;
  bm_key *cache; uint32_t cache_cap, cache_n;
  int32_t *pids; uint32_t pid_cap, pid_n;
  char **paths; uint32_t path_cap, path_n;
} bm_tables;

int bm_tables_init(bm_tables *t);
void bm_tables_free(bm_tables *t);
void bm_tables_cache_add(bm_tables *t, bm_key k);
void bm_tables_cache_remove(bm_tables *t, bm_key k);
void bm_tables_cache_clear(bm_tables *t);
void bm_tables_deny_pid(bm_tables *t, int32_t pid, int on);
void bm_tables_deny_path(bm_tables *t, const char *path, int on);
/* Child of a denied process is denied too. */
void bm_tables_on_fork(bm_tables *t, int32_t parent, int32_t child);
void bm_tables_on_exit(bm_tables *t, int32_t pid);
/* Returns 0 deny, 1 allow (cache), -1 no decision. path may be NULL. */
int bm_tables_decide(bm_tables *t, int32_t pid, const char *path, bm_key k);

/* ---- interest filter (interest.c) ------------------------------------ */

typedef struct bm_interest bm_interest; /* the parsed spec of bm_sensor_set_interest */

/*
 * Each process's executable as the agent's process table has it, kept from
 * the records in ring order (the order the agent reads them): an exec sets
 * it (its executable, else its path), a fork copies the parent's, an exit
 * marks it gone (the agent keeps exited processes a while). By pid slot, as
 * a hash, and the hash of its base name (the table's process.name); 0 =
 * unknown. About 1.4 MB, made with the first filter that needs it.
 */
#define BM_EXE_SLOTS 65536u
typedef struct bm_exe_table {
  int32_t pid[BM_EXE_SLOTS];
  uint64_t hash[BM_EXE_SLOTS];
  uint32_t name[BM_EXE_SLOTS];
  uint8_t gone[BM_EXE_SLOTS]; /* the pid's exit record was seen */
} bm_exe_table;

/* Parses a spec (see interest.c); NULL with err set when a line is bad. */
bm_interest *bm_interest_parse(const char *spec, char *err, uint32_t err_len);
void bm_interest_free(bm_interest *f);
/* Whether a pattern of f reads the process's executable or name (needs an exe table). */
int bm_interest_uses_exe(const bm_interest *f);
/* bm_interest_decide's size when the file's has not been looked up yet. */
#define BM_INTEREST_SIZE_ASK (-2)
/* bm_interest_decide: the decision needs the file's size (bm_interest_file_size). */
#define BM_INTEREST_ASK (-1)
/* bm_interest_decide: only a hold pattern ("hN") passes the record: hold it (hold.c). */
#define BM_INTEREST_HOLD 2
/* The longest hold of f's patterns in ms (0: f holds nothing). */
uint32_t bm_interest_hold_ms(const bm_interest *f);
/*
 * 1 when the finished record `rec` (len bytes) passes f (NULL passes
 * everything), 0 when it does not, BM_INTEREST_HOLD when only a hold pattern
 * passes it. exe: the table as of this record (NULL:
 * every executable unknown). size: the size of the record's file.path when
 * the record has none, -1 unknown, or BM_INTEREST_SIZE_ASK: then the answer
 * is BM_INTEREST_ASK when only that size can decide (look it up, outside any
 * lock, and ask again).
 */
int bm_interest_decide(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe,
                       int64_t size);
/* bm_interest_decide by a plain walk of every pattern in spec order, not the index (tests compare them). */
int bm_interest_decide_linear(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe,
                              int64_t size);
/* bm_interest_decide, looking the size up itself when needed. */
int bm_interest_pass(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe);
/* The size of the record's file.path now (lstat), -1 when it has none or it cannot be stat'ed. */
int64_t bm_interest_file_size(const uint8_t *rec, uint32_t len);
/* Updates t with a record that reached the ring. */
void bm_exe_track(bm_exe_table *t, const uint8_t *rec, uint32_t len);

/*
 * The hold table (hold.c): records held until an exec of their path. Not
 * locked: the sensor's mu guards it.
 */
typedef struct bm_hold bm_hold;
bm_hold *bm_hold_new(void);
void bm_hold_free(bm_hold *h);
uint32_t bm_hold_count(const bm_hold *h);
/*
 * Holds the header of finished record rec (its strings are not kept) under
 * the hash of its path (bm_path_hash; never 0, which marks a free slot) until now_ns + keep_ns; the same writer (pid, start,
 * kind) and path keep one entry, the latest. 0 held, -1 full (pass it on).
 */
int bm_hold_put(bm_hold *h, const uint8_t *rec, uint64_t path_hash, uint64_t keep_ns, uint64_t now_ns);
/*
 * Removes every entry of path_hash; calls fn with the header of each one not
 * expired (fn NULL: forgets them). Returns how many went to fn.
 */
typedef void (*bm_hold_fn)(void *ctx, const uint8_t *hdr);
uint32_t bm_hold_take(bm_hold *h, uint64_t path_hash, uint64_t now_ns, bm_hold_fn fn, void *ctx);
/* 1 when pid has had a record held: its exec records say so (the agent keeps its image). */
int bm_hold_is_writer(const bm_hold *h, int32_t pid);
/* 1 when pid has had a record held (and forgets it): its exit record says so. */
int bm_hold_writer_exits(bm_hold *h, int32_t pid);

/* ---- core ------------------------------------------------------------- */

/*
 * allow: 1/0. cache: 1 when the OS may remember this allow for the file (its
 * own cache: Linux fanotify ignore mark, macOS ES cache): only for an allow the
 * agent or the allow cache gave with caching on, on an event submitted as
 * cacheable (never an open with avoid_open_cache), while no deny-by-pid entry
 * exists (an OS cache entry is per file: it would let a denied pid run it
 * unseen). Watchdog, ring-full and close answers never cache.
 */
typedef void (*bm_answer_fn)(void *ctx, uint64_t token, int allow, int cache);
/* release=0: stop OS threads (no submits after return); release=1: free OS resources. */
typedef void (*bm_stop_fn)(void *ctx, int release);

typedef struct bm_held {
  uint32_t id;       /* 0 = free */
  uint64_t token;    /* platform's handle: fanotify fd, es_message_t* */
  uint64_t due_ns;   /* monotonic time of the watchdog answer */
  bm_key key;        /* for the allow cache */
  int cacheable;     /* an allow may go into the cache */
} bm_held;

struct bm_sensor {
  bm_config cfg;
  pthread_mutex_t mu;       /* ring, held table, stats */
  pthread_cond_t ready;     /* records in the ring / closed */
  pthread_cond_t wd_cond;   /* watchdog wakeup */
  uint64_t wd_until;        /* the watchdog sleeps until then (monotonic ns) */
  bm_ring ring;
  bm_held *held; uint32_t held_cap, held_n;
  uint32_t next_auth, next_seq;
  int closed;
  int waiters;              /* threads inside bm_sensor_wait */
  pthread_cond_t idle;      /* waiters reached 0 */
  bm_sensor_stats st;
  bm_tables tables;
  pthread_t wd_thread; int wd_started;
  bm_answer_fn answer; bm_stop_fn stop; void *ctx;
  double wall_minus_mono_ms; /* realtime - monotonic, for deadlines in wall ms */
  /*
   * Optional: called (on the thread that changed the tables, after the change)
   * when allows the OS may have cached can have become wrong: a deny entry was
   * added, the allow cache was cleared or disabled. Linux flushes its fanotify
   * ignore marks, macOS calls es_clear_cache. NULL when unused.
   */
  void (*tables_changed)(void *ctx);
  int urgent;                /* an auth record is in the ring: wake the agent now */
  uint64_t first_ns;         /* when the ring last went from empty to non-empty */
  /*
   * Optional (Linux): the agent's waiting thread watches the OS auth source
   * itself. bm_sensor_wait then polls wake_fd (an eventfd the core writes
   * instead of only signalling `ready`) and auth_fd; when auth_fd is readable
   * it calls auth_read, which reads one batch of auth events and submits them
   * as the platform thread would, and returns how many it read (0 when another
   * thread got them first, -1 on a read error: waiters then stop watching
   * auth_fd). While a waiter watches it, or one left it less than a grace
   * period ago, the platform thread leaves auth_fd to it
   * (bm_core_platform_may_yield) so that the waiter, not the platform thread,
   * wakes for an auth event; past the grace period the platform thread
   * watches auth_fd again, so nothing depends on the agent waiting (a waiter
   * that finds it watching writes kick_fd to have it leave). When the agent
   * waits, an auth event reaches it without a thread hand-off (tens of
   * microseconds each on an idle CPU). auth_fd -1 = unused.
   */
  int auth_fd, wake_fd, kick_fd;
  int (*auth_read)(void *ctx);
  int poll_waiters;          /* waiters inside poll(): wake_reader writes wake_fd */
  /*
   * While one waiter sleeps: when it wakes on its own (monotonic ns). A first
   * notify record whose batch is due no earlier does not wake it: it would
   * only sleep again until then (a wake-up per batch saved; a waiter that
   * sleeps in short slices, as the agent's does while execs are held, is
   * not woken for notify records at all).
   */
  uint64_t sole_until;
  uint64_t reader_wakes;     /* wake_reader calls (tests) */
  int platform_yields;       /* the platform thread is not watching auth_fd */
  uint64_t waiter_left_ns;   /* when waiters last went to 0 (bm_now_mono_ns) */
  int auth_read_failed;      /* a waiter's auth_read failed: waiters leave auth_fd alone */
  uint64_t waiter_auth_reads; /* auth events read by a waiter (tests, diagnosis) */
  /*
   * Optional (Linux): the watchdog thread stores bm_now_mono_ns() here at
   * least every BM_HEARTBEAT_MS, for a watcher in another process (the
   * guardian) to tell a live agent from a stopped or dead one. NULL = none.
   */
  uint64_t *heartbeat;
  /* Optional: fills platform counters into a stats copy (outside mu). NULL = none. */
  void (*stats_extra)(void *ctx, bm_sensor_stats *st);
  /*
   * Optional (Linux): writes the marked and unmarked filesystems as text
   * lines into buf (see bm_sensor_marks) and returns the bytes written. NULL
   * when the platform has no marks (macOS, synthetic).
   */
  int32_t (*describe_marks)(void *ctx, uint8_t *buf, uint32_t cap);
  /*
   * The interest filter (bm_sensor_set_interest), NULL = none, and the
   * executables it may compare paths with (allocated with the first filter
   * that does, then kept up to date by every push). Both under mu: a record
   * is judged against the table as the agent will have it at that record.
   */
  bm_interest *interest;
  bm_exe_table *exe;
  uint64_t filtered; /* notify records the filter dropped (under mu) */
  /* records held until an exec of their path (allocated with the first filter that holds) */
  bm_hold *hold;
  uint64_t held_records, held_released, held_forgotten, hold_full; /* under mu */
};

#define BM_HEARTBEAT_MS 100

/* Prepares the core and starts the watchdog. Returns 0 or -1 with err set. */
int bm_core_init(bm_sensor *s, const bm_config *cfg, bm_answer_fn answer, bm_stop_fn stop,
                 void *ctx, char *err, uint32_t err_len);
/*
 * Queues a notify record (sets seq). Drops and counts it if the ring is full.
 * A record the interest filter rules out is counted in `filtered` and not
 * queued (no seq: it leaves no gap). Returns 0 queued, -1 dropped, 1 filtered.
 */
int bm_core_submit_notify(bm_sensor *s, bm_rec *r);
/* The same without the interest filter: reports of auth events answered in C (a deny). */
int bm_core_submit_report(bm_sensor *s, bm_rec *r);
/*
 * Holds an auth event: assigns auth_id/seq/deadline and queues the record.
 * If the ring or the held table is full, answers at once with the default.
 * Fast-path tables are consulted first when path/key are given; own pid is
 * allowed at once. Returns the auth id, or 0 when it was answered at once.
 * The deadline is now + auth_deadline_ms.
 */
uint32_t bm_core_submit_auth(bm_sensor *s, bm_rec *r, uint64_t token, int32_t pid,
                             const char *path, bm_key key, int cacheable);
/*
 * The same with the OS's own deadline for this event (macOS: the message's
 * deadline), in bm_now_mono_ns() nanoseconds; 0 = none. The event's deadline
 * is the earlier of it and now + auth_deadline_ms: the record's deadline_ms
 * says it, and the watchdog answers at that deadline - margin (at once when
 * less than the margin is left).
 */
uint32_t bm_core_submit_auth_deadline(bm_sensor *s, bm_rec *r, uint64_t token, int32_t pid,
                                      const char *path, bm_key key, int cacheable,
                                      uint64_t deadline_ns);
/* May the OS cache an allow of a cacheable event now? (see bm_answer_fn) */
int bm_core_os_cache_ok(bm_sensor *s);
/* Watchdog due time of an event submitted at now_ns with OS deadline deadline_ns (0 none). */
uint64_t bm_core_due_ns(const bm_config *cfg, uint64_t now_ns, uint64_t deadline_ns);
/*
 * The platform thread asks, before each poll, whether it may leave auth_fd to
 * the agent's waiter: 1 while a waiter watches it or left less than a grace
 * period ago, else 0. recheck_ms is how long the platform thread may poll
 * before asking again (-1: until something wakes it; a waiter arriving while
 * it watches auth_fd writes kick_fd), so auth_fd is never unwatched for long.
 */
int bm_core_platform_may_yield(bm_sensor *s, int *recheck_ms);
/* How long the platform thread keeps leaving auth_fd to a waiter that left (core.c). */
#define BM_YIELD_GRACE_NS 2000000ull
void bm_core_count(bm_sensor *s, size_t field_offset);
#define BM_COUNT(s, field) bm_core_count((s), offsetof(bm_sensor_stats, field))

double bm_now_wall_ms(void);
/* Monotonic ns: the clock of due times and of bm_core_submit_auth_deadline. */
uint64_t bm_now_mono_ns(void);
void bm_set_err(char *err, uint32_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
