/*
 * The interest filter (bm_sensor_set_interest): which notify records the
 * agent can use at all. The agent compiles it from its loaded rules, the
 * built-in RTP rule, the process table and event export; records it rules
 * out are dropped here, before they cost a ring copy, a wake-up, an FFI
 * crossing and a decode. Auth records always pass: they must be answered.
 *
 * Spec text, one pattern a line, fields separated by tabs:
 *   KIND \t PREFIX \t SUFFIX [\t CONTAINS [\t FLAGS [\t NAMES [\t SIZES]]]]
 * KIND is a BM_KIND_* number (1..31). A record of that kind passes when its
 * file path or rename target starts with PREFIX, ends with SUFFIX and
 * contains CONTAINS, and FLAGS, NAMES and SIZES allow: "i" compares ASCII
 * letters without case, "mN" needs a file mode with one of the bits N
 * (decimal) set, "e" needs the path to be the process's executable as the
 * agent knows it (bm_exe_table; an unknown one matches). NAMES ("a/b/c": a
 * base name never holds a "/") needs the process's name, the base name of
 * that executable, to be one of them; an unknown or ambiguous name matches,
 * and so does every record that carries a start time or an executable of its
 * own (the agent then finds the process by its entity id, which this table
 * does not follow). "!a/b/c" needs the name to be none of them (an unknown
 * one matches as well). SIZES ("68,73", decimal) needs the size of the record's
 * file.path to be one of them: the record's own size, else an lstat of the
 * path (done last, only when nothing cheaper decided, and outside the
 * sensor's lock); a file that cannot be stat'ed matches. A path
 * with a byte above 127 or a backslash matches whatever its mode, names and
 * sizes allow (see path_matches).
 * A line with every field empty = every record of the kind. Kinds no line
 * names are dropped; kinds
 * above 31 (unknown to this build) always pass. A path longer than
 * BM_INTEREST_LONG_PATH bytes always passes (the agent cuts such strings and
 * marks them, so its rules may see another end than the suffix tested here),
 * and so does a record of a listed kind that carries no path.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bm_core.h"

#define BM_INTEREST_LONG_PATH 4096u

typedef struct bm_interest_pat {
  const char *prefix, *suffix, *contains;
  uint32_t plen, slen, clen;
  int fold;          /* ASCII case-insensitive */
  int exe;           /* the path is the process's executable */
  uint32_t mode_any; /* 0, or the file mode must have one of these bits */
  uint64_t *names;   /* sorted name hashes (name_hash, widened to share has_u64); NULL = any process */
  uint32_t nnames;
  int not_names;     /* "!a/b": the name must not be one of them */
  uint64_t *sizes;   /* sorted file sizes; NULL = any size */
  uint32_t nsizes;
  uint32_t hold_ms;  /* "hN": a record only this passes is held (hold.c) N ms; 0 = passes */
} bm_interest_pat;

/*
 * The index (a plain ASCII path; any other walks every pattern of its kind):
 * a pattern whose prefix (compared as is) holds its first segment, the bytes
 * up to the first '/' after the first byte, can only match a path with that
 * same segment; else one with a suffix only a path whose last byte is the
 * suffix's, compared without case; the rest always. A path visits its
 * segment's bucket, its last byte's bucket and the rest, so the patterns it
 * can match are all visited and the decision (any pattern passes, else any
 * waiting for the size asks) is the plain walk's. Hash collisions only add
 * patterns that then fail their compares.
 */
#define BM_IX_SEG 32u                     /* buckets by first segment */
#define BM_IX_LAST 32u                    /* buckets by last byte */
#define BM_IX_GROUPS (BM_IX_SEG + BM_IX_LAST + 1) /* ... and the rest */

struct bm_interest {
  int uses_proc;      /* some pattern has "e" or NAMES: needs the exe table */
  uint32_t all;       /* bit k: every record of kind k passes */
  uint32_t listed;    /* bit k: some line names kind k */
  uint32_t hold_ms;   /* the longest "hN" of any pattern, 0 = none holds */
  uint32_t first[33]; /* patterns of kind k: pats[first[k] .. first[k + 1]) */
  bm_interest_pat *pats;
  /* group g of kind k: pats[ix[group[k][g] .. group[k][g + 1])], those without a NAMES, SIZES,
     mode or "e" gate first (a pass there needs no more), SIZES-gated ones last */
  uint32_t group[32][BM_IX_GROUPS + 1];
  uint32_t *ix;
  char *text;         /* the spec, split in place */
};

