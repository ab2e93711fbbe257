/*
 * The platform-neutral core: config, ring, held auth events, the deadline
 * watchdog and the public ABI calls that do not depend on the OS.
 *
 * Every held auth event leaves the held table exactly once, under `mu`, by
 * one of: the agent's answer, the watchdog, close. Whoever removes it calls
 * the platform's answer callback (outside the lock), so each event gets
 * exactly one answer.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bm_core.h"
#include "bm_sensor_testing.h"

#define HELD_CAP 16384u /* power of two */
#define BATCH_BYTES (256u * 1024u) /* a notify batch this big wakes the agent at once */

void bm_set_err(char *err, uint32_t err_len, const char *fmt, ...) {
  if (!err || !err_len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

double bm_now_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

uint64_t bm_now_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Waits on `c` until signalled or the monotonic time `until_ns` (UINT64_MAX =
 * no limit). Linux: the conds use CLOCK_MONOTONIC (bm_core_init), so the
 * deadline is absolute. macOS has no pthread_condattr_setclock: it waits a
 * relative time computed from the monotonic clock, so wall clock steps do not
 * move due times there either.
 */
static void cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t until_ns) {
  if (until_ns == UINT64_MAX) {
    pthread_cond_wait(c, m);
    return;
  }
#if defined(__APPLE__)
  uint64_t now = bm_now_mono_ns();
  if (until_ns <= now) return;
  uint64_t rel = until_ns - now;
  struct timespec ts = {(time_t)(rel / 1000000000ull), (long)(rel % 1000000000ull)};
  pthread_cond_timedwait_relative_np(c, m, &ts);
#else
  struct timespec ts = {(time_t)(until_ns / 1000000000ull), (long)(until_ns % 1000000000ull)};
  pthread_cond_timedwait(c, m, &ts);
#endif
}

/* Creates a cond that cond_wait_until can use. */
static int cond_init(pthread_cond_t *c) {
#if defined(__APPLE__)
  return pthread_cond_init(c, NULL);
#else
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca)) return -1;
  int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(c, &ca);
  pthread_condattr_destroy(&ca);
  return rc;
#endif
}

uint32_t bm_sensor_abi_version(void) { return BM_SENSOR_ABI_VERSION; }
double bm_sensor_now_ms(void) { return bm_now_wall_ms(); }

/* ---- config ----------------------------------------------------------- */

static int parse_int(const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || end == v || *end || n < lo || n > hi) return -1;
  *out = n;
  return 0;
}

