/*
 * mock_es.c - a test-only EndpointSecurity framework, so the real
 * bm_sensor_macos.m runs on Linux (clang -fblocks, libBlocksRuntime). It keeps
 * ES's contracts that a client can break: one answer per auth message, before
 * the deadline, with the answer call that fits the event type; retain and
 * release balanced; muted processes and unsubscribed types never delivered;
 * messages delivered one at a time on a thread of the mock's own. Declarations
 * come from ../test_es_decls (written from Apple's documented API); enum
 * values there are not Apple's, which does not matter since both sides use
 * the same header. Driver API: mock_es.h.
 */
#include <Block.h>
#include <EndpointSecurity/EndpointSecurity.h>
#include <bsm/libbsm.h>
#include <errno.h>
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mock_es.h"

#define MAX_MSGS 65536 /* response records kept, by id */
#define MAX_STRS 64    /* argv / env entries a message can carry */
#define STR_POOL 8192

struct es_client_s {
  es_handler_block_t handler;
  int deleted;
};

/* One message and everything it points to, in one allocation. */
typedef struct mock_msg {
  es_message_t msg; /* first: es_* calls get &msg back */
  int32_t id;
  atomic_int refs;
  es_process_t proc, target;
  es_file_t proc_exe, target_exe, proc_tty, target_tty, file, dest_file, dir, cwd;
  es_btm_launch_item_t item;
  es_event_btm_launch_item_add_t btm;
  es_thread_t thread;
  uint32_t argc, envc;
  es_string_token_t argv[MAX_STRS], envv[MAX_STRS];
  int muted_candidate_pid;
  size_t pool_used;
  char pool[STR_POOL];
  struct mock_msg *next; /* delivery queue */
} mock_msg;

typedef struct {
  int32_t answered, result, flags, cache, late, latency_us, delivered;
  int auth, is_open;
  uint64_t deadline_ns, delivered_ns;
} mock_resp;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_t deliver_thr;
static int deliver_started;
static mock_msg *q_head, *q_tail;
static int delivering;          /* a handler is running */
static int32_t next_id = 1;
static mock_resp resp[MAX_MSGS];
static int64_t st[BM_MOCK_S_N];
static int32_t new_client_result = ES_NEW_CLIENT_RESULT_SUCCESS;
static int32_t clear_throttle;
static uint64_t subscribed;
static int32_t muted_pids[64];
static int n_muted;
static es_client_t *client_now;
static uint64_t seq_next[ES_EVENT_TYPE_LAST];

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- mach, libbsm ------------------------------------------------------ */

uint64_t mach_absolute_time(void) { return now_ns(); }
kern_return_t mach_timebase_info(mach_timebase_info_t info) {
  info->numer = 1; /* mach ticks are nanoseconds here, as on Apple silicon's 1:1 case */
  info->denom = 1;
  return KERN_SUCCESS;
}
mach_port_t mach_task_self(void) { return 1; }

/* Apple's layout: val[1] euid, val[3] ruid, val[5] pid, val[7] pidversion. */
static audit_token_t make_token(int32_t pid, int32_t ruid, int32_t euid) {
  audit_token_t t;
  memset(&t, 0, sizeof t);
  t.val[1] = (unsigned)euid;
  t.val[3] = (unsigned)ruid;
  t.val[5] = (unsigned)pid;
  t.val[7] = 1;
  return t;
}
pid_t audit_token_to_pid(audit_token_t t) { return (pid_t)t.val[5]; }
uid_t audit_token_to_ruid(audit_token_t t) { return (uid_t)t.val[3]; }
uid_t audit_token_to_euid(audit_token_t t) { return (uid_t)t.val[1]; }
int audit_token_to_pidversion(audit_token_t t) { return (int)t.val[7]; }

kern_return_t task_info(task_t task, task_flavor_t flavor, task_info_t out,
                        mach_msg_type_number_t *count) {
  if (flavor != TASK_AUDIT_TOKEN || *count < TASK_AUDIT_TOKEN_COUNT) return 4; /* KERN_INVALID_ARGUMENT */
  audit_token_t t = make_token((int32_t)getpid(), (int32_t)getuid(), (int32_t)geteuid());
  memcpy(out, &t, sizeof t);
  *count = TASK_AUDIT_TOKEN_COUNT;
  return KERN_SUCCESS;
}

/* ---- messages ---------------------------------------------------------- */

