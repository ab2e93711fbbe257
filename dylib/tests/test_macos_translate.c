/*
 * The macOS translation on Linux: es_message_t values filled the way
 * EndpointSecurity fills them (declared by dylib/macos/test_es_decls), mapped
 * by dylib/macos/es_map.c, encoded by dylib/common/macos_translate.c, then
 * decoded here field by field against the record layout of bm_sensor.h.
 * Also: mach-time deadlines fed to the real watchdog, seq_num gaps, exit
 * status, es_new_client messages and the deny-table change detector.
 */
#include <assert.h>
#include <bsm/libbsm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../macos/es_map.h"

#include "check.h"

/* ---- what libbsm and libEndpointSecurity do, for the fake messages ---- */
/* audit_token_t: bm's fake layout: val[0] ruid, val[1] euid, val[5] pid (Apple's too). */
pid_t audit_token_to_pid(audit_token_t t) { return (pid_t)t.val[5]; }
uid_t audit_token_to_ruid(audit_token_t t) { return (uid_t)t.val[0]; }
uid_t audit_token_to_euid(audit_token_t t) { return (uid_t)t.val[1]; }
int audit_token_to_pidversion(audit_token_t t) { return (int)t.val[7]; }

/* argv of the one exec message under test; ES keeps it inside the message */
static const es_event_exec_t *argv_owner;
static uint32_t g_argc;
static es_string_token_t g_argv[8];
uint32_t es_exec_arg_count(const es_event_exec_t *e) {
  assert(e == argv_owner); /* called with the message's own exec event */
  return g_argc;
}
es_string_token_t es_exec_arg(const es_event_exec_t *e, uint32_t i) {
  assert(e == argv_owner && i < g_argc);
  return g_argv[i];
}
static uint32_t g_envc;
static es_string_token_t g_env[8];
uint32_t es_exec_env_count(const es_event_exec_t *e) {
  assert(e == argv_owner);
  return g_envc;
}
es_string_token_t es_exec_env(const es_event_exec_t *e, uint32_t i) {
  assert(e == argv_owner && i < g_envc);
  return g_env[i];
}

static es_string_token_t T(const char *s) { return (es_string_token_t){strlen(s), s}; }
static audit_token_t tok_of(pid_t pid, uid_t ruid, uid_t euid) {
  audit_token_t t;
  memset(&t, 0, sizeof t);
  t.val[0] = ruid;
  t.val[1] = euid;
  t.val[5] = (unsigned)pid;
  t.val[7] = 1;
  return t;
}

/* ---- record decoder (the layout of bm_sensor.h, independently of record.c) ---- */
typedef struct {
  uint32_t size, seq, auth_id;
  uint16_t version, nstr;
  uint8_t kind, flags;
  double time_ms, deadline_ms, start_ms, file_size;
  int32_t pid, ppid, uid, euid, aux, responsible, file_uid;
  uint32_t file_mode;
  int n;
  uint8_t tag[64];
  char str[64][512];
} dec_t;

static uint32_t u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static double f64(const uint8_t *p) {
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
  double d;
  memcpy(&d, &u, 8);
  return d;
}
static void decode(const uint8_t *b, uint32_t len, dec_t *d) {
  memset(d, 0, sizeof *d);
  d->size = u32(b);
  d->version = (uint16_t)(b[4] | b[5] << 8);
  d->kind = b[6];
  d->flags = b[7];
  d->seq = u32(b + 8);
  d->auth_id = u32(b + 12);
  d->time_ms = f64(b + 16);
  d->deadline_ms = f64(b + 24);
  d->start_ms = f64(b + 32);
  d->pid = (int32_t)u32(b + 40);
  d->ppid = (int32_t)u32(b + 44);
  d->uid = (int32_t)u32(b + 48);
  d->euid = (int32_t)u32(b + 52);
  d->aux = (int32_t)u32(b + 56);
  d->responsible = (int32_t)u32(b + 60);
  d->file_uid = (int32_t)u32(b + 64);
  d->file_mode = u32(b + 68);
  d->file_size = f64(b + 72);
  d->nstr = (uint16_t)(b[82] | b[83] << 8);
  assert(d->size == len && len % 8 == 0);
  uint32_t off = BM_RECORD_HEADER_SIZE;
  for (int i = 0; i < d->nstr; i++) {
    assert(off + 4 <= len);
    uint16_t n = (uint16_t)(b[off + 2] | b[off + 3] << 8);
    assert(off + 4 + n <= len && i < 64);
    d->tag[i] = b[off];
    size_t k = n < 511 ? n : 511;
    memcpy(d->str[i], b + off + 4, k);
    d->str[i][k] = 0;
    off += 4 + n;
  }
  d->n = d->nstr;
}
static const char *str_at(const dec_t *d, uint8_t tag, int nth) {
  for (int i = 0; i < d->n; i++)
    if (d->tag[i] == tag && nth-- == 0) return d->str[i];
  return NULL;
}
static int count_tag(const dec_t *d, uint8_t tag) {
  int c = 0;
  for (int i = 0; i < d->n; i++) c += d->tag[i] == tag;
  return c;
}