int bm_config_parse(const char *text, bm_config *c, char *err, uint32_t err_len) {
  memset(c, 0, sizeof *c);
  c->auth_deadline_ms = 5000;
  c->deadline_margin_ms = 1000;
  c->fail_open = 1;
  c->exec_auth = 1;
  c->notify_forks = 1;
  c->notify_files = 1;
  c->ring_bytes = 8u << 20;
  c->own_pid = (int32_t)getpid();
  c->notify_latency_ms = 2;
  if (!text) return 0;
  int lineno = 0;
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    lineno++;
    char line[1200];
    if (n >= sizeof line) {
      bm_set_err(err, err_len, "Bad sensor config line %d: too long", lineno);
      return -1;
    }
    memcpy(line, p, n);
    line[n] = 0;
    p += n + (nl ? 1 : 0);
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = 0;
    if (!n || line[0] == '#') continue;
    char *eq = strchr(line, '=');
    if (!eq) {
      bm_set_err(err, err_len, "Bad sensor config line %d \"%s\": expected key=value", lineno, line);
      return -1;
    }
    *eq = 0;
    const char *k = line, *v = eq + 1;
    long x;
    struct { const char *name; int32_t *dst; long lo, hi; } ints[] = {
        {"auth_deadline_ms", &c->auth_deadline_ms, 2, 600000},
        {"deadline_margin_ms", &c->deadline_margin_ms, 0, 600000},
        {"fail_open", &c->fail_open, 0, 1},
        {"exec_auth", &c->exec_auth, 0, 1},
        {"open_auth", &c->open_auth, 0, 1},
        {"avoid_open_cache", &c->avoid_open_cache, 0, 1},
        {"notify_forks", &c->notify_forks, 0, 1},
        {"notify_files", &c->notify_files, 0, 1},
        {"own_pid", &c->own_pid, 1, 0x7fffffff},
        {"notify_latency_ms", &c->notify_latency_ms, 0, 1000},
    };
    int done = 0;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
      if (strcmp(k, ints[i].name) == 0) {
        if (parse_int(v, ints[i].lo, ints[i].hi, &x)) {
          bm_set_err(err, err_len, "Bad sensor config value \"%s\" for %s: expected %ld..%ld", v,
                     k, ints[i].lo, ints[i].hi);
          return -1;
        }
        *ints[i].dst = (int32_t)x;
        done = 1;
      }
    }
    if (done) continue;
    if (strcmp(k, "ring_bytes") == 0) {
      if (parse_int(v, 65536, 1L << 30, &x)) {
        bm_set_err(err, err_len, "Bad sensor config value \"%s\" for ring_bytes: expected 65536..2^30", v);
        return -1;
      }
      c->ring_bytes = (uint32_t)x;
    } else if (strcmp(k, "marks") == 0) {
      if (strcmp(v, "filesystem") == 0) c->marks_mounts = 0;
      else if (strcmp(v, "mounts") == 0) c->marks_mounts = 1;
      else {
        bm_set_err(err, err_len, "Bad sensor config value \"%s\" for marks: expected filesystem or mounts", v);
        return -1;
      }
    } else if (strcmp(k, "guardian") == 0) {
      if (strlen(v) >= sizeof c->guardian || (v[0] != '/' && strcmp(v, "off") != 0)) {
        bm_set_err(err, err_len, "Bad sensor config value \"%s\" for guardian: expected an absolute path or off", v);
        return -1;
      }
      strcpy(c->guardian, v);
    } else if (strcmp(k, "network") == 0) {
      if (parse_int(v, 0, 1, &x)) {
        bm_set_err(err, err_len, "Bad sensor config value \"%s\" for network: expected 0..1", v);
        return -1;
      }
      c->marks_network = (int32_t)x;
#ifdef BM_TEST_HOOKS
    } else if (strcmp(k, "marks_only_under") == 0) {
      /* test builds only: production libraries reject the key (unknown) */
      if (strlen(v) >= sizeof c->marks_only_under || v[0] != '/' || strcmp(v, "/") == 0) {
        bm_set_err(err, err_len, "Bad sensor config marks_only_under \"%s\": an absolute path other than /", v);
        return -1;
      }
      strcpy(c->marks_only_under, v);
    } else if (strcmp(k, "debug_stall_ms") == 0) {
      /* test builds only: the agent stalls (bm_sensor_testing.h); accepting the key is the gate */
      if (parse_int(v, 1, 3600000, &x)) {
        bm_set_err(err, err_len, "Bad sensor config value \"%s\" for debug_stall_ms: expected 1..3600000", v);
        return -1;
      }
    } else if (strcmp(k, "debug_hold_notify") == 0) {
      if (parse_int(v, 0, 1, &x)) {
        bm_set_err(err, err_len, "Bad sensor config value \"%s\" for debug_hold_notify: expected 0 or 1", v);
        return -1;
      }
      c->debug_hold_notify = (int32_t)x;
#endif
    } else if (strcmp(k, "env") == 0) {
      size_t vl = strlen(v);
      int ok = vl > 0 && vl < BM_ENV_NAME_MAX && c->n_env < BM_MAX_ENV;
      for (size_t i = 0; ok && i < vl; i++) ok = v[i] != '=' && (unsigned char)v[i] > ' ';
      if (!ok) {
        bm_set_err(err, err_len, "Bad sensor config env \"%s\": a name without '=' or spaces, shorter than %d bytes, at most %d names",
                   v, BM_ENV_NAME_MAX, BM_MAX_ENV);
        return -1;
      }
      strcpy(c->env[c->n_env++], v);
    } else if (strcmp(k, "mount") == 0) {
      if (c->n_mounts == BM_MAX_MOUNTS || strlen(v) >= sizeof c->mounts[0] || v[0] != '/') {
        bm_set_err(err, err_len, "Bad sensor config mount \"%s\": absolute path, at most %d mounts", v, BM_MAX_MOUNTS);
        return -1;
      }
      strcpy(c->mounts[c->n_mounts++], v);
    } else {
      bm_set_err(err, err_len, "Unknown sensor config key \"%s\"", k);
      return -1;
    }
  }
  if (c->deadline_margin_ms >= c->auth_deadline_ms) {
    bm_set_err(err, err_len, "Bad sensor config: deadline_margin_ms %d must be below auth_deadline_ms %d",
               c->deadline_margin_ms, c->auth_deadline_ms);
    return -1;
  }
  return 0;
}

/* ---- watchdog --------------------------------------------------------- */

static void answer_batch(bm_sensor *s, uint64_t *tokens, uint32_t n, int allow) {
  for (uint32_t i = 0; i < n; i++) s->answer(s->ctx, tokens[i], allow, 0);
}

