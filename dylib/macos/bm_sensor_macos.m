/*
 * bm_sensor_macos.m - the macOS sensor: an EndpointSecurity client on the C
 * ABI of include/bm_sensor.h. It is thin on purpose: es_map.c copies message
 * fields into a bm_mac_event, common/macos_translate.c encodes the record and
 * does the arithmetic, the shared core (common/core.c) holds auth events,
 * runs the deadline watchdog and the fast-path tables. Those parts are unit
 * tested on Linux; this file is only syntax-checked there
 * (scripts/check_macos_syntax.sh) and must be built and run on a Mac.
 *
 * Life of an auth message (AUTH_EXEC, AUTH_OPEN):
 *   ES handler -> es_retain_message -> bm_core_submit_auth_deadline with the
 *   message's deadline (fast path / own pid / ring full answer at once; else
 *   held, the watchdog due at that deadline minus the margin) -> exactly one
 *   answer via mac_answer (agent, watchdog or close), with the core's cache
 *   flag -> es_respond_* -> es_release_message.
 * When the deny tables change, the core calls mac_tables_changed, which
 * clears the ES cache at once (retried by a thread only if ES throttles it).
 * Plain C with blocks: no Objective-C objects, so no ARC or autorelease pool.
 */
#include <EndpointSecurity/EndpointSecurity.h>
#include <bsm/libbsm.h>
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bm_core.h"
#include "macos_translate.h"
#include "es_map.h"

#if defined(__APPLE__)
#define BM_HAS_MACOS_13() __builtin_available(macOS 13.0, *)
#else
#define BM_HAS_MACOS_13() 1 /* syntax check on Linux */
#endif

#define CLEAR_RETRY_US 20000 /* ES throttled es_clear_cache: try again this much later */
#define ALLOW_ALL_FLAGS 0xffffffffu

/* Per-type seq_num trackers, one per event type bm subscribes to. */
enum { SEQ_EXEC, SEQ_FORK, SEQ_EXIT, SEQ_OPEN, SEQ_CLOSE, SEQ_CREATE, SEQ_RENAME, SEQ_UNLINK,
       SEQ_SETXATTR, SEQ_DELXATTR, SEQ_BTM, SEQ_N };

typedef struct mac_ctx {
  bm_sensor *s;
  es_client_t *client;
  mach_timebase_info_data_t tb;
  atomic_int stopping;  /* close began: answer new auth messages at once */
  atomic_int inflight;  /* handler invocations running */
  int emit_forks;       /* notify_forks: fork records go to the agent */
  int btm_missing;      /* macOS < 13 or BTM subscription refused */
  bm_seq_track seq[SEQ_N];
  /* the handler runs on one serial queue per client: one record buffer */
  uint8_t *recbuf;
  /* es_clear_cache retries (only when ES throttles a clear) */
  pthread_t clear_thr;
  int clear_started;
  pthread_mutex_t clear_mu;
  pthread_cond_t clear_cond;
  int clear_pending; /* a clear is owed: the tables changed and ES refused to clear */
  int clear_stop;
} mac_ctx;

/* One held auth message; its address is the core's token. */
typedef struct mac_held {
  const es_message_t *msg; /* retained until answered */
  int is_open;             /* AUTH_OPEN: answered with flags */
  int32_t pid;
  bm_key key;
  char path[1024]; /* executable (exec) or file (open); "" when too long */
} mac_held;

static int seq_slot(es_event_type_t t) {
  switch (t) {
  case ES_EVENT_TYPE_AUTH_EXEC:
  case ES_EVENT_TYPE_NOTIFY_EXEC: return SEQ_EXEC;
  case ES_EVENT_TYPE_NOTIFY_FORK: return SEQ_FORK;
  case ES_EVENT_TYPE_NOTIFY_EXIT: return SEQ_EXIT;
  case ES_EVENT_TYPE_AUTH_OPEN: return SEQ_OPEN;
  case ES_EVENT_TYPE_NOTIFY_CLOSE: return SEQ_CLOSE;
  case ES_EVENT_TYPE_NOTIFY_CREATE: return SEQ_CREATE;
  case ES_EVENT_TYPE_NOTIFY_RENAME: return SEQ_RENAME;
  case ES_EVENT_TYPE_NOTIFY_UNLINK: return SEQ_UNLINK;
  case ES_EVENT_TYPE_NOTIFY_SETEXTATTR: return SEQ_SETXATTR;
  case ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR: return SEQ_DELXATTR;
  default: return bm_es_kind(t) == BM_KIND_LAUNCH_ITEM_ADD ? SEQ_BTM : -1;
  }
}