static uint8_t recbuf[BM_MAX_RECORD];
static uint32_t last_len;
/* map + encode + finish + decode, as the .m does before submitting */
static int translate(const es_message_t *m, dec_t *d) {
  bm_mac_event ev;
  if (!bm_es_map(m, &ev)) return 0;
  bm_rec r;
  bm_macos_encode(&ev, &r, recbuf, sizeof recbuf);
  uint32_t len = bm_rec_finish(&r);
  last_len = len;
  decode(recbuf, len, d);
  return 1;
}

/* `--dump DIR`: the last record goes to DIR/NAME.rec, for the TypeScript
   decoder test (tests/macos/es_records_decode_test.ts) */
static const char *dump_dir;
static void dump(const char *name) {
  if (!dump_dir) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.rec", dump_dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(recbuf, 1, last_len, f) != last_len || fclose(f)) {
    fprintf(stderr, "Cannot write \"%s\"\n", path);
    exit(1);
  }
}

/* ---- a process as ES describes it ---- */
static es_file_t f_bash, f_tty, f_cwd, f_target, f_dir;
static es_process_t p_shell, p_new, p_child;

static void file(es_file_t *f, const char *path, uid_t uid, mode_t mode, off_t size, ino_t ino) {
  memset(f, 0, sizeof *f);
  f->path = T(path);
  f->stat.st_uid = uid;
  f->stat.st_mode = mode;
  f->stat.st_size = size;
  f->stat.st_ino = ino;
  f->stat.st_dev = 16777230;
}

static void setup_procs(void) {
  file(&f_bash, "/bin/zsh", 0, S_IFREG | 0755, 1361200, 101);
  file(&f_tty, "/dev/ttys003", 501, S_IFCHR | 0620, 0, 7);
  file(&f_cwd, "/Users/ann/Downloads", 501, S_IFDIR | 0755, 192, 55);
  file(&f_target, "/Users/ann/Downloads/payload", 501, S_IFREG | 0755, 51234, 9001);
  file(&f_dir, "/Users/ann/Library/LaunchAgents", 501, S_IFDIR | 0700, 96, 77);

  memset(&p_shell, 0, sizeof p_shell);
  p_shell.audit_token = tok_of(4100, 501, 501);
  p_shell.ppid = 4000;
  p_shell.is_platform_binary = true;
  for (int i = 0; i < 20; i++) p_shell.cdhash[i] = (uint8_t)(0xa0 + i);
  p_shell.signing_id = T("com.apple.zsh");
  p_shell.team_id = T("");
  p_shell.executable = &f_bash;
  p_shell.tty = &f_tty;
  p_shell.start_time = (struct timeval){1790000000, 250000};
  p_shell.responsible_audit_token = tok_of(900, 501, 501);
  p_shell.parent_audit_token = tok_of(4000, 501, 501);

  p_new = p_shell; /* exec keeps pid, tty, parent; changes image and signature */
  p_new.audit_token = tok_of(4100, 501, 0); /* setuid image */
  p_new.is_platform_binary = false;
  memset(p_new.cdhash, 0, sizeof p_new.cdhash);
  p_new.cdhash[0] = 0x0f;
  p_new.cdhash[19] = 0xf0;
  p_new.signing_id = T("payload-55554944");
  p_new.team_id = T("ABCDE12345");
  p_new.executable = &f_target;

  p_child = p_shell;
  p_child.audit_token = tok_of(4200, 501, 501);
  p_child.ppid = 4100;
  p_child.parent_audit_token = tok_of(4100, 501, 501);
}

