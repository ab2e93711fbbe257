/*
 * guardian_shm.h - the page the Linux sensor shares with bm_guardian, its
 * watchdog in another process (dylib/linux/guardian_main.c).
 *
 * Why another process: a fanotify permission event that nobody answers
 * holds the exec that raised it, and Linux has no kernel deadline. The
 * sensor's watchdog thread answers for a stuck engine, but it stops with the
 * agent (SIGSTOP, a debugger, a frozen cgroup) and dies with it (kill -9,
 * OOM). The guardian holds a duplicate of the permission group's fd, so it
 * can answer what the agent cannot:
 *  - the kernel matches a response by the fd number the event got when it
 *    was read, on the group, not in the reader's fd table: the agent
 *    publishes that number here (slots) the moment it reads an event, before
 *    anything else, and the guardian can answer it even after the agent's fd
 *    table is gone;
 *  - while the agent is not answering, the guardian reads new events from its
 *    own duplicate and answers them at once;
 *  - when the agent is dead, closing the guardian's fd (the group's last)
 *    makes the kernel allow whatever is still pending and drops the marks.
 *
 * Exactly one answer per event: whoever swaps a slot from fd+1 to 0 (agent or
 * guardian) writes the response; the other one does not. The agent closes its
 * event fd in both cases, so a number is not reused while its slot is live.
 *
 * All fields are accessed with __atomic builtins; CLOCK_MONOTONIC times.
 */
#ifndef BM_GUARDIAN_SHM_H
#define BM_GUARDIAN_SHM_H

#include <stdint.h>

#define BM_GUARD_MAGIC 0x62476d31u /* "bGm1" */
#define BM_GUARD_SLOTS 16384u
/* the agent's heartbeat period; the guardian looks at least this often */
#define BM_GUARD_BEAT_MS 100
/* fds the guardian is started with */
#define BM_GUARD_FD_GROUP 3
#define BM_GUARD_FD_SHM 4

typedef struct bm_guard_shm {
  uint32_t magic;
  int32_t agent_pid;
  int32_t fail_open;      /* the answer the guardian gives: 1 allow, 0 deny */
  int32_t stale_ms;       /* heartbeat older than this: the agent is not answering */
  uint32_t closing;       /* the agent is closing the sensor: answer the slots, exit */
  uint32_t takeover_now;  /* 1 while the guardian answers in the agent's place */
  uint64_t heartbeat_ns;  /* the agent's watchdog thread, every BM_GUARD_BEAT_MS */
  uint64_t answered;      /* events the guardian answered (slots, reads, sweeps) */
  uint64_t takeovers;     /* times the guardian found the agent not answering */
  int32_t slots[BM_GUARD_SLOTS]; /* fd + 1 of each read, unanswered event; 0 free */
} bm_guard_shm;

/* Claims a published slot for answering: 1 when this caller must answer fd. */
static inline int bm_guard_claim(bm_guard_shm *g, uint32_t slot, int32_t fd) {
  int32_t want = fd + 1;
  return __atomic_compare_exchange_n(&g->slots[slot], &want, 0, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

/* Publishes fd from a free slot at or after *hint. Returns slot + 1, 0 when full. */
static inline uint32_t bm_guard_publish(bm_guard_shm *g, uint32_t *hint, int32_t fd) {
  uint32_t start = __atomic_load_n(hint, __ATOMIC_RELAXED);
  for (uint32_t i = 0; i < BM_GUARD_SLOTS; i++) {
    uint32_t k = (start + i) & (BM_GUARD_SLOTS - 1);
    int32_t zero = 0;
    if (__atomic_load_n(&g->slots[k], __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(&g->slots[k], &zero, fd + 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED)) {
      __atomic_store_n(hint, (k + 1) & (BM_GUARD_SLOTS - 1), __ATOMIC_RELAXED);
      return k + 1;
    }
  }
  return 0;
}

#endif