static void *watchdog_main(void *arg) {
  bm_sensor *s = arg;
#if defined(__linux__) && !defined(__APPLE__)
  pthread_setname_np(pthread_self(), "bm-watchdog"); /* named in top, perf, /proc */
#endif
  uint64_t tokens[256];
  pthread_mutex_lock(&s->mu);
  while (!s->closed) {
    uint64_t now = bm_now_mono_ns();
    if (s->heartbeat) __atomic_store_n(s->heartbeat, now, __ATOMIC_RELEASE);
    uint64_t earliest = UINT64_MAX;
    uint32_t n = 0;
    if (s->held_n) {
      for (uint32_t i = 0; i < s->held_cap && n < 256; i++) {
        bm_held *h = &s->held[i];
        if (!h->id) continue;
        if (h->due_ns <= now) {
          tokens[n++] = h->token;
          h->id = 0;
          s->held_n--;
          s->st.auth_by_watchdog++;
        } else if (h->due_ns < earliest) {
          earliest = h->due_ns;
        }
      }
    }
    if (n) {
      pthread_mutex_unlock(&s->mu);
      answer_batch(s, tokens, n, s->cfg.fail_open);
      pthread_mutex_lock(&s->mu);
      continue;
    }
    /* nothing held: look again in a second anyway (cheap), so submits need not wake us
       for events due later than that */
    s->wd_until = earliest == UINT64_MAX ? now + 1000000000ull : earliest;
    uint64_t beat = now + BM_HEARTBEAT_MS * 1000000ull;
    if (s->heartbeat && beat < s->wd_until) s->wd_until = beat;
    cond_wait_until(&s->wd_cond, &s->mu, s->wd_until);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int bm_core_init(bm_sensor *s, const bm_config *cfg, bm_answer_fn answer, bm_stop_fn stop, void *ctx,
                 char *err, uint32_t err_len) {
  s->cfg = *cfg;
  s->answer = answer;
  s->stop = stop;
  s->ctx = ctx;
  s->next_auth = 1;
  s->next_seq = 1;
  s->auth_fd = -1;
  s->wake_fd = -1;
  s->kick_fd = -1;
  if (pthread_mutex_init(&s->mu, NULL) || cond_init(&s->ready) || cond_init(&s->wd_cond) ||
      cond_init(&s->idle)) {
    bm_set_err(err, err_len, "Cannot create sensor locks");
    return -1;
  }
  if (bm_ring_init(&s->ring, cfg->ring_bytes) || bm_tables_init(&s->tables)) {
    bm_set_err(err, err_len, "Cannot allocate the sensor ring of %u bytes", cfg->ring_bytes);
    return -1;
  }
  s->held_cap = HELD_CAP;
  s->held = calloc(HELD_CAP, sizeof(bm_held));
  if (!s->held) {
    bm_set_err(err, err_len, "Cannot allocate the held-event table");
    return -1;
  }
  if (pthread_create(&s->wd_thread, NULL, watchdog_main, s)) {
    bm_set_err(err, err_len, "Cannot start the watchdog thread");
    return -1;
  }
  s->wd_started = 1;
  return 0;
}

/* ---- submit ----------------------------------------------------------- */

/* Caller holds mu. */
static void wake_reader(bm_sensor *s) {
  s->reader_wakes++;
  pthread_cond_signal(&s->ready);
  if (s->poll_waiters) {
    uint64_t one = 1;
    ssize_t w = write(s->wake_fd, &one, sizeof one);
    (void)w; /* a full eventfd counter is a pending wake-up anyway */
  }
}

/*
 * Does the interest filter let this finished record through? 1 or 0
 * (counted), or BM_INTEREST_ASK when only the file's size can tell. Caller holds mu.
 */
static int interesting_locked(bm_sensor *s, const bm_rec *r, uint32_t len, int64_t size) {
  if (!s->interest) return 1;
  int v = bm_interest_decide(s->interest, r->buf, len, s->exe, size);
  if (v == 0) s->filtered++;
  return v;
}

/* A record reached the ring (ok) or was lost (the agent's view of executables is unknown now). Caller holds mu. */
static void track_locked(bm_sensor *s, const bm_rec *r, uint32_t len, int ok) {
  if (!s->exe) return;
  if (ok) {
    bm_exe_track(s->exe, r->buf, len);
  } else {
    memset(s->exe->hash, 0, sizeof s->exe->hash);
    memset(s->exe->name, 0, sizeof s->exe->name);
  }
}

/* ---- the hold table (hold.c): records kept until an exec of their path ---- */

/* Holds a record the filter passed only through a hold pattern. 0 held, -1 not (pass it). Caller holds mu. */
static int hold_locked(bm_sensor *s, const bm_rec *r, uint32_t len) {
  uint32_t sl = 0;
  const uint8_t *p = s->hold ? bm_rec_find_str(r->buf, len, BM_STR_PATH, &sl) : NULL;
  uint32_t keep = bm_interest_hold_ms(s->interest);
  if (!p || !keep || bm_hold_put(s->hold, r->buf, bm_path_hash(p, sl), (uint64_t)keep * 1000000ull,
                                  bm_now_mono_ns()) != 0) {
    if (p && keep) s->hold_full++;
    return -1;
  }
  s->held_records++;
  return 0;
}

typedef struct late_ctx {
  bm_sensor *s;
  const uint8_t *path;
  uint32_t path_len;
} late_ctx;

/* A held record reaches the ring, before the exec of its path: its header, that exec's path. */
static void push_late(void *ctx, const uint8_t *hdr) {
  late_ctx *c = ctx;
  bm_sensor *s = c->s;
  uint8_t buf[BM_RECORD_HEADER_SIZE + 4 + 4096 + 16];
  bm_rec r = {.buf = buf, .cap = sizeof buf, .len = BM_RECORD_HEADER_SIZE};
  memcpy(buf, hdr, BM_RECORD_HEADER_SIZE);
  buf[BM_OFF_FLAGS] |= BM_FLAG_LATE;
  bm_rec_str(&r, BM_STR_PATH, (const char *)c->path, c->path_len);
  uint32_t len = bm_rec_finish(&r);
  bm_rec_set_u32(&r, BM_OFF_SEQ, s->next_seq++);
  if (s->closed || bm_ring_push(&s->ring, buf, len)) s->st.dropped++;
  else s->held_released++;
}

/*
 * Before an exec record goes to the ring: the records held for its path (its
 * executable, the file a held exec names, its #! script) go first. Forgets
 * them at an unlink of their path. Caller holds mu.
 */
static void hold_see_locked(bm_sensor *s, uint8_t *rec, uint32_t len) {
  if (!s->hold || bm_hold_count(s->hold) == 0) return;
  uint8_t kind = rec[BM_OFF_KIND];
  if (kind == BM_KIND_UNLINK) {
    uint32_t sl = 0;
    const uint8_t *p = bm_rec_find_str(rec, len, BM_STR_PATH, &sl);
    if (p && sl <= 4096) {
      uint64_t before = bm_hold_count(s->hold);
      bm_hold_take(s->hold, bm_path_hash(p, sl), 0, NULL, NULL);
      s->held_forgotten += before - bm_hold_count(s->hold);
    }
    return;
  }
  if (kind != BM_KIND_EXEC) return;
  static const uint8_t tags[3] = {BM_STR_EXECUTABLE, BM_STR_PATH, BM_STR_SCRIPT};
  uint64_t seen[3] = {0, 0, 0};
  uint64_t now = bm_now_mono_ns();
  for (int i = 0; i < 3; i++) {
    uint32_t sl = 0;
    const uint8_t *p = bm_rec_find_str(rec, len, tags[i], &sl);
    if (!p || sl == 0 || sl > 4096) continue;
    uint64_t h = bm_path_hash(p, sl);
    if (h == seen[0] || h == seen[1]) continue;
    seen[i] = h;
    late_ctx c = {s, p, sl};
    uint32_t before = bm_hold_count(s->hold);
    uint32_t went = bm_hold_take(s->hold, h, now, push_late, &c);
    s->held_forgotten += before - bm_hold_count(s->hold) - went; /* expired ones */
  }
}

/*
 * An exec or exit record of a process that wrote held records says so: the
 * agent keeps the image before that exec, and the process after its exit,
 * for the held records that may still come. Caller holds mu.
 */
static void hold_mark_locked(bm_sensor *s, uint8_t *rec) {
  if (!s->hold) return;
  int32_t pid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PID);
  if ((rec[BM_OFF_KIND] == BM_KIND_EXIT && bm_hold_writer_exits(s->hold, pid)) ||
      (rec[BM_OFF_KIND] == BM_KIND_EXEC && bm_hold_is_writer(s->hold, pid)))
    rec[BM_OFF_FLAGS] |= BM_FLAG_HELD_WRITES;
}

static int submit_notify(bm_sensor *s, bm_rec *r, int filter) {
  uint32_t len = bm_rec_finish(r);
  int rc = 0;
  pthread_mutex_lock(&s->mu);
  int v = filter ? interesting_locked(s, r, len, BM_INTEREST_SIZE_ASK) : 1;
  if (v == BM_INTEREST_ASK) {
    /* the stat outside the lock (a slow filesystem must not stall answers), then the
       decision again under it: the filter and the exe table as of this record's place */
    pthread_mutex_unlock(&s->mu);
    int64_t size = bm_interest_file_size(r->buf, len);
    pthread_mutex_lock(&s->mu);
    v = interesting_locked(s, r, len, size);
  }
  if (v == BM_INTEREST_HOLD) v = hold_locked(s, r, len) == 0 ? 2 : 1;
  hold_see_locked(s, r->buf, len);
  if (v != 1) {
    pthread_mutex_unlock(&s->mu);
    return 1;
  }
  hold_mark_locked(s, r->buf);
  bm_rec_set_u32(r, BM_OFF_SEQ, s->next_seq++);
  uint32_t before = s->ring.used;
  if (s->closed || bm_ring_push(&s->ring, r->buf, len)) {
    s->st.dropped++;
    rc = -1;
  } else if (before == 0) {
    s->first_ns = bm_now_mono_ns();
    uint64_t due = s->first_ns + (uint64_t)s->cfg.notify_latency_ms * 1000000ull;
    if (!(s->waiters == 1 && s->sole_until <= due)) wake_reader(s);
  } else if (before < BATCH_BYTES && s->ring.used >= BATCH_BYTES) {
    wake_reader(s);
  }
  track_locked(s, r, len, rc == 0);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int bm_core_submit_notify(bm_sensor *s, bm_rec *r) { return submit_notify(s, r, 1); }
int bm_core_submit_report(bm_sensor *s, bm_rec *r) { return submit_notify(s, r, 0); }

int bm_core_os_cache_ok(bm_sensor *s) {
  pthread_mutex_lock(&s->tables.mu);
  int ok = s->tables.cache_enabled && s->tables.pid_n == 0;
  pthread_mutex_unlock(&s->tables.mu);
  return ok;
}

uint64_t bm_core_due_ns(const bm_config *cfg, uint64_t now, uint64_t deadline_ns) {
  uint64_t end = now + (uint64_t)cfg->auth_deadline_ms * 1000000ull;
  if (deadline_ns && deadline_ns < end) end = deadline_ns;
  uint64_t margin = (uint64_t)cfg->deadline_margin_ms * 1000000ull;
  return end > now + margin ? end - margin : now;
}

uint32_t bm_core_submit_auth(bm_sensor *s, bm_rec *r, uint64_t token, int32_t pid, const char *path,
                             bm_key key, int cacheable) {
  return bm_core_submit_auth_deadline(s, r, token, pid, path, key, cacheable, 0);
}

uint32_t bm_core_submit_auth_deadline(bm_sensor *s, bm_rec *r, uint64_t token, int32_t pid,
                                      const char *path, bm_key key, int cacheable,
                                      uint64_t deadline_ns) {
  if (pid == s->cfg.own_pid) {
    BM_COUNT(s, own_pid_skips);
    s->answer(s->ctx, token, 1, 0);
    return 0;
  }
  int d = bm_tables_decide(&s->tables, pid, path, key);
  if (d >= 0) {
    BM_COUNT(s, fast_path_answers);
    s->answer(s->ctx, token, d, d == 1 && cacheable && bm_core_os_cache_ok(s));
    /* the agent still sees it, as a notify record */
    r->buf[BM_OFF_FLAGS] &= (uint8_t)~BM_FLAG_AUTH;
    bm_core_submit_report(s, r);
    return 0;
  }
  uint32_t len = bm_rec_finish(r);
  double now_wall = bm_now_wall_ms();
  uint64_t now = bm_now_mono_ns();
  uint64_t end = now + (uint64_t)s->cfg.auth_deadline_ms * 1000000ull;
  if (deadline_ns && deadline_ns < end) end = deadline_ns > now ? deadline_ns : now;
  pthread_mutex_lock(&s->mu);
  hold_see_locked(s, r->buf, len);
  hold_mark_locked(s, r->buf);
  uint32_t id = s->next_auth;
  bm_held *h = &s->held[id & (s->held_cap - 1)];
  bm_rec_set_u32(r, BM_OFF_SEQ, s->next_seq++);
  int ok = !s->closed && h->id == 0;
  if (ok) {
    bm_rec_set_u32(r, BM_OFF_AUTH_ID, id);
    bm_rec_set_f64(r, BM_OFF_DEADLINE, now_wall + (double)(end - now) / 1e6);
    r->buf[BM_OFF_FLAGS] |= BM_FLAG_AUTH;
    ok = bm_ring_push(&s->ring, r->buf, len) == 0;
  }
  track_locked(s, r, len, ok);
  if (!ok) {
    if (s->closed) s->st.auth_by_watchdog++; /* closing: the default, as close gives */
    else s->st.auth_ring_full++;
    pthread_mutex_unlock(&s->mu);
    s->answer(s->ctx, token, s->cfg.fail_open, 0);
    return 0;
  }
  s->next_auth = id + 1 ? id + 1 : 1;
  h->id = id;
  h->token = token;
  h->key = key;
  h->cacheable = cacheable;
  h->due_ns = bm_core_due_ns(&s->cfg, now, deadline_ns);
  /* the watchdog sleeps until wd_until: wake it only if this event is due before
     that (with the default 5 s deadline it never is: a wake-up per exec saved) */
  s->held_n++;
  if (h->due_ns < s->wd_until) {
    s->wd_until = h->due_ns;
    pthread_cond_signal(&s->wd_cond);
  }
  if (s->ring.used == len) s->first_ns = now;
  s->urgent = 1;
  wake_reader(s);
  pthread_mutex_unlock(&s->mu);
  return id;
}

void bm_core_count(bm_sensor *s, size_t off) {
  pthread_mutex_lock(&s->mu);
  (*(uint64_t *)((char *)&s->st + off))++;
  pthread_mutex_unlock(&s->mu);
}

/* ---- public ABI ------------------------------------------------------- */

/*
 * Ready means: an auth record is queued (wake at once), or notify records
 * have waited notify_latency_ms or fill BATCH_BYTES. Coalescing notify-only
 * records saves the agent a wake-up (tens of microseconds) per event.
 */
static int batch_ready(bm_sensor *s, uint64_t now) {
  if (s->ring.used == 0) return 0;
  return s->urgent || s->cfg.notify_latency_ms == 0 || s->ring.used >= BATCH_BYTES ||
         now >= s->first_ns + (uint64_t)s->cfg.notify_latency_ms * 1000000ull;
}

/*
 * The waiter watches wake_fd and the OS auth source until `until` (caller
 * holds mu; released meanwhile). Auth events it reads are submitted from this
 * thread, so bm_sensor_wait returns with them without another thread's wake-up.
 */
/*
 * How long after the last waiter left the platform thread still leaves
 * auth_fd alone. An agent answering a stream of execs leaves the wait and
 * comes back within microseconds; waking the platform thread to take auth_fd
 * over at every exit, and back at every entry, cost two wake-ups per exec and
 * had both threads woken by the next event. An agent busy elsewhere has its
 * events read (and, if need be, answered by the watchdog) this much later.
 */
#define YIELD_GRACE_NS BM_YIELD_GRACE_NS

/* Caller holds mu: the platform thread re-checks whether it may yield. */
static void kick_platform(bm_sensor *s) {
  uint64_t one = 1;
  ssize_t w = write(s->kick_fd, &one, sizeof one);
  (void)w;
}

static int may_yield_locked(bm_sensor *s, uint64_t now) {
  return s->auth_fd >= 0 && s->kick_fd >= 0 && !s->auth_read_failed && !s->closed &&
         (s->waiters > 0 || now < s->waiter_left_ns + YIELD_GRACE_NS);
}

int bm_core_platform_may_yield(bm_sensor *s, int *recheck_ms) {
  pthread_mutex_lock(&s->mu);
  uint64_t now = bm_now_mono_ns();
  s->platform_yields = may_yield_locked(s, now);
  int y = s->platform_yields;
  *recheck_ms = -1;
  if (y && s->waiters == 0) {
    uint64_t left = s->waiter_left_ns + YIELD_GRACE_NS - now;
    *recheck_ms = (int)((left + 999999ull) / 1000000ull);
  }
  pthread_mutex_unlock(&s->mu);
  return y;
}

static void poll_wait_until(bm_sensor *s, uint64_t until, uint64_t now) {
  struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN},
                        {.fd = s->auth_read_failed ? -1 : s->auth_fd, .events = POLLIN}};
  int timeout = -1;
  if (until != UINT64_MAX) {
    uint64_t left = until > now ? until - now : 0;
    timeout = (int)((left + 999999ull) / 1000000ull); /* ms, rounded up: never spin early */
    if (left > 0x7fffffffull * 1000000ull) timeout = 0x7fffffff;
  }
  s->poll_waiters++;
  pthread_mutex_unlock(&s->mu);
  int n = poll(p, 2, timeout);
  if (n > 0 && (p[0].revents & POLLIN)) {
    uint64_t v;
    ssize_t r = read(s->wake_fd, &v, sizeof v);
    (void)r;
  }
  if (n > 0 && p[1].revents) {
    /* 0 read: the platform thread took them first. An error (or POLLERR): stop
       watching it for this wait rather than spin; the platform thread still reads it */
    int got = (p[1].revents & POLLIN) ? s->auth_read(s->ctx) : -1;
    pthread_mutex_lock(&s->mu);
    if (got > 0) s->waiter_auth_reads += (uint64_t)got;
    if (got < 0) {
      s->auth_read_failed = 1;
      if (s->platform_yields) kick_platform(s);
    }
  } else {
    pthread_mutex_lock(&s->mu);
  }
  s->poll_waiters--;
}

