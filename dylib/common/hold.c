/*
 * The hold table: notify records the interest filter passed only through a
 * hold pattern ("hN": a rule needs this file only if the same path is then
 * executed, e.g. a write into /tmp that a drop-then-run rule pairs with an
 * exec of that file). Such a record is kept here instead of reaching the
 * agent; when an exec record names the same path, the held records go to the
 * ring just before it, marked BM_FLAG_LATE, with that exec's path string as
 * their file.path (the rule compares the two as equal strings, so the path
 * itself need not be kept: a 64-bit hash of it is). An unlink of the path
 * forgets them (the written file is gone: a later exec of the path runs
 * another file, written again), and so does age (hN: the rule's span, after
 * which it could not pair them any more). A tar x then rm -rf of a tree in
 * /tmp then costs the agent nothing.
 *
 * Open addressing with linear probing on the path hash; records of one path
 * by several writers sit on one probe run. Bounded: when 3/4 full (after a
 * sweep of expired entries, at most once a second) a new record is not held
 * but passes as before, so nothing is lost, only not saved. The writer's pid
 * slot is remembered, so that its exec and exit records can say it wrote
 * held files (BM_FLAG_HELD_WRITES: the agent keeps the image it wrote them
 * as, and the exited process, as long as a held record of it may still come).
 */
#include <stdlib.h>
#include <string.h>

#include "bm_core.h"

#define HOLD_SLOTS 32768u                 /* power of two */
#define HOLD_MAX (HOLD_SLOTS / 4u * 3u)   /* entries at most */
#define HOLD_SWEEP_NS 1000000000ull       /* at most one full sweep a second */

typedef struct bm_hold_entry {
  uint64_t hash;       /* path hash, 0 = free */
  uint64_t expires_ns; /* monotonic */
  uint8_t hdr[BM_RECORD_HEADER_SIZE];
} bm_hold_entry;

struct bm_hold {
  bm_hold_entry *e;
  uint32_t n;
  uint64_t last_sweep_ns;
  int32_t writer[BM_EXE_SLOTS]; /* pid of a writer with held records, by pid slot; 0 none */
};

bm_hold *bm_hold_new(void) {
  bm_hold *h = calloc(1, sizeof *h);
  if (h) h->e = calloc(HOLD_SLOTS, sizeof *h->e);
  if (!h || !h->e) {
    free(h);
    return NULL;
  }
  return h;
}

void bm_hold_free(bm_hold *h) {
  if (!h) return;
  free(h->e);
  free(h);
}

uint32_t bm_hold_count(const bm_hold *h) { return h ? h->n : 0; }

/* Removes slot i and closes the gap (backward shift: every run stays unbroken). */
static void remove_at(bm_hold *h, uint32_t i) {
  const uint32_t mask = HOLD_SLOTS - 1;
  uint32_t j = i;
  for (;;) {
    h->e[i].hash = 0;
    for (;;) {
      j = (j + 1) & mask;
      if (!h->e[j].hash) {
        h->n--;
        return;
      }
      uint32_t home = (uint32_t)h->e[j].hash & mask;
      /* j's entry may fill the gap at i unless its home lies cyclically in (i, j] */
      if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) break;
    }
    h->e[i] = h->e[j];
    i = j;
  }
}

static void sweep(bm_hold *h, uint64_t now_ns) {
  h->last_sweep_ns = now_ns;
  for (uint32_t i = 0; i < HOLD_SLOTS; i++)
    while (h->e[i].hash && h->e[i].expires_ns <= now_ns) remove_at(h, i);
}

static int same_writer(const uint8_t *a, const uint8_t *b) {
  return memcmp(a + BM_OFF_PID, b + BM_OFF_PID, 4) == 0 && memcmp(a + BM_OFF_START, b + BM_OFF_START, 8) == 0 &&
         a[BM_OFF_KIND] == b[BM_OFF_KIND];
}

int bm_hold_put(bm_hold *h, const uint8_t *rec, uint64_t path_hash, uint64_t keep_ns, uint64_t now_ns) {
  const uint32_t mask = HOLD_SLOTS - 1;
  /* the same writer writing the same path again: one entry, its latest record */
  uint32_t i = (uint32_t)path_hash & mask;
  for (; h->e[i].hash; i = (i + 1) & mask) {
    if (h->e[i].hash == path_hash && same_writer(h->e[i].hdr, rec)) {
      memcpy(h->e[i].hdr, rec, BM_RECORD_HEADER_SIZE);
      h->e[i].expires_ns = now_ns + keep_ns;
      return 0;
    }
  }
  if (h->n >= HOLD_MAX) {
    if (now_ns - h->last_sweep_ns < HOLD_SWEEP_NS) return -1;
    sweep(h, now_ns);
    if (h->n >= HOLD_MAX) return -1;
    for (i = (uint32_t)path_hash & mask; h->e[i].hash; i = (i + 1) & mask) {
    }
  }
  h->e[i].hash = path_hash;
  h->e[i].expires_ns = now_ns + keep_ns;
  memcpy(h->e[i].hdr, rec, BM_RECORD_HEADER_SIZE);
  h->n++;
  int32_t pid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PID);
  h->writer[(uint32_t)pid & (BM_EXE_SLOTS - 1)] = pid;
  return 0;
}

uint32_t bm_hold_take(bm_hold *h, uint64_t path_hash, uint64_t now_ns, bm_hold_fn fn, void *ctx) {
  const uint32_t mask = HOLD_SLOTS - 1;
  uint32_t taken = 0;
  uint32_t i = (uint32_t)path_hash & mask;
  while (h->e[i].hash) {
    if (h->e[i].hash != path_hash) {
      i = (i + 1) & mask;
      continue;
    }
    if (h->e[i].expires_ns > now_ns && fn) {
      fn(ctx, h->e[i].hdr);
      taken++;
    }
    remove_at(h, i); /* slot i now holds the run's next entry, if any: look at it again */
  }
  return taken;
}

int bm_hold_is_writer(const bm_hold *h, int32_t pid) {
  return pid != 0 && h->writer[(uint32_t)pid & (BM_EXE_SLOTS - 1)] == pid;
}

int bm_hold_writer_exits(bm_hold *h, int32_t pid) {
  uint32_t slot = (uint32_t)pid & (BM_EXE_SLOTS - 1);
  if (h->writer[slot] != pid || pid == 0) return 0;
  h->writer[slot] = 0;
  return 1;
}
