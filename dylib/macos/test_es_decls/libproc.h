/*
 * TEST-ONLY: the libproc calls dylib/macos/proc_macos.c uses, written for bm
 * from Apple's documented libproc API (libproc.h in the macOS SDK) so
 * `clang -fsyntax-only` can run without the SDK. Real builds use the SDK.
 */
#ifndef BM_TEST_LIBPROC_H
#define BM_TEST_LIBPROC_H

#include <sys/proc_info.h>
#include <sys/types.h>

/* Fills buffer (buffersize bytes) with the flavor's struct; returns bytes filled, <= 0 on error. */
int proc_pidinfo(int pid, int flavor, uint64_t arg, void *buffer, int buffersize);
/* Child pids of ppid into buffer (buffersize in BYTES); returns how many, -1 on error. */
int proc_listchildpids(pid_t ppid, void *buffer, int buffersize);

#endif
