/*
 * Fast-path tables pushed down from the agent: an allow cache keyed by file
 * identity (open addressing, linear probing) and small deny lists by pid and
 * by executable path (linear: they hold a handful of entries).
 */
#include <stdlib.h>
#include <string.h>

#include "bm_core.h"

#define CACHE_MAX 65536u

static int key_empty(bm_key k) { return k.a == 0 && k.b == 0; }
static uint32_t key_hash(bm_key k, uint32_t mask) {
  uint64_t h = k.a * 0x9E3779B97F4A7C15ull ^ (k.b + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
  return (uint32_t)(h ^ (h >> 32)) & mask;
}

int bm_tables_init(bm_tables *t) {
  memset(t, 0, sizeof *t);
  if (pthread_mutex_init(&t->mu, NULL)) return -1;
  t->cache_cap = 1024;
  t->cache = calloc(t->cache_cap, sizeof(bm_key));
  return t->cache ? 0 : -1;
}

void bm_tables_free(bm_tables *t) {
  free(t->cache);
  free(t->pids);
  for (uint32_t i = 0; i < t->path_n; i++) free(t->paths[i]);
  free(t->paths);
  pthread_mutex_destroy(&t->mu);
}

static void cache_insert(bm_tables *t, bm_key k) {
  uint32_t mask = t->cache_cap - 1;
  for (uint32_t i = key_hash(k, mask);; i = (i + 1) & mask) {
    if (key_empty(t->cache[i])) { t->cache[i] = k; t->cache_n++; return; }
    if (t->cache[i].a == k.a && t->cache[i].b == k.b) return;
  }
}

void bm_tables_cache_add(bm_tables *t, bm_key k) {
  if (key_empty(k)) return;
  pthread_mutex_lock(&t->mu);
  if ((t->cache_n + 1) * 2 > t->cache_cap) {
    if (t->cache_cap * 2 > CACHE_MAX * 2) {
      /* full: start over rather than grow without bound */
      memset(t->cache, 0, t->cache_cap * sizeof(bm_key));
      t->cache_n = 0;
    } else {
      bm_key *old = t->cache;
      uint32_t oldcap = t->cache_cap;
      bm_key *nc = calloc(oldcap * 2, sizeof(bm_key));
      if (nc) {
        t->cache = nc;
        t->cache_cap = oldcap * 2;
        t->cache_n = 0;
        for (uint32_t i = 0; i < oldcap; i++)
          if (!key_empty(old[i])) cache_insert(t, old[i]);
        free(old);
      } else {
        memset(t->cache, 0, oldcap * sizeof(bm_key));
        t->cache_n = 0;
      }
    }
  }
  cache_insert(t, k);
  pthread_mutex_unlock(&t->mu);
}

void bm_tables_cache_remove(bm_tables *t, bm_key k) {
  pthread_mutex_lock(&t->mu);
  uint32_t mask = t->cache_cap - 1;
  uint32_t i = key_hash(k, mask);
  while (!key_empty(t->cache[i])) {
    if (t->cache[i].a == k.a && t->cache[i].b == k.b) {
      /* remove and re-insert the rest of the cluster */
      t->cache[i] = (bm_key){0, 0};
      t->cache_n--;
      for (uint32_t j = (i + 1) & mask; !key_empty(t->cache[j]); j = (j + 1) & mask) {
        bm_key m = t->cache[j];
        t->cache[j] = (bm_key){0, 0};
        t->cache_n--;
        cache_insert(t, m);
      }
      break;
    }
    i = (i + 1) & mask;
  }
  pthread_mutex_unlock(&t->mu);
}

void bm_tables_cache_clear(bm_tables *t) {
  pthread_mutex_lock(&t->mu);
  memset(t->cache, 0, t->cache_cap * sizeof(bm_key));
  t->cache_n = 0;
  pthread_mutex_unlock(&t->mu);
}

static int pid_index(bm_tables *t, int32_t pid) {
  for (uint32_t i = 0; i < t->pid_n; i++)
    if (t->pids[i] == pid) return (int)i;
  return -1;
}

static void pid_add_locked(bm_tables *t, int32_t pid) {
  if (pid_index(t, pid) >= 0) return;
  if (t->pid_n == t->pid_cap) {
    uint32_t nc = t->pid_cap ? t->pid_cap * 2 : 16;
    int32_t *np = realloc(t->pids, nc * sizeof(int32_t));
    if (!np) return;
    t->pids = np;
    t->pid_cap = nc;
  }
  t->pids[t->pid_n++] = pid;
}

static void pid_remove_locked(bm_tables *t, int32_t pid) {
  int i = pid_index(t, pid);
  if (i >= 0) t->pids[i] = t->pids[--t->pid_n];
}

void bm_tables_deny_pid(bm_tables *t, int32_t pid, int on) {
  pthread_mutex_lock(&t->mu);
  if (on) pid_add_locked(t, pid); else pid_remove_locked(t, pid);
  pthread_mutex_unlock(&t->mu);
}

void bm_tables_deny_path(bm_tables *t, const char *path, int on) {
  pthread_mutex_lock(&t->mu);
  uint32_t i;
  for (i = 0; i < t->path_n; i++)
    if (strcmp(t->paths[i], path) == 0) break;
  if (on && i == t->path_n) {
    if (t->path_n == t->path_cap) {
      uint32_t nc = t->path_cap ? t->path_cap * 2 : 16;
      char **np = realloc(t->paths, nc * sizeof(char *));
      if (!np) goto out;
      t->paths = np;
      t->path_cap = nc;
    }
    char *d = strdup(path);
    if (d) t->paths[t->path_n++] = d;
  } else if (!on && i < t->path_n) {
    free(t->paths[i]);
    t->paths[i] = t->paths[--t->path_n];
  }
out:
  pthread_mutex_unlock(&t->mu);
}

void bm_tables_on_fork(bm_tables *t, int32_t parent, int32_t child) {
  pthread_mutex_lock(&t->mu);
  if (t->pid_n && pid_index(t, parent) >= 0) pid_add_locked(t, child);
  pthread_mutex_unlock(&t->mu);
}

void bm_tables_on_exit(bm_tables *t, int32_t pid) {
  pthread_mutex_lock(&t->mu);
  if (t->pid_n) pid_remove_locked(t, pid);
  pthread_mutex_unlock(&t->mu);
}

int bm_tables_decide(bm_tables *t, int32_t pid, const char *path, bm_key k) {
  int r = -1;
  pthread_mutex_lock(&t->mu);
  if (t->pid_n && pid_index(t, pid) >= 0) { r = 0; goto out; }
  if (path) {
    for (uint32_t i = 0; i < t->path_n; i++)
      if (strcmp(t->paths[i], path) == 0) { r = 0; goto out; }
  }
  if (t->cache_enabled && !key_empty(k)) {
    uint32_t mask = t->cache_cap - 1;
    for (uint32_t i = key_hash(k, mask); !key_empty(t->cache[i]); i = (i + 1) & mask)
      if (t->cache[i].a == k.a && t->cache[i].b == k.b) { r = 1; break; }
  }
out:
  pthread_mutex_unlock(&t->mu);
  return r;
}