int32_t bm_sensor_wait(bm_sensor *s, int32_t timeout_ms) {
  if (!s) return -1;
  pthread_mutex_lock(&s->mu);
  s->waiters++;
  uint64_t now = bm_now_mono_ns();
  /* the platform thread watches auth_fd (the agent was away): have it leave it to us */
  if (!s->platform_yields && may_yield_locked(s, now)) kick_platform(s);
  uint64_t end = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * 1000000ull;
  while (!s->closed && !batch_ready(s, now) && now < end) {
    uint64_t until = end;
    if (s->ring.used) {
      uint64_t due = s->first_ns + (uint64_t)s->cfg.notify_latency_ms * 1000000ull;
      if (due < until) until = due;
    }
    s->sole_until = until;
    if (s->auth_fd >= 0) poll_wait_until(s, until, now);
    else cond_wait_until(&s->ready, &s->mu, until);
    now = bm_now_mono_ns();
  }
  int32_t r = s->closed ? -1 : s->ring.used ? 1 : 0;
  if (--s->waiters == 0) {
    pthread_cond_broadcast(&s->idle);
    s->waiter_left_ns = bm_now_mono_ns(); /* no kick: see YIELD_GRACE_NS */
  }
  pthread_mutex_unlock(&s->mu);
  return r;
}