static void copy_path(char *dst, size_t cap, bm_mac_str s) {
  size_t n = s.data ? s.len : 0;
  while (n && s.data[n - 1] == 0) n--;
  if (n >= cap) n = 0; /* too long to match a deny entry exactly: no path */
  if (n) memcpy(dst, s.data, n);
  dst[n] = 0;
}

/* Answers an auth message that never reached the core (closing, out of memory). */
static void respond_now(mac_ctx *c, es_client_t *client, const es_message_t *msg, int allow) {
  if (msg->event_type == ES_EVENT_TYPE_AUTH_OPEN) {
    es_respond_flags_result(client, msg, allow ? ALLOW_ALL_FLAGS : 0u, false);
  } else {
    es_respond_auth_result(client, msg, allow ? ES_AUTH_RESULT_ALLOW : ES_AUTH_RESULT_DENY, false);
  }
  (void)c;
}

/*
 * The core's answer callback: called exactly once per held message, from the
 * agent's respond, the watchdog, the fast path or close.
 */
static void mac_answer(void *vctx, uint64_t token, int allow, int os_cache) {
  mac_ctx *c = vctx;
  mac_held *h = (mac_held *)(uintptr_t)token;
  /* the core says cache only for an allow it may remember while no pid is denied
     (the ES cache is per file); opens never when avoidOpenCache is on (they were
     submitted as not cacheable; checked again here because ES would hide them) */
  bool cache = allow && os_cache && !(h->is_open && c->s->cfg.avoid_open_cache);
  es_respond_result_t rr;
  if (h->is_open) {
    /* AUTH_OPEN takes the flags the open may use: all of them, or none */
    rr = es_respond_flags_result(c->client, h->msg, allow ? ALLOW_ALL_FLAGS : 0u, cache);
  } else {
    rr = es_respond_auth_result(c->client, h->msg,
                                allow ? ES_AUTH_RESULT_ALLOW : ES_AUTH_RESULT_DENY, cache);
  }
  if (rr != ES_RESPOND_RESULT_SUCCESS) BM_COUNT(c->s, queue_errors);
  es_release_message(h->msg);
  free(h);
}

static void handle_auth(mac_ctx *c, es_client_t *client, const es_message_t *msg,
                        const bm_mac_event *ev, bm_rec *r) {
  mac_held *h = calloc(1, sizeof *h);
  if (!h) {
    respond_now(c, client, msg, c->s->cfg.fail_open);
    BM_COUNT(c->s, auth_ring_full);
    return;
  }
  es_retain_message(msg);
  h->msg = msg;
  h->is_open = ev->kind == BM_KIND_OPEN;
  h->pid = ev->proc.pid;
  const bm_mac_file *f = &ev->file;
  copy_path(h->path, sizeof h->path, h->is_open ? f->path : ev->proc.executable);
  h->key = bm_macos_file_key(f);
  int cacheable = h->key.a != 0 && !(h->is_open && c->s->cfg.avoid_open_cache);
  uint64_t deadline = bm_macos_deadline_ns(bm_now_mono_ns(), mach_absolute_time(), msg->deadline,
                                           c->tb.numer, c->tb.denom);
  /* h may be answered and freed as soon as it is submitted: not touched after */
  bm_core_submit_auth_deadline(c->s, r, (uint64_t)(uintptr_t)h, h->pid,
                               h->path[0] ? h->path : NULL, h->key, cacheable, deadline);
}

static void handle_message(mac_ctx *c, es_client_t *client, const es_message_t *msg) {
  atomic_fetch_add(&c->inflight, 1);
  int auth = msg->action_type == ES_ACTION_TYPE_AUTH;
  if (atomic_load(&c->stopping)) {
    if (auth) {
      respond_now(c, client, msg, c->s->cfg.fail_open);
      BM_COUNT(c->s, auth_by_watchdog);
    }
    goto out;
  }
  if (msg->version >= 2) {
    int slot = seq_slot(msg->event_type);
    if (slot >= 0) bm_macos_count_missed(c->s, bm_seq_missed(&c->seq[slot], msg->seq_num));
  }
  bm_mac_event ev;
  if (!bm_es_map(msg, &ev)) {
    if (auth) respond_now(c, client, msg, 1); /* not an event bm decides on */
    goto out;
  }
  ev.cfg = &c->s->cfg; /* sensor.envVars: which exec environment variables to record */
  bm_rec r;
  bm_macos_encode(&ev, &r, c->recbuf, BM_MAX_RECORD);
  if (ev.kind == BM_KIND_FORK) {
    bm_tables_on_fork(&c->s->tables, ev.proc.ppid, ev.proc.pid);
    if (!c->emit_forks) goto out;
  } else if (ev.kind == BM_KIND_EXIT) {
    bm_tables_on_exit(&c->s->tables, ev.proc.pid);
  }
  if (auth) handle_auth(c, client, msg, &ev, &r);
  else bm_core_submit_notify(c->s, &r);
out:
  atomic_fetch_sub(&c->inflight, 1);
}

