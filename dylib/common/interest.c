/*
 * The interest filter (bm_sensor_set_interest): which notify records the
 * agent can use at all. The agent compiles it from its loaded rules, the
 * built-in RTP rule, the process table and event export; records it rules
 * out are dropped here, before they cost a ring copy, a wake-up, an FFI
 * crossing and a decode. Auth records always pass: they must be answered.
 *
 * Spec text, one pattern a line, fields separated by tabs:
 *   KIND \t PREFIX \t SUFFIX [\t CONTAINS [\t FLAGS]]
 * KIND is a BM_KIND_* number (1..31). A record of that kind passes when its
 * file path or rename target starts with PREFIX, ends with SUFFIX and
 * contains CONTAINS, and FLAGS allow: "i" compares ASCII letters without
 * case, "mN" needs a file mode with one of the bits N (decimal) set, "e"
 * needs the path to be the process's executable as the agent knows it
 * (bm_exe_table; an unknown one matches). A path
 * with a byte above 127 or a backslash matches whatever its mode allows (see
 * path_matches).
 * A line with every field empty = every record of the kind. Kinds no line
 * names are dropped; kinds
 * above 31 (unknown to this build) always pass. A path longer than
 * BM_INTEREST_LONG_PATH bytes always passes (the agent cuts such strings and
 * marks them, so its rules may see another end than the suffix tested here),
 * and so does a record of a listed kind that carries no path.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bm_core.h"

#define BM_INTEREST_LONG_PATH 4096u

typedef struct bm_interest_pat {
  const char *prefix, *suffix, *contains;
  uint32_t plen, slen, clen;
  int fold;          /* ASCII case-insensitive */
  int exe;           /* the path is the process's executable */
  uint32_t mode_any; /* 0, or the file mode must have one of these bits */
} bm_interest_pat;

struct bm_interest {
  int uses_exe;       /* some pattern has "e" */
  uint32_t all;       /* bit k: every record of kind k passes */
  uint32_t listed;    /* bit k: some line names kind k */
  uint32_t first[33]; /* patterns of kind k: pats[first[k] .. first[k + 1]) */
  bm_interest_pat *pats;
  char *text;         /* the spec, split in place */
};

void bm_interest_free(bm_interest *f) {
  if (!f) return;
  free(f->pats);
  free(f->text);
  free(f);
}

