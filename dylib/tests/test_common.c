/* C unit tests for dylib/common: ring, record encoding, tables, watchdog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "bm_core.h"
#include "bm_sensor_testing.h"

#include "check.h"

static uint32_t make_rec(uint8_t *buf, uint32_t cap, uint32_t id, uint32_t nstr_bytes) {
  bm_rec r;
  bm_rec_begin(&r, buf, cap, BM_KIND_CREATE, 0);
  bm_rec_set_i32(&r, BM_OFF_PID, (int32_t)id);
  char s[4096];
  memset(s, 'a' + (int)(id % 26), sizeof s);
  if (nstr_bytes) bm_rec_str(&r, BM_STR_PATH, s, nstr_bytes % sizeof s);
  return bm_rec_finish(&r);
}

static void test_record_layout(void) {
  uint8_t buf[512];
  bm_rec r;
  bm_rec_begin(&r, buf, sizeof buf, BM_KIND_EXEC, BM_FLAG_AUTH);
  bm_rec_set_u32(&r, BM_OFF_SEQ, 0x01020304);
  bm_rec_set_f64(&r, BM_OFF_TIME, 1700000000123.5);
  bm_rec_set_i32(&r, BM_OFF_PID, -2);
  bm_rec_cstr(&r, BM_STR_EXECUTABLE, "/bin/sh");
  bm_rec_cstr(&r, BM_STR_ARG, "sh");
  bm_rec_cstr(&r, BM_STR_ARG, "");
  uint32_t n = bm_rec_finish(&r);
  CHECK(n % 8 == 0);
  CHECK(n == ((BM_RECORD_HEADER_SIZE + 4 + 7 + 4 + 2 + 4 + 0 + 7) & ~7u));
  CHECK(bm_rec_get_u32(buf, BM_OFF_SIZE) == n);
  CHECK(buf[BM_OFF_VERSION] == BM_RECORD_VERSION && buf[BM_OFF_VERSION + 1] == 0);
  CHECK(buf[BM_OFF_KIND] == BM_KIND_EXEC && buf[BM_OFF_FLAGS] == BM_FLAG_AUTH);
  CHECK(buf[BM_OFF_SEQ] == 4 && buf[BM_OFF_SEQ + 3] == 1); /* little-endian */
  CHECK(bm_rec_get_f64(buf, BM_OFF_TIME) == 1700000000123.5);
  CHECK(bm_rec_get_u32(buf, BM_OFF_PID) == 0xfffffffeu);
  CHECK(bm_rec_get_u32(buf, BM_OFF_PPID) == 0xffffffffu); /* default -1 */
  CHECK(bm_rec_get_f64(buf, BM_OFF_FILE_SIZE) == -1.0);
  CHECK(buf[BM_OFF_NSTR] == 3 && buf[BM_OFF_NSTR + 1] == 0);
  const uint8_t *p = buf + BM_RECORD_HEADER_SIZE;
  CHECK(p[0] == BM_STR_EXECUTABLE && p[2] == 7 && memcmp(p + 4, "/bin/sh", 7) == 0);
  p += 4 + 7;
  CHECK(p[0] == BM_STR_ARG && p[2] == 2 && memcmp(p + 4, "sh", 2) == 0);
  p += 4 + 2;
  CHECK(p[0] == BM_STR_ARG && p[2] == 0 && p[3] == 0);

  /* a string that does not fit is cut, the record stays well formed */
  uint8_t small[BM_RECORD_HEADER_SIZE + 40];
  bm_rec_begin(&r, small, sizeof small, BM_KIND_OPEN, 0);
  char big[100];
  memset(big, 'x', sizeof big);
  CHECK(bm_rec_str(&r, BM_STR_PATH, big, sizeof big) == -1);
  CHECK(r.truncated);
  n = bm_rec_finish(&r);
  CHECK(n <= sizeof small && n % 8 == 0);
  CHECK(small[BM_OFF_NSTR] == 1);
  uint32_t slen = (uint32_t)small[BM_RECORD_HEADER_SIZE + 2] | (uint32_t)small[BM_RECORD_HEADER_SIZE + 3] << 8;
  CHECK(BM_RECORD_HEADER_SIZE + 4 + slen <= n);
  /* no room at all: the string is dropped */
  CHECK(bm_rec_str(&r, BM_STR_PATH, "y", 1) == -1);
}

static void test_ring(void) {
  bm_ring q;
  CHECK(bm_ring_init(&q, 0) == 0);
  uint32_t cap = q.cap;
  uint8_t rec[8192], out[1 << 16];
  /* model check: random pushes and pops against a FIFO of ids */
  uint32_t fifo[200000];
  uint32_t fh = 0, ft = 0, next = 1;
  uint64_t pushed = 0, popped = 0, full = 0;
  srand(7);
  for (int step = 0; step < 200000 && ft < 199000; step++) {
    if (rand() % 4) {
      uint32_t len = make_rec(rec, sizeof rec, next, (uint32_t)rand() % 4000);
      if (bm_ring_push(&q, rec, len) == 0) {
        fifo[ft++] = next++;
        pushed++;
      } else {
        full++;
        CHECK(q.used + len > q.cap - 8 || q.used > 0); /* only fails when nearly full */
      }
    } else {
      uint32_t got = bm_ring_pop(&q, out, (uint32_t)(rand() % 3 ? 4096 : 200));
      for (uint32_t off = 0; off < got;) {
        uint32_t len = bm_rec_get_u32(out, off);
        CHECK(len >= BM_RECORD_HEADER_SIZE && len % 8 == 0 && off + len <= got);
        CHECK(fh < ft && bm_rec_get_u32(out, off + BM_OFF_PID) == fifo[fh]);
        fh++;
        popped++;
        off += len;
      }
    }
    CHECK(q.used <= q.cap);
  }
  while (1) {
    uint32_t got = bm_ring_pop(&q, out, sizeof out);
    if (!got) break;
    for (uint32_t off = 0; off < got; off += bm_rec_get_u32(out, off)) {
      CHECK(bm_rec_get_u32(out, off + BM_OFF_PID) == fifo[fh]);
      fh++;
      popped++;
    }
  }
  CHECK(pushed == popped && fh == ft);
  CHECK(q.used == 0);
  CHECK(full > 0); /* the model run did fill the ring */
  /* fill completely with one size, then nothing more fits, then drain all */
  uint32_t len = make_rec(rec, sizeof rec, 1, 1000);
  uint32_t n = 0;
  while (bm_ring_push(&q, rec, len) == 0) n++;
  CHECK(n == cap / len);
  CHECK(bm_ring_push(&q, rec, len) == -1);
  uint32_t total = 0, got;
  while ((got = bm_ring_pop(&q, out, sizeof out)) > 0) total += got;
  CHECK(total == n * len);
  /* a buffer too small for the next record returns 0 and keeps it */
  CHECK(bm_ring_push(&q, rec, len) == 0);
  CHECK(bm_ring_pop(&q, out, len - 8) == 0);
  CHECK(bm_ring_pop(&q, out, len) == len);
  bm_ring_free(&q);
}

static void test_tables(void) {
  bm_tables t;
  CHECK(bm_tables_init(&t) == 0);
  bm_key k1 = {1, 2}, k2 = {3, 4};
  CHECK(bm_tables_decide(&t, 10, "/x", k1) == -1);
  bm_tables_cache_add(&t, k1);
  CHECK(bm_tables_decide(&t, 10, "/x", k1) == -1); /* cache disabled */
  t.cache_enabled = 1;
  CHECK(bm_tables_decide(&t, 10, "/x", k1) == 1);
  CHECK(bm_tables_decide(&t, 10, "/x", k2) == -1);
  for (uint64_t i = 1; i < 5000; i++) bm_tables_cache_add(&t, (bm_key){i * 7, i});
  for (uint64_t i = 1; i < 5000; i++) CHECK(bm_tables_decide(&t, 1, NULL, (bm_key){i * 7, i}) == 1);
  for (uint64_t i = 1; i < 5000; i += 2) bm_tables_cache_remove(&t, (bm_key){i * 7, i});
  for (uint64_t i = 1; i < 5000; i++)
    CHECK(bm_tables_decide(&t, 1, NULL, (bm_key){i * 7, i}) == (i % 2 ? -1 : 1));
  bm_tables_deny_path(&t, "/x", 1);
  CHECK(bm_tables_decide(&t, 10, "/x", k1) == 0); /* deny beats the cache */
  bm_tables_deny_path(&t, "/x", 0);
  CHECK(bm_tables_decide(&t, 10, "/x", k1) == 1);
  bm_tables_deny_pid(&t, 10, 1);
  CHECK(bm_tables_decide(&t, 10, NULL, k2) == 0);
  bm_tables_on_fork(&t, 10, 11);
  bm_tables_on_fork(&t, 12, 13);
  CHECK(bm_tables_decide(&t, 11, NULL, k2) == 0);
  CHECK(bm_tables_decide(&t, 13, NULL, k2) == -1);
  bm_tables_on_exit(&t, 11);
  CHECK(bm_tables_decide(&t, 11, NULL, k2) == -1);
  bm_tables_cache_clear(&t);
  CHECK(bm_tables_decide(&t, 1, "/x", k1) == -1);
  bm_tables_free(&t);
}