static es_message_t base_msg(es_event_type_t type, es_action_type_t action) {
  es_message_t m;
  memset(&m, 0, sizeof m);
  m.version = 6;
  m.time = (struct timespec){1790000123, 456000000};
  m.mach_time = 1000000;
  m.process = &p_shell;
  m.seq_num = 1;
  m.action_type = action;
  m.event_type = type;
  return m;
}

static void test_exec(void) {
  es_message_t m = base_msg(ES_EVENT_TYPE_AUTH_EXEC, ES_ACTION_TYPE_AUTH);
  m.event.exec.target = &p_new;
  m.event.exec.cwd = &f_cwd;
  argv_owner = &m.event.exec;
  g_argc = 3;
  g_argv[0] = T("./payload");
  g_argv[1] = T("--stage");
  g_argv[2] = T("two words");
  /* sensor.envVars: the configured names that are set, first binding wins, value cut at 1 KiB */
  static char big[2100];
  memset(big, 'v', sizeof big - 1);
  memcpy(big, "DYLD_LIBRARY_PATH=", 18);
  g_envc = 6;
  g_env[0] = T("PATH=/usr/bin:/bin");
  g_env[1] = T("DYLD_INSERT_LIBRARIES=/Users/Shared/.x/inject.dylib");
  g_env[2] = T("HOME=/Users/ann");
  g_env[3] = T("DYLD_INSERT_LIBRARIES=/second/ignored.dylib");
  g_env[4] = T(big);
  g_env[5] = T("NOEQUALS");
  bm_config cfg;
  char err[128];
  CHECK(bm_config_parse("env=DYLD_INSERT_LIBRARIES\nenv=DYLD_LIBRARY_PATH\nenv=NOEQUALS\n", &cfg,
                        err, sizeof err) == 0);
  bm_mac_event ev;
  CHECK(bm_es_map(&m, &ev) == 1);
  ev.cfg = &cfg;
  bm_rec r;
  bm_macos_encode(&ev, &r, recbuf, sizeof recbuf);
  uint32_t len = bm_rec_finish(&r);
  last_len = len;
  dump("exec");
  dec_t d;
  decode(recbuf, len, &d);

  CHECK(d.version == BM_RECORD_VERSION);
  CHECK(d.kind == BM_KIND_EXEC);
  CHECK(ev.auth == 1);
  CHECK(!(d.flags & BM_FLAG_PLATFORM_BINARY)); /* the new image is not Apple's */
  CHECK(d.time_ms == 1790000123456.0);
  CHECK(d.start_ms == 1790000000250.0);
  CHECK(d.pid == 4100);
  CHECK(d.ppid == 4000);
  CHECK(d.uid == 501 && d.euid == 0);
  CHECK(d.responsible == 900);
  CHECK(d.file_uid == 501 && d.file_mode == (S_IFREG | 0755) && d.file_size == 51234.0);
  CHECK(d.aux == 0);
  CHECK(strcmp(str_at(&d, BM_STR_EXECUTABLE, 0), "/Users/ann/Downloads/payload") == 0);
  CHECK(count_tag(&d, BM_STR_ARG) == 3);
  CHECK(strcmp(str_at(&d, BM_STR_ARG, 0), "./payload") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_ARG, 2), "two words") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_CWD, 0), "/Users/ann/Downloads") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_SIGNING_ID, 0), "payload-55554944") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_TEAM_ID, 0), "ABCDE12345") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_CDHASH, 0), "0f000000000000000000000000000000000000f0") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_TTY, 0), "/dev/ttys003") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/Users/ann/Downloads/payload") == 0);
  CHECK(count_tag(&d, BM_STR_ENV) == 2);
  CHECK(strcmp(str_at(&d, BM_STR_ENV, 0), "DYLD_INSERT_LIBRARIES=/Users/Shared/.x/inject.dylib") == 0);
  CHECK(strncmp(str_at(&d, BM_STR_ENV, 1), "DYLD_LIBRARY_PATH=vvv", 21) == 0); /* cut: test_common */
  g_envc = 0;

  /* allow-cache key: identity + change time; a rewrite (ctime) misses */
  bm_key k1 = bm_macos_file_key(&ev.file);
  CHECK(k1.a == 9001 && k1.b != 0);
  bm_mac_file changed = ev.file;
  changed.ctime_nsec += 1;
  bm_key k2 = bm_macos_file_key(&changed);
  CHECK(k1.a == k2.a && k1.b != k2.b);
}

