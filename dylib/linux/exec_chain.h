/*
 * exec_chain.h - one execve, one exec record (Linux).
 *
 * One execve raises several FAN_OPEN_EXEC_PERM events from the same process:
 * the file executed, then, for a `#!` script, its interpreter (and the
 * interpreter's own `#!` interpreter, nested up to the kernel's limit), and
 * for a dynamically linked ELF file its loader (PT_INTERP). They all happen
 * before the exec's point of no return, and the proc connector's exec event
 * comes only after the last of them. So when a process's exec permission
 * event arrives, the sensor reads the file's first bytes and notes which file
 * the same execve would open next (the `#!` interpreter or the PT_INTERP
 * loader, resolved in the process's root). A following exec permission event
 * of that process for exactly that file (same device and inode) belongs to
 * the exec in flight: it is answered at once in C and not reported. Any other
 * file is a new exec and is judged as usual, so a process cannot pass an
 * arbitrary file off as its loader. The proc connector's exec event ends the
 * chain and, for a script, takes the script's path with it (BM_STR_SCRIPT).
 *
 * Slots are keyed by pid (collisions only forget a chain: the follower is
 * then judged like any exec, as before). Thread-safe: the agent's waiting
 * thread and the sensor thread both read permission events.
 */
#ifndef BM_EXEC_CHAIN_H
#define BM_EXEC_CHAIN_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define BM_EXEC_CHAIN_SLOTS 16384u

typedef struct bm_exec_slot {
  int32_t pid;      /* 0 free */
  uint64_t dev, ino; /* the file the execve opens next; 0/0 none expected */
  int depth;        /* followers so far */
  char *script;     /* the #! script the execve started with (malloc'd), or NULL */
} bm_exec_slot;

typedef struct bm_exec_chain {
  pthread_mutex_t mu;
  bm_exec_slot *slots; /* BM_EXEC_CHAIN_SLOTS */
} bm_exec_chain;

int bm_exec_chain_init(bm_exec_chain *t);
void bm_exec_chain_free(bm_exec_chain *t);

/*
 * The file an execve of the file open on fd opens next, read from its first
 * bytes: a `#!` line's interpreter, or an ELF file's PT_INTERP, as a path
 * resolved under root ("/proc/PID/root", or "" for this process's root).
 * Returns 1 with dev/ino and *script (1 for `#!`), or 0 when none.
 */
int bm_exec_next_file(int fd, const char *root, uint64_t *dev, uint64_t *ino, int *script);

/*
 * An exec permission event of pid for the file on fd (path: its path, may be
 * NULL). Returns 1 when it is the file pid's execve in flight opens next (a
 * follower: answer it, report nothing), else 0: a new exec, which starts a
 * new chain.
 */
int bm_exec_chain_event(bm_exec_chain *t, int32_t pid, int fd, const char *path);

/*
 * The proc connector's exec (or exit) of pid: ends its chain. When the execve
 * started with a `#!` script, copies its path into script[cap] and returns 1.
 */
int bm_exec_chain_end(bm_exec_chain *t, int32_t pid, char *script, size_t cap);

#endif