/* ---- watchdog: a core with a recording answer callback ---- */

typedef struct answers {
  pthread_mutex_t mu;
  int n;
  uint64_t token[64];
  int allow[64];
  int cache[64];
  uint64_t at_ns[64];
  int tables_changed; /* calls of the tables-changed hook */
} answers;

static void record_answer(void *ctx, uint64_t token, int allow, int cache) {
  answers *a = ctx;
  pthread_mutex_lock(&a->mu);
  if (a->n < 64) {
    a->token[a->n] = token;
    a->allow[a->n] = allow;
    a->cache[a->n] = cache;
    a->at_ns[a->n] = bm_now_mono_ns();
  }
  a->n++;
  pthread_mutex_unlock(&a->mu);
}

static int count_answers(answers *a) {
  pthread_mutex_lock(&a->mu);
  int n = a->n;
  pthread_mutex_unlock(&a->mu);
  return n;
}

static bm_sensor *open_core(const char *conf, answers *a) {
  bm_config cfg;
  char err[256];
  CHECK(bm_config_parse(conf, &cfg, err, sizeof err) == 0);
  bm_sensor *s = calloc(1, sizeof *s);
  memset(a, 0, sizeof *a);
  pthread_mutex_init(&a->mu, NULL);
  CHECK(bm_core_init(s, &cfg, record_answer, NULL, a, err, sizeof err) == 0);
  return s;
}

static uint32_t hold(bm_sensor *s, uint64_t token, int32_t pid) {
  uint8_t buf[256];
  bm_rec r;
  bm_rec_begin(&r, buf, sizeof buf, BM_KIND_EXEC, BM_FLAG_AUTH);
  bm_rec_set_i32(&r, BM_OFF_PID, pid);
  return bm_core_submit_auth(s, &r, token, pid, "/t/bin", (bm_key){(uint64_t)pid, 9}, 1);
}

static void test_watchdog(void) {
  answers a;
  bm_sensor *s = open_core("auth_deadline_ms=300\ndeadline_margin_ms=100\nfail_open=0\nown_pid=1\n", &a);
  uint64_t t0 = bm_now_mono_ns();
  uint32_t id1 = hold(s, 101, 50);
  uint32_t id2 = hold(s, 102, 51);
  CHECK(id1 && id2 && id1 != id2);
  /* the agent answers id2 in time; the allow cache is off: the OS may not cache it */
  CHECK(bm_sensor_respond(s, id2, 1, 1) == 0);
  CHECK(count_answers(&a) == 1 && a.token[0] == 102 && a.allow[0] == 1 && a.cache[0] == 0);
  /* id1 is left alone: the watchdog answers it at deadline - margin with the default (deny) */
  for (int i = 0; i < 200 && count_answers(&a) < 2; i++) usleep(5000);
  CHECK(count_answers(&a) == 2);
  CHECK(a.token[1] == 101 && a.allow[1] == 0 && a.cache[1] == 0);
  uint64_t waited_ms = (a.at_ns[1] - t0) / 1000000ull;
  CHECK(waited_ms >= 195 && waited_ms < 290); /* due at 200 ms, well before the 300 ms deadline */
  /* a late answer is ignored and counted */
  CHECK(bm_sensor_respond(s, id1, 1, 0) == 1);
  CHECK(count_answers(&a) == 2);
  bm_sensor_stats st;
  CHECK(bm_sensor_get_stats(s, &st, sizeof st) == (int32_t)sizeof st);
  CHECK(st.auth_by_agent == 1 && st.auth_by_watchdog == 1 && st.late_answers == 1 && st.held_now == 0);
  /* answering twice: the second is late */
  CHECK(bm_sensor_respond(s, id2, 0, 0) == 1);
  /* the allow with cache=1 went into the cache; with the cache on, pid 51 is answered in C */
  bm_sensor_allow_cache_enable(s, 1);
  CHECK(hold(s, 103, 51) == 0);
  CHECK(count_answers(&a) == 3 && a.token[2] == 103 && a.allow[2] == 1 && a.cache[2] == 1);
  bm_sensor_allow_cache_clear(s);
  uint32_t id4 = hold(s, 104, 51);
  CHECK(id4 != 0);
  /* deny table answers in C */
  bm_sensor_deny_pid(s, 60, 1);
  CHECK(hold(s, 105, 60) == 0);
  CHECK(count_answers(&a) == 4 && a.token[3] == 105 && a.allow[3] == 0 && a.cache[3] == 0);
  /* own pid is never held */
  CHECK(hold(s, 106, 1) == 0);
  CHECK(count_answers(&a) == 5 && a.allow[4] == 1);
  /* drain sees the held records and the fast-path ones as notify records */
  uint8_t out[65536];
  int32_t n = bm_sensor_drain(s, out, sizeof out);
  int recs = 0, auths = 0;
  for (int32_t off = 0; off < n; off += (int32_t)bm_rec_get_u32(out, (uint32_t)off)) {
    recs++;
    if (out[off + BM_OFF_FLAGS] & BM_FLAG_AUTH) {
      auths++;
      CHECK(bm_rec_get_u32(out, (uint32_t)off + BM_OFF_AUTH_ID) != 0);
      CHECK(bm_rec_get_f64(out, (uint32_t)off + BM_OFF_DEADLINE) > 0);
    }
  }
  CHECK(recs == 5 && auths == 3); /* 101, 102, 104 held; 103, 105 fast path; 106 own pid not queued */
  CHECK(bm_sensor_get_stats(s, &st, sizeof st) > 0);
  CHECK(st.fast_path_answers == 2 && st.own_pid_skips == 1 && st.events == 5 && st.held_now == 1);
  /* close answers what is still held (id4) with the default */
  bm_sensor_close(s);
  CHECK(a.n == 6 && a.token[5] == 104 && a.allow[5] == 0);
  pthread_mutex_destroy(&a.mu);
}

static void test_ring_full(void) {
  answers a;
  bm_sensor *s = open_core("ring_bytes=65536\nfail_open=1\nauth_deadline_ms=60000\nown_pid=1\n", &a);
  uint8_t buf[8192];
  int dropped = 0, queued = 0;
  for (int i = 0; i < 1000; i++) {
    uint32_t len = make_rec(buf, sizeof buf, (uint32_t)i, 3000);
    bm_rec r = {buf, sizeof buf, len, 1, 0};
    if (bm_core_submit_notify(s, &r)) dropped++; else queued++;
  }
  /* top up with small records so not even a header-sized record fits */
  for (int i = 0; i < 100000; i++) {
    uint32_t len = make_rec(buf, sizeof buf, (uint32_t)i, 0);
    bm_rec r = {buf, sizeof buf, len, 0, 0};
    if (bm_core_submit_notify(s, &r)) dropped++; else queued++;
  }
  CHECK(dropped > 0 && queued > 0);
  /* ring full: an auth event is answered at once with the default and counted */
  CHECK(hold(s, 200, 77) == 0);
  CHECK(count_answers(&a) == 1 && a.token[0] == 200 && a.allow[0] == 1);
  bm_sensor_stats st;
  bm_sensor_get_stats(s, &st, sizeof st);
  CHECK(st.dropped == (uint64_t)dropped && st.auth_ring_full == 1);
  /* every record is either drained or counted; seq numbers show the gaps */
  static uint8_t out[4 << 20];
  int32_t n = bm_sensor_drain(s, out, sizeof out);
  int got = 0;
  uint32_t last_seq = 0;
  for (int32_t off = 0; off < n; off += (int32_t)bm_rec_get_u32(out, (uint32_t)off)) {
    uint32_t seq = bm_rec_get_u32(out, (uint32_t)off + BM_OFF_SEQ);
    CHECK(seq > last_seq);
    last_seq = seq;
    got++;
  }
  CHECK(got == queued);
  /* wait returns 0 on timeout when empty, 1 when ready */
  CHECK(bm_sensor_wait(s, 10) == 0);
  uint32_t len = make_rec(buf, sizeof buf, 1, 10);
  bm_rec r = {buf, sizeof buf, len, 1, 0};
  bm_core_submit_notify(s, &r);
  CHECK(bm_sensor_wait(s, 10) == 1);
  bm_sensor_close(s);
  pthread_mutex_destroy(&a.mu);
}

static void *closer(void *arg) {
  usleep(50000);
  bm_sensor_close(arg);
  return NULL;
}

static void test_close_wakes_waiter(void) {
  char err[128];
  bm_sensor *s = bm_sensor_open_synthetic("own_pid=1", err, sizeof err);
  CHECK(s != NULL);
  pthread_t t;
  pthread_create(&t, NULL, closer, s);
  CHECK(bm_sensor_wait(s, 5000) == -1);
  pthread_join(t, NULL);
}

