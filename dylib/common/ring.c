/*
 * Byte ring of whole records. A record never straddles the end: when it does
 * not fit before the end, the rest of the buffer becomes padding (`wrap`) and
 * the record goes at offset 0. Callers hold the sensor mutex.
 */
#include <stdlib.h>
#include <string.h>

#include "bm_core.h"

int bm_ring_init(bm_ring *q, uint32_t cap) {
  memset(q, 0, sizeof *q);
  cap = (cap + 7u) & ~7u;
  if (cap < 2 * BM_MAX_RECORD) cap = 2 * BM_MAX_RECORD;
  q->data = malloc(cap);
  if (!q->data) return -1;
  q->cap = cap;
  return 0;
}

void bm_ring_free(bm_ring *q) {
  free(q->data);
  q->data = NULL;
}

int bm_ring_push(bm_ring *q, const uint8_t *rec, uint32_t len) {
  if (len == 0 || len % 8 || len > q->cap) return -1;
  if (q->used == 0) {
    q->head = q->tail = q->wrap = 0;
  } else if (q->head == q->tail) {
    return -1; /* full */
  }
  if (q->used == 0 || q->head > q->tail) {
    /* free space: [head, cap) then [0, tail) */
    if (q->cap - q->head >= len) {
      memcpy(q->data + q->head, rec, len);
      q->head += len;
      if (q->head == q->cap) q->head = 0;
      q->used += len;
      return 0;
    }
    if (q->tail < len) return -1;
    q->wrap = q->head; /* [wrap, cap) is padding, counted in used */
    q->used += q->cap - q->head;
    memcpy(q->data, rec, len);
    q->head = len;
    q->used += len;
    return 0;
  }
  /* head < tail: free space is [head, tail) */
  if (q->tail - q->head < len) return -1;
  memcpy(q->data + q->head, rec, len);
  q->head += len;
  q->used += len;
  return 0;
}

uint32_t bm_ring_pop(bm_ring *q, uint8_t *out, uint32_t cap) {
  uint32_t n = 0;
  while (q->used) {
    if (q->wrap && q->tail == q->wrap) {
      q->used -= q->cap - q->wrap;
      q->wrap = 0;
      q->tail = 0;
      continue;
    }
    if (q->tail == q->cap) { q->tail = 0; continue; }
    uint32_t len = bm_rec_get_u32(q->data, q->tail);
    if (n + len > cap) break;
    memcpy(out + n, q->data + q->tail, len);
    n += len;
    q->tail += len;
    q->used -= len;
    if (q->tail == q->cap) q->tail = 0;
  }
  if (q->used == 0) { q->head = 0; q->tail = 0; q->wrap = 0; }
  return n;
}