/* Returns 1 when the ES cache is cleared, 0 when ES refused (throttled). */
static int clear_es_cache(mac_ctx *c) {
  return es_clear_cache(c->client) == ES_CLEAR_CACHE_RESULT_SUCCESS;
}

/*
 * The core's tables-changed callback (a deny entry added, the allow cache
 * cleared or disabled): an allow ES cached may be wrong now, so the cache is
 * cleared before the call that changed the tables returns. ES throttles
 * clears; a refused one is owed and retried by clear_main.
 */
static void mac_tables_changed(void *vctx) {
  mac_ctx *c = vctx;
  if (!c->client) return;
  if (clear_es_cache(c)) return;
  pthread_mutex_lock(&c->clear_mu);
  c->clear_pending = 1;
  pthread_cond_signal(&c->clear_cond);
  pthread_mutex_unlock(&c->clear_mu);
}

/* Sleeps until a clear is owed, then retries it until ES accepts. */
static void *clear_main(void *arg) {
  mac_ctx *c = arg;
  pthread_mutex_lock(&c->clear_mu);
  while (!c->clear_stop) {
    if (!c->clear_pending) {
      pthread_cond_wait(&c->clear_cond, &c->clear_mu);
      continue;
    }
    pthread_mutex_unlock(&c->clear_mu);
    usleep(CLEAR_RETRY_US);
    int ok = clear_es_cache(c);
    pthread_mutex_lock(&c->clear_mu);
    if (ok) c->clear_pending = 0;
  }
  pthread_mutex_unlock(&c->clear_mu);
  return NULL;
}

/* The core's stop callback: release=0 stops event flow, release=1 frees. */
static void mac_stop(void *vctx, int release) {
  mac_ctx *c = vctx;
  if (!release) {
    atomic_store(&c->stopping, 1);
    if (c->client) es_unsubscribe_all(c->client);
    if (c->clear_started) {
      pthread_mutex_lock(&c->clear_mu);
      c->clear_stop = 1;
      pthread_cond_signal(&c->clear_cond);
      pthread_mutex_unlock(&c->clear_mu);
      pthread_join(c->clear_thr, NULL);
      c->clear_started = 0;
    }
    /* no submit may follow: wait for handler invocations already running */
    for (int i = 0; i < 2000 && atomic_load(&c->inflight); i++) usleep(1000);
    return;
  }
  /* every held message has been answered by now */
  if (c->client) es_delete_client(c->client);
  pthread_mutex_destroy(&c->clear_mu);
  pthread_cond_destroy(&c->clear_cond);
  free(c->recbuf);
  free(c);
}

static enum bm_mac_new_client new_client_code(es_new_client_result_t r) {
  switch (r) {
  case ES_NEW_CLIENT_RESULT_SUCCESS: return BM_MAC_NC_SUCCESS;
  case ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT: return BM_MAC_NC_INVALID_ARGUMENT;
  case ES_NEW_CLIENT_RESULT_ERR_INTERNAL: return BM_MAC_NC_INTERNAL;
  case ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED: return BM_MAC_NC_NOT_ENTITLED;
  case ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED: return BM_MAC_NC_NOT_PERMITTED;
  case ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED: return BM_MAC_NC_NOT_PRIVILEGED;
  case ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS: return BM_MAC_NC_TOO_MANY_CLIENTS;
  default: return BM_MAC_NC_UNKNOWN;
  }
}