static void test_coalescing(void) {
  answers a;
  bm_sensor *s = open_core("notify_latency_ms=50\nown_pid=1\n", &a);
  uint8_t buf[256], out[4096];
  uint32_t len = make_rec(buf, sizeof buf, 1, 10);
  bm_rec r = {buf, sizeof buf, len, 1, 0};
  bm_core_submit_notify(s, &r);
  uint64_t t0 = bm_now_mono_ns();
  CHECK(bm_sensor_wait(s, 5000) == 1);
  uint64_t waited = (bm_now_mono_ns() - t0) / 1000000ull;
  CHECK(waited >= 40 && waited < 4000); /* a notify-only batch waits for the latency, not the timeout */
  CHECK(bm_sensor_drain(s, out, sizeof out) > 0);
  bm_core_submit_notify(s, &r);
  CHECK(hold(s, 1, 50) != 0);
  t0 = bm_now_mono_ns();
  CHECK(bm_sensor_wait(s, 5000) == 1);
  CHECK((bm_now_mono_ns() - t0) / 1000000ull < 40); /* an auth record wakes at once */
  CHECK(bm_sensor_drain(s, out, sizeof out) > 0);
  CHECK(bm_sensor_wait(s, 0) == 0);
  bm_sensor_close(s);
  pthread_mutex_destroy(&a.mu);
}

static void count_tables_changed(void *ctx) {
  answers *a = ctx;
  pthread_mutex_lock(&a->mu);
  a->tables_changed++;
  pthread_mutex_unlock(&a->mu);
}

/* The cache flag of the answer callback and the tables-changed hook. */
static void test_os_cache(void) {
  answers a;
  bm_sensor *s = open_core("own_pid=1\n", &a);
  s->tables_changed = count_tables_changed;
  uint8_t out[65536];
  bm_sensor_allow_cache_enable(s, 1);
  CHECK(a.tables_changed == 0); /* enabling makes no cached allow wrong */
  /* an allow with cache=1 on a cacheable event: the OS may cache it */
  uint32_t id = hold(s, 1, 70);
  CHECK(bm_sensor_respond(s, id, 1, 1) == 0 && a.cache[0] == 1);
  /* the agent said no cache, or denied: never */
  id = hold(s, 2, 71);
  CHECK(bm_sensor_respond(s, id, 1, 0) == 0 && a.cache[1] == 0);
  id = hold(s, 3, 72);
  CHECK(bm_sensor_respond(s, id, 0, 1) == 0 && a.allow[2] == 0 && a.cache[2] == 0);
  /* not cacheable (an open with avoid_open_cache): never */
  uint8_t buf[256];
  bm_rec r;
  bm_rec_begin(&r, buf, sizeof buf, BM_KIND_OPEN, BM_FLAG_AUTH);
  id = bm_core_submit_auth(s, &r, 4, 73, "/t/doc", (bm_key){73, 9}, 0);
  CHECK(bm_sensor_respond(s, id, 1, 1) == 0 && a.cache[3] == 0);
  /* a deny-by-pid entry: the hook runs at once, and no allow may be OS-cached
     while it exists (not even one the C cache gives) */
  bm_sensor_deny_pid(s, 999, 1);
  CHECK(a.tables_changed == 1);
  id = hold(s, 5, 74);
  CHECK(bm_sensor_respond(s, id, 1, 1) == 0 && a.cache[4] == 0);
  CHECK(hold(s, 6, 70) == 0 && a.allow[5] == 1 && a.cache[5] == 0); /* C cache, no OS cache */
  bm_sensor_deny_pid(s, 999, 0);
  CHECK(a.tables_changed == 1); /* removing a deny makes no cached allow wrong */
  CHECK(hold(s, 7, 70) == 0 && a.allow[6] == 1 && a.cache[6] == 1);
  bm_sensor_deny_path(s, "/t/evil", 1);
  CHECK(a.tables_changed == 2);
  bm_sensor_deny_path(s, "/t/evil", 0);
  bm_sensor_allow_cache_clear(s);
  CHECK(a.tables_changed == 3);
  bm_sensor_allow_cache_enable(s, 0);
  CHECK(a.tables_changed == 4);
  /* the cache off: no OS caching either */
  id = hold(s, 8, 75);
  CHECK(bm_sensor_respond(s, id, 1, 1) == 0 && a.cache[7] == 0);
  CHECK(count_answers(&a) == 8);
  CHECK(bm_sensor_drain(s, out, sizeof out) > 0);
  bm_sensor_close(s);
  pthread_mutex_destroy(&a.mu);
}

/* An OS deadline per event (macOS: the ES message's) sets the watchdog time and deadline_ms. */
static void test_event_deadline(void) {
  answers a;
  bm_sensor *s = open_core("auth_deadline_ms=30000\ndeadline_margin_ms=100\nfail_open=1\nown_pid=1\n", &a);
  bm_config cfg = s->cfg;
  /* due = the earlier deadline - margin, never before now */
  CHECK(bm_core_due_ns(&cfg, 1000000000ull, 0) == 1000000000ull + 29900000000ull);
  CHECK(bm_core_due_ns(&cfg, 1000000000ull, 1300000000ull) == 1200000000ull);
  CHECK(bm_core_due_ns(&cfg, 1000000000ull, 99000000000ull) == 1000000000ull + 29900000000ull);
  CHECK(bm_core_due_ns(&cfg, 1000000000ull, 1050000000ull) == 1000000000ull); /* inside the margin */
  CHECK(bm_core_due_ns(&cfg, 1000000000ull, 500000000ull) == 1000000000ull);  /* past */
  /* a held event with the configured 30 s, then one whose OS deadline is 300 ms away:
     the watchdog wakes for the second although it sleeps for the first */
  uint32_t id1 = hold(s, 11, 80);
  uint8_t buf[256];
  bm_rec r;
  bm_rec_begin(&r, buf, sizeof buf, BM_KIND_EXEC, BM_FLAG_AUTH);
  bm_rec_set_i32(&r, BM_OFF_PID, 81);
  double wall0 = bm_now_wall_ms();
  uint64_t t0 = bm_now_mono_ns();
  uint32_t id2 = bm_core_submit_auth_deadline(s, &r, 12, 81, "/t/bin", (bm_key){81, 9}, 1,
                                              t0 + 300000000ull);
  CHECK(id1 && id2);
  uint8_t out[4096];
  int32_t n = bm_sensor_drain(s, out, sizeof out);
  CHECK(n > 0);
  uint32_t second = bm_rec_get_u32(out, 0);
  double dl1 = bm_rec_get_f64(out, BM_OFF_DEADLINE);
  double dl2 = bm_rec_get_f64(out, second + BM_OFF_DEADLINE);
  CHECK(dl1 > wall0 + 29000 && dl1 < wall0 + 31000); /* the configured deadline */
  CHECK(dl2 > wall0 + 250 && dl2 < wall0 + 350);     /* the real one, not the configured */
  for (int i = 0; i < 300 && count_answers(&a) < 1; i++) usleep(5000);
  CHECK(count_answers(&a) == 1 && a.token[0] == 12 && a.allow[0] == 1 && a.cache[0] == 0);
  uint64_t waited_ms = (a.at_ns[0] - t0) / 1000000ull;
  CHECK(waited_ms >= 195 && waited_ms < 290); /* 300 ms deadline - 100 ms margin */
  CHECK(bm_sensor_respond(s, id2, 0, 0) == 1); /* late */
  CHECK(bm_sensor_respond(s, id1, 1, 0) == 0); /* still held: answered by the agent */
  bm_sensor_close(s);
  CHECK(a.n == 2);
  pthread_mutex_destroy(&a.mu);
}

/* ---- a waiter that watches the OS auth source itself (Linux's auth_fd) ---- */
#ifdef __linux__

static int fake_fds[2]; /* the "OS auth source": a pipe, one byte per event */
static bm_sensor *fake_s;
static int fake_fail;
static int fake_auth_read(void *ctx) {
  (void)ctx;
  if (fake_fail) return -1;
  char b[16];
  ssize_t n = read(fake_fds[0], b, sizeof b);
  for (ssize_t i = 0; i < n; i++) CHECK(hold(fake_s, 300 + (uint64_t)i, 90) != 0);
  return n > 0 ? (int)n : 0;
}

static void *wait_thread(void *arg) {
  return (void *)(intptr_t)bm_sensor_wait(arg, 1500);
}

static int fd_readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1;
}

static void wait_for_waiter(bm_sensor *s) {
  for (int i = 0; i < 2000; i++) {
    pthread_mutex_lock(&s->mu);
    int in_poll = s->poll_waiters;
    pthread_mutex_unlock(&s->mu);
    if (in_poll) return;
    usleep(1000);
  }
}