static void free_msg(mock_msg *m) { free(m); }

static mock_msg *from_msg(const es_message_t *msg) {
  return (mock_msg *)(void *)((char *)(uintptr_t)msg - offsetof(mock_msg, msg));
}

static mock_msg *from_exec(const es_event_exec_t *e) {
  const char *msg = (const char *)e - offsetof(es_message_t, event);
  return from_msg((const es_message_t *)(const void *)msg);
}

void es_retain_message(const es_message_t *msg) {
  atomic_fetch_add(&from_msg(msg)->refs, 1);
  pthread_mutex_lock(&mu);
  st[BM_MOCK_S_RETAINS]++;
  pthread_mutex_unlock(&mu);
}

static void drop_ref(mock_msg *m, int counted) {
  int before = atomic_fetch_sub(&m->refs, 1);
  pthread_mutex_lock(&mu);
  if (counted) st[BM_MOCK_S_RELEASES]++;
  if (before <= 0) st[BM_MOCK_S_BAD_RELEASE]++;
  if (before == 1) st[BM_MOCK_S_LIVE]--;
  pthread_mutex_unlock(&mu);
  if (before == 1) free_msg(m);
}

void es_release_message(const es_message_t *msg) { drop_ref(from_msg(msg), 1); }

uint32_t es_exec_arg_count(const es_event_exec_t *e) { return from_exec(e)->argc; }
es_string_token_t es_exec_arg(const es_event_exec_t *e, uint32_t i) {
  mock_msg *m = from_exec(e);
  return i < m->argc ? m->argv[i] : (es_string_token_t){0, NULL};
}
uint32_t es_exec_env_count(const es_event_exec_t *e) { return from_exec(e)->envc; }
es_string_token_t es_exec_env(const es_event_exec_t *e, uint32_t i) {
  mock_msg *m = from_exec(e);
  return i < m->envc ? m->envv[i] : (es_string_token_t){0, NULL};
}

/* ---- client calls ------------------------------------------------------- */

es_new_client_result_t es_new_client(es_client_t **client, es_handler_block_t handler) {
  pthread_mutex_lock(&mu);
  int32_t r = new_client_result;
  pthread_mutex_unlock(&mu);
  /* a whole agent process (bm daemon) is driven from outside through this */
  const char *env = getenv("BM_MOCK_ES_NEW_CLIENT_RESULT");
  if (env && *env) r = (int32_t)strtol(env, NULL, 10);
  if (!client || !handler) return ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT;
  if (r != ES_NEW_CLIENT_RESULT_SUCCESS) return (es_new_client_result_t)r;
  es_client_t *c = calloc(1, sizeof *c);
  if (!c) return ES_NEW_CLIENT_RESULT_ERR_INTERNAL;
  c->handler = Block_copy(handler);
  pthread_mutex_lock(&mu);
  client_now = c;
  subscribed = 0;
  n_muted = 0;
  st[BM_MOCK_S_CLIENTS]++;
  pthread_mutex_unlock(&mu);
  *client = c;
  return ES_NEW_CLIENT_RESULT_SUCCESS;
}

es_return_t es_delete_client(es_client_t *c) {
  if (!c) return ES_RETURN_ERROR;
  pthread_mutex_lock(&mu);
  /* ES stops delivery before it returns: wait out a handler that is running */
  c->deleted = 1;
  while (delivering && client_now == c) pthread_cond_wait(&cond, &mu);
  if (client_now == c) client_now = NULL;
  st[BM_MOCK_S_DELETED]++;
  pthread_mutex_unlock(&mu);
  Block_release(c->handler);
  free(c);
  return ES_RETURN_SUCCESS;
}

es_return_t es_subscribe(es_client_t *c, const es_event_type_t *events, uint32_t n) {
  if (!c || !events || !n) return ES_RETURN_ERROR;
  pthread_mutex_lock(&mu);
  for (uint32_t i = 0; i < n; i++) {
    if ((unsigned)events[i] >= ES_EVENT_TYPE_LAST) {
      pthread_mutex_unlock(&mu);
      return ES_RETURN_ERROR;
    }
    subscribed |= 1ull << events[i];
  }
  pthread_mutex_unlock(&mu);
  return ES_RETURN_SUCCESS;
}