int32_t bm_sensor_drain(bm_sensor *s, uint8_t *buf, uint32_t cap) {
  if (!s || !buf) return -1;
  pthread_mutex_lock(&s->mu);
  if (s->closed) {
    pthread_mutex_unlock(&s->mu);
    return -1;
  }
  uint32_t n = bm_ring_pop(&s->ring, buf, cap > 0x7fffffffu ? 0x7fffffffu : cap);
  if (s->ring.used == 0) s->urgent = 0;
  uint64_t count = 0;
  for (uint32_t off = 0; off < n; off += bm_rec_get_u32(buf, off)) count++;
  s->st.events += count;
  pthread_mutex_unlock(&s->mu);
  return (int32_t)n;
}

int32_t bm_sensor_respond(bm_sensor *s, uint32_t auth_id, int32_t allow, int32_t cache) {
  if (!s) return -1;
  pthread_mutex_lock(&s->mu);
  bm_held *h = &s->held[auth_id & (s->held_cap - 1)];
  if (auth_id == 0 || h->id != auth_id) {
    s->st.late_answers++;
    pthread_mutex_unlock(&s->mu);
    return 1;
  }
  uint64_t token = h->token;
  bm_key key = h->key;
  int cacheable = h->cacheable;
  h->id = 0;
  s->held_n--;
  s->st.auth_by_agent++;
  pthread_mutex_unlock(&s->mu);
  int os_cache = 0;
  if (allow && cache && cacheable) {
    bm_tables_cache_add(&s->tables, key);
    os_cache = bm_core_os_cache_ok(s);
  }
  s->answer(s->ctx, token, allow ? 1 : 0, os_cache);
  return 0;
}

