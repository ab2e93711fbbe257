/*
 * TEST-ONLY declarations of the EndpointSecurity API that dylib/macos uses, so
 * `clang -fsyntax-only` can check bm_sensor_macos.m on a machine without the
 * macOS SDK (scripts/check_macos_syntax.sh). Written for bm from Apple's
 * public documentation of the API (names, parameter lists, field meanings);
 * no Apple header text is copied.
 *
 * Only the names bm uses are declared. Enum numeric values and struct layout
 * are NOT Apple's and must never be used for a real build: the real build
 * compiles against the SDK's <EndpointSecurity/EndpointSecurity.h>. What this
 * file pins down is the shape the code relies on: type names, field names and
 * their types, function parameter and return types. A call with the wrong
 * arguments, a misspelt field or a wrong field type fails the check.
 */
#ifndef BM_TEST_ES_DECLS_H
#define BM_TEST_ES_DECLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <mach/mach.h>

#ifdef __clang__
#define BM_ES_AVAILABLE(v) __attribute__((availability(macos, introduced = v)))
#else
#define BM_ES_AVAILABLE(v)
#endif

/* ---- basic tokens ---- */

typedef struct {
  size_t length;
  const char *data; /* not NUL-terminated */
} es_string_token_t;

typedef uint8_t es_cdhash_t[20];

typedef struct {
  es_string_token_t path;
  bool path_truncated;
  struct stat stat;
} es_file_t;

typedef struct {
  audit_token_t audit_token;
  pid_t ppid;
  pid_t original_ppid;
  pid_t group_id;
  pid_t session_id;
  uint32_t codesigning_flags;
  bool is_platform_binary;
  bool is_es_client;
  es_cdhash_t cdhash;
  es_string_token_t signing_id;
  es_string_token_t team_id;
  es_file_t *executable;
  es_file_t *tty;                          /* message version >= 2 */
  struct timeval start_time;               /* message version >= 3 */
  audit_token_t responsible_audit_token;   /* message version >= 4 */
  audit_token_t parent_audit_token;        /* message version >= 4 */
} es_process_t;

typedef struct {
  uint64_t thread_id;
} es_thread_t;

/* ---- enums (values are not Apple's: see the top of this file) ---- */

typedef enum {
  ES_EVENT_TYPE_AUTH_EXEC,
  ES_EVENT_TYPE_AUTH_OPEN,
  ES_EVENT_TYPE_NOTIFY_EXEC,
  ES_EVENT_TYPE_NOTIFY_FORK,
  ES_EVENT_TYPE_NOTIFY_CLOSE,
  ES_EVENT_TYPE_NOTIFY_CREATE,
  ES_EVENT_TYPE_NOTIFY_EXIT,
  ES_EVENT_TYPE_NOTIFY_RENAME,
  ES_EVENT_TYPE_NOTIFY_SETEXTATTR,
  ES_EVENT_TYPE_NOTIFY_UNLINK,
  ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR,
  ES_EVENT_TYPE_NOTIFY_BTM_LAUNCH_ITEM_ADD, /* macOS 13 */
  ES_EVENT_TYPE_LAST
} es_event_type_t;

typedef enum { ES_ACTION_TYPE_AUTH, ES_ACTION_TYPE_NOTIFY } es_action_type_t;

typedef enum { ES_AUTH_RESULT_ALLOW, ES_AUTH_RESULT_DENY } es_auth_result_t;

typedef enum { ES_RESULT_TYPE_AUTH, ES_RESULT_TYPE_FLAGS } es_result_type_t;

typedef enum { ES_RETURN_SUCCESS, ES_RETURN_ERROR } es_return_t;

typedef enum {
  ES_RESPOND_RESULT_SUCCESS,
  ES_RESPOND_RESULT_ERR_INVALID_ARGUMENT,
  ES_RESPOND_RESULT_ERR_INTERNAL,
  ES_RESPOND_RESULT_NOT_FOUND,
  ES_RESPOND_RESULT_ERR_DUPLICATE_RESPONSE,
  ES_RESPOND_RESULT_ERR_EVENT_TYPE
} es_respond_result_t;

typedef enum {
  ES_NEW_CLIENT_RESULT_SUCCESS,
  ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT,
  ES_NEW_CLIENT_RESULT_ERR_INTERNAL,
  ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED,
  ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED,
  ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED,
  ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS
} es_new_client_result_t;

typedef enum {
  ES_CLEAR_CACHE_RESULT_SUCCESS,
  ES_CLEAR_CACHE_RESULT_ERR_INTERNAL,
  ES_CLEAR_CACHE_RESULT_ERR_THROTTLE
} es_clear_cache_result_t;

typedef enum {
  ES_DESTINATION_TYPE_EXISTING_FILE,
  ES_DESTINATION_TYPE_NEW_PATH
} es_destination_type_t;

/* ---- event payloads ---- */

typedef struct {
  es_process_t *target;
  union {
    uint8_t reserved[64];
    struct {
      es_file_t *script; /* message version >= 2 */
      es_file_t *cwd;    /* message version >= 3 */
      int last_fd;       /* message version >= 4 */
    };
  };
} es_event_exec_t;

typedef struct {
  int32_t fflag;
  es_file_t *file;
  uint8_t reserved[64];
} es_event_open_t;

typedef struct {
  es_process_t *child;
  uint8_t reserved[64];
} es_event_fork_t;

typedef struct {
  int stat; /* wait(2) status */
  uint8_t reserved[64];
} es_event_exit_t;

typedef struct {
  bool modified;
  es_file_t *target;
  uint8_t reserved[64];
} es_event_close_t;

