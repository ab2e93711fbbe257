/*
 * TEST-ONLY: the POSIX threads calls that macOS's libc offers and bm uses,
 * written for bm from Apple's pthread(3) documentation, so the macOS syntax
 * check (scripts/check_macos_syntax.sh) rejects calls macOS lacks: notably
 * pthread_condattr_setclock (glibc has it, macOS does not), which is why
 * common/core.c waits with pthread_cond_timedwait_relative_np on __APPLE__.
 * The pthread_*_t types come from the host's <sys/types.h>; real builds use
 * the SDK's <pthread.h>.
 */
#ifndef BM_TEST_PTHREAD_H
#define BM_TEST_PTHREAD_H

#include <sys/types.h>
#include <time.h>

#define PTHREAD_MUTEX_INITIALIZER {{0}}
#define PTHREAD_COND_INITIALIZER {{0}}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                   void *arg);
int pthread_join(pthread_t thread, void **value);
pthread_t pthread_self(void);

int pthread_mutex_init(pthread_mutex_t *mutex, const pthread_mutexattr_t *attr);
int pthread_mutex_destroy(pthread_mutex_t *mutex);
int pthread_mutex_lock(pthread_mutex_t *mutex);
int pthread_mutex_trylock(pthread_mutex_t *mutex);
int pthread_mutex_unlock(pthread_mutex_t *mutex);

int pthread_condattr_init(pthread_condattr_t *attr);
int pthread_condattr_destroy(pthread_condattr_t *attr);
int pthread_cond_init(pthread_cond_t *cond, const pthread_condattr_t *attr);
int pthread_cond_destroy(pthread_cond_t *cond);
int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex);
/* abstime is a CLOCK_REALTIME time on macOS (no way to choose the clock) */
int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                           const struct timespec *abstime);
/* Apple extension: waits at most reltime, measured from the call */
int pthread_cond_timedwait_relative_np(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                       const struct timespec *reltime);
int pthread_cond_signal(pthread_cond_t *cond);
int pthread_cond_broadcast(pthread_cond_t *cond);

#endif