void bm_interest_free(bm_interest *f) {
  if (!f) return;
  if (f->pats)
    for (uint32_t i = 0; i < f->first[32]; i++) {
      free(f->pats[i].names);
      free(f->pats[i].sizes);
    }
  free(f->pats);
  free(f->ix);
  free(f->text);
  free(f);
}

static uint32_t name_hash(const uint8_t *s, uint32_t len) {
  uint64_t h = bm_path_hash(s, len);
  return (uint32_t)(h ^ (h >> 32)) | 1u;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* NAMES: "a/b/c", each non-empty; "!a/b/c": none of them. Returns 0, -1 bad, -2 out of memory. */
static int parse_names(const char *t, bm_interest_pat *p) {
  if (*t == '!') {
    p->not_names = 1;
    if (!*++t) return -1;
  }
  if (!*t) return 0;
  uint32_t n = 1;
  for (const char *q = t; *q; q++) n += *q == '/';
  p->names = malloc(n * sizeof *p->names);
  if (!p->names) return -2;
  for (const char *q = t;;) {
    const char *e = strchr(q, '/');
    size_t l = e ? (size_t)(e - q) : strlen(q);
    if (l == 0) return -1;
    p->names[p->nnames++] = name_hash((const uint8_t *)q, (uint32_t)l);
    if (!e) break;
    q = e + 1;
  }
  qsort(p->names, p->nnames, sizeof *p->names, cmp_u64);
  return 0;
}

/* SIZES: "68,73", decimal. Returns 0, -1 bad, -2 out of memory. */
static int parse_sizes(const char *t, bm_interest_pat *p) {
  if (!*t) return 0;
  uint32_t n = 1;
  for (const char *q = t; *q; q++) n += *q == ',';
  p->sizes = malloc(n * sizeof *p->sizes);
  if (!p->sizes) return -2;
  for (const char *q = t;;) {
    if (*q < '0' || *q > '9') return -1;
    char *e = NULL;
    unsigned long long v = strtoull(q, &e, 10);
    if (v == ULLONG_MAX || (*e && *e != ',')) return -1;
    p->sizes[p->nsizes++] = v;
    if (!*e) break;
    q = e + 1;
  }
  qsort(p->sizes, p->nsizes, sizeof *p->sizes, cmp_u64);
  return 0;
}

/* The bucket of a first segment s[0 .. j] ('/' at s[j], j >= 1). */
static uint32_t seg_bucket(const uint8_t *s, uint32_t j) {
  uint64_t h = bm_path_hash(s, j + 1);
  return (uint32_t)(h >> 40) & (BM_IX_SEG - 1);
}

/* The index of s: where its first segment ends (0: none). */
static uint32_t seg_end(const uint8_t *s, uint32_t len) {
  for (uint32_t j = 1; j < len; j++)
    if (s[j] == '/') return j;
  return 0;
}

static uint32_t last_bucket(uint8_t c) { return (uint32_t)tolower(c) & (BM_IX_LAST - 1); }

static uint32_t pat_group(const bm_interest_pat *p) {
  uint32_t j = p->fold ? 0 : seg_end((const uint8_t *)p->prefix, p->plen);
  if (j) return seg_bucket((const uint8_t *)p->prefix, j);
  if (p->slen) return BM_IX_SEG + last_bucket((uint8_t)p->suffix[p->slen - 1]);
  return BM_IX_SEG + BM_IX_LAST;
}

/* 0 a pass needs nothing more, 1 a mode, name or executable, 2 a size (maybe an lstat), 3 a hold
   (a pass that holds: every other pattern is asked first) */
static uint32_t pat_cost(const bm_interest_pat *p) {
  if (p->hold_ms) return 3;
  if (p->nsizes) return 2;
  return p->nnames || p->mode_any || p->exe ? 1 : 0;
}

/* Fills f->group and f->ix (see struct bm_interest). 0, or -1 out of memory. */
static int build_index(bm_interest *f) {
  uint32_t n = f->first[32];
  f->ix = malloc((n ? n : 1) * sizeof *f->ix);
  if (!f->ix) return -1;
  uint32_t at = 0;
  for (uint32_t k = 0; k < 32; k++) {
    for (uint32_t g = 0; g < BM_IX_GROUPS; g++) {
      f->group[k][g] = at;
      for (uint32_t c = 0; c < 4; c++)
        for (uint32_t i = f->first[k]; i < f->first[k + 1]; i++)
          if (pat_group(&f->pats[i]) == g && pat_cost(&f->pats[i]) == c) f->ix[at++] = i;
    }
    f->group[k][BM_IX_GROUPS] = at;
  }
  return 0;
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
  uint32_t n = 0;
  int lineno = 0, oom = !kinds || !tmp;
  for (char *p = f->text; *p && !oom;) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = 0;
    lineno++;
    char *next = nl ? nl + 1 : p + strlen(p);
    if (*p) {
      char *fld[7] = {p, NULL, NULL, NULL, NULL, NULL, NULL};
      int nf = 1;
      for (char *q = p; *q && nf <= 7; q++)
        if (*q == '\t') {
          *q = 0;
          if (nf < 7) fld[nf] = q + 1;
          nf++;
        }
      char *end = NULL;
      long k = strtol(p, &end, 10);
      bm_interest_pat pat = {0};
      int ok = nf >= 3 && nf <= 7 && end != p && *end == 0 && k >= 1 && k <= 31;
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
          } else if (*q == 'h') {
            char *e = NULL;
            unsigned long m = strtoul(q + 1, &e, 10);
            ok = e != q + 1 && m > 0 && m <= 86400000ul;
            pat.hold_ms = (uint32_t)m;
            q = e;
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
        int r = ok && nf > 5 ? parse_names(fld[5], &pat) : 0;
        if (r == 0 && ok && nf > 6) r = parse_sizes(fld[6], &pat);
        if (r == -2) oom = 1;
        if (r) ok = 0;
      }
      if (!ok) {
        free(pat.names);
        free(pat.sizes);
        if (oom) break;
        bm_set_err(err, err_len,
                   "Bad interest filter line %d: expected KIND<tab>PREFIX<tab>SUFFIX[<tab>CONTAINS[<tab>FLAGS[<tab>NAMES[<tab>SIZES]]]], KIND 1..31",
                   lineno);
        for (uint32_t i = 0; i < n; i++) free(tmp[i].names), free(tmp[i].sizes);
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
      if (!pat.plen && !pat.slen && !pat.clen && !pat.mode_any && !pat.exe && !pat.nnames && !pat.nsizes &&
          !pat.hold_ms)
        f->all |= 1u << k;
      if (pat.hold_ms > f->hold_ms) f->hold_ms = pat.hold_ms;
      f->uses_proc |= pat.exe || pat.nnames;
      count[k]++;
      n++;
    }
    p = next;
  }
  if (oom) {
    if (tmp)
      for (uint32_t i = 0; i < n; i++) free(tmp[i].names), free(tmp[i].sizes);
    free(kinds);
    free(tmp);
    bm_interest_free(f);
    bm_set_err(err, err_len, "Out of memory");
    return NULL;
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
  if (build_index(f) != 0) {
    bm_interest_free(f);
    bm_set_err(err, err_len, "Out of memory");
    return NULL;
  }
  return f;
}

int bm_interest_uses_exe(const bm_interest *f) { return f && f->uses_proc; }

uint32_t bm_interest_hold_ms(const bm_interest *f) { return f ? f->hold_ms : 0; }

/*
 * The process name the agent's table gives an executable: its base name
 * (src/engine/process_table.ts). 0 (unknown) when that name's text form is
 * not these very bytes (a byte above 127 or a backslash: path_codec.ts), for
 * an empty one, and for a path the agent may cut.
 */
static uint32_t exe_name(const uint8_t *s, uint32_t len) {
  if (!s || len == 0 || len > BM_INTEREST_LONG_PATH) return 0;
  uint32_t b = len;
  while (b > 0 && s[b - 1] != '/') b--;
  if (b == len) return 0;
  for (uint32_t i = b; i < len; i++)
    if (s[i] >= 0x80 || s[i] == '\\') return 0;
  return name_hash(s + b, len - b);
}

/*
 * A fork copies the parent's entry into the child's slot, but the agent
 * copies the parent's image only to a child it does not know yet: a held exec
 * of the child read on another thread may reach the ring before its fork (the
 * process table then keeps the exec's image). A slot that already holds the
 * child, alive, is such a case: its executable and name become unknown until
 * its next exec. An exit keeps the entry, marked gone: the agent keeps an
 * exited process (and finds it by pid) for the file events read after its
 * exit record (the sensor reads the proc connector first, so a writer that
 * has exited by then has its exit record ahead of its last writes); a fork
 * reusing the pid replaces it, in the table as in the agent's.
 */
void bm_exe_track(bm_exe_table *t, const uint8_t *rec, uint32_t len) {
  if (len < BM_RECORD_HEADER_SIZE) return;
  int32_t pid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PID);
  uint32_t slot = (uint32_t)pid & (BM_EXE_SLOTS - 1);
  switch (rec[BM_OFF_KIND]) {
    case BM_KIND_EXEC: {
      /* the agent takes the executable, else (a held exec) the file's path */
      uint32_t sl = 0;
      const uint8_t *s = bm_rec_find_str(rec, len, BM_STR_EXECUTABLE, &sl);
      if (!s) s = bm_rec_find_str(rec, len, BM_STR_PATH, &sl);
      t->pid[slot] = pid;
      t->gone[slot] = 0;
      t->hash[slot] = s && sl ? bm_path_hash(s, sl) : 0;
      t->name[slot] = s && sl ? exe_name(s, sl) : 0;
      return;
    }
    case BM_KIND_FORK: {
      int32_t ppid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PPID);
      uint32_t ps = (uint32_t)ppid & (BM_EXE_SLOTS - 1);
      int known = t->pid[ps] == ppid && !(t->pid[slot] == pid && !t->gone[slot]);
      uint64_t h = known ? t->hash[ps] : 0;
      uint32_t nm = known ? t->name[ps] : 0;
      t->pid[slot] = pid;
      t->gone[slot] = 0;
      t->hash[slot] = h;
      t->name[slot] = nm;
      return;
    }
    case BM_KIND_EXIT:
      if (t->pid[slot] == pid) t->gone[slot] = 1;
      return;
    default:
      return;
  }
}