bm_interest *bm_interest_parse(const char *spec, char *err, uint32_t err_len) {
  bm_interest *f = calloc(1, sizeof *f);
  size_t len = strlen(spec);
  size_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += spec[i] == '\n';
  if (f) f->text = malloc(len + 1);
  if (f && f->text) f->pats = calloc(lines, sizeof *f->pats);
  if (!f || !f->text || !f->pats) {
    bm_interest_free(f);
    bm_set_err(err, err_len, "Out of memory");
    return NULL;
  }
  memcpy(f->text, spec, len + 1);
  /* first pass: check each line and count per kind; the second places them */
  uint32_t count[32] = {0};
  uint8_t *kinds = calloc(lines, 1);
  bm_interest_pat *tmp = calloc(lines, sizeof *tmp);
  if (!kinds || !tmp) {
    free(kinds);
    free(tmp);
    bm_interest_free(f);
    bm_set_err(err, err_len, "Out of memory");
    return NULL;
  }
  uint32_t n = 0;
  int lineno = 0;
  for (char *p = f->text; *p;) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = 0;
    lineno++;
    char *next = nl ? nl + 1 : p + strlen(p);
    if (*p) {
      char *fld[5] = {p, NULL, NULL, NULL, NULL};
      int nf = 1;
      for (char *q = p; *q && nf <= 5; q++)
        if (*q == '\t') {
          *q = 0;
          if (nf < 5) fld[nf] = q + 1;
          nf++;
        }
      char *end = NULL;
      long k = strtol(p, &end, 10);
      bm_interest_pat pat = {0};
      int ok = nf >= 3 && nf <= 5 && end != p && *end == 0 && k >= 1 && k <= 31;
      if (ok) {
        pat.prefix = fld[1];
        pat.suffix = fld[2];
        pat.contains = nf > 3 ? fld[3] : "";
        pat.plen = (uint32_t)strlen(pat.prefix);
        pat.slen = (uint32_t)strlen(pat.suffix);
        pat.clen = (uint32_t)strlen(pat.contains);
        for (const char *q = nf > 4 ? fld[4] : ""; ok && *q;) {
          if (*q == 'i') {
            pat.fold = 1;
            q++;
          } else if (*q == 'e') {
            pat.exe = 1;
            q++;
          } else if (*q == 'm') {
            char *e = NULL;
            unsigned long m = strtoul(q + 1, &e, 10);
            ok = e != q + 1 && m > 0 && m <= 07777777;
            pat.mode_any = (uint32_t)m;
            q = e;
          } else {
            ok = 0;
          }
        }
      }
      if (!ok) {
        bm_set_err(err, err_len,
                   "Bad interest filter line %d: expected KIND<tab>PREFIX<tab>SUFFIX[<tab>CONTAINS[<tab>FLAGS]], KIND 1..31",
                   lineno);
        free(kinds);
        free(tmp);
        bm_interest_free(f);
        return NULL;
      }
      if (pat.fold) {
        for (char *q = (char *)pat.prefix; *q; q++) *q = (char)tolower((unsigned char)*q);
        for (char *q = (char *)pat.suffix; *q; q++) *q = (char)tolower((unsigned char)*q);
        for (char *q = (char *)pat.contains; *q; q++) *q = (char)tolower((unsigned char)*q);
      }
      tmp[n] = pat;
      kinds[n] = (uint8_t)k;
      f->listed |= 1u << k;
      if (!pat.plen && !pat.slen && !pat.clen && !pat.mode_any && !pat.exe) f->all |= 1u << k;
      f->uses_exe |= pat.exe;
      count[k]++;
      n++;
    }
    p = next;
  }
  uint32_t at = 0;
  for (int k = 0; k < 32; k++) {
    f->first[k] = at;
    at += count[k];
  }
  f->first[32] = at;
  uint32_t fill[32];
  memcpy(fill, f->first, sizeof fill);
  for (uint32_t i = 0; i < n; i++) f->pats[fill[kinds[i]]++] = tmp[i];
  free(kinds);
  free(tmp);
  return f;
}

/* Bytes equal, ASCII letters folded when fold (b is lowercase already). */
static int same(const uint8_t *a, const char *b, uint32_t n, int fold) {
  if (!fold) return memcmp(a, b, n) == 0;
  for (uint32_t i = 0; i < n; i++)
    if (tolower(a[i]) != (unsigned char)b[i]) return 0;
  return 1;
}

static int has(const uint8_t *s, uint32_t len, const char *c, uint32_t clen, int fold) {
  if (clen == 0) return 1;
  for (uint32_t i = 0; i + clen <= len; i++)
    if (same(s + i, c, clen, fold)) return 1;
  return 0;
}

/*
 * The agent matches a path's text form (src/sensor/path_codec.ts): bytes
 * that are not UTF-8 become \xNN and a backslash \\. For plain ASCII without
 * a backslash that text is these very bytes, and bytes compare as the agent's
 * text does; any other path passes every pattern its mode allows (so does a
 * non-ASCII one for "i": the agent folds case beyond ASCII).
 */