static void test_exec_old_message_version(void) {
  /* version 1: no tty, start time, cwd, parent/responsible tokens */
  es_message_t m = base_msg(ES_EVENT_TYPE_NOTIFY_EXEC, ES_ACTION_TYPE_NOTIFY);
  m.version = 1;
  m.event.exec.target = &p_new;
  m.event.exec.cwd = &f_cwd;
  argv_owner = &m.event.exec;
  g_argc = 1;
  g_argv[0] = T("payload");
  dec_t d;
  CHECK(translate(&m, &d));
  bm_mac_event ev;
  CHECK(bm_es_map(&m, &ev) == 1);
  CHECK(ev.auth == 0);
  CHECK(d.start_ms == 0 && d.responsible == 0);
  CHECK(d.ppid == 4000); /* from the ppid field */
  CHECK(str_at(&d, BM_STR_TTY, 0) == NULL && str_at(&d, BM_STR_CWD, 0) == NULL);
}

static void test_fork_exit(void) {
  es_message_t m = base_msg(ES_EVENT_TYPE_NOTIFY_FORK, ES_ACTION_TYPE_NOTIFY);
  m.event.fork.child = &p_child;
  dec_t d;
  CHECK(translate(&m, &d));
  dump("fork");
  CHECK(d.kind == BM_KIND_FORK && d.pid == 4200 && d.ppid == 4100);
  CHECK(d.flags & BM_FLAG_PLATFORM_BINARY);
  CHECK(strcmp(str_at(&d, BM_STR_SIGNING_ID, 0), "com.apple.zsh") == 0);
  CHECK(str_at(&d, BM_STR_TEAM_ID, 0) == NULL); /* empty team id: platform binary */
  CHECK(strcmp(str_at(&d, BM_STR_CDHASH, 0), "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3") == 0);

  m = base_msg(ES_EVENT_TYPE_NOTIFY_EXIT, ES_ACTION_TYPE_NOTIFY);
  m.event.exit.stat = 3 << 8; /* exit(3) */
  CHECK(translate(&m, &d));
  CHECK(d.kind == BM_KIND_EXIT && d.pid == 4100 && d.aux == 3);
  m.event.exit.stat = SIGKILL; /* killed */
  CHECK(translate(&m, &d));
  CHECK(d.aux == 128 + SIGKILL);
  dump("exit");
  CHECK(bm_macos_exit_code(0) == 0);
  CHECK(bm_macos_exit_code(0x7f | (SIGSTOP << 8)) == -1);
}