static void test_waiter_reads_auth(void) {
  answers a;
  bm_sensor *s = open_core("own_pid=1\n", &a);
  CHECK(pipe(fake_fds) == 0);
  fcntl(fake_fds[0], F_SETFL, O_NONBLOCK);
  int kick = eventfd(0, EFD_NONBLOCK);
  fake_s = s;
  s->auth_fd = fake_fds[0];
  s->wake_fd = eventfd(0, EFD_NONBLOCK);
  s->kick_fd = kick;
  s->auth_read = fake_auth_read;
  int recheck = 0;
  CHECK(bm_core_platform_may_yield(s, &recheck) == 0); /* nobody waits: the platform watches */
  CHECK(recheck == -1);
  pthread_t t;
  pthread_create(&t, NULL, wait_thread, s);
  wait_for_waiter(s);
  /* a waiter arriving while the platform watches auth_fd has it leave it */
  CHECK(fd_readable(kick));
  uint64_t v;
  CHECK(read(kick, &v, sizeof v) == (ssize_t)sizeof v && v == 1);
  CHECK(bm_core_platform_may_yield(s, &recheck) == 1); /* a waiter watches auth_fd: leave it */
  CHECK(recheck == -1);
  uint64_t sent = bm_now_mono_ns();
  CHECK(write(fake_fds[1], "x", 1) == 1);
  void *rv;
  pthread_join(t, &rv);
  uint64_t joined = bm_now_mono_ns();
  CHECK((intptr_t)rv == 1); /* the waiter read the event, held it and returned */
  CHECK(s->waiter_auth_reads == 1 && s->held_n == 1);
  /* leaving, it does not wake the platform thread: a busy agent comes back at once */
  CHECK(!fd_readable(kick));
  CHECK(s->waiter_left_ns >= sent && s->waiter_left_ns <= joined);
  /* Within the grace period the platform thread keeps yielding and is told when
   * to look again. Whether a call falls within it depends on when this thread
   * runs (a loaded machine can stall it past 2 ms), so each try brackets its
   * call with the clock and judges only a call wholly inside or wholly past it;
   * the waiter's leave time is renewed for the next try. */
  int inside = 0;
  for (int i = 0; i < 1000 && !inside; i++) {
    pthread_mutex_lock(&s->mu);
    uint64_t grace_end = s->waiter_left_ns + BM_YIELD_GRACE_NS;
    pthread_mutex_unlock(&s->mu);
    uint64_t t0 = bm_now_mono_ns();
    int y = bm_core_platform_may_yield(s, &recheck);
    uint64_t t1 = bm_now_mono_ns();
    if (t1 < grace_end) {
      inside = 1;
      CHECK(y == 1);
      /* the rest of the grace period at the call, in ms rounded up */
      CHECK(recheck >= (int)((grace_end - t1 + 999999ull) / 1000000ull));
      CHECK(recheck <= (int)((grace_end - t0 + 999999ull) / 1000000ull));
    } else if (t0 >= grace_end) {
      CHECK(y == 0 && recheck == -1);
    }
    pthread_mutex_lock(&s->mu);
    s->waiter_left_ns = bm_now_mono_ns();
    pthread_mutex_unlock(&s->mu);
  }
  CHECK(inside);
  /* ... and one that stays away gets auth_fd watched again after the grace period */
  usleep(3000);
  CHECK(bm_core_platform_may_yield(s, &recheck) == 0);
  CHECK(recheck == -1);
  /* a failing auth source: the waiter stops watching it and the platform keeps it */
  uint8_t out[4096];
  CHECK(bm_sensor_drain(s, out, sizeof out) > 0);
  fake_fail = 1;
  pthread_create(&t, NULL, wait_thread, s);
  wait_for_waiter(s);
  CHECK(read(kick, &v, sizeof v) == (ssize_t)sizeof v && v == 1);
  CHECK(bm_core_platform_may_yield(s, &recheck) == 1);
  CHECK(write(fake_fds[1], "y", 1) == 1);
  for (int i = 0; i < 2000 && !fd_readable(kick); i++) usleep(1000);
  CHECK(fd_readable(kick)); /* kicked at once, not when the wait ends */
  CHECK(bm_core_platform_may_yield(s, &recheck) == 0);
  pthread_join(t, &rv);
  CHECK((intptr_t)rv == 0); /* timed out: nothing held */
  fake_fail = 0;
  int wake = s->wake_fd;
  bm_sensor_close(s);
  close(fake_fds[0]);
  close(fake_fds[1]);
  close(wake);
  close(kick);
  pthread_mutex_destroy(&a.mu);
}
#else
static void test_waiter_reads_auth(void) {}
#endif

static void test_config(void) {
  bm_config c;
  char err[256];
  CHECK(bm_config_parse("", &c, err, sizeof err) == 0 && c.auth_deadline_ms == 5000 && c.fail_open == 1);
  CHECK(bm_config_parse("marks=mounts\nmount=/a\nmount=/b\n# c\n\nexec_auth=0", &c, err, sizeof err) == 0);
  CHECK(c.marks_mounts == 1 && c.n_mounts == 2 && strcmp(c.mounts[1], "/b") == 0 && c.exec_auth == 0);
  CHECK(bm_config_parse("nope=1", &c, err, sizeof err) == -1 && strstr(err, "\"nope\""));
  CHECK(bm_config_parse("fail_open=2", &c, err, sizeof err) == -1 && strstr(err, "fail_open"));
  CHECK(bm_config_parse("auth_deadline_ms=100\ndeadline_margin_ms=100", &c, err, sizeof err) == -1);
  CHECK(bm_config_parse("mount=relative", &c, err, sizeof err) == -1);
  CHECK(bm_config_parse("novalue", &c, err, sizeof err) == -1 && strstr(err, "line 1"));
}

/* Environment at exec: configured names only, first binding wins, values cut at 1 KiB. */
static void test_env(void) {
  bm_config cfg;
  char err[128];
  CHECK(bm_config_parse("env=LD_PRELOAD\nenv=HISTFILE\n", &cfg, err, sizeof err) == 0);
  CHECK(cfg.n_env == 2);
  CHECK(bm_config_parse("env=A=B\n", &cfg, err, sizeof err) == -1 && strstr(err, "A=B"));
  CHECK(bm_config_parse("env=\n", &cfg, err, sizeof err) == -1);
  char many[17 * 8 + 1] = "";
  for (int i = 0; i < 17; i++) snprintf(many + strlen(many), sizeof many - strlen(many), "env=V%d\n", i);
  CHECK(bm_config_parse(many, &cfg, err, sizeof err) == -1 && strstr(err, "at most 16"));
#ifndef BM_TEST_HOOKS
  CHECK(bm_config_parse("marks_only_under=/tmp/x\n", &cfg, err, sizeof err) == -1 &&
        strstr(err, "Unknown sensor config key"));
  /* a production agent can never be told to stall (bm_sensor_testing.h) */
  CHECK(bm_config_parse("debug_stall_ms=60000\n", &cfg, err, sizeof err) == -1 &&
        strstr(err, "Unknown sensor config key \"debug_stall_ms\""));
#endif
  CHECK(bm_config_parse("env=LD_PRELOAD\nenv=HISTFILE\n", &cfg, err, sizeof err) == 0);
  static char block[4096];
  size_t n = 0;
  const char *vars[] = {"PATH=/bin", "HISTFILE=/dev/null", "LD_PRELOADX=no", "HISTFILE=/second"};
  for (size_t i = 0; i < 4; i++) {
    memcpy(block + n, vars[i], strlen(vars[i]) + 1);
    n += strlen(vars[i]) + 1;
  }
  memcpy(block + n, "LD_PRELOAD=", 11);
  memset(block + n + 11, 'x', 2000);
  n += 2011; /* the last one without a NUL: cut by a bounded read */
  static uint8_t buf[8192];
  bm_rec r;
  bm_rec_begin(&r, buf, sizeof buf, BM_KIND_EXEC, 0);
  CHECK(bm_rec_env_block(&r, &cfg, block, n) == 2);
  CHECK(r.nstr == 2);
  uint32_t off = BM_RECORD_HEADER_SIZE;
  CHECK(buf[off] == BM_STR_ENV && buf[off + 2] == 18 && memcmp(buf + off + 4, "HISTFILE=/dev/null", 18) == 0);
  off += 4 + 18;
  uint16_t len = (uint16_t)(buf[off + 2] | buf[off + 3] << 8);
  CHECK(buf[off] == BM_STR_ENV && len == 11 + BM_ENV_VALUE_MAX);
}

/* A finished record of `kind` with a path (and a rename target when given). */
static uint32_t file_rec_mode(uint8_t *buf, uint32_t cap, uint8_t kind, uint8_t flags, const char *path,
                              const char *target, uint32_t mode) {
  bm_rec r;
  bm_rec_begin(&r, buf, cap, kind, flags);
  bm_rec_set_i32(&r, BM_OFF_PID, 42);
  bm_rec_set_u32(&r, BM_OFF_FILE_MODE, mode);
  if (path) bm_rec_cstr(&r, BM_STR_PATH, path);
  if (target) bm_rec_cstr(&r, BM_STR_TARGET_PATH, target);
  return bm_rec_finish(&r);
}

static uint32_t file_rec(uint8_t *buf, uint32_t cap, uint8_t kind, uint8_t flags, const char *path,
                         const char *target) {
  return file_rec_mode(buf, cap, kind, flags, path, target, 0);
}

