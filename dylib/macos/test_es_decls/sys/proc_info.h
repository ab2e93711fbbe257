/*
 * TEST-ONLY: the names from <sys/proc_info.h> that dylib/macos/proc_macos.c
 * uses, written for bm from Apple's documentation so `clang -fsyntax-only` can
 * check field names and types without the SDK. This is NOT the real layout
 * (fields proc_macos.c does not use are left out); real builds use the SDK.
 */
#ifndef BM_TEST_SYS_PROC_INFO_H
#define BM_TEST_SYS_PROC_INFO_H

#include <stdint.h>

#define PROC_PIDTBSDINFO 3

struct proc_bsdinfo {
  uint32_t pbi_status;
  uint32_t pbi_ppid;
  uint64_t pbi_start_tvsec;
  uint64_t pbi_start_tvusec;
};

#endif