static void test_files(void) {
  dec_t d;
  es_message_t m = base_msg(ES_EVENT_TYPE_AUTH_OPEN, ES_ACTION_TYPE_AUTH);
  m.event.open.file = &f_target;
  m.event.open.fflag = 1;
  CHECK(translate(&m, &d));
  CHECK(d.kind == BM_KIND_OPEN);
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/Users/ann/Downloads/payload") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_EXECUTABLE, 0), "/bin/zsh") == 0);

  m = base_msg(ES_EVENT_TYPE_NOTIFY_CLOSE, ES_ACTION_TYPE_NOTIFY);
  m.event.close.target = &f_target;
  m.event.close.modified = false;
  CHECK(translate(&m, &d) == 0); /* unmodified close: not recorded */
  m.event.close.modified = true;
  CHECK(translate(&m, &d) && d.kind == BM_KIND_CLOSE_MODIFIED);

  m = base_msg(ES_EVENT_TYPE_NOTIFY_CREATE, ES_ACTION_TYPE_NOTIFY);
  m.event.create.destination_type = ES_DESTINATION_TYPE_NEW_PATH;
  m.event.create.destination.new_path.dir = &f_dir;
  m.event.create.destination.new_path.filename = T("com.evil.agent.plist");
  m.event.create.destination.new_path.mode = 0644;
  CHECK(translate(&m, &d) && d.kind == BM_KIND_CREATE);
  dump("create");
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0),
               "/Users/ann/Library/LaunchAgents/com.evil.agent.plist") == 0);
  CHECK(d.file_mode == 0644 && d.file_uid == -1 && d.file_size == -1.0);
  m.event.create.destination_type = ES_DESTINATION_TYPE_EXISTING_FILE;
  m.event.create.destination.existing_file = &f_dir;
  CHECK(translate(&m, &d));
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/Users/ann/Library/LaunchAgents") == 0);
  CHECK(d.flags & BM_FLAG_DIR);

  m = base_msg(ES_EVENT_TYPE_NOTIFY_RENAME, ES_ACTION_TYPE_NOTIFY);
  m.event.rename.source = &f_target;
  m.event.rename.destination_type = ES_DESTINATION_TYPE_NEW_PATH;
  m.event.rename.destination.new_path.dir = &f_dir;
  m.event.rename.destination.new_path.filename = T("x");
  CHECK(translate(&m, &d) && d.kind == BM_KIND_RENAME);
  dump("rename");
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/Users/ann/Downloads/payload") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_TARGET_PATH, 0), "/Users/ann/Library/LaunchAgents/x") == 0);
  m.event.rename.destination_type = ES_DESTINATION_TYPE_EXISTING_FILE;
  m.event.rename.destination.existing_file = &f_bash;
  CHECK(translate(&m, &d));
  CHECK(strcmp(str_at(&d, BM_STR_TARGET_PATH, 0), "/bin/zsh") == 0);

  m = base_msg(ES_EVENT_TYPE_NOTIFY_UNLINK, ES_ACTION_TYPE_NOTIFY);
  m.event.unlink.target = &f_target;
  m.event.unlink.parent_dir = &f_cwd;
  CHECK(translate(&m, &d) && d.kind == BM_KIND_UNLINK);
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/Users/ann/Downloads/payload") == 0);

  m = base_msg(ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR, ES_ACTION_TYPE_NOTIFY);
  m.event.deleteextattr.target = &f_target;
  m.event.deleteextattr.extattr = T("com.apple.quarantine");
  CHECK(translate(&m, &d) && d.kind == BM_KIND_DELETEXATTR);
  dump("deletexattr");
  CHECK(strcmp(str_at(&d, BM_STR_XATTR, 0), "com.apple.quarantine") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/Users/ann/Downloads/payload") == 0);
  m = base_msg(ES_EVENT_TYPE_NOTIFY_SETEXTATTR, ES_ACTION_TYPE_NOTIFY);
  m.event.setextattr.target = &f_target;
  m.event.setextattr.extattr = T("com.apple.metadata:kMDItemWhereFroms");
  CHECK(translate(&m, &d) && d.kind == BM_KIND_SETXATTR);
  CHECK(strcmp(str_at(&d, BM_STR_XATTR, 0), "com.apple.metadata:kMDItemWhereFroms") == 0);

  /* BTM: the instigator is the process; the item url and executable are kept */
  es_btm_launch_item_t item = {ES_BTM_ITEM_TYPE_AGENT, false, false, 501,
                               T("file:///Users/ann/Library/LaunchAgents/com.evil.agent.plist"),
                               T("")};
  es_event_btm_launch_item_add_t add = {&p_child, NULL, &item, T("/Users/ann/.evil/agent")};
  m = base_msg(ES_EVENT_TYPE_NOTIFY_BTM_LAUNCH_ITEM_ADD, ES_ACTION_TYPE_NOTIFY);
  m.event.btm_launch_item_add = &add;
  CHECK(translate(&m, &d) && d.kind == BM_KIND_LAUNCH_ITEM_ADD);
  dump("launch_item_add");
  CHECK(d.pid == 4200);
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/Users/ann/.evil/agent") == 0);
  CHECK(strcmp(str_at(&d, BM_STR_LAUNCH_ITEM, 0),
               "file:///Users/ann/Library/LaunchAgents/com.evil.agent.plist") == 0);
  add.instigator = NULL;
  CHECK(translate(&m, &d) && d.pid == 4100); /* falls back to the message's process */

  /* a string ES marks with a trailing NUL inside length is recorded without it */
  es_file_t nul;
  file(&nul, "/tmp/a", 0, S_IFREG | 0644, 1, 5);
  nul.path.length = 7; /* "/tmp/a\0" */
  m = base_msg(ES_EVENT_TYPE_NOTIFY_UNLINK, ES_ACTION_TYPE_NOTIFY);
  m.event.unlink.target = &nul;
  CHECK(translate(&m, &d));
  CHECK(strcmp(str_at(&d, BM_STR_PATH, 0), "/tmp/a") == 0);
}