static int passes_mode(const bm_interest *f, uint8_t kind, const char *path, uint32_t mode) {
  static uint8_t buf[BM_RECORD_HEADER_SIZE + 8200];
  uint32_t n = file_rec_mode(buf, sizeof buf, kind, 0, path, NULL, mode);
  return bm_interest_pass(f, buf, n, NULL);
}

static int passes(const bm_interest *f, uint8_t kind, uint8_t flags, const char *path, const char *target) {
  static uint8_t buf[BM_RECORD_HEADER_SIZE + 2 * 8200];
  uint32_t n = file_rec(buf, sizeof buf, kind, flags, path, target);
  return bm_interest_pass(f, buf, n, NULL);
}

/* xorshift64: a fixed sequence, so a failure repeats */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return (uint32_t)(rnd_state >> 33) % n;
}

/* The fields of a spec's lines, as random paths are built from them (tab-split copies). */
typedef struct {
  char *prefix[1024], *suffix[1024], *contains[1024];
  uint32_t n;
} spec_parts;

static void split_spec(const char *spec, spec_parts *sp) {
  sp->n = 0;
  for (const char *p = spec; *p && sp->n < 1024;) {
    const char *nl = strchr(p, '\n');
    size_t l = nl ? (size_t)(nl - p) : strlen(p);
    char *line = strndup(p, l), *fld[4] = {"", "", "", ""};
    int nf = 0;
    for (char *q = line, *tok; nf < 4 && (tok = strsep(&q, "\t"));) fld[nf++] = tok;
    sp->prefix[sp->n] = strdup(fld[1]);
    sp->suffix[sp->n] = strdup(fld[2]);
    sp->contains[sp->n] = strdup(fld[3]);
    sp->n++;
    free(line);
    p = nl ? nl + 1 : p + l;
  }
}

static void free_parts(spec_parts *sp) {
  for (uint32_t i = 0; i < sp->n; i++) free(sp->prefix[i]), free(sp->suffix[i]), free(sp->contains[i]);
}

/* A random path near the spec's patterns: a prefix, bits of others, a suffix, some case or byte changes. */
static void random_path(const spec_parts *sp, char *out, size_t cap) {
  static const char *bits[] = {"/", "a", "x/", "Downloads/", ".ssh/", "..", "\\", "\xc3\xa9", "\xff",
                               "/tmp", "/tmp/", "/etc", "/home/u/", "/var/lib/bmng-bench/", "/dev/shm/",
                               "Read_Me", ".TXT", "/.", "lib", ".so", ".ko", "rc", "cron."};
  size_t at = 0;
  out[0] = 0;
  uint32_t nbits = 1 + rnd(4);
  for (uint32_t b = 0; b < nbits; b++) {
    const char *piece;
    uint32_t w = rnd(10);
    if (w < 3 && sp->n) piece = sp->prefix[rnd(sp->n)];
    else if (w < 5 && sp->n) piece = sp->suffix[rnd(sp->n)];
    else if (w < 6 && sp->n) piece = sp->contains[rnd(sp->n)];
    else piece = bits[rnd(sizeof bits / sizeof *bits)];
    size_t l = strlen(piece);
    if (at + l + 1 >= cap) break;
    memcpy(out + at, piece, l + 1);
    at += l;
  }
  if (at && rnd(8) == 0) out[rnd((uint32_t)at)] ^= 0x20; /* a case change (or another byte) */
  if (at && rnd(16) == 0) out[at - 1 - rnd((uint32_t)at)] = 0; /* cut short */
}

/*
 * The indexed walk (bm_interest_decide) and the plain walk of every pattern in spec order
 * (bm_interest_decide_linear) decide every record alike: random paths built from the spec's own
 * prefixes, suffixes and contains, random kinds, modes, sizes and processes (some with a listed
 * name, some with the path as their executable). Returns how many passed, asked for a size, or
 * were dropped, so the caller can see each outcome was reached.
 */
static void compare_index(const char *spec, uint32_t rounds, uint32_t seen[3]) {
  char err[256] = "";
  bm_interest *f = bm_interest_parse(spec, err, sizeof err);
  CHECK(f != NULL);
  if (!f) return;
  static spec_parts sp;
  split_spec(spec, &sp);
  static bm_exe_table t;
  memset(&t, 0, sizeof t);
  static const char *exes[] = {"/usr/bin/bash", "/usr/bin/curl", "/usr/bin/vim", "/usr/bin/cp",
                               "/usr/bin/true", "/usr/bin/sysctl", "/usr/bin/base64", "/usr/bin/c\xc3\xa9"};
  uint8_t rec[BM_RECORD_HEADER_SIZE + 4 * 8200];
  bm_rec r;
  for (int32_t pid = 100; pid < 100 + 8; pid++) {
    bm_rec_begin(&r, rec, sizeof rec, BM_KIND_EXEC, 0);
    bm_rec_set_i32(&r, BM_OFF_PID, pid);
    bm_rec_cstr(&r, BM_STR_EXECUTABLE, exes[pid - 100]);
    bm_exe_track(&t, rec, bm_rec_finish(&r));
  }
  static const uint32_t modes[] = {0, 0100644, 0104755, 0102755, 0100755};
  static const int64_t sizes[] = {BM_INTEREST_SIZE_ASK, -1, 68, 73, 100, 0};
  static const uint8_t kinds[] = {4, 5, 5, 5, 6, 6, 7, 8, 9, 1};
  char path[1024], target[1024];
  uint32_t differ = 0;
  for (uint32_t i = 0; i < rounds; i++) {
    random_path(&sp, path, sizeof path);
    int renamed = rnd(6) == 0;
    if (renamed) random_path(&sp, target, sizeof target);
    int32_t pid = rnd(3) == 0 ? 200 + (int32_t)rnd(4) : 100 + (int32_t)rnd(8);
    if (rnd(10) == 0) { /* this path is the process's executable */
      bm_rec_begin(&r, rec, sizeof rec, BM_KIND_EXEC, 0);
      bm_rec_set_i32(&r, BM_OFF_PID, pid);
      bm_rec_cstr(&r, BM_STR_EXECUTABLE, path);
      bm_exe_track(&t, rec, bm_rec_finish(&r));
    }
    bm_rec_begin(&r, rec, sizeof rec, kinds[rnd(sizeof kinds)], 0);
    bm_rec_set_i32(&r, BM_OFF_PID, pid);
    bm_rec_set_u32(&r, BM_OFF_FILE_MODE, modes[rnd(sizeof modes / sizeof *modes)]);
    if (rnd(8) == 0) bm_rec_set_f64(&r, BM_OFF_FILE_SIZE, (double)(68 + rnd(8)));
    bm_rec_cstr(&r, BM_STR_PATH, path);
    if (renamed) bm_rec_cstr(&r, BM_STR_TARGET_PATH, target);
    uint32_t n = bm_rec_finish(&r);
    int64_t size = sizes[rnd(sizeof sizes / sizeof *sizes)];
    const bm_exe_table *et = rnd(5) ? &t : NULL;
    int a = bm_interest_decide(f, rec, n, et, size), b = bm_interest_decide_linear(f, rec, n, et, size);
    if (a != b && differ++ < 5) fprintf(stderr, "  index %d, walk %d: kind %u %s\n", a, b, rec[BM_OFF_KIND], path);
    seen[b == 1 ? 0 : b == BM_INTEREST_ASK ? 1 : 2]++;
  }
  CHECK(differ == 0);
  free_parts(&sp);
  bm_interest_free(f);
}

/* The index of the interest filter decides as the plain walk, on the Linux pack's spec and odd ones. */
static void test_interest_index(void) {
  /* tests/interest_linux_pack.spec: what compileInterest gave the Linux pack with RTP and the
     blocklist's sizes (a snapshot: any spec must do, this one is large and real) */
  FILE *fp = fopen("tests/interest_linux_pack.spec", "r");
  CHECK(fp != NULL);
  if (!fp) return;
  static char spec[1 << 20];
  size_t l = fread(spec, 1, sizeof spec - 1, fp);
  fclose(fp);
  spec[l] = 0;
  CHECK(l > 10000);
  uint32_t seen[3] = {0};
  compare_index(spec, 200000, seen);
  CHECK(seen[0] > 1000 && seen[1] > 1000 && seen[2] > 1000);
  /* patterns the pack lacks: "i" with a prefix, a prefix without a whole first segment, or not
     starting with '/', an upper-case suffix, a root prefix, an "e" one, names and sizes at once */
  memset(seen, 0, sizeof seen);
  compare_index("6\t/Tmp/\t\t\ti\n6\t/et\t\t\n5\tx/\t\t\n5\t/\t\t/.\n6\t\t.SO\n7\t\t.So\tRead\ti\n8\t//\t\n"
                "5\t/a/b\t.c\tz\tm2048\tbash\t5\n8\t\t\t\te\n5\t/home/\t\t\t\tcurl/vim\t68,73\n5\t/etc/\t\n"
                "5\t/usr/bin/\t\t\te\n7\t/etc/\tc\t\t\t\t70\n4\t/\tx\n",
                200000, seen);
  CHECK(seen[0] > 1000 && seen[1] > 100 && seen[2] > 1000);
}

