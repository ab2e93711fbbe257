/* ES message -> bm_mac_event: see es_map.h. */
#include <bsm/libbsm.h>
#include <string.h>

#include "es_map.h"

/* BTM events exist from macOS 13; the dylib targets macOS 11 and asks at run time. */
#if defined(__APPLE__) && defined(__clang__)
#define BM_HAS_BTM() __builtin_available(macOS 13.0, *)
#else
#define BM_HAS_BTM() 1
#endif

static bm_mac_str tok(es_string_token_t t) {
  return (bm_mac_str){t.data, t.data ? t.length : 0};
}

static int token_empty(const audit_token_t *t) {
  for (unsigned i = 0; i < sizeof t->val / sizeof t->val[0]; i++)
    if (t->val[i]) return 0;
  return 1;
}

void bm_es_map_file(const es_file_t *f, bm_mac_file *out) {
  memset(out, 0, sizeof *out);
  if (!f) return;
  out->path = tok(f->path);
  out->has_stat = 1;
  out->uid = (int32_t)f->stat.st_uid;
  out->mode = (uint32_t)f->stat.st_mode;
  out->size = (double)f->stat.st_size;
  out->dev = (uint64_t)f->stat.st_dev;
  out->ino = (uint64_t)f->stat.st_ino;
#ifdef __APPLE__
  out->ctime_sec = (int64_t)f->stat.st_ctimespec.tv_sec;
  out->ctime_nsec = (int64_t)f->stat.st_ctimespec.tv_nsec;
#else
  out->ctime_sec = (int64_t)f->stat.st_ctim.tv_sec;
  out->ctime_nsec = (int64_t)f->stat.st_ctim.tv_nsec;
#endif
}

void bm_es_map_proc(const es_process_t *p, uint32_t version, bm_mac_proc *out) {
  memset(out, 0, sizeof *out);
  out->pid = (int32_t)audit_token_to_pid(p->audit_token);
  out->ppid = (int32_t)p->ppid;
  out->uid = (int32_t)audit_token_to_ruid(p->audit_token);
  out->euid = (int32_t)audit_token_to_euid(p->audit_token);
  if (p->executable) out->executable = tok(p->executable->path);
  out->signing_id = tok(p->signing_id);
  out->team_id = tok(p->team_id);
  memcpy(out->cdhash, p->cdhash, sizeof out->cdhash);
  out->platform_binary = p->is_platform_binary ? 1 : 0;
  if (version >= 2 && p->tty) out->tty = tok(p->tty->path);
  if (version >= 3) {
    out->start_ms = (double)p->start_time.tv_sec * 1e3 + (double)p->start_time.tv_usec / 1e3;
  }
  if (version >= 4) {
    /* the parent token survives reparenting to launchd; ppid does not */
    if (!token_empty(&p->parent_audit_token))
      out->ppid = (int32_t)audit_token_to_pid(p->parent_audit_token);
    if (!token_empty(&p->responsible_audit_token))
      out->responsible_pid = (int32_t)audit_token_to_pid(p->responsible_audit_token);
  }
}

static bm_mac_str exec_arg(const void *ctx, uint32_t i) {
  return tok(es_exec_arg((const es_event_exec_t *)ctx, i));
}

static bm_mac_str exec_env(const void *ctx, uint32_t i) {
  return tok(es_exec_env((const es_event_exec_t *)ctx, i));
}

uint8_t bm_es_kind(es_event_type_t type) {
  switch (type) {
  case ES_EVENT_TYPE_AUTH_EXEC:
  case ES_EVENT_TYPE_NOTIFY_EXEC: return BM_KIND_EXEC;
  case ES_EVENT_TYPE_NOTIFY_FORK: return BM_KIND_FORK;
  case ES_EVENT_TYPE_NOTIFY_EXIT: return BM_KIND_EXIT;
  case ES_EVENT_TYPE_AUTH_OPEN: return BM_KIND_OPEN;
  case ES_EVENT_TYPE_NOTIFY_CLOSE: return BM_KIND_CLOSE_MODIFIED;
  case ES_EVENT_TYPE_NOTIFY_CREATE: return BM_KIND_CREATE;
  case ES_EVENT_TYPE_NOTIFY_RENAME: return BM_KIND_RENAME;
  case ES_EVENT_TYPE_NOTIFY_UNLINK: return BM_KIND_UNLINK;
  case ES_EVENT_TYPE_NOTIFY_SETEXTATTR: return BM_KIND_SETXATTR;
  case ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR: return BM_KIND_DELETEXATTR;
  default: break;
  }
  if (BM_HAS_BTM()) {
    if (type == ES_EVENT_TYPE_NOTIFY_BTM_LAUNCH_ITEM_ADD) return BM_KIND_LAUNCH_ITEM_ADD;
  }
  return 0;
}