/* Whether a sorted array holds v. */
static int has_u64(const uint64_t *a, uint32_t n, uint64_t v) {
  while (n) {
    uint32_t h = n / 2;
    if (a[h] == v) return 1;
    if (a[h] < v) a += h + 1, n -= h + 1;
    else n = h;
  }
  return 0;
}

/*
 * The agent matches a path's text form (src/sensor/path_codec.ts): bytes
 * that are not UTF-8 become \xNN and a backslash \\. For plain ASCII without
 * a backslash that text is these very bytes, and bytes compare as the agent's
 * text does; any other path passes every pattern its mode, names and sizes
 * allow (so does a non-ASCII one for "i": the agent folds case beyond ASCII).
 * exe, name: the process's (0 unknown); size: file.path's, -1 unknown (sizes
 * pass), BM_INTEREST_SIZE_ASK not looked up yet (*ask set when it decides).
 * linear: every pattern of the kind in spec order, not the index (tests).
 */
static int path_matches(const bm_interest *f, unsigned kind, const uint8_t *s, uint32_t len, uint32_t mode,
                        uint64_t exe, uint32_t name, int64_t size, int *ask, int *hold, int linear) {
  int plain = 1;
  for (uint32_t i = 0; i < len && plain; i++) plain = s[i] < 0x80 && s[i] != '\\';
  /* "i" patterns (lowercase already) compare with the path lowered once (len <= the long-path bound) */
  uint8_t low[BM_INTEREST_LONG_PATH];
  int lowered = 0;
  /* the patterns to visit: ix[from[r] .. to[r]) for each range r; or every one of the kind */
  uint32_t from[3], to[3], nr = 0;
  if (plain && !linear) {
    const uint32_t *g = f->group[kind];
    uint32_t j = seg_end(s, len);
    if (j) {
      uint32_t b = seg_bucket(s, j);
      from[nr] = g[b], to[nr++] = g[b + 1];
    }
    if (len) {
      uint32_t b = BM_IX_SEG + last_bucket(s[len - 1]);
      from[nr] = g[b], to[nr++] = g[b + 1];
    }
    from[nr] = g[BM_IX_SEG + BM_IX_LAST], to[nr++] = g[BM_IX_GROUPS];
  } else {
    from[nr] = f->first[kind], to[nr++] = f->first[kind + 1];
  }
  for (uint32_t r = 0; r < nr; r++)
    for (uint32_t x = from[r]; x < to[r]; x++) {
      const bm_interest_pat *p = &f->pats[plain && !linear ? f->ix[x] : x];
      if (p->mode_any && !(mode & p->mode_any)) continue;
      if (p->nnames && name && has_u64(p->names, p->nnames, name) == p->not_names) continue;
      if (plain) {
        if (p->exe && exe && exe != bm_path_hash(s, len)) continue;
        const uint8_t *t = s;
        if (p->fold) {
          if (!lowered) {
            for (uint32_t k = 0; k < len; k++) low[k] = (uint8_t)tolower(s[k]);
            lowered = 1;
          }
          t = low;
        }
        if (!(p->plen <= len && p->slen <= len && memcmp(t, p->prefix, p->plen) == 0 &&
              memcmp(t + len - p->slen, p->suffix, p->slen) == 0 &&
              (p->clen == 0 || memmem(t, len, p->contains, p->clen))))
          continue;
      }
      if (p->nsizes && size != -1) {
        if (size == BM_INTEREST_SIZE_ASK) {
          *ask = 1;
          continue;
        }
        if (!has_u64(p->sizes, p->nsizes, (uint64_t)size)) continue;
      }
      if (p->hold_ms) {
        *hold = 1; /* passes if nothing else does: held */
        continue;
      }
      return 1;
    }
  return 0;
}

