/*
 * test_macos_mock.c - the real macOS sensor (macos/bm_sensor_macos.m) against
 * the mock EndpointSecurity framework (macos/mock_es), through the sensor ABI,
 * under ASan/UBSan. Each case is a contract ES enforces on a client.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bm_core.h"
#include "bm_sensor.h"
#include "check.h"
#include "macos_translate.h"
#include "mock_es.h"

#include <EndpointSecurity/EndpointSecurity.h>

static uint8_t out[1 << 20];

/* Every pid a message names is above PID_MAX_LIMIT (4194304): a message naming this test's own
   pid would be muted (ES never sends the client's own messages) or answered at once as the
   agent's own, and the counts would be off by one whenever the machine hands out such a pid. */

static bm_sensor *open_sensor(const char *cfg) {
  char err[512] = "";
  bm_sensor *s = bm_sensor_open(cfg, err, sizeof err);
  if (!s) fprintf(stderr, "open failed: %s\n", err);
  return s;
}

static int64_t stat_of(int i) {
  int64_t st[BM_MOCK_S_N];
  bm_mock_es_stats(st, BM_MOCK_S_N);
  return st[i];
}

/* Drains every record; returns the first auth id seen (0 none) and counts records. */
static uint32_t drain_auth(bm_sensor *s, int *records, int wait_ms) {
  uint32_t id = 0;
  *records = 0;
  if (bm_sensor_wait(s, wait_ms) != 1) return 0;
  int32_t n = bm_sensor_drain(s, out, sizeof out);
  for (int32_t off = 0; off < n; off += (int32_t)bm_rec_get_u32(out, (uint32_t)off)) {
    (*records)++;
    if (!id && (out[off + BM_OFF_FLAGS] & BM_FLAG_AUTH)) {
      id = bm_rec_get_u32(out, (uint32_t)off + BM_OFF_AUTH_ID);
    }
  }
  return id;
}

/* Drains while records come (each wait up to wait_ms), allowing every auth record as an agent would. */
static void drain_answering(bm_sensor *s, int wait_ms, int *records, int *answered) {
  while (bm_sensor_wait(s, wait_ms) == 1) {
    int32_t n = bm_sensor_drain(s, out, sizeof out);
    if (n <= 0) break;
    for (int32_t off = 0; off < n; off += (int32_t)bm_rec_get_u32(out, (uint32_t)off)) {
      (*records)++;
      if (out[off + BM_OFF_FLAGS] & BM_FLAG_AUTH) {
        bm_sensor_respond(s, bm_rec_get_u32(out, (uint32_t)off + BM_OFF_AUTH_ID), 1, 0);
        (*answered)++;
      }
    }
  }
}

static void test_new_client_errors(void) {
  static const struct {
    es_new_client_result_t r;
    const char *needle;
  } cases[] = {
    {ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED, "not entitled"},
    {ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED, "Full Disk Access"},
    {ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED, "not privileged"},
    {ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS, "too many clients"},
    {ES_NEW_CLIENT_RESULT_ERR_INTERNAL, "internal error"},
    {ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT, "invalid argument"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bm_mock_es_reset();
    bm_mock_es_set_new_client_result((int32_t)cases[i].r);
    char err[512] = "";
    bm_sensor *s = bm_sensor_open("", err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, cases[i].needle) != NULL);
    CHECK(strchr(err, '\n') == NULL);
    CHECK(stat_of(BM_MOCK_S_CLIENTS) == 0);
  }
  bm_mock_es_reset();
}

static void test_subscribe_and_mute(void) {
  bm_mock_es_reset();
  bm_sensor *s = open_sensor("exec_auth=1\nnotify_files=1\n");
  CHECK(s != NULL);
  if (!s) return;
  int64_t sub = stat_of(BM_MOCK_S_SUBSCRIBED);
  CHECK(sub & (1ll << ES_EVENT_TYPE_AUTH_EXEC));
  CHECK(!(sub & (1ll << ES_EVENT_TYPE_NOTIFY_EXEC)));
  CHECK(sub & (1ll << ES_EVENT_TYPE_NOTIFY_FORK));
  CHECK(sub & (1ll << ES_EVENT_TYPE_NOTIFY_CLOSE));
  CHECK(sub & (1ll << ES_EVENT_TYPE_NOTIFY_BTM_LAUNCH_ITEM_ADD));
  CHECK(!(sub & (1ll << ES_EVENT_TYPE_AUTH_OPEN)));
  /* the agent's own process is muted: ES never sends its messages */
  CHECK(stat_of(BM_MOCK_S_MUTED_PID) == getpid());
  char spec[256];
  snprintf(spec, sizeof spec, "type=NOTIFY_EXIT\np.pid=%d\np.exe=/usr/local/bin/bm\n", getpid());
  int32_t id = bm_mock_es_post(spec);
  CHECK(id > 0);
  CHECK(bm_mock_es_idle(60000));
  int32_t r[BM_MOCK_R_N];
  bm_mock_es_response(id, r);
  CHECK(r[BM_MOCK_R_DELIVERED] == -1);
  CHECK(stat_of(BM_MOCK_S_SKIPPED_MUTED) == 1);
  bm_sensor_close(s);
  CHECK(stat_of(BM_MOCK_S_DELETED) == 1);
}