static void test_truncation(void) {
  es_message_t m = base_msg(ES_EVENT_TYPE_NOTIFY_UNLINK, ES_ACTION_TYPE_NOTIFY);
  m.event.unlink.target = &f_target;
  bm_mac_event ev;
  CHECK(bm_es_map(&m, &ev));
  static uint8_t small[BM_RECORD_HEADER_SIZE + 24];
  bm_rec r;
  CHECK(bm_macos_encode(&ev, &r, small, sizeof small) == -1);
  dec_t d;
  decode(small, bm_rec_finish(&r), &d);
  CHECK(d.kind == BM_KIND_UNLINK && d.pid == 4100);
}

static void test_time(void) {
  /* Apple silicon timebase 125/3: 24 MHz ticks */
  CHECK(bm_mach_to_ns(24000000, 125, 3) == 1000000000ull);
  CHECK(bm_mach_to_ns(1, 125, 3) == 41);
  CHECK(bm_mach_to_ns(1ull << 62, 125, 3) == (1ull << 62) / 3 * 125 + ((1ull << 62) % 3) * 125 / 3);
  CHECK(bm_mach_to_ns(12345, 1, 1) == 12345); /* Intel */
  uint64_t now = 5000000000ull;
  /* ES gives 3 s (24 MHz ticks): the deadline is 3 s from now on the monotonic clock */
  CHECK(bm_macos_deadline_ns(now, 1000, 1000 + 72000000, 125, 3) == now + 3000000000ull);
  CHECK(bm_macos_deadline_ns(now, 1000, 1000 + 1440000000ull, 125, 3) == now + 60000000000ull);
  /* past: now (the core answers at once) */
  CHECK(bm_macos_deadline_ns(now, 5000, 1000, 125, 3) == now);
  /* no ES deadline (notify): none */
  CHECK(bm_macos_deadline_ns(now, 1000, 0, 125, 3) == 0);
  /* with the core: ES 3 s, config 5 s, margin 1 s -> watchdog at now + 2 s; ES 60 s -> the
     configured 5 s - 1 s; ES 0.5 s (within the margin) -> at once */
  bm_config cfg;
  char err[128];
  CHECK(bm_config_parse("auth_deadline_ms=5000\ndeadline_margin_ms=1000\n", &cfg, err, sizeof err) == 0);
  CHECK(bm_core_due_ns(&cfg, now, bm_macos_deadline_ns(now, 1000, 1000 + 72000000, 125, 3)) ==
        now + 2000000000ull);
  CHECK(bm_core_due_ns(&cfg, now, bm_macos_deadline_ns(now, 1000, 1000 + 1440000000ull, 125, 3)) ==
        now + 4000000000ull);
  CHECK(bm_core_due_ns(&cfg, now, bm_macos_deadline_ns(now, 1000, 1000 + 12000000, 125, 3)) == now);
}

static void test_seq(void) {
  bm_seq_track t = {0, 0};
  CHECK(bm_seq_missed(&t, 7) == 0); /* first seen */
  CHECK(bm_seq_missed(&t, 8) == 0);
  CHECK(bm_seq_missed(&t, 12) == 3);
  CHECK(bm_seq_missed(&t, 13) == 0);
  CHECK(bm_seq_missed(&t, 0) == 0); /* restart: not a drop */
  CHECK(bm_seq_missed(&t, 2) == 1);
}