typedef struct {
  es_destination_type_t destination_type;
  union {
    es_file_t *existing_file;
    struct {
      es_file_t *dir;
      es_string_token_t filename;
      mode_t mode;
    } new_path;
  } destination;
  uint8_t reserved[64];
} es_event_create_t;

typedef struct {
  es_file_t *source;
  es_destination_type_t destination_type;
  union {
    es_file_t *existing_file;
    struct {
      es_file_t *dir;
      es_string_token_t filename;
    } new_path;
  } destination;
  uint8_t reserved[64];
} es_event_rename_t;

typedef struct {
  es_file_t *target;
  es_file_t *parent_dir;
  uint8_t reserved[64];
} es_event_unlink_t;

typedef struct {
  es_file_t *target;
  es_string_token_t extattr;
  uint8_t reserved[64];
} es_event_setextattr_t;

typedef struct {
  es_file_t *target;
  es_string_token_t extattr;
  uint8_t reserved[64];
} es_event_deleteextattr_t;

typedef enum {
  ES_BTM_ITEM_TYPE_USER_ITEM,
  ES_BTM_ITEM_TYPE_APP,
  ES_BTM_ITEM_TYPE_LOGIN_ITEM,
  ES_BTM_ITEM_TYPE_AGENT,
  ES_BTM_ITEM_TYPE_DAEMON
} es_btm_item_type_t;

typedef struct {
  es_btm_item_type_t item_type;
  bool legacy;
  bool managed;
  uid_t uid;
  es_string_token_t item_url;
  es_string_token_t app_url;
} es_btm_launch_item_t;

typedef struct {
  es_process_t *instigator; /* may be NULL */
  es_process_t *app;        /* may be NULL */
  es_btm_launch_item_t *item;
  es_string_token_t executable_path;
} es_event_btm_launch_item_add_t;

typedef union {
  es_event_exec_t exec;
  es_event_open_t open;
  es_event_fork_t fork;
  es_event_exit_t exit;
  es_event_close_t close;
  es_event_create_t create;
  es_event_rename_t rename;
  es_event_unlink_t unlink;
  es_event_setextattr_t setextattr;
  es_event_deleteextattr_t deleteextattr;
  es_event_btm_launch_item_add_t *btm_launch_item_add; /* macOS 13 */
} es_events_t;

typedef struct {
  es_result_type_t result_type;
  union {
    es_auth_result_t auth;
    uint32_t flags;
    uint8_t reserved[32];
  } result;
} es_result_t;

typedef struct {
  uint8_t reserved[32];
} es_event_id_t;

typedef struct {
  uint32_t version;
  struct timespec time;
  uint64_t mach_time;
  uint64_t deadline; /* mach absolute time; auth only */
  es_process_t *process;
  uint64_t seq_num; /* message version >= 2; per event type */
  es_action_type_t action_type;
  union {
    es_event_id_t auth;
    es_result_t notify;
  } action;
  es_event_type_t event_type;
  es_events_t event;
  es_thread_t *thread;     /* message version >= 4 */
  uint64_t global_seq_num; /* message version >= 4 */
} es_message_t;

/* ---- client ---- */

typedef struct es_client_s es_client_t;

#ifdef __BLOCKS__ /* the Linux unit test of es_map.c builds with gcc, without blocks */
typedef void (^es_handler_block_t)(es_client_t *client, const es_message_t *message);

es_new_client_result_t es_new_client(es_client_t **client, es_handler_block_t handler)
  BM_ES_AVAILABLE(10.15);
#endif
es_return_t es_delete_client(es_client_t *client) BM_ES_AVAILABLE(10.15);
es_return_t es_subscribe(es_client_t *client, const es_event_type_t *events, uint32_t event_count)
  BM_ES_AVAILABLE(10.15);
es_return_t es_unsubscribe_all(es_client_t *client) BM_ES_AVAILABLE(10.15);
es_respond_result_t es_respond_auth_result(es_client_t *client, const es_message_t *message,
                                           es_auth_result_t result, bool cache)
  BM_ES_AVAILABLE(10.15);
es_respond_result_t es_respond_flags_result(es_client_t *client, const es_message_t *message,
                                            uint32_t authorized_flags, bool cache)
  BM_ES_AVAILABLE(10.15);
es_return_t es_mute_process(es_client_t *client, const audit_token_t *audit_token)
  BM_ES_AVAILABLE(10.15);
es_clear_cache_result_t es_clear_cache(es_client_t *client) BM_ES_AVAILABLE(10.15);
void es_retain_message(const es_message_t *msg) BM_ES_AVAILABLE(11.0);
void es_release_message(const es_message_t *msg) BM_ES_AVAILABLE(11.0);
uint32_t es_exec_arg_count(const es_event_exec_t *event) BM_ES_AVAILABLE(10.15);
es_string_token_t es_exec_arg(const es_event_exec_t *event, uint32_t index)
  BM_ES_AVAILABLE(10.15);
uint32_t es_exec_env_count(const es_event_exec_t *event) BM_ES_AVAILABLE(10.15);
es_string_token_t es_exec_env(const es_event_exec_t *event, uint32_t index)
  BM_ES_AVAILABLE(10.15);
typedef enum { ES_MUTE_PATH_TYPE_PREFIX, ES_MUTE_PATH_TYPE_LITERAL } es_mute_path_type_t;
es_return_t es_mute_path(es_client_t *client, const char *path, es_mute_path_type_t type)
  BM_ES_AVAILABLE(12.0);

#endif
