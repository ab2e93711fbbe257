/* One execve, one exec record: see exec_chain.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "exec_chain.h"

#include <elf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bm_exec_chain_init(bm_exec_chain *t) {
  pthread_mutex_init(&t->mu, NULL);
  t->slots = calloc(BM_EXEC_CHAIN_SLOTS, sizeof *t->slots);
  return t->slots ? 0 : -1;
}

void bm_exec_chain_free(bm_exec_chain *t) {
  if (t->slots)
    for (uint32_t i = 0; i < BM_EXEC_CHAIN_SLOTS; i++) free(t->slots[i].script);
  free(t->slots);
  t->slots = NULL;
  pthread_mutex_destroy(&t->mu);
}

/* PT_INTERP of an ELF image whose first n bytes are in hdr; 0 when none. */
static int elf_interp(int fd, const unsigned char *hdr, size_t n, char *out, size_t cap) {
  if (n < EI_NIDENT || memcmp(hdr, ELFMAG, SELFMAG) != 0) return 0;
  if (hdr[EI_DATA] != ELFDATA2LSB && hdr[EI_DATA] != ELFDATA2MSB) return 0;
  int is64 = hdr[EI_CLASS] == ELFCLASS64;
  if (!is64 && hdr[EI_CLASS] != ELFCLASS32) return 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (hdr[EI_DATA] != ELFDATA2LSB) return 0; /* a foreign-endian image: not ours to run */
#else
  if (hdr[EI_DATA] != ELFDATA2MSB) return 0;
#endif
  uint64_t phoff;
  unsigned phentsize, phnum;
  if (is64) {
    if (n < sizeof(Elf64_Ehdr)) return 0;
    Elf64_Ehdr eh;
    memcpy(&eh, hdr, sizeof eh);
    phoff = eh.e_phoff, phentsize = eh.e_phentsize, phnum = eh.e_phnum;
    if (phentsize != sizeof(Elf64_Phdr)) return 0;
  } else {
    if (n < sizeof(Elf32_Ehdr)) return 0;
    Elf32_Ehdr eh;
    memcpy(&eh, hdr, sizeof eh);
    phoff = eh.e_phoff, phentsize = eh.e_phentsize, phnum = eh.e_phnum;
    if (phentsize != sizeof(Elf32_Phdr)) return 0;
  }
  if (phnum == 0 || phnum > 256) return 0;
  unsigned char ph[256 * sizeof(Elf64_Phdr)];
  size_t want = (size_t)phentsize * phnum;
  if (pread(fd, ph, want, (off_t)phoff) != (ssize_t)want) return 0;
  for (unsigned i = 0; i < phnum; i++) {
    uint64_t off, size;
    uint32_t type;
    if (is64) {
      Elf64_Phdr p;
      memcpy(&p, ph + (size_t)i * phentsize, sizeof p);
      type = p.p_type, off = p.p_offset, size = p.p_filesz;
    } else {
      Elf32_Phdr p;
      memcpy(&p, ph + (size_t)i * phentsize, sizeof p);
      type = p.p_type, off = p.p_offset, size = p.p_filesz;
    }
    if (type != PT_INTERP) continue;
    if (size < 2 || size > cap) return 0;
    if (pread(fd, out, (size_t)size, (off_t)off) != (ssize_t)size || out[size - 1] != 0) return 0;
    return out[0] == '/';
  }
  return 0;
}

/* The interpreter of a `#!` line (the kernel's rules: first word, within 256 bytes). */
static int shebang(const unsigned char *hdr, size_t n, char *out, size_t cap) {
  if (n < 3 || hdr[0] != '#' || hdr[1] != '!') return 0;
  size_t i = 2;
  while (i < n && (hdr[i] == ' ' || hdr[i] == '\t')) i++;
  size_t s = i;
  while (i < n && hdr[i] != ' ' && hdr[i] != '\t' && hdr[i] != '\n' && hdr[i] != 0) i++;
  if (i == s || i - s >= cap || hdr[s] != '/') return 0;
  memcpy(out, hdr + s, i - s);
  out[i - s] = 0;
  return 1;
}

int bm_exec_next_file(int fd, const char *root, uint64_t *dev, uint64_t *ino, int *script) {
  unsigned char hdr[256];
  ssize_t n = pread(fd, hdr, sizeof hdr, 0);
  if (n <= 0) return 0;
  char path[PATH_MAX];
  *script = shebang(hdr, (size_t)n, path, sizeof path);
  if (!*script && !elf_interp(fd, hdr, (size_t)n, path, sizeof path)) return 0;
  char full[PATH_MAX + 64];
  snprintf(full, sizeof full, "%s%s", root, path);
  struct stat st;
  if (stat(full, &st)) return 0;
  *dev = (uint64_t)st.st_dev;
  *ino = (uint64_t)st.st_ino;
  return 1;
}

int bm_exec_chain_event(bm_exec_chain *t, int32_t pid, int fd, const char *path) {
  struct stat st;
  if (fstat(fd, &st)) return 0;
  bm_exec_slot *s = &t->slots[(uint32_t)pid & (BM_EXEC_CHAIN_SLOTS - 1)];
  pthread_mutex_lock(&t->mu);
  int follower = s->pid == pid && (s->dev || s->ino) && s->dev == (uint64_t)st.st_dev &&
                 s->ino == (uint64_t)st.st_ino && s->depth < 8;
  pthread_mutex_unlock(&t->mu);
  /* what this file opens next: read outside the lock (it may touch the disk) */
  char root[64];
  snprintf(root, sizeof root, "/proc/%d/root", (int)pid);
  uint64_t dev = 0, ino = 0;
  int script = 0;
  if (!bm_exec_next_file(fd, root, &dev, &ino, &script)) dev = ino = 0;
  pthread_mutex_lock(&t->mu);
  if (follower) {
    if (s->pid == pid) {
      s->dev = dev;
      s->ino = ino;
      s->depth++;
    }
  } else {
    free(s->script);
    s->pid = pid;
    s->dev = dev;
    s->ino = ino;
    s->depth = 0;
    s->script = script && path ? strdup(path) : NULL;
  }
  pthread_mutex_unlock(&t->mu);
  return follower;
}

int bm_exec_chain_end(bm_exec_chain *t, int32_t pid, char *script, size_t cap) {
  bm_exec_slot *s = &t->slots[(uint32_t)pid & (BM_EXEC_CHAIN_SLOTS - 1)];
  int got = 0;
  pthread_mutex_lock(&t->mu);
  if (s->pid == pid) {
    if (s->script && cap) {
      snprintf(script, cap, "%s", s->script);
      got = 1;
    }
    free(s->script);
    memset(s, 0, sizeof *s);
  }
  pthread_mutex_unlock(&t->mu);
  return got;
}