/* FNV-1a, never 0 (0 = unknown in bm_exe_table). */
static uint64_t path_hash(const uint8_t *s, uint32_t len) {
  uint64_t h = 14695981039346656037ull;
  for (uint32_t i = 0; i < len; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h | 1;
}

int bm_interest_uses_exe(const bm_interest *f) { return f && f->uses_exe; }

/* The string of tag (the first one), or NULL. */
static const uint8_t *rec_str(const uint8_t *rec, uint32_t len, uint8_t tag, uint32_t *out_len) {
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

void bm_exe_track(bm_exe_table *t, const uint8_t *rec, uint32_t len) {
  if (len < BM_RECORD_HEADER_SIZE) return;
  int32_t pid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PID);
  uint32_t slot = (uint32_t)pid & (BM_EXE_SLOTS - 1);
  switch (rec[BM_OFF_KIND]) {
    case BM_KIND_EXEC: {
      /* the agent takes the executable, else (a held exec) the file's path */
      uint32_t sl = 0;
      const uint8_t *s = rec_str(rec, len, BM_STR_EXECUTABLE, &sl);
      if (!s) s = rec_str(rec, len, BM_STR_PATH, &sl);
      t->pid[slot] = pid;
      t->hash[slot] = s && sl ? path_hash(s, sl) : 0;
      return;
    }
    case BM_KIND_FORK: {
      int32_t ppid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PPID);
      uint32_t ps = (uint32_t)ppid & (BM_EXE_SLOTS - 1);
      uint64_t h = t->pid[ps] == ppid ? t->hash[ps] : 0;
      t->pid[slot] = pid;
      t->hash[slot] = h;
      return;
    }
    case BM_KIND_EXIT:
      if (t->pid[slot] == pid) t->hash[slot] = 0;
      return;
    default:
      return;
  }
}

static int path_matches(const bm_interest *f, unsigned kind, const uint8_t *s, uint32_t len, uint32_t mode,
                        uint64_t exe) {
  int plain = 1;
  for (uint32_t i = 0; i < len && plain; i++) plain = s[i] < 0x80 && s[i] != '\\';
  for (uint32_t i = f->first[kind]; i < f->first[kind + 1]; i++) {
    const bm_interest_pat *p = &f->pats[i];
    if (p->mode_any && !(mode & p->mode_any)) continue;
    if (!plain) return 1;
    if (p->exe && exe && exe != path_hash(s, len)) continue;
    if (p->plen <= len && p->slen <= len && same(s, p->prefix, p->plen, p->fold) &&
        same(s + len - p->slen, p->suffix, p->slen, p->fold) && has(s, len, p->contains, p->clen, p->fold))
      return 1;
  }
  return 0;
}

int bm_interest_pass(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe_table) {
  if (!f || len < BM_RECORD_HEADER_SIZE || (rec[BM_OFF_FLAGS] & BM_FLAG_AUTH)) return 1;
  unsigned kind = rec[BM_OFF_KIND];
  if (kind > 31 || (f->all >> kind) & 1u) return 1;
  if (!((f->listed >> kind) & 1u)) return 0;
  uint32_t nstr = (uint32_t)rec[BM_OFF_NSTR] | (uint32_t)rec[BM_OFF_NSTR + 1] << 8;
  uint32_t off = BM_RECORD_HEADER_SIZE;
  int have_path = 0;
  uint32_t mode = bm_rec_get_u32(rec, BM_OFF_FILE_MODE);
  uint64_t exe = 0; /* unknown */
  if (f->uses_exe && exe_table) {
    int32_t pid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PID);
    uint32_t slot = (uint32_t)pid & (BM_EXE_SLOTS - 1);
    if (exe_table->pid[slot] == pid) exe = exe_table->hash[slot];
  }
  for (uint32_t i = 0; i < nstr && off + 4 <= len; i++) {
    uint8_t tag = rec[off];
    uint32_t sl = (uint32_t)rec[off + 2] | (uint32_t)rec[off + 3] << 8;
    const uint8_t *s = rec + off + 4;
    off += 4 + sl;
    if (off > len) return 1; /* malformed: not ours to judge */
    if (tag != BM_STR_PATH && tag != BM_STR_TARGET_PATH) continue;
    have_path = 1;
    if (sl > BM_INTEREST_LONG_PATH || path_matches(f, kind, s, sl, mode, exe)) return 1;
  }
  return !have_path;
}