static void test_exec_deny_and_open_flags(void) {
  bm_mock_es_reset();
  bm_sensor *s = open_sensor("exec_auth=1\nopen_auth=1\navoid_open_cache=1\n");
  CHECK(s != NULL);
  if (!s) return;
  int32_t id = bm_mock_es_post("type=AUTH_EXEC\np.pid=4200500\np.exe=/bin/zsh\nt.pid=4200500\n"
                               "t.exe=/tmp/payload\narg=/tmp/payload\narg=-x\ncwd=/tmp\n"
                               "ino=77\ndeadline_ms=5000\n");
  int records = 0;
  uint32_t auth = drain_auth(s, &records, 10000);
  CHECK(auth != 0);
  CHECK(bm_sensor_respond(s, auth, 0, 0) == 0);
  CHECK(bm_mock_es_wait(id, 10000) == 1);
  int32_t r[BM_MOCK_R_N];
  bm_mock_es_response(id, r);
  CHECK(r[BM_MOCK_R_ANSWERED] == 1);
  CHECK(r[BM_MOCK_R_RESULT] == ES_AUTH_RESULT_DENY);
  CHECK(r[BM_MOCK_R_FLAGS] == -1);
  CHECK(r[BM_MOCK_R_LATE] == 0);
  CHECK(r[BM_MOCK_R_CACHE] == 0);

  /* AUTH_OPEN takes es_respond_flags_result: every flag on allow, 0 on deny, and
     never cached while avoidOpenCache is on, even when the agent says cache */
  int32_t o1 = bm_mock_es_post("type=AUTH_OPEN\np.pid=4200501\np.exe=/bin/cat\npath=/etc/hosts\n"
                               "ino=9\n");
  auth = drain_auth(s, &records, 10000);
  CHECK(auth != 0);
  bm_sensor_respond(s, auth, 1, 1);
  CHECK(bm_mock_es_wait(o1, 10000) == 1);
  bm_mock_es_response(o1, r);
  CHECK(r[BM_MOCK_R_FLAGS] == (int32_t)0xffffffffu);
  CHECK(r[BM_MOCK_R_RESULT] == -1);
  CHECK(r[BM_MOCK_R_CACHE] == 0);
  int32_t o2 = bm_mock_es_post("type=AUTH_OPEN\np.pid=4200501\np.exe=/bin/cat\npath=/etc/shadow\n");
  auth = drain_auth(s, &records, 10000);
  bm_sensor_respond(s, auth, 0, 0);
  CHECK(bm_mock_es_wait(o2, 10000) == 1);
  bm_mock_es_response(o2, r);
  CHECK(r[BM_MOCK_R_FLAGS] == 0);
  CHECK(stat_of(BM_MOCK_S_WRONG_TYPE) == 0);
  CHECK(stat_of(BM_MOCK_S_DUPLICATE) == 0);
  bm_sensor_close(s);
}

static void test_stalled_engine_watchdog(void) {
  bm_mock_es_reset();
  /* the engine never answers: the watchdog must, with fail-open, before ES's deadline */
  /* the margin leaves room for a loaded machine's scheduling, as a real agent's does */
  bm_sensor *s = open_sensor("exec_auth=1\ndeadline_margin_ms=400\nfail_open=1\n");
  CHECK(s != NULL);
  if (!s) return;
  int32_t ids[20];
  for (int i = 0; i < 20; i++) {
    char spec[200];
    snprintf(spec, sizeof spec,
             "type=AUTH_EXEC\np.pid=%d\np.exe=/bin/sh\nt.pid=%d\nt.exe=/usr/bin/true\n"
             "deadline_ms=%d\n", 4200600 + i, 4200600 + i, 800 + 10 * i);
    ids[i] = bm_mock_es_post(spec);
  }
  for (int i = 0; i < 20; i++) CHECK(bm_mock_es_wait(ids[i], 10000) == 1);
  for (int i = 0; i < 20; i++) {
    int32_t r[BM_MOCK_R_N];
    bm_mock_es_response(ids[i], r);
    CHECK(r[BM_MOCK_R_RESULT] == ES_AUTH_RESULT_ALLOW);
    CHECK(r[BM_MOCK_R_LATE] == 0); /* a late answer gets a real client killed */
  }
  CHECK(stat_of(BM_MOCK_S_LATE) == 0);
  CHECK(stat_of(BM_MOCK_S_MISSED) == 0);
  bm_sensor_stats st;
  bm_sensor_get_stats(s, &st, sizeof st);
  CHECK(st.auth_by_watchdog == 20);
  bm_sensor_close(s);
}