es_return_t es_unsubscribe_all(es_client_t *c) {
  if (!c) return ES_RETURN_ERROR;
  pthread_mutex_lock(&mu);
  subscribed = 0;
  pthread_mutex_unlock(&mu);
  return ES_RETURN_SUCCESS;
}

es_return_t es_mute_process(es_client_t *c, const audit_token_t *t) {
  if (!c || !t) return ES_RETURN_ERROR;
  pthread_mutex_lock(&mu);
  if (n_muted < 64) muted_pids[n_muted++] = audit_token_to_pid(*t);
  st[BM_MOCK_S_MUTED_PID] = audit_token_to_pid(*t);
  pthread_mutex_unlock(&mu);
  return ES_RETURN_SUCCESS;
}

es_return_t es_mute_path(es_client_t *c, const char *path, es_mute_path_type_t type) {
  return c && path ? ES_RETURN_SUCCESS : ES_RETURN_ERROR; /* not used by bm */
}

es_clear_cache_result_t es_clear_cache(es_client_t *c) {
  pthread_mutex_lock(&mu);
  st[BM_MOCK_S_CLEAR_CACHE]++;
  int throttled = clear_throttle > 0;
  if (throttled) clear_throttle--;
  pthread_mutex_unlock(&mu);
  return throttled ? ES_CLEAR_CACHE_RESULT_ERR_THROTTLE : ES_CLEAR_CACHE_RESULT_SUCCESS;
}

static es_respond_result_t respond(const es_message_t *msg, int flags_call, int32_t value,
                                   bool cache) {
  mock_msg *m = from_msg(msg);
  uint64_t t = now_ns();
  pthread_mutex_lock(&mu);
  mock_resp *r = &resp[m->id % MAX_MSGS];
  es_respond_result_t rr = ES_RESPOND_RESULT_SUCCESS;
  if (!r->auth || flags_call != r->is_open) {
    st[BM_MOCK_S_WRONG_TYPE]++;
    rr = ES_RESPOND_RESULT_ERR_EVENT_TYPE;
  } else if (r->answered) {
    st[BM_MOCK_S_DUPLICATE]++;
    r->answered++;
    rr = ES_RESPOND_RESULT_ERR_DUPLICATE_RESPONSE;
  } else {
    r->answered = 1;
    if (flags_call) r->flags = value;
    else r->result = value;
    r->cache = cache;
    r->latency_us = (int32_t)((t - r->delivered_ns) / 1000);
    if (t > r->deadline_ns) {
      r->late = 1;
      st[BM_MOCK_S_LATE]++;
    }
  }
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&mu);
  return rr;
}

es_respond_result_t es_respond_auth_result(es_client_t *c, const es_message_t *msg,
                                           es_auth_result_t result, bool cache) {
  if (!c || !msg) return ES_RESPOND_RESULT_ERR_INVALID_ARGUMENT;
  return respond(msg, 0, (int32_t)result, cache);
}

es_respond_result_t es_respond_flags_result(es_client_t *c, const es_message_t *msg,
                                            uint32_t flags, bool cache) {
  if (!c || !msg) return ES_RESPOND_RESULT_ERR_INVALID_ARGUMENT;
  return respond(msg, 1, (int32_t)flags, cache);
}

/* ---- delivery ------------------------------------------------------------ */

static int is_muted(int32_t pid) {
  for (int i = 0; i < n_muted; i++) {
    if (muted_pids[i] == pid) return 1;
  }
  return 0;
}

static void *deliver_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (!q_head) pthread_cond_wait(&cond, &mu);
    mock_msg *m = q_head;
    q_head = m->next;
    if (!q_head) q_tail = NULL;
    mock_resp *r = &resp[m->id % MAX_MSGS];
    es_client_t *c = client_now;
    int skip = 0;
    if (!c || c->deleted || !(subscribed & (1ull << m->msg.event_type))) {
      st[BM_MOCK_S_SKIPPED_UNSUB]++;
      skip = 1;
    } else if (is_muted(audit_token_to_pid(m->proc.audit_token))) {
      st[BM_MOCK_S_SKIPPED_MUTED]++;
      skip = 1;
    }
    if (skip) {
      r->delivered = -1;
      pthread_cond_broadcast(&cond);
      pthread_mutex_unlock(&mu);
      drop_ref(m, 0);
      pthread_mutex_lock(&mu);
      continue;
    }
    delivering = 1;
    r->delivered = 1;
    r->delivered_ns = now_ns();
    /* the deadline is set as the kernel sets it: from delivery */
    if (r->auth) m->msg.deadline = r->deadline_ns = r->delivered_ns + r->deadline_ns;
    st[BM_MOCK_S_DELIVERED]++;
    es_handler_block_t h = c->handler;
    pthread_mutex_unlock(&mu);
    h(c, &m->msg);
    drop_ref(m, 0); /* delivery's own reference: the client retains to keep it */
    pthread_mutex_lock(&mu);
    delivering = 0;
    pthread_cond_broadcast(&cond);
  }
  return NULL;
}

