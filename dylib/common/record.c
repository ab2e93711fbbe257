/* Record encoder: the little-endian layout documented in bm_sensor.h. */
#include <string.h>

#include "bm_core.h"

static void put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void bm_rec_begin(bm_rec *r, uint8_t *buf, uint32_t cap, uint8_t kind, uint8_t flags) {
  r->buf = buf;
  r->cap = cap;
  r->len = BM_RECORD_HEADER_SIZE;
  r->nstr = 0;
  r->truncated = 0;
  memset(buf, 0, BM_RECORD_HEADER_SIZE);
  put_u16(buf + BM_OFF_VERSION, BM_RECORD_VERSION);
  buf[BM_OFF_KIND] = kind;
  buf[BM_OFF_FLAGS] = flags;
  bm_rec_set_i32(r, BM_OFF_PPID, -1);
  bm_rec_set_i32(r, BM_OFF_UID, -1);
  bm_rec_set_i32(r, BM_OFF_EUID, -1);
  bm_rec_set_i32(r, BM_OFF_FILE_UID, -1);
  bm_rec_set_f64(r, BM_OFF_FILE_SIZE, -1.0);
}

void bm_rec_set_u8(bm_rec *r, uint32_t off, uint8_t v) { r->buf[off] = v; }
void bm_rec_set_u32(bm_rec *r, uint32_t off, uint32_t v) { put_u32(r->buf + off, v); }
void bm_rec_set_i32(bm_rec *r, uint32_t off, int32_t v) { put_u32(r->buf + off, (uint32_t)v); }
void bm_rec_set_f64(bm_rec *r, uint32_t off, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  put_u64(r->buf + off, u);
}

uint32_t bm_rec_get_u32(const uint8_t *p, uint32_t off) {
  p += off;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
double bm_rec_get_f64(const uint8_t *p, uint32_t off) {
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--) u = (u << 8) | p[off + (uint32_t)i];
  double v;
  memcpy(&v, &u, 8);
  return v;
}

int bm_rec_str(bm_rec *r, uint8_t tag, const char *s, size_t len) {
  /* keep 8 bytes of slack so finish() can always pad */
  if (r->len + 4 + 8 > r->cap || r->nstr == 0xffff) {
    r->truncated = 1;
    return -1;
  }
  size_t room = r->cap - 8 - r->len - 4;
  int cut = 0;
  if (len > BM_STR_MAX) { len = BM_STR_MAX; cut = 1; }
  if (len > room) { len = room; cut = 1; }
  uint8_t *p = r->buf + r->len;
  p[0] = tag;
  p[1] = 0;
  put_u16(p + 2, (uint16_t)len);
  if (len) memcpy(p + 4, s, len);
  r->len += 4 + (uint32_t)len;
  r->nstr++;
  if (cut) r->truncated = 1;
  return cut ? -1 : 0;
}

int bm_rec_cstr(bm_rec *r, uint8_t tag, const char *s) {
  return bm_rec_str(r, tag, s, strlen(s));
}

uint32_t bm_rec_finish(bm_rec *r) {
  while (r->len % 8) r->buf[r->len++] = 0;
  put_u32(r->buf + BM_OFF_SIZE, r->len);
  put_u16(r->buf + BM_OFF_NSTR, r->nstr);
  return r->len;
}

/* A configured name's index, or -1: kv is "NAME=value" (len bytes, maybe no '='). */
static int env_index(const bm_config *cfg, const char *kv, size_t len) {
  const char *eq = memchr(kv, '=', len);
  if (!eq) return -1;
  size_t nl = (size_t)(eq - kv);
  for (int i = 0; i < cfg->n_env; i++)
    if (strlen(cfg->env[i]) == nl && memcmp(cfg->env[i], kv, nl) == 0) return i;
  return -1;
}

int bm_rec_env(bm_rec *r, const bm_config *cfg, const char *kv, size_t len, uint32_t *seen) {
  int i = env_index(cfg, kv, len);
  if (i < 0 || (*seen & (1u << i))) return 0; /* the first binding wins, as getenv's does */
  *seen |= 1u << i;
  size_t nl = (size_t)((const char *)memchr(kv, '=', len) - kv);
  size_t vl = len - nl - 1;
  if (vl > BM_ENV_VALUE_MAX) vl = BM_ENV_VALUE_MAX;
  bm_rec_str(r, BM_STR_ENV, kv, nl + 1 + vl);
  return 1;
}

int bm_rec_env_block(bm_rec *r, const bm_config *cfg, const char *block, size_t len) {
  uint32_t seen = 0;
  int n = 0;
  for (size_t i = 0; i < len;) {
    const char *e = memchr(block + i, 0, len - i);
    size_t l = e ? (size_t)(e - (block + i)) : len - i;
    n += bm_rec_env(r, cfg, block + i, l, &seen);
    i += l + 1;
  }
  return n;
}

const uint8_t *bm_rec_find_str(const uint8_t *rec, uint32_t len, uint8_t tag, uint32_t *out_len) {
  uint32_t nstr = (uint32_t)rec[BM_OFF_NSTR] | (uint32_t)rec[BM_OFF_NSTR + 1] << 8;
  uint32_t off = BM_RECORD_HEADER_SIZE;
  for (uint32_t i = 0; i < nstr && off + 4 <= len; i++) {
    uint32_t sl = (uint32_t)rec[off + 2] | (uint32_t)rec[off + 3] << 8;
    if (off + 4 + sl > len) return NULL;
    if (rec[off] == tag) {
      *out_len = sl;
      return rec + off + 4;
    }
    off += 4 + sl;
  }
  return NULL;
}

uint64_t bm_path_hash(const uint8_t *s, uint32_t len) {
  uint64_t h = 14695981039346656037ull;
  for (uint32_t i = 0; i < len; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h | 1;
}