static void test_balance_and_seq_gaps(void) {
  bm_mock_es_reset();
  /* deadlines far enough that only this loop answers, however loaded the machine */
  /* and a ring no slow consumer can fill: a ring-full drop would count as a drop too */
  bm_sensor *s = open_sensor("exec_auth=1\nnotify_files=1\nauth_deadline_ms=120000\n"
                             "ring_bytes=67108864\n");
  CHECK(s != NULL);
  if (!s) return;
  int answered = 0, records = 0;
  for (int i = 0; i < 10000; i++) {
    char spec[240];
    if (i % 4 == 0) {
      snprintf(spec, sizeof spec, "type=AUTH_EXEC\np.pid=%d\np.exe=/bin/sh\nt.pid=%d\n"
                                  "t.exe=/usr/bin/env\narg=env\ndeadline_ms=120000\n", 4202000 + i, 4202000 + i);
    } else {
      snprintf(spec, sizeof spec, "type=NOTIFY_CLOSE\np.pid=%d\np.exe=/bin/sh\n"
                                  "path=/tmp/f%d\nmodified=%d\n", 4202000 + i, i, i % 3 != 0);
    }
    CHECK(bm_mock_es_post(spec) > 0);
    /* a burst of 256 at most ahead of the consumer, as a real client keeps up */
    if (i % 256 == 255) CHECK(bm_mock_es_idle(60000));
    drain_answering(s, 0, &records, &answered);
  }
  /* generous: a loaded CI machine delivers 10,000 messages slowly */
  CHECK(bm_mock_es_idle(120000));
  drain_answering(s, 100, &records, &answered);
  CHECK(answered == 2500);
  /* close with modified = 0 is not an event: 7,500 closes, a third unmodified */
  if (records != 2500 + 5000) fprintf(stderr, "records %d answered %d\n", records, answered);
  CHECK(records == 2500 + 5000);
  /* sequence gaps are drops: exit seq 1, then 5 -> 3 missed */
  bm_mock_es_post("type=NOTIFY_EXIT\np.pid=4200009\np.exe=/bin/ls\nseq=1\n");
  bm_mock_es_post("type=NOTIFY_EXIT\np.pid=4200009\np.exe=/bin/ls\nseq=5\n");
  CHECK(bm_mock_es_idle(60000));
  bm_sensor_stats st;
  bm_sensor_get_stats(s, &st, sizeof st);
  if (st.dropped != 3) fprintf(stderr, "dropped %llu\n", (unsigned long long)st.dropped);
  CHECK(st.dropped == 3);
  bm_sensor_close(s);
  CHECK(stat_of(BM_MOCK_S_RETAINS) == 2500);
  CHECK(stat_of(BM_MOCK_S_RELEASES) == 2500);
  CHECK(stat_of(BM_MOCK_S_LIVE) == 0);
  CHECK(stat_of(BM_MOCK_S_BAD_RELEASE) == 0);
  CHECK(stat_of(BM_MOCK_S_DUPLICATE) == 0);
  CHECK(stat_of(BM_MOCK_S_LATE) == 0);
}