/* ---- spec parsing ---------------------------------------------------------- */

static const struct {
  const char *name;
  es_event_type_t type;
  int auth;
} TYPES[] = {
  {"AUTH_EXEC", ES_EVENT_TYPE_AUTH_EXEC, 1},
  {"AUTH_OPEN", ES_EVENT_TYPE_AUTH_OPEN, 1},
  {"NOTIFY_EXEC", ES_EVENT_TYPE_NOTIFY_EXEC, 0},
  {"NOTIFY_FORK", ES_EVENT_TYPE_NOTIFY_FORK, 0},
  {"NOTIFY_EXIT", ES_EVENT_TYPE_NOTIFY_EXIT, 0},
  {"NOTIFY_CLOSE", ES_EVENT_TYPE_NOTIFY_CLOSE, 0},
  {"NOTIFY_CREATE", ES_EVENT_TYPE_NOTIFY_CREATE, 0},
  {"NOTIFY_RENAME", ES_EVENT_TYPE_NOTIFY_RENAME, 0},
  {"NOTIFY_UNLINK", ES_EVENT_TYPE_NOTIFY_UNLINK, 0},
  {"NOTIFY_SETEXTATTR", ES_EVENT_TYPE_NOTIFY_SETEXTATTR, 0},
  {"NOTIFY_DELETEEXTATTR", ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR, 0},
  {"NOTIFY_BTM_LAUNCH_ITEM_ADD", ES_EVENT_TYPE_NOTIFY_BTM_LAUNCH_ITEM_ADD, 0},
};