static void tables_changed(bm_sensor *s) {
  if (s->tables_changed) s->tables_changed(s->ctx);
}

int32_t bm_sensor_deny_pid(bm_sensor *s, int32_t pid, int32_t on) {
  if (!s) return -1;
  bm_tables_deny_pid(&s->tables, pid, on);
  if (on) tables_changed(s);
  return 0;
}

int32_t bm_sensor_deny_path(bm_sensor *s, const char *path, int32_t on) {
  if (!s || !path) return -1;
  bm_tables_deny_path(&s->tables, path, on);
  if (on) tables_changed(s);
  return 0;
}

int32_t bm_sensor_allow_cache_enable(bm_sensor *s, int32_t enabled) {
  if (!s) return -1;
  pthread_mutex_lock(&s->tables.mu);
  s->tables.cache_enabled = enabled ? 1 : 0;
  pthread_mutex_unlock(&s->tables.mu);
  if (!enabled) tables_changed(s);
  return 0;
}

int32_t bm_sensor_allow_cache_clear(bm_sensor *s) {
  if (!s) return -1;
  bm_tables_cache_clear(&s->tables);
  tables_changed(s);
  return 0;
}

int32_t bm_sensor_set_interest(bm_sensor *s, const char *spec, char *err, uint32_t err_len) {
  if (!s) return -1;
  bm_interest *f = NULL;
  if (spec && !(f = bm_interest_parse(spec, err, err_len))) return -1;
  /* a table starts empty (every executable and name unknown: such records pass) and is kept from then on */
  bm_exe_table *exe = f && bm_interest_uses_exe(f) ? calloc(1, sizeof *exe) : NULL;
  bm_hold *hold = f && bm_interest_hold_ms(f) ? bm_hold_new() : NULL;
  pthread_mutex_lock(&s->mu);
  bm_interest *old = s->interest;
  s->interest = f;
  if (!s->exe) s->exe = exe, exe = NULL;
  /* held records stay while the new filter holds too; a filter that holds nothing forgets them */
  bm_hold *drop = NULL;
  if (!f || !bm_interest_hold_ms(f)) {
    drop = s->hold, s->hold = NULL;
    s->held_forgotten += bm_hold_count(drop);
  } else if (!s->hold) {
    s->hold = hold, hold = NULL;
  }
  pthread_mutex_unlock(&s->mu);
  bm_interest_free(old);
  free(exe);
  bm_hold_free(hold);
  bm_hold_free(drop);
  return 0;
}

