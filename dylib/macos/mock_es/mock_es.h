/*
 * mock_es.h - the test-only driver of the mock EndpointSecurity framework
 * (mock_es.c). Never part of a shipped build.
 *
 * The mock implements the ES calls bm_sensor_macos.m makes (es_new_client,
 * es_subscribe, es_respond_*, es_retain/release_message, es_mute_process,
 * es_clear_cache, es_exec_arg*, es_exec_env*, es_delete_client) plus
 * mach_absolute_time/mach_timebase_info, task_info and the audit-token
 * helpers, so the real sensor file is compiled and run on Linux. A test
 * describes a message as text, the mock builds the es_message_t and delivers
 * it on its own thread (as ES delivers on the client's queue), with an auth
 * deadline in mach time, and records what the client answered and when.
 *
 * Message spec: one "key=value" a line. Keys:
 *   type        AUTH_EXEC AUTH_OPEN NOTIFY_EXEC NOTIFY_FORK NOTIFY_EXIT NOTIFY_CLOSE
 *               NOTIFY_CREATE NOTIFY_RENAME NOTIFY_UNLINK NOTIFY_SETEXTATTR
 *               NOTIFY_DELETEEXTATTR NOTIFY_BTM_LAUNCH_ITEM_ADD
 *   version     message version (default 7)     seq   seq_num (default: next for the type)
 *   deadline_ms auth deadline from delivery (default 5000)
 *   p.FIELD     the message's process; t.FIELD the exec target / fork child:
 *               pid ppid uid euid responsible start_ms exe signing_id team_id
 *               cdhash (40 hex) platform (0/1) tty
 *   arg, env    exec argv / environment entries (repeatable, in order)
 *   cwd         exec working directory
 *   path        the file (open, close, unlink, xattr; rename source; create existing)
 *   ino, uid, mode, size   stat of `path`
 *   dir, name   new-path destination (create, rename); dest: existing destination
 *   modified    close: 0/1 (default 1)       xattr   extended attribute name
 *   exit_stat   wait(2) status               item_url, exe_path   BTM item
 */
#ifndef BM_MOCK_ES_H
#define BM_MOCK_ES_H

#include <stdint.h>

#define BM_MOCK_API __attribute__((visibility("default")))

/* Forgets every message, response, mute and counter; the next client is new. */
BM_MOCK_API void bm_mock_es_reset(void);
/* What the next es_new_client returns (an es_new_client_result_t value); the
   environment variable BM_MOCK_ES_NEW_CLIENT_RESULT, when set, overrides it so a
   whole `bm daemon` can be started against a failing client. */
BM_MOCK_API void bm_mock_es_set_new_client_result(int32_t result);
/* The next `n` es_clear_cache calls answer ES_CLEAR_CACHE_RESULT_ERR_THROTTLE. */
BM_MOCK_API void bm_mock_es_set_clear_throttle(int32_t n);
/* Queues a message for delivery; returns its id (> 0), or -1 for a bad spec. */
BM_MOCK_API int32_t bm_mock_es_post(const char *spec);
/* Waits until message `id` is answered: 1 answered, 0 timed out, -1 unknown id. */
BM_MOCK_API int32_t bm_mock_es_wait(int32_t id, int32_t timeout_ms);
/* Waits until every posted message has been delivered and its handler returned: 1, or 0. */
BM_MOCK_API int32_t bm_mock_es_idle(int32_t timeout_ms);

/* out[] of bm_mock_es_response. */
enum {
  BM_MOCK_R_ANSWERED,   /* answers received (exactly 1 expected for auth) */
  BM_MOCK_R_RESULT,     /* es_auth_result_t of es_respond_auth_result, -1 none */
  BM_MOCK_R_FLAGS,      /* flags of es_respond_flags_result, -1 none */
  BM_MOCK_R_CACHE,      /* cache argument of the first answer */
  BM_MOCK_R_LATE,       /* 1 when the first answer came after the deadline */
  BM_MOCK_R_LATENCY_US, /* delivery to first answer */
  BM_MOCK_R_DELIVERED,  /* 1 delivered, 0 queued, -1 not delivered (muted / not subscribed) */
  BM_MOCK_R_N
};
/* Fills out[BM_MOCK_R_N] for message `id`; 0, or -1 for an unknown id. */
BM_MOCK_API int32_t bm_mock_es_response(int32_t id, int32_t *out);

/* out[] of bm_mock_es_stats. */
enum {
  BM_MOCK_S_DELIVERED,
  BM_MOCK_S_RETAINS,         /* es_retain_message calls */
  BM_MOCK_S_RELEASES,        /* es_release_message calls */
  BM_MOCK_S_LIVE,            /* messages not yet freed (delivery's own reference included) */
  BM_MOCK_S_LATE,            /* auth answers after the deadline */
  BM_MOCK_S_MISSED,          /* auth messages past their deadline with no answer yet */
  BM_MOCK_S_DUPLICATE,       /* second answers to one message */
  BM_MOCK_S_WRONG_TYPE,      /* flags answer to an exec / auth answer to an open / notify */
  BM_MOCK_S_CLEAR_CACHE,     /* es_clear_cache calls */
  BM_MOCK_S_MUTED_PID,       /* last pid es_mute_process muted, 0 none */
  BM_MOCK_S_SKIPPED_MUTED,   /* messages not delivered: process muted */
  BM_MOCK_S_SKIPPED_UNSUB,   /* messages not delivered: type not subscribed */
  BM_MOCK_S_SUBSCRIBED,      /* bit mask of subscribed es_event_type_t values */
  BM_MOCK_S_CLIENTS,         /* clients created */
  BM_MOCK_S_DELETED,         /* es_delete_client calls */
  BM_MOCK_S_BAD_RELEASE,     /* releases of a message with no reference left */
  BM_MOCK_S_N
};
/* Fills out[0..min(n, BM_MOCK_S_N)); returns BM_MOCK_S_N. */
BM_MOCK_API int32_t bm_mock_es_stats(int64_t *out, int32_t n);

#endif