int64_t bm_interest_file_size(const uint8_t *rec, uint32_t len) {
  uint32_t sl = 0;
  const uint8_t *s = len >= BM_RECORD_HEADER_SIZE ? bm_rec_find_str(rec, len, BM_STR_PATH, &sl) : NULL;
  char path[BM_INTEREST_LONG_PATH + 1];
  if (!s || sl == 0 || sl > BM_INTEREST_LONG_PATH || memchr(s, 0, sl)) return -1;
  memcpy(path, s, sl);
  path[sl] = 0;
  struct stat st;
  /* lstat, as the RTP scanner (which skips a symlink) */
  if (lstat(path, &st) != 0 || st.st_size < 0) return -1;
  return (int64_t)st.st_size;
}

static int decide(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe_table,
                  int64_t size, int linear) {
  if (!f || len < BM_RECORD_HEADER_SIZE || (rec[BM_OFF_FLAGS] & BM_FLAG_AUTH)) return 1;
  unsigned kind = rec[BM_OFF_KIND];
  if (kind > 31 || (f->all >> kind) & 1u) return 1;
  if (!((f->listed >> kind) & 1u)) return 0;
  uint32_t nstr = (uint32_t)rec[BM_OFF_NSTR] | (uint32_t)rec[BM_OFF_NSTR + 1] << 8;
  uint32_t off = BM_RECORD_HEADER_SIZE;
  int have_path = 0, ask = 0, hold = 0;
  uint32_t mode = bm_rec_get_u32(rec, BM_OFF_FILE_MODE);
  double own = bm_rec_get_f64(rec, BM_OFF_FILE_SIZE);
  if (own >= 0 && own < 9.2e18) size = (int64_t)own; /* the record's own: no stat */
  uint64_t exe = 0; /* unknown */
  uint32_t name = 0;
  if (f->uses_proc && exe_table) {
    int32_t pid = (int32_t)bm_rec_get_u32(rec, BM_OFF_PID);
    uint32_t slot = (uint32_t)pid & (BM_EXE_SLOTS - 1);
    uint32_t sl = 0;
    if (exe_table->pid[slot] == pid) {
      exe = exe_table->hash[slot];
      /* the agent finds a record with a start time by its entity id, and may take a record's
         own executable: only a bare record is the pid's latest process as this table has it */
      if (bm_rec_get_f64(rec, BM_OFF_START) == 0 && !bm_rec_find_str(rec, len, BM_STR_EXECUTABLE, &sl))
        name = exe_table->name[slot];
    }
  }
  for (uint32_t i = 0; i < nstr && off + 4 <= len; i++) {
    uint8_t tag = rec[off];
    uint32_t sl = (uint32_t)rec[off + 2] | (uint32_t)rec[off + 3] << 8;
    const uint8_t *s = rec + off + 4;
    off += 4 + sl;
    if (off > len) return 1; /* malformed: not ours to judge */
    if (tag != BM_STR_PATH && tag != BM_STR_TARGET_PATH) continue;
    have_path = 1;
    if (sl > BM_INTEREST_LONG_PATH || path_matches(f, kind, s, sl, mode, exe, name, size, &ask, &hold, linear))
      return 1;
  }
  if (!have_path) return 1;
  return ask ? BM_INTEREST_ASK : hold ? BM_INTEREST_HOLD : 0;
}

int bm_interest_decide(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe_table,
                       int64_t size) {
  return decide(f, rec, len, exe_table, size, 0);
}

int bm_interest_decide_linear(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe_table,
                              int64_t size) {
  return decide(f, rec, len, exe_table, size, 1);
}

int bm_interest_pass(const bm_interest *f, const uint8_t *rec, uint32_t len, const bm_exe_table *exe_table) {
  int v = bm_interest_decide(f, rec, len, exe_table, BM_INTEREST_SIZE_ASK);
  if (v == BM_INTEREST_ASK) v = bm_interest_decide(f, rec, len, exe_table, bm_interest_file_size(rec, len));
  return v;
}
