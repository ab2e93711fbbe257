/*
 * TEST-ONLY: the process status values (p_stat / pbi_status) from <sys/proc.h>
 * that dylib/macos/proc_macos.c uses, written for bm from Apple's open-source
 * XNU headers' documented values so `clang -fsyntax-only` runs without the SDK.
 */
#ifndef BM_TEST_SYS_PROC_H
#define BM_TEST_SYS_PROC_H

#define SIDL 1   /* process being created by fork */
#define SRUN 2   /* currently runnable */
#define SSLEEP 3 /* sleeping on an address */
#define SSTOP 4  /* process debugging or suspension */
#define SZOMB 5  /* awaiting collection by parent */

#endif