int32_t bm_sensor_marks(bm_sensor *s, uint8_t *buf, uint32_t cap) {
  if (!s || !buf) return -1;
  return s->describe_marks ? s->describe_marks(s->ctx, buf, cap) : 0;
}

int32_t bm_sensor_get_stats(bm_sensor *s, bm_sensor_stats *out, uint32_t size) {
  if (!s || !out) return -1;
  pthread_mutex_lock(&s->mu);
  s->st.held_now = s->held_n;
  bm_sensor_stats copy = s->st;
  copy.filtered = s->filtered;
  copy.held_records = s->held_records;
  copy.held_released = s->held_released;
  copy.held_forgotten = s->held_forgotten;
  copy.hold_full = s->hold_full;
  pthread_mutex_unlock(&s->mu);
  if (s->stats_extra) s->stats_extra(s->ctx, &copy);
  if (size > sizeof copy) size = sizeof copy;
  memcpy(out, &copy, size);
  return (int32_t)size;
}

void bm_sensor_close(bm_sensor *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->closed = 1;
  pthread_cond_broadcast(&s->ready);
  if (s->poll_waiters) {
    uint64_t one = 1;
    ssize_t w = write(s->wake_fd, &one, sizeof one);
    (void)w;
  }
  pthread_cond_broadcast(&s->wd_cond);
  pthread_mutex_unlock(&s->mu);
  if (s->stop) s->stop(s->ctx, 0); /* platform threads end: no more submits */
  if (s->wd_started) pthread_join(s->wd_thread, NULL);
  /* answer whatever is still held */
  for (uint32_t i = 0; i < s->held_cap; i++) {
    bm_held *h = &s->held[i];
    if (!h->id) continue;
    h->id = 0;
    s->held_n--;
    s->st.auth_by_watchdog++;
    s->answer(s->ctx, h->token, s->cfg.fail_open, 0);
  }
  pthread_mutex_lock(&s->mu);
  while (s->waiters) pthread_cond_wait(&s->idle, &s->mu);
  pthread_mutex_unlock(&s->mu);
  if (s->stop) s->stop(s->ctx, 1);
  bm_ring_free(&s->ring);
  bm_tables_free(&s->tables);
  bm_interest_free(s->interest);
  free(s->exe);
  bm_hold_free(s->hold);
  free(s->held);
  pthread_cond_destroy(&s->ready);
  pthread_cond_destroy(&s->wd_cond);
  pthread_cond_destroy(&s->idle);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* ---- synthetic source (bm_sensor_testing.h: tests, benchmarks) -------- */

static void synthetic_answer(void *ctx, uint64_t token, int allow, int cache) {
  (void)ctx; (void)token; (void)allow; (void)cache;
}

bm_sensor *bm_sensor_open_synthetic(const char *config, char *err, uint32_t err_len) {
  bm_config cfg;
  if (bm_config_parse(config, &cfg, err, err_len)) return NULL;
  bm_sensor *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (bm_core_init(s, &cfg, synthetic_answer, NULL, NULL, err, err_len)) {
    free(s->held);
    free(s);
    return NULL;
  }
  return s;
}

int32_t bm_sensor_inject(bm_sensor *s, const uint8_t *rec, uint32_t len, uint32_t count) {
  if (!s || !rec || len < BM_RECORD_HEADER_SIZE || len > BM_MAX_RECORD) return -1;
  static __thread uint8_t tmp[BM_MAX_RECORD];
  int32_t queued = 0;
  int auth = rec[BM_OFF_FLAGS] & BM_FLAG_AUTH;
  uint32_t nstr = (uint32_t)rec[BM_OFF_NSTR] | (uint32_t)rec[BM_OFF_NSTR + 1] << 8;
  for (uint32_t i = 0; i < count; i++) {
    bm_rec r = {tmp, BM_MAX_RECORD, len, (uint16_t)nstr, 0};
    memcpy(tmp, rec, len);
    if (auth) {
      int32_t pid = (int32_t)bm_rec_get_u32(tmp, BM_OFF_PID);
      if (bm_core_submit_auth(s, &r, 0, pid, NULL, (bm_key){0, 0}, 0)) queued++;
    } else {
      if (bm_core_submit_notify(s, &r) == 0) queued++; /* filtered or dropped: not queued */
    }
  }
  return queued;
}