static void test_messages(void) {
  CHECK(strstr(bm_macos_new_client_error(BM_MAC_NC_NOT_ENTITLED),
               "com.apple.developer.endpoint-security.client"));
  CHECK(strstr(bm_macos_new_client_error(BM_MAC_NC_NOT_PERMITTED),
               "System Settings > Privacy & Security > Full Disk Access"));
  CHECK(strstr(bm_macos_new_client_error(BM_MAC_NC_NOT_PRIVILEGED), "as root"));
  CHECK(strstr(bm_macos_new_client_error(BM_MAC_NC_TOO_MANY_CLIENTS), "too many clients"));
  for (int c = BM_MAC_NC_INVALID_ARGUMENT; c <= BM_MAC_NC_UNKNOWN; c++) {
    const char *s = bm_macos_new_client_error((enum bm_mac_new_client)c);
    size_t n = strlen(s);
    CHECK(n > 40 && s[0] >= 'A' && s[0] <= 'Z' && s[n - 1] != '.');
  }
}

/* ---- the real core: the ES deadline makes the watchdog answer early ---- */
static pthread_mutex_t ans_mu = PTHREAD_MUTEX_INITIALIZER;
static int answers, last_allow = -1;
static uint64_t last_token, answered_ns;
static void on_answer(void *ctx, uint64_t token, int allow, int cache) {
  (void)ctx;
  (void)cache;
  pthread_mutex_lock(&ans_mu);
  answers++;
  last_token = token;
  last_allow = allow;
  answered_ns = bm_now_mono_ns();
  pthread_mutex_unlock(&ans_mu);
}

static void test_watchdog_deadline(void) {
  bm_config cfg;
  char err[256] = "";
  CHECK(bm_config_parse("auth_deadline_ms=30000\ndeadline_margin_ms=1000\nfail_open=1\n"
                        "own_pid=1\n", &cfg, err, sizeof err) == 0);
  bm_sensor *s = calloc(1, sizeof *s);
  CHECK(bm_core_init(s, &cfg, on_answer, NULL, NULL, err, sizeof err) == 0);

  es_message_t m = base_msg(ES_EVENT_TYPE_AUTH_OPEN, ES_ACTION_TYPE_AUTH);
  m.event.open.file = &f_target;
  bm_mac_event ev;
  CHECK(bm_es_map(&m, &ev));
  bm_rec r;
  bm_macos_encode(&ev, &r, recbuf, sizeof recbuf);
  uint64_t t0 = bm_now_mono_ns();
  double wall0 = bm_now_wall_ms();
  /* ES says 1.2 s left (24 MHz ticks), margin 1 s: due in 0.2 s, not 29 s */
  uint64_t deadline = bm_macos_deadline_ns(t0, 1000, 1000 + 28800000ull, 125, 3);
  uint32_t id = bm_core_submit_auth_deadline(s, &r, 0xfeed, ev.proc.pid, NULL, (bm_key){0, 0}, 0,
                                             deadline);
  CHECK(id != 0);
  uint8_t out[4096];
  CHECK(bm_sensor_drain(s, out, sizeof out) > 0);
  double dl = bm_rec_get_f64(out, BM_OFF_DEADLINE); /* the record carries ES's deadline */
  CHECK(dl > wall0 + 1100 && dl < wall0 + 1300);
  for (int i = 0; i < 300; i++) {
    pthread_mutex_lock(&ans_mu);
    int a = answers;
    pthread_mutex_unlock(&ans_mu);
    if (a) break;
    usleep(10000);
  }
  pthread_mutex_lock(&ans_mu);
  CHECK(answers == 1 && last_token == 0xfeed && last_allow == 1);
  uint64_t took = answered_ns - t0;
  pthread_mutex_unlock(&ans_mu);
  CHECK(took < 3000000000ull); /* far before the configured 29 s */
  CHECK(bm_sensor_respond(s, id, 0, 0) == 1); /* the agent is late now */

  bm_macos_count_missed(s, 5);
  bm_sensor_stats st;
  bm_sensor_get_stats(s, &st, sizeof st);
  CHECK(st.auth_by_watchdog == 1 && st.late_answers == 1);
  CHECK(st.dropped == 5 && st.queue_errors == 1);

  bm_sensor_close(s);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--dump") == 0) dump_dir = argv[2];
  setup_procs();
  test_exec();
  test_exec_old_message_version();
  test_fork_exit();
  test_files();
  test_truncation();
  test_time();
  test_seq();
  test_messages();
  test_watchdog_deadline();
  return check_result("test_macos_translate");
}