static void test_cache_cleared_on_table_change(void) {
  bm_mock_es_reset();
  bm_sensor *s = open_sensor("exec_auth=1\n");
  CHECK(s != NULL);
  if (!s) return;
  int64_t before = stat_of(BM_MOCK_S_CLEAR_CACHE);
  CHECK(bm_sensor_deny_pid(s, 4204242, 1) == 0);
  CHECK(stat_of(BM_MOCK_S_CLEAR_CACHE) == before + 1);
  /* ES throttles clears: the owed clear is retried until ES accepts it */
  bm_mock_es_set_clear_throttle(2);
  CHECK(bm_sensor_deny_path(s, "/tmp/x", 1) == 0);
  for (int i = 0; i < 200 && stat_of(BM_MOCK_S_CLEAR_CACHE) < before + 4; i++) usleep(10000);
  CHECK(stat_of(BM_MOCK_S_CLEAR_CACHE) == before + 4);
  /* a denied pid's exec is denied in C, before the agent sees it */
  int32_t id = bm_mock_es_post("type=AUTH_EXEC\np.pid=4204242\np.exe=/bin/sh\nt.pid=4204242\n"
                               "t.exe=/usr/bin/curl\n");
  CHECK(bm_mock_es_wait(id, 10000) == 1);
  int32_t r[BM_MOCK_R_N];
  bm_mock_es_response(id, r);
  CHECK(r[BM_MOCK_R_RESULT] == ES_AUTH_RESULT_DENY);
  bm_sensor_close(s);
}

/* One message of each notify type the sensor subscribes to: one record of the matching kind. */
static void test_every_notify_type(void) {
  bm_mock_es_reset();
  bm_sensor *s = open_sensor("exec_auth=0\nnotify_files=1\nnotify_forks=1\n");
  CHECK(s != NULL);
  if (!s) return;
  static const struct {
    const char *spec;
    int kind;
  } cases[] = {
    {"type=NOTIFY_EXEC\np.pid=4200030\np.exe=/bin/zsh\nt.pid=4200030\nt.exe=/bin/ls\narg=ls\n", BM_KIND_EXEC},
    {"type=NOTIFY_FORK\np.pid=4200030\np.exe=/bin/zsh\nt.pid=4200031\nt.exe=/bin/zsh\n", BM_KIND_FORK},
    {"type=NOTIFY_CREATE\np.pid=4200031\np.exe=/bin/zsh\ndir=/tmp\nname=new.txt\nmode=644\n", BM_KIND_CREATE},
    {"type=NOTIFY_CLOSE\np.pid=4200031\np.exe=/bin/zsh\npath=/tmp/new.txt\n", BM_KIND_CLOSE_MODIFIED},
    {"type=NOTIFY_RENAME\np.pid=4200031\np.exe=/bin/mv\npath=/tmp/new.txt\ndir=/tmp\nname=b.txt\n", BM_KIND_RENAME},
    {"type=NOTIFY_UNLINK\np.pid=4200031\np.exe=/bin/rm\npath=/tmp/b.txt\n", BM_KIND_UNLINK},
    {"type=NOTIFY_SETEXTATTR\np.pid=4200031\np.exe=/usr/bin/xattr\npath=/tmp/x\nxattr=com.apple.quarantine\n", BM_KIND_SETXATTR},
    {"type=NOTIFY_DELETEEXTATTR\np.pid=4200031\np.exe=/usr/bin/xattr\npath=/tmp/x\nxattr=com.apple.quarantine\n", BM_KIND_DELETEXATTR},
    {"type=NOTIFY_BTM_LAUNCH_ITEM_ADD\np.pid=4200031\np.exe=/bin/launchctl\nitem_url=file:///Library/LaunchDaemons/x.plist\nexe_path=/usr/local/bin/x\n", BM_KIND_LAUNCH_ITEM_ADD},
    {"type=NOTIFY_EXIT\np.pid=4200031\np.exe=/bin/zsh\nexit_stat=256\n", BM_KIND_EXIT},
  };
  int n = (int)(sizeof cases / sizeof cases[0]);
  for (int i = 0; i < n; i++) CHECK(bm_mock_es_post(cases[i].spec) > 0);
  CHECK(bm_mock_es_idle(60000));
  int got = 0;
  while (got < n && bm_sensor_wait(s, 500) == 1) {
    int32_t len = bm_sensor_drain(s, out, sizeof out);
    for (int32_t off = 0; off < len && got < n; off += (int32_t)bm_rec_get_u32(out, (uint32_t)off)) {
      CHECK(out[off + BM_OFF_KIND] == cases[got].kind);
      if (cases[got].kind == BM_KIND_EXIT) CHECK(bm_rec_get_u32(out, (uint32_t)off + BM_OFF_AUX) == 1);
      got++;
    }
  }
  CHECK(got == n);
  bm_sensor_close(s);
}

int main(void) {
  test_every_notify_type();
  test_new_client_errors();
  test_subscribe_and_mute();
  test_exec_deny_and_open_flags();
  test_stalled_engine_watchdog();
  test_balance_and_seq_gaps();
  test_cache_cleared_on_table_change();
  return check_result("test_macos_mock");
}