static es_string_token_t keep(mock_msg *m, const char *v, size_t n) {
  if (m->pool_used + n + 1 > STR_POOL) return (es_string_token_t){0, NULL};
  char *p = m->pool + m->pool_used;
  memcpy(p, v, n);
  p[n] = 0;
  m->pool_used += n + 1;
  return (es_string_token_t){n, p};
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

typedef struct {
  int32_t pid, ppid, uid, euid, responsible;
  double start_ms;
  int platform;
} proc_nums;

static int set_proc(mock_msg *m, es_process_t *p, es_file_t *exe, es_file_t *tty, proc_nums *n,
                    const char *key, const char *v, size_t vn, const char *num) {
  long x = strtol(num, NULL, 10);
  if (!strcmp(key, "pid")) n->pid = (int32_t)x;
  else if (!strcmp(key, "ppid")) n->ppid = (int32_t)x;
  else if (!strcmp(key, "uid")) n->uid = (int32_t)x;
  else if (!strcmp(key, "euid")) n->euid = (int32_t)x;
  else if (!strcmp(key, "responsible")) n->responsible = (int32_t)x;
  else if (!strcmp(key, "start_ms")) n->start_ms = strtod(num, NULL);
  else if (!strcmp(key, "platform")) n->platform = (int)x;
  else if (!strcmp(key, "exe")) exe->path = keep(m, v, vn);
  else if (!strcmp(key, "signing_id")) p->signing_id = keep(m, v, vn);
  else if (!strcmp(key, "team_id")) p->team_id = keep(m, v, vn);
  else if (!strcmp(key, "tty")) {
    tty->path = keep(m, v, vn);
    p->tty = tty;
  } else if (!strcmp(key, "cdhash")) {
    if (vn != 40) return -1;
    for (int i = 0; i < 20; i++) {
      int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
      if (hi < 0 || lo < 0) return -1;
      p->cdhash[i] = (uint8_t)(hi << 4 | lo);
    }
  } else return -1;
  return 0;
}

static void finish_proc(es_process_t *p, es_file_t *exe, const proc_nums *n) {
  p->audit_token = make_token(n->pid, n->uid, n->euid);
  p->ppid = n->ppid;
  p->original_ppid = n->ppid;
  p->parent_audit_token = make_token(n->ppid, n->uid, n->euid);
  p->responsible_audit_token = make_token(n->responsible, n->uid, n->euid);
  p->is_platform_binary = n->platform != 0;
  p->start_time.tv_sec = (time_t)(n->start_ms / 1000);
  p->start_time.tv_usec = (suseconds_t)((n->start_ms - (double)p->start_time.tv_sec * 1000) * 1000);
  p->executable = exe;
}

int32_t bm_mock_es_post(const char *spec) {
  if (!spec) return -1;
  mock_msg *m = calloc(1, sizeof *m);
  if (!m) return -1;
  proc_nums pn = {0}, tn = {0};
  int have_type = 0, auth = 0, version = 7;
  long seq = -1, deadline_ms = 5000, exit_stat = 0;
  int modified = 1, has_dest = 0, has_newpath = 0;
  struct stat fst;
  memset(&fst, 0, sizeof fst);
  es_event_type_t type = ES_EVENT_TYPE_LAST;
  es_string_token_t name = {0, NULL}, xattr = {0, NULL}, item_url = {0, NULL}, exe_path = {0, NULL};
  const char *p = spec;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (len == 0) {
      p += nl ? 1 : 0;
      if (!nl) break;
      continue;
    }
    if (!eq) goto bad;
    char key[32];
    size_t kn = (size_t)(eq - p);
    if (kn >= sizeof key) goto bad;
    memcpy(key, p, kn);
    key[kn] = 0;
    const char *v = eq + 1;
    size_t vn = len - kn - 1;
    char num[64];
    size_t cn = vn < sizeof num - 1 ? vn : sizeof num - 1;
    memcpy(num, v, cn);
    num[cn] = 0;
    if (!strcmp(key, "type")) {
      for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        if (strlen(TYPES[i].name) == vn && !memcmp(TYPES[i].name, v, vn)) {
          type = TYPES[i].type;
          auth = TYPES[i].auth;
          have_type = 1;
        }
      }
      if (!have_type) goto bad;
    } else if (!strncmp(key, "p.", 2)) {
      if (set_proc(m, &m->proc, &m->proc_exe, &m->proc_tty, &pn, key + 2, v, vn, num)) goto bad;
    } else if (!strncmp(key, "t.", 2)) {
      if (set_proc(m, &m->target, &m->target_exe, &m->target_tty, &tn, key + 2, v, vn, num)) goto bad;
    } else if (!strcmp(key, "arg")) {
      if (m->argc >= MAX_STRS) goto bad;
      m->argv[m->argc++] = keep(m, v, vn);
    } else if (!strcmp(key, "env")) {
      if (m->envc >= MAX_STRS) goto bad;
      m->envv[m->envc++] = keep(m, v, vn);
    } else if (!strcmp(key, "cwd")) m->cwd.path = keep(m, v, vn);
    else if (!strcmp(key, "path")) m->file.path = keep(m, v, vn);
    else if (!strcmp(key, "ino")) fst.st_ino = (ino_t)strtoull(num, NULL, 10);
    else if (!strcmp(key, "uid")) fst.st_uid = (uid_t)strtoul(num, NULL, 10);
    else if (!strcmp(key, "mode")) fst.st_mode = (mode_t)strtoul(num, NULL, 8);
    else if (!strcmp(key, "size")) fst.st_size = (off_t)strtoll(num, NULL, 10);
    else if (!strcmp(key, "dir")) {
      m->dir.path = keep(m, v, vn);
      has_newpath = 1;
    } else if (!strcmp(key, "name")) name = keep(m, v, vn);
    else if (!strcmp(key, "dest")) {
      m->dest_file.path = keep(m, v, vn);
      has_dest = 1;
    } else if (!strcmp(key, "modified")) modified = (int)strtol(num, NULL, 10);
    else if (!strcmp(key, "xattr")) xattr = keep(m, v, vn);
    else if (!strcmp(key, "exit_stat")) exit_stat = strtol(num, NULL, 10);
    else if (!strcmp(key, "item_url")) item_url = keep(m, v, vn);
    else if (!strcmp(key, "exe_path")) exe_path = keep(m, v, vn);
    else if (!strcmp(key, "version")) version = (int)strtol(num, NULL, 10);
    else if (!strcmp(key, "seq")) seq = strtol(num, NULL, 10);
    else if (!strcmp(key, "deadline_ms")) deadline_ms = strtol(num, NULL, 10);
    else goto bad;
    if (!nl) break;
    p = nl + 1;
  }
  if (!have_type || !m->proc_exe.path.data) goto bad;
  finish_proc(&m->proc, &m->proc_exe, &pn);
  m->file.stat = fst;
  es_message_t *msg = &m->msg;
  msg->version = (uint32_t)version;
  clock_gettime(CLOCK_REALTIME, &msg->time);
  msg->mach_time = now_ns();
  msg->process = &m->proc;
  msg->action_type = auth ? ES_ACTION_TYPE_AUTH : ES_ACTION_TYPE_NOTIFY;
  msg->event_type = type;
  m->thread.thread_id = 1;
  msg->thread = &m->thread;
  switch (type) {
  case ES_EVENT_TYPE_AUTH_EXEC:
  case ES_EVENT_TYPE_NOTIFY_EXEC:
    if (!m->target_exe.path.data) goto bad;
    finish_proc(&m->target, &m->target_exe, &tn);
    m->target_exe.stat = fst;
    msg->event.exec.target = &m->target;
    if (m->cwd.path.data) msg->event.exec.cwd = &m->cwd;
    break;
  case ES_EVENT_TYPE_NOTIFY_FORK:
    if (!m->target_exe.path.data) goto bad;
    finish_proc(&m->target, &m->target_exe, &tn);
    msg->event.fork.child = &m->target;
    break;
  case ES_EVENT_TYPE_NOTIFY_EXIT:
    msg->event.exit.stat = (int)exit_stat;
    break;
  case ES_EVENT_TYPE_AUTH_OPEN:
    msg->event.open.file = &m->file;
    break;
  case ES_EVENT_TYPE_NOTIFY_CLOSE:
    msg->event.close.modified = modified != 0;
    msg->event.close.target = &m->file;
    break;
  case ES_EVENT_TYPE_NOTIFY_CREATE:
    if (has_newpath) {
      msg->event.create.destination_type = ES_DESTINATION_TYPE_NEW_PATH;
      msg->event.create.destination.new_path.dir = &m->dir;
      msg->event.create.destination.new_path.filename = name;
      msg->event.create.destination.new_path.mode = fst.st_mode & 07777;
    } else {
      msg->event.create.destination_type = ES_DESTINATION_TYPE_EXISTING_FILE;
      msg->event.create.destination.existing_file = &m->file;
    }
    break;
  case ES_EVENT_TYPE_NOTIFY_RENAME:
    msg->event.rename.source = &m->file;
    if (has_newpath) {
      msg->event.rename.destination_type = ES_DESTINATION_TYPE_NEW_PATH;
      msg->event.rename.destination.new_path.dir = &m->dir;
      msg->event.rename.destination.new_path.filename = name;
    } else if (has_dest) {
      msg->event.rename.destination_type = ES_DESTINATION_TYPE_EXISTING_FILE;
      msg->event.rename.destination.existing_file = &m->dest_file;
    } else goto bad;
    break;
  case ES_EVENT_TYPE_NOTIFY_UNLINK:
    msg->event.unlink.target = &m->file;
    break;
  case ES_EVENT_TYPE_NOTIFY_SETEXTATTR:
    msg->event.setextattr.target = &m->file;
    msg->event.setextattr.extattr = xattr;
    break;
  case ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR:
    msg->event.deleteextattr.target = &m->file;
    msg->event.deleteextattr.extattr = xattr;
    break;
  case ES_EVENT_TYPE_NOTIFY_BTM_LAUNCH_ITEM_ADD:
    m->item.item_type = ES_BTM_ITEM_TYPE_AGENT;
    m->item.item_url = item_url;
    m->btm.item = &m->item;
    m->btm.instigator = &m->proc;
    m->btm.executable_path = exe_path;
    msg->event.btm_launch_item_add = &m->btm;
    break;
  default:
    goto bad;
  }
  atomic_store(&m->refs, 1);
  pthread_mutex_lock(&mu);
  if (!deliver_started) {
    if (pthread_create(&deliver_thr, NULL, deliver_main, NULL)) {
      pthread_mutex_unlock(&mu);
      goto bad;
    }
    pthread_detach(deliver_thr);
    deliver_started = 1;
  }
  msg->seq_num = seq >= 0 ? (uint64_t)seq : seq_next[type];
  seq_next[type] = msg->seq_num + 1;
  msg->global_seq_num = 0;
  m->id = next_id++;
  mock_resp *r = &resp[m->id % MAX_MSGS];
  memset(r, 0, sizeof *r);
  r->result = -1;
  r->flags = -1;
  r->auth = auth;
  r->is_open = type == ES_EVENT_TYPE_AUTH_OPEN;
  r->deadline_ns = auth ? (uint64_t)deadline_ms * 1000000ull : 0; /* relative until delivery */
  st[BM_MOCK_S_LIVE]++;
  if (q_tail) q_tail->next = m;
  else q_head = m;
  q_tail = m;
  int32_t id = m->id;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&mu);
  return id;