static int subscribe(mac_ctx *c, const bm_config *cfg, char *err, uint32_t err_len) {
  es_event_type_t ev[16];
  uint32_t n = 0;
  ev[n++] = cfg->exec_auth ? ES_EVENT_TYPE_AUTH_EXEC : ES_EVENT_TYPE_NOTIFY_EXEC;
  /* forks also keep the deny-by-pid table following children, which only
     matters when execs are held */
  if (cfg->notify_forks || cfg->exec_auth) ev[n++] = ES_EVENT_TYPE_NOTIFY_FORK;
  ev[n++] = ES_EVENT_TYPE_NOTIFY_EXIT;
  if (cfg->open_auth) ev[n++] = ES_EVENT_TYPE_AUTH_OPEN;
  if (cfg->notify_files) {
    ev[n++] = ES_EVENT_TYPE_NOTIFY_CLOSE;
    ev[n++] = ES_EVENT_TYPE_NOTIFY_CREATE;
    ev[n++] = ES_EVENT_TYPE_NOTIFY_RENAME;
    ev[n++] = ES_EVENT_TYPE_NOTIFY_UNLINK;
    ev[n++] = ES_EVENT_TYPE_NOTIFY_SETEXTATTR;
    ev[n++] = ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR;
  }
  if (es_subscribe(c->client, ev, n) != ES_RETURN_SUCCESS) {
    bm_set_err(err, err_len, "Cannot subscribe to EndpointSecurity events: es_subscribe failed "
                             "for %u event types", n);
    return -1;
  }
  c->btm_missing = 1;
  if (BM_HAS_MACOS_13()) {
    c->btm_missing = 0;
    /* persistence: launch agents/daemons and login items. Subscribed on its own
       so that an OS refusing it cannot take the other events down */
    es_event_type_t btm = ES_EVENT_TYPE_NOTIFY_BTM_LAUNCH_ITEM_ADD;
    if (es_subscribe(c->client, &btm, 1) != ES_RETURN_SUCCESS) c->btm_missing = 1;
  }
  if (c->btm_missing) {
    /* the ABI has no capability report yet: say it once in the daemon's log */
    fprintf(stderr, "bm sensor: launch item (BTM) events unavailable: they need macOS 13 or "
                    "later\n");
  }
  return 0;
}

bm_sensor *bm_sensor_open(const char *config, char *err, uint32_t err_len) {
  bm_config cfg;
  if (bm_config_parse(config, &cfg, err, err_len)) return NULL;
  bm_sensor *s = calloc(1, sizeof *s);
  mac_ctx *c = calloc(1, sizeof *c);
  uint8_t *recbuf = malloc(BM_MAX_RECORD);
  if (!s || !c || !recbuf) {
    free(s);
    free(c);
    free(recbuf);
    bm_set_err(err, err_len, "Out of memory");
    return NULL;
  }
  c->s = s;
  c->recbuf = recbuf;
  c->emit_forks = cfg.notify_forks;
  pthread_mutex_init(&c->clear_mu, NULL);
  pthread_cond_init(&c->clear_cond, NULL);
  if (mach_timebase_info(&c->tb) != KERN_SUCCESS || c->tb.denom == 0) {
    c->tb.numer = 1;
    c->tb.denom = 1;
  }
  if (bm_core_init(s, &cfg, mac_answer, mac_stop, c, err, err_len)) {
    if (s->wd_started) {
      bm_sensor_close(s); /* frees c through mac_stop */
      return NULL;
    }
    free(s->held);
    bm_ring_free(&s->ring);
    mac_stop(c, 1);
    free(s);
    return NULL;
  }

  es_client_t *client = NULL;
  es_new_client_result_t res = es_new_client(&client, ^(es_client_t *cl, const es_message_t *msg) {
    handle_message(c, cl, msg);
  });
  if (res != ES_NEW_CLIENT_RESULT_SUCCESS) {
    bm_set_err(err, err_len, "%s", bm_macos_new_client_error(new_client_code(res)));
    bm_sensor_close(s);
    return NULL;
  }
  c->client = client;

  /* never hold or even see the agent itself: its own execs and opens would deadlock */
  audit_token_t self;
  mach_msg_type_number_t count = TASK_AUDIT_TOKEN_COUNT;
  if (task_info(mach_task_self(), TASK_AUDIT_TOKEN, (task_info_t)&self, &count) != KERN_SUCCESS ||
      es_mute_process(client, &self) != ES_RETURN_SUCCESS) {
    bm_set_err(err, err_len, "Cannot mute the agent's own process in EndpointSecurity");
    bm_sensor_close(s);
    return NULL;
  }
  if (pthread_create(&c->clear_thr, NULL, clear_main, c)) {
    bm_set_err(err, err_len, "Cannot start the EndpointSecurity cache-clear thread");
    bm_sensor_close(s);
    return NULL;
  }
  c->clear_started = 1;
  s->tables_changed = mac_tables_changed;
  if (subscribe(c, &cfg, err, err_len)) {
    bm_sensor_close(s);
    return NULL;
  }
  return s;
}