/* The interest filter's decisions, its parser, and the sensor dropping what it rules out. */
static void test_interest(void) {
  char err[256] = "";
  bm_interest *f;
  CHECK(bm_interest_parse("6\t/etc/\n", err, sizeof err) == NULL);
  CHECK(strstr(err, "line 1") != NULL);
  CHECK(bm_interest_parse("1\t\t\n0\t\t\n", err, sizeof err) == NULL && strstr(err, "line 2"));
  CHECK(bm_interest_parse("32\t\t\n", err, sizeof err) == NULL);
  CHECK(bm_interest_parse("x\t\t\n", err, sizeof err) == NULL);
  CHECK(bm_interest_parse("6\ta\tb\tc\ti\tx\t1\tz\n", err, sizeof err) == NULL); /* 8 fields */
  CHECK(bm_interest_parse("6\ta\tb\tc\ti\ta//b\n", err, sizeof err) == NULL);     /* an empty name */
  CHECK(bm_interest_parse("6\ta\tb\tc\ti\t/a\n", err, sizeof err) == NULL);
  CHECK(bm_interest_parse("6\ta\tb\tc\ti\t\t1,,2\n", err, sizeof err) == NULL);  /* an empty size */
  CHECK(bm_interest_parse("6\ta\tb\tc\ti\t\t1x\n", err, sizeof err) == NULL);
  CHECK(bm_interest_parse("6\ta\tb\tc\ti\t\t-1\n", err, sizeof err) == NULL);
  CHECK(bm_interest_parse("6\ta\tb\tc\ti\t\t99999999999999999999999\n", err, sizeof err) == NULL);
  f = bm_interest_parse("6\ta\tb\tc\ti\tx/y\t1,2\n6\t\t\t\t\t\t\n", err, sizeof err);
  CHECK(f != NULL); /* NAMES and SIZES; a line with both empty is "every record" */
  CHECK(passes(f, BM_KIND_CREATE, 0, "/q", NULL));
  bm_interest_free(f);
  CHECK(bm_interest_parse("6\ta\tb\tc\tq\n", err, sizeof err) == NULL);
  CHECK(bm_interest_parse("6\ta\tb\tc\tm\n", err, sizeof err) == NULL);
  CHECK(bm_interest_parse("6\ta\tb\tc\tm0\n", err, sizeof err) == NULL);

  f = bm_interest_parse("1\t\t\n\n6\t/etc/\t\n6\t/home/\t/.bashrc\n5\t\t.so\n7\t/usr/bin/\t\n",
                                     err, sizeof err);
  CHECK(f != NULL);
  CHECK(passes(f, BM_KIND_EXEC, 0, "/anything", NULL));
  CHECK(passes(f, BM_KIND_EXEC, 0, NULL, NULL));
  CHECK(!passes(f, BM_KIND_FORK, 0, NULL, NULL)); /* a kind no line names */
  CHECK(passes(f, BM_KIND_UNLINK, BM_FLAG_AUTH, "/tmp/x", NULL)); /* auth always passes */
  CHECK(passes(f, BM_KIND_CREATE, 0, "/etc/cron.d/x", NULL));
  CHECK(passes(f, BM_KIND_CREATE, 0, "/etc/", NULL));
  CHECK(!passes(f, BM_KIND_CREATE, 0, "/etc", NULL));
  CHECK(!passes(f, BM_KIND_CREATE, 0, "/tmp/etc/x", NULL));
  CHECK(passes(f, BM_KIND_CREATE, 0, "/home/u/.bashrc", NULL));
  CHECK(!passes(f, BM_KIND_CREATE, 0, "/home/u/.bashrc~", NULL));
  CHECK(!passes(f, BM_KIND_CREATE, 0, "/root/.bashrc", NULL));
  CHECK(passes(f, BM_KIND_CLOSE_MODIFIED, 0, "/tmp/libx.so", NULL));
  CHECK(!passes(f, BM_KIND_CLOSE_MODIFIED, 0, "/tmp/libx.so.1", NULL));
  CHECK(passes(f, BM_KIND_CREATE, 0, NULL, NULL)); /* a listed kind without a path */
  /* a rename passes on either end */
  CHECK(passes(f, BM_KIND_RENAME, 0, "/tmp/x", "/usr/bin/x"));
  CHECK(passes(f, BM_KIND_RENAME, 0, "/usr/bin/x", "/tmp/x"));
  CHECK(!passes(f, BM_KIND_RENAME, 0, "/tmp/x", "/tmp/y"));
  /* a path the agent would cut passes whatever it ends with */
  char longp[5000];
  memset(longp, 'a', sizeof longp - 1);
  longp[0] = '/';
  longp[sizeof longp - 1] = 0;
  CHECK(passes(f, BM_KIND_CLOSE_MODIFIED, 0, longp, NULL));
  longp[4096] = 0;
  CHECK(!passes(f, BM_KIND_CLOSE_MODIFIED, 0, longp, NULL));
  /* a kind this build does not know passes */
  {
    uint8_t buf[256];
    uint32_t n = file_rec(buf, sizeof buf, BM_KIND_CREATE, 0, "/tmp/x", NULL);
    buf[BM_OFF_KIND] = 40;
    CHECK(bm_interest_pass(f, buf, n, NULL));
    CHECK(bm_interest_pass(NULL, buf, n, NULL));
  }
  bm_interest_free(f);

  /* contains, ASCII case folding (a non-ASCII path matches), file mode bits */
  f = bm_interest_parse("6\t\t.TXT\tRead\ti\n6\t/tmp/\t\t\tm2048\n8\t/x/\t\t/.\t\n", err, sizeof err);
  CHECK(f != NULL);
  CHECK(passes(f, BM_KIND_CREATE, 0, "/home/README.txt", NULL));
  CHECK(passes(f, BM_KIND_CREATE, 0, "/home/x_read_me.TXT", NULL));
  CHECK(!passes(f, BM_KIND_CREATE, 0, "/home/notes.txt", NULL));
  CHECK(!passes(f, BM_KIND_CREATE, 0, "/home/readme.txt.bak", NULL));
  CHECK(passes(f, BM_KIND_CREATE, 0, "/home/\xc3\xa9.md", NULL)); /* non-ASCII: the agent's text may differ */
  CHECK(passes(f, BM_KIND_CREATE, 0, "/home/a\\b", NULL));       /* a backslash: so may it */
  CHECK(passes(f, BM_KIND_UNLINK, 0, "/y/\xff", NULL));
  CHECK(!passes_mode(f, BM_KIND_CREATE, "/tmp/x", 0100755));
  CHECK(passes_mode(f, BM_KIND_CREATE, "/tmp/x", 0104755));
  CHECK(!passes_mode(f, BM_KIND_CREATE, "/var/x", 0104755));
  CHECK(passes(f, BM_KIND_UNLINK, 0, "/x/a/.b", NULL));
  CHECK(!passes(f, BM_KIND_UNLINK, 0, "/x/a/b.", NULL));
  CHECK(!passes(f, BM_KIND_UNLINK, 0, "/y/.b", NULL));
  bm_interest_free(f);
  /* a mode-only line is not "every record" */
  f = bm_interest_parse("6\t\t\t\tm2048\n", err, sizeof err);
  CHECK(f != NULL);
  CHECK(!passes_mode(f, BM_KIND_CREATE, "/a", 0644));
  CHECK(passes_mode(f, BM_KIND_CREATE, "/a", 04755));
  bm_interest_free(f);

  /* the sensor: dropped records get no seq, are counted, and a new filter replaces the old */
  bm_sensor *s = bm_sensor_open_synthetic("own_pid=1\nnotify_latency_ms=0\n", err, sizeof err);
  CHECK(s != NULL);
  if (!s) return;
  CHECK(bm_sensor_set_interest(s, "6\t/etc/\t\n", err, sizeof err) == 0);
  CHECK(bm_sensor_set_interest(s, "bad\n", err, sizeof err) == -1);
  CHECK(strstr(err, "Bad interest filter line 1") != NULL);
  uint8_t a[256], b[256], out[4096];
  uint32_t la = file_rec(a, sizeof a, BM_KIND_CREATE, 0, "/etc/x", NULL);
  uint32_t lb = file_rec(b, sizeof b, BM_KIND_CREATE, 0, "/tmp/x", NULL);
  CHECK(bm_sensor_inject(s, b, lb, 3) == 0);
  CHECK(bm_sensor_inject(s, a, la, 2) == 2);
  int32_t n = bm_sensor_drain(s, out, sizeof out);
  CHECK(n == (int32_t)(2 * la));
  CHECK(bm_rec_get_u32(out, BM_OFF_SEQ) == 1 && bm_rec_get_u32(out, la + BM_OFF_SEQ) == 2);
  bm_sensor_stats st;
  bm_sensor_get_stats(s, &st, sizeof st);
  CHECK(st.filtered == 3 && st.events == 2 && st.dropped == 0);
  /* an auth record always passes */
  b[BM_OFF_FLAGS] |= BM_FLAG_AUTH;
  CHECK(bm_sensor_inject(s, b, lb, 1) == 1);
  b[BM_OFF_FLAGS] &= (uint8_t)~BM_FLAG_AUTH;
  CHECK(bm_sensor_set_interest(s, "6\t/tmp/\t\n", err, sizeof err) == 0);
  CHECK(bm_sensor_inject(s, b, lb, 1) == 1);
  CHECK(bm_sensor_inject(s, a, la, 1) == 0);
  CHECK(bm_sensor_set_interest(s, NULL, err, sizeof err) == 0);
  CHECK(bm_sensor_inject(s, a, la, 1) == 1);
  bm_sensor_get_stats(s, &st, sizeof st);
  CHECK(st.filtered == 4);
  bm_sensor_close(s);

  /* "e": an unlink passes when its path is the process's executable as the records so far say */
  s = bm_sensor_open_synthetic("own_pid=1\nnotify_latency_ms=0\nauth_deadline_ms=600000\n", err, sizeof err);
  CHECK(s != NULL);
  if (!s) return;
  CHECK(bm_sensor_set_interest(s, "1\t\t\n2\t\t\n3\t\t\n8\t\t\t\te\n", err, sizeof err) == 0);
  uint8_t rec[512];
  bm_rec r;
#define PROC_REC(kind, flags, p, pp, tag, str)                 \
  do {                                                         \
    bm_rec_begin(&r, rec, sizeof rec, (kind), (flags));        \
    bm_rec_set_i32(&r, BM_OFF_PID, (p));                       \
    bm_rec_set_i32(&r, BM_OFF_PPID, (pp));                     \
    if (str) bm_rec_cstr(&r, (tag), (str));                    \
    CHECK(bm_sensor_inject(s, rec, bm_rec_finish(&r), 1) == 1); \
  } while (0)
  /* file_rec writes pid 42: set the pid by hand */
#define UNLINK_AS(p, path, want)                                                             \
  do {                                                                                       \
    uint32_t n_ = file_rec(rec, sizeof rec, BM_KIND_UNLINK, 0, (path), NULL);                \
    bm_rec w_ = {rec, sizeof rec, n_, 0, 0};                                                 \
    bm_rec_set_i32(&w_, BM_OFF_PID, (p));                                                    \
    CHECK(bm_sensor_inject(s, rec, n_, 1) == (want));                                        \
  } while (0)
  UNLINK_AS(100, "/tmp/a", 1); /* nothing known of pid 100 yet */
  PROC_REC(BM_KIND_EXEC, 0, 100, 1, BM_STR_EXECUTABLE, "/tmp/a");
  UNLINK_AS(100, "/tmp/a", 1);
  UNLINK_AS(100, "/tmp/b", 0);
  UNLINK_AS(101, "/tmp/b", 1);
  PROC_REC(BM_KIND_FORK, 0, 101, 100, 0, (const char *)NULL); /* inherits /tmp/a */
  UNLINK_AS(101, "/tmp/b", 0);
  UNLINK_AS(101, "/tmp/a", 1);
  PROC_REC(BM_KIND_EXIT, 0, 100, 1, 0, (const char *)NULL);
  UNLINK_AS(100, "/tmp/b", 0); /* the agent keeps an exited process: so does the table */
  UNLINK_AS(100, "/tmp/a", 1);
  PROC_REC(BM_KIND_FORK, 0, 100, 1, 0, (const char *)NULL); /* the pid reused: the parent's (unknown) */
  UNLINK_AS(100, "/tmp/b", 1);
  PROC_REC(BM_KIND_EXEC, BM_FLAG_AUTH, 102, 1, BM_STR_PATH, "/tmp/s"); /* a held exec names its file */
  UNLINK_AS(102, "/tmp/s", 1);
  UNLINK_AS(102, "/tmp/x", 0);
  PROC_REC(BM_KIND_EXEC, 0, 102, 1, 0, (const char *)NULL); /* its image lost the race with an exit */
  UNLINK_AS(102, "/tmp/x", 1);
  bm_sensor_get_stats(s, &st, sizeof st);
  CHECK(st.filtered == 4);
  bm_sensor_close(s);

  /*
   * NAMES: a written file passes when its process's name (the base name of its executable, as
   * the records so far say) is listed; an unknown one passes. SIZES: when its size is listed.
   */
  s = bm_sensor_open_synthetic("own_pid=1\nnotify_latency_ms=0\nauth_deadline_ms=600000\n", err, sizeof err);
  CHECK(s != NULL);
  if (!s) return;
  char dir[] = "/tmp/bm_interest_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char f68[64], f5[64], gone[64];
  snprintf(f68, sizeof f68, "%s/s68", dir);
  snprintf(f5, sizeof f5, "%s/s5", dir);
  snprintf(gone, sizeof gone, "%s/gone", dir);
  int fd = open(f68, O_CREAT | O_WRONLY, 0600);
  CHECK(fd >= 0 && ftruncate(fd, 68) == 0);
  close(fd);
  fd = open(f5, O_CREAT | O_WRONLY, 0600);
  CHECK(fd >= 0 && ftruncate(fd, 5) == 0);
  close(fd);
  /* close_modified: cp/dd anywhere, /etc/ by sh only, or a file of 68 or 73 bytes in dir */
  char spec[256];
  snprintf(spec, sizeof spec, "1\t\t\n2\t\t\n3\t\t\n5\t\t\t\t\tdd/cp\n5\t/etc/\t\t\t\tsh\n5\t%s/\t\t\t\t\t73,68\n",
           dir);
  CHECK(bm_sensor_set_interest(s, spec, err, sizeof err) == 0);
#define WRITE_AS(p, path, want)                                                              \
  do {                                                                                       \
    uint32_t n_ = file_rec(rec, sizeof rec, BM_KIND_CLOSE_MODIFIED, 0, (path), NULL);        \
    bm_rec w_ = {rec, sizeof rec, n_, 0, 0};                                                 \
    bm_rec_set_i32(&w_, BM_OFF_PID, (p));                                                    \
    CHECK(bm_sensor_inject(s, rec, n_, 1) == (want));                                        \
  } while (0)
  WRITE_AS(200, "/tmp/x", 1); /* nothing known of pid 200 yet */
  PROC_REC(BM_KIND_EXEC, 0, 200, 1, BM_STR_EXECUTABLE, "/usr/bin/cp");
  WRITE_AS(200, "/tmp/x", 1);
  PROC_REC(BM_KIND_EXEC, 0, 200, 1, BM_STR_EXECUTABLE, "/usr/bin/tar");
  WRITE_AS(200, "/tmp/x", 0);
  WRITE_AS(200, "/etc/x", 0);
  WRITE_AS(200, f68, 1); /* stat'ed: a listed size */
  WRITE_AS(200, f5, 0);
  WRITE_AS(200, gone, 1); /* cannot be stat'ed */
  {
    /* the record's own size goes before the file's */
    uint32_t n_ = file_rec(rec, sizeof rec, BM_KIND_CLOSE_MODIFIED, 0, f5, NULL);
    bm_rec w_ = {rec, sizeof rec, n_, 0, 0};
    bm_rec_set_i32(&w_, BM_OFF_PID, 200);
    bm_rec_set_f64(&w_, BM_OFF_FILE_SIZE, 73);
    CHECK(bm_sensor_inject(s, rec, n_, 1) == 1);
    bm_rec_set_f64(&w_, BM_OFF_FILE_SIZE, 5);
    CHECK(bm_sensor_inject(s, rec, n_, 1) == 0);
    /* a record with a start time or an executable of its own: the agent may find another
       process than the pid's latest, so its name is unknown */
    bm_rec_set_f64(&w_, BM_OFF_START, 1234);
    CHECK(bm_sensor_inject(s, rec, n_, 1) == 1);
  }
  PROC_REC(BM_KIND_EXEC, 0, 201, 1, BM_STR_EXECUTABLE, "/bin/sh");
  WRITE_AS(201, "/etc/x", 1);
  WRITE_AS(201, "/tmp/x", 0);
  PROC_REC(BM_KIND_FORK, 0, 202, 201, 0, (const char *)NULL); /* a child inherits the name */
  WRITE_AS(202, "/etc/x", 1);
  WRITE_AS(202, "/tmp/x", 0);
  PROC_REC(BM_KIND_EXIT, 0, 202, 201, 0, (const char *)NULL);
  WRITE_AS(202, "/tmp/x", 0); /* its writes read after its exit record: still sh's */
  WRITE_AS(202, "/etc/x", 1);
  PROC_REC(BM_KIND_FORK, 0, 202, 200, 0, (const char *)NULL); /* the pid reused by tar's child */
  WRITE_AS(202, "/etc/x", 0);
  /* a held exec of a child read before its fork: the agent keeps the exec's image, so the
     name is ambiguous until the next exec */
  PROC_REC(BM_KIND_EXEC, BM_FLAG_AUTH, 203, 1, BM_STR_PATH, "/usr/bin/dd");
  PROC_REC(BM_KIND_FORK, 0, 203, 201, 0, (const char *)NULL);
  WRITE_AS(203, "/tmp/x", 1);
  PROC_REC(BM_KIND_EXEC, 0, 203, 201, BM_STR_EXECUTABLE, "/usr/bin/dd");
  WRITE_AS(203, "/tmp/x", 1);
  PROC_REC(BM_KIND_EXEC, 0, 203, 201, BM_STR_EXECUTABLE, "/usr/bin/gzip");
  WRITE_AS(203, "/tmp/x", 0);
  /* a name the agent's text gives otherwise (not ASCII, a backslash) is unknown */
  PROC_REC(BM_KIND_EXEC, 0, 204, 1, BM_STR_EXECUTABLE, "/usr/bin/c\xc3\xa9");
  WRITE_AS(204, "/tmp/x", 1);
  PROC_REC(BM_KIND_EXEC, 0, 204, 1, BM_STR_EXECUTABLE, "/usr/bin/a\\b");
  WRITE_AS(204, "/tmp/x", 1);
  PROC_REC(BM_KIND_EXEC, 0, 204, 1, BM_STR_EXECUTABLE, "/usr/bin/");
  WRITE_AS(204, "/tmp/x", 1);
  /* a lost record: every name is unknown from then on */
  PROC_REC(BM_KIND_EXEC, 0, 205, 1, BM_STR_EXECUTABLE, "/usr/bin/tar");
  WRITE_AS(205, "/tmp/x", 0);
  pthread_mutex_lock(&s->mu);
  memset(s->exe->name, 0, sizeof s->exe->name);
  pthread_mutex_unlock(&s->mu);
  WRITE_AS(205, "/tmp/x", 1);
#undef WRITE_AS
#undef PROC_REC
#undef UNLINK_AS
  bm_sensor_get_stats(s, &st, sizeof st);
  CHECK(st.filtered == 10);
  bm_sensor_close(s);
  unlink(f68);
  unlink(f5);
  rmdir(dir);
}