bad:
  free(m);
  return -1;
}

/* ---- driver queries ---------------------------------------------------------- */

static struct timespec abs_after(int32_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

int32_t bm_mock_es_wait(int32_t id, int32_t timeout_ms) {
  if (id <= 0 || id >= next_id) return -1;
  struct timespec until = abs_after(timeout_ms);
  pthread_mutex_lock(&mu);
  mock_resp *r = &resp[id % MAX_MSGS];
  int rc = 0;
  while (!r->answered && r->delivered >= 0) {
    if (pthread_cond_timedwait(&cond, &mu, &until) == ETIMEDOUT) break;
  }
  rc = r->answered ? 1 : 0;
  pthread_mutex_unlock(&mu);
  return rc;
}

int32_t bm_mock_es_idle(int32_t timeout_ms) {
  struct timespec until = abs_after(timeout_ms);
  pthread_mutex_lock(&mu);
  while (q_head || delivering) {
    if (pthread_cond_timedwait(&cond, &mu, &until) == ETIMEDOUT) break;
  }
  int ok = !q_head && !delivering;
  pthread_mutex_unlock(&mu);
  return ok;
}

int32_t bm_mock_es_response(int32_t id, int32_t *out) {
  if (id <= 0 || id >= next_id || !out) return -1;
  pthread_mutex_lock(&mu);
  mock_resp *r = &resp[id % MAX_MSGS];
  out[BM_MOCK_R_ANSWERED] = r->answered;
  out[BM_MOCK_R_RESULT] = r->result;
  out[BM_MOCK_R_FLAGS] = r->flags;
  out[BM_MOCK_R_CACHE] = r->cache;
  out[BM_MOCK_R_LATE] = r->late;
  out[BM_MOCK_R_LATENCY_US] = r->latency_us;
  out[BM_MOCK_R_DELIVERED] = r->delivered;
  pthread_mutex_unlock(&mu);
  return 0;
}

int32_t bm_mock_es_stats(int64_t *out, int32_t n) {
  pthread_mutex_lock(&mu);
  uint64_t now = now_ns();
  int64_t missed = 0;
  for (int32_t id = next_id - 1; id > 0 && id > next_id - MAX_MSGS; id--) {
    mock_resp *r = &resp[id % MAX_MSGS];
    if (r->auth && r->delivered == 1 && !r->answered && now > r->deadline_ns) missed++;
  }
  st[BM_MOCK_S_MISSED] = missed;
  st[BM_MOCK_S_SUBSCRIBED] = (int64_t)subscribed;
  for (int32_t i = 0; i < n && i < BM_MOCK_S_N; i++) out[i] = st[i];
  pthread_mutex_unlock(&mu);
  return BM_MOCK_S_N;
}

void bm_mock_es_set_new_client_result(int32_t r) {
  pthread_mutex_lock(&mu);
  new_client_result = r;
  pthread_mutex_unlock(&mu);
}

void bm_mock_es_set_clear_throttle(int32_t n) {
  pthread_mutex_lock(&mu);
  clear_throttle = n;
  pthread_mutex_unlock(&mu);
}

void bm_mock_es_reset(void) {
  pthread_mutex_lock(&mu);
  while (q_head || delivering) pthread_cond_wait(&cond, &mu);
  int64_t live = st[BM_MOCK_S_LIVE];
  memset(st, 0, sizeof st);
  st[BM_MOCK_S_LIVE] = live; /* messages a client still holds stay counted until released */
  memset(seq_next, 0, sizeof seq_next);
  new_client_result = ES_NEW_CLIENT_RESULT_SUCCESS;
  clear_throttle = 0;
  n_muted = 0;
  pthread_mutex_unlock(&mu);
}