/* Fills ev from a BTM launch-item-add message (macOS 13+). */
static int map_btm(const es_message_t *msg, bm_mac_event *ev) {
  if (BM_HAS_BTM()) {
    const es_event_btm_launch_item_add_t *b = msg->event.btm_launch_item_add;
    if (!b) return 0;
    /* who added the item, when ES knows; else the BTM daemon that reported it */
    if (b->instigator) bm_es_map_proc(b->instigator, msg->version, &ev->proc);
    ev->file.path = tok(b->executable_path);
    if (b->item) ev->launch_item = tok(b->item->item_url);
    return 1;
  }
  return 0;
}

int bm_es_map(const es_message_t *msg, bm_mac_event *ev) {
  memset(ev, 0, sizeof *ev);
  ev->kind = bm_es_kind(msg->event_type);
  if (!ev->kind) return 0;
  ev->auth = msg->action_type == ES_ACTION_TYPE_AUTH;
  ev->time_ms = (double)msg->time.tv_sec * 1e3 + (double)msg->time.tv_nsec / 1e6;
  const uint32_t v = msg->version;
  bm_es_map_proc(msg->process, v, &ev->proc);
  switch (msg->event_type) {
  case ES_EVENT_TYPE_AUTH_EXEC:
  case ES_EVENT_TYPE_NOTIFY_EXEC: {
    const es_event_exec_t *x = &msg->event.exec;
    /* the record describes the process after the exec: its new image */
    bm_es_map_proc(x->target, v, &ev->proc);
    bm_es_map_file(x->target->executable, &ev->file);
    ev->argc = es_exec_arg_count(x);
    ev->arg = exec_arg;
    ev->arg_ctx = x;
    ev->envc = es_exec_env_count(x);
    ev->env = exec_env;
    if (v >= 3 && x->cwd) ev->cwd = tok(x->cwd->path);
    break;
  }
  case ES_EVENT_TYPE_NOTIFY_FORK: {
    /* the child; its parent is the message's process */
    int32_t parent = ev->proc.pid;
    bm_es_map_proc(msg->event.fork.child, v, &ev->proc);
    ev->proc.ppid = parent;
    break;
  }
  case ES_EVENT_TYPE_NOTIFY_EXIT:
    ev->exit_status = msg->event.exit.stat;
    break;
  case ES_EVENT_TYPE_AUTH_OPEN:
    bm_es_map_file(msg->event.open.file, &ev->file);
    break;
  case ES_EVENT_TYPE_NOTIFY_CLOSE:
    if (!msg->event.close.modified) return 0;
    bm_es_map_file(msg->event.close.target, &ev->file);
    break;
  case ES_EVENT_TYPE_NOTIFY_CREATE: {
    const es_event_create_t *c = &msg->event.create;
    if (c->destination_type == ES_DESTINATION_TYPE_NEW_PATH) {
      ev->dest.is_new_path = 1;
      ev->dest.dir = c->destination.new_path.dir ? tok(c->destination.new_path.dir->path)
                                                 : (bm_mac_str){0, 0};
      ev->dest.name = tok(c->destination.new_path.filename);
      ev->dest.new_mode = (uint32_t)c->destination.new_path.mode;
    } else {
      bm_es_map_file(c->destination.existing_file, &ev->dest.file);
    }
    break;
  }
  case ES_EVENT_TYPE_NOTIFY_RENAME: {
    const es_event_rename_t *r = &msg->event.rename;
    bm_es_map_file(r->source, &ev->file);
    if (r->destination_type == ES_DESTINATION_TYPE_NEW_PATH) {
      ev->dest.is_new_path = 1;
      ev->dest.dir = r->destination.new_path.dir ? tok(r->destination.new_path.dir->path)
                                                 : (bm_mac_str){0, 0};
      ev->dest.name = tok(r->destination.new_path.filename);
    } else {
      bm_es_map_file(r->destination.existing_file, &ev->dest.file);
    }
    break;
  }
  case ES_EVENT_TYPE_NOTIFY_UNLINK:
    bm_es_map_file(msg->event.unlink.target, &ev->file);
    break;
  case ES_EVENT_TYPE_NOTIFY_SETEXTATTR:
    bm_es_map_file(msg->event.setextattr.target, &ev->file);
    ev->xattr = tok(msg->event.setextattr.extattr);
    break;
  case ES_EVENT_TYPE_NOTIFY_DELETEEXTATTR:
    bm_es_map_file(msg->event.deleteextattr.target, &ev->file);
    ev->xattr = tok(msg->event.deleteextattr.extattr);
    break;
  default:
    return ev->kind == BM_KIND_LAUNCH_ITEM_ADD ? map_btm(msg, ev) : 0;
  }
  return 1;
}