typedef struct { bm_sensor *s; int32_t timeout; int32_t rc; uint64_t ms; } waiter_arg;

static void *timed_waiter(void *p) {
  waiter_arg *a = p;
  uint64_t t0 = bm_now_mono_ns();
  a->rc = bm_sensor_wait(a->s, a->timeout);
  a->ms = (bm_now_mono_ns() - t0) / 1000000ull;
  return NULL;
}

static uint64_t reader_wakes(bm_sensor *s) {
  pthread_mutex_lock(&s->mu);
  uint64_t n = s->reader_wakes;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* A first notify record wakes the waiter only when it would sleep past the batch's due time. */
/* The hold table against a plain list: random puts (few path hashes, colliding home slots, repeated
   writers), takes, unlinks and expiry; every take must hand over exactly the live entries the list
   has for that hash, and the count must agree (backward-shift deletion keeps every run reachable). */
typedef struct ref_hold {
  uint64_t hash, expires;
  int32_t pid;
  int live;
} ref_hold;

static uint32_t took_pids[64], ntook;
static void took(void *ctx, const uint8_t *hdr) {
  (void)ctx;
  if (ntook < 64) took_pids[ntook++] = bm_rec_get_u32(hdr, BM_OFF_PID);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void test_hold_table(void) {
  bm_hold *h = bm_hold_new();
  CHECK(h != NULL);
  if (!h) return;
  static ref_hold ref[20000];
  uint32_t nref = 0;
  uint64_t now = 1000000000ull;
  srand(7);
  uint8_t buf[BM_RECORD_HEADER_SIZE];
  for (int op = 0; op < 200000; op++) {
    int r = rand() % 100;
    /* hashes that share home slots: low bits from a small set, high bits vary */
    uint64_t hash = (uint64_t)(rand() % 40) << 40 | (uint64_t)(rand() % 8) << 15 | (rand() % 2 ? 3u : 32765u);
    /* (homes at slots 3 and 32765: long runs, some wrapping past the end) */
    if (r < 70 && nref < 20000) {
      bm_rec rec;
      bm_rec_begin(&rec, buf, sizeof buf, BM_KIND_CLOSE_MODIFIED, 0);
      int32_t pid = 100 + rand() % 5;
      bm_rec_set_i32(&rec, BM_OFF_PID, pid);
      uint64_t keep = (uint64_t)(1 + rand() % 50) * 1000000ull;
      if (bm_hold_put(h, buf, hash, keep, now) != 0) continue;
      uint32_t i = 0;
      for (; i < nref; i++)
        if (ref[i].live && ref[i].hash == hash && ref[i].pid == pid) break;
      if (i == nref) nref++;
      ref[i] = (ref_hold){hash, now + keep, pid, 1};
    } else {
      ntook = 0;
      int unlink = r >= 95;
      bm_hold_take(h, hash, unlink ? 0 : now, unlink ? NULL : took, NULL);
      uint32_t want[64], nwant = 0;
      for (uint32_t i = 0; i < nref; i++) {
        if (!ref[i].live || ref[i].hash != hash) continue;
        if (!unlink && ref[i].expires > now && nwant < 64) want[nwant++] = (uint32_t)ref[i].pid;
        ref[i].live = 0;
      }
      qsort(want, nwant, sizeof *want, cmp_u32);
      qsort(took_pids, ntook, sizeof *took_pids, cmp_u32);
      CHECK(ntook == nwant);
      CHECK(memcmp(want, took_pids, nwant * sizeof *want) == 0);
    }
    now += 100000ull; /* 0.1 ms an operation */
    uint32_t live = 0;
    for (uint32_t i = 0; i < nref; i++) live += ref[i].live;
    if (op % 1000 == 0) CHECK(bm_hold_count(h) == live);
  }
  /* a writer's exit is flagged once */
  CHECK(bm_hold_writer_exits(h, 100) == 1);
  CHECK(bm_hold_writer_exits(h, 100) == 0);
  CHECK(bm_hold_writer_exits(h, 99) == 0);
  bm_hold_free(h);
  /* full: past 24,576 live entries a put fails (the record then passes whole) until they expire */
  h = bm_hold_new();
  int full = 0;
  for (uint32_t i = 0; i < 30000 && !full; i++) {
    bm_rec rec;
    bm_rec_begin(&rec, buf, sizeof buf, BM_KIND_CLOSE_MODIFIED, 0);
    bm_rec_set_i32(&rec, BM_OFF_PID, (int32_t)i + 1);
    full = bm_hold_put(h, buf, bm_path_hash((const uint8_t *)&i, sizeof i), 1000000ull, now) != 0;
  }
  CHECK(full && bm_hold_count(h) == 24576);
  CHECK(bm_hold_put(h, buf, 12345, 1000000ull, now + 2000000000ull) == 0); /* swept: room again */
  CHECK(bm_hold_count(h) == 1);
  bm_hold_free(h);
}

static void test_notify_wakes(void) {
  char err[128];
  uint8_t rec[256];
  uint32_t n = make_rec(rec, sizeof rec, 1, 10);
  for (int long_sleep = 0; long_sleep < 2; long_sleep++) {
    /* short: the waiter's 100 ms end comes before the 1 s latency; long: its 5 s end after the 20 ms one */
    bm_sensor *s = bm_sensor_open_synthetic(long_sleep ? "own_pid=1\nnotify_latency_ms=20\n"
                                                       : "own_pid=1\nnotify_latency_ms=1000\n",
                                            err, sizeof err);
    CHECK(s != NULL);
    if (!s) return;
    waiter_arg a = {s, long_sleep ? 5000 : 100, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, timed_waiter, &a);
    /* until the waiter is inside the wait (it sleeps as soon as it releases mu) */
    for (int waiting = 0; !waiting;) {
      pthread_mutex_lock(&s->mu);
      waiting = s->waiters == 1;
      pthread_mutex_unlock(&s->mu);
      struct timespec ts = {0, 1000000L};
      if (!waiting) nanosleep(&ts, NULL);
    }
    uint64_t before = reader_wakes(s);
    CHECK(bm_sensor_inject(s, rec, n, 1) == 1);
    uint64_t after = reader_wakes(s);
    pthread_join(t, NULL);
    CHECK(a.rc == 1);
    if (long_sleep) {
      CHECK(after == before + 1);
      CHECK(a.ms < 2000); /* woken for the 20 ms batch, not at its 5 s end */
    } else {
      CHECK(after == before); /* not woken: it wakes at 100 ms on its own, before the batch is due */
      CHECK(a.ms >= 90);
    }
    bm_sensor_close(s);
  }
}

int main(void) {
  test_notify_wakes();
  test_interest();
  test_interest_index();
  test_hold_table();
  test_env();
  test_record_layout();
  test_ring();
  test_tables();
  test_config();
  test_watchdog();
  test_ring_full();
  test_os_cache();
  test_event_deadline();
  test_waiter_reads_auth();
  test_coalescing();
  test_close_wakes_waiter();
  return check_result("test_common");
}
