/*
 * bm_sensor.h - the one C ABI between the bm agent (Deno FFI) and the native
 * sensors (Linux: fanotify + proc connector, dylib/linux; macOS:
 * EndpointSecurity, dylib/macos). Shared code lives in dylib/common.
 *
 * Threading: bm_sensor_wait may block (bind it as `nonblocking: true`); every
 * other call returns at once and may be called while a wait is pending. On
 * Linux the waiting thread also reads and enriches permission events itself
 * (fewer thread wake-ups per exec); the library's own thread takes over
 * whenever no wait is pending.
 * Per-batch calls use only 32-bit integers, pointers and buffers (64-bit
 * integers become BigInt in Deno and cost 5-10x).
 *
 * Invariants the library keeps on its own, whatever the agent does:
 *  - every auth event gets exactly one answer: the agent's, a fast-path
 *    table's, or the watchdog's fail-open default at (deadline - margin);
 *  - when the ring is full, notify events are dropped and auth events are
 *    answered at once with the default; both are counted;
 *  - the agent's own process (own_pid and its threads) is never held, nor
 *    (Linux) a child it is spawning (forked, still the agent's image): the
 *    agent may be blocked in spawn waiting for that exec.
 *
 * ---------------------------------------------------------------------------
 * Record layout (version BM_RECORD_VERSION), little-endian, each record starts
 * at an 8-byte aligned offset of the drain buffer and `size` includes padding:
 *
 *   off size type  field
 *    0   4   u32   size          bytes of this record incl. padding (multiple of 8)
 *    4   2   u16   version       BM_RECORD_VERSION
 *    6   1   u8    kind          BM_KIND_*
 *    7   1   u8    flags         BM_FLAG_*
 *    8   4   u32   seq           sensor sequence number (gaps = drops)
 *   12   4   u32   auth_id       non-zero when the event waits for an answer
 *   16   8   f64   time_ms       event time, ms since the Unix epoch
 *   24   8   f64   deadline_ms   auth only: answer deadline, ms since epoch (0 otherwise)
 *   32   8   f64   start_ms      process start time, ms since epoch (0 unknown)
 *   40   4   i32   pid           the process (fork: the child)
 *   44   4   i32   ppid          its parent (fork: the parent) (-1 unknown)
 *   48   4   i32   uid           real uid (-1 unknown)
 *   52   4   i32   euid          effective uid (-1 unknown)
 *   56   4   i32   aux           exit: exit code (or 128+signal); otherwise 0
 *   60   4   i32   responsible_pid  macOS responsible pid (0 none)
 *   64   4   i32   file_uid      owner of file.path (-1 unknown)
 *   68   4   u32   file_mode     st_mode of file.path (0 unknown)
 *   72   8   f64   file_size     size of file.path in bytes (-1 unknown)
 *   80   1   u8    stdin_kind    BM_STREAM_* of fd 0 (exec only)
 *   81   1   u8    stdout_kind   BM_STREAM_* of fd 1 (exec only)
 *   82   2   u16   nstr          number of strings that follow
 *   84   4   u32   reserved      0
 *   88   ..        strings       nstr times: u8 tag (BM_STR_*), u8 0, u16 len,
 *                                len bytes UTF-8 (not NUL-terminated); packed
 *
 * BM_STR_ARG appears once per argv element, in order. Unknown tags must be
 * skipped by readers (forward compatible); unknown kinds too.
 * ---------------------------------------------------------------------------
 */
#ifndef BM_SENSOR_H
#define BM_SENSOR_H

#include <stdint.h>

/*
 * Every function of this header, and only those, is exported: the library is
 * built with -fvisibility=hidden (dylib/Makefile), so anything else, shared
 * code and the test build's hooks (bm_sensor_testing.h) included, stays
 * inside it. ffi/abi_exports_test.ts reads the BM_API declarations below
 * and fails on any other exported symbol.
 */
#ifndef BM_API
#define BM_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define BM_SENSOR_ABI_VERSION 1u
#define BM_RECORD_VERSION 1u
#define BM_RECORD_HEADER_SIZE 88u
#define BM_STR_MAX 65535u

/* Record kinds: the index in src/sensor/event.ts EVENT_ACTIONS, plus one. */
enum bm_kind {
  BM_KIND_EXEC = 1,
  BM_KIND_FORK = 2,
  BM_KIND_EXIT = 3,
  BM_KIND_OPEN = 4,
  BM_KIND_CLOSE_MODIFIED = 5,
  BM_KIND_CREATE = 6,
  BM_KIND_RENAME = 7,
  BM_KIND_UNLINK = 8,
  BM_KIND_SETXATTR = 9,
  BM_KIND_DELETEXATTR = 10,
  BM_KIND_LAUNCH_ITEM_ADD = 11,
};

/* Record flags. */
enum bm_flag {
  BM_FLAG_AUTH = 1u << 0,            /* held; answer with bm_sensor_respond(auth_id) */
  BM_FLAG_PLATFORM_BINARY = 1u << 1, /* macOS: Apple platform binary */
  BM_FLAG_ENRICH_MISS = 1u << 2,     /* /proc facts lost the race with an exit */
  BM_FLAG_DIR = 1u << 3,             /* file.path is a directory */
  BM_FLAG_LATE = 1u << 4,            /* a held record (interest "hN"), sent before an exec of its path */
  BM_FLAG_HELD_WRITES = 1u << 5,     /* exec, exit: the process wrote held records (some may still come) */
};

/* How a standard stream is connected. */
enum bm_stream {
  BM_STREAM_UNKNOWN = 0,
  BM_STREAM_TTY = 1,
  BM_STREAM_SOCKET = 2, /* a network socket (TCP, UDP, raw...) */
  BM_STREAM_PIPE = 3,
  BM_STREAM_FILE = 4,
  BM_STREAM_NULL = 5,
  BM_STREAM_UNIX = 6, /* an AF_UNIX socket: socketpair stdio (Node, Python subprocess), local IPC */
};

/* String tags. */
enum bm_str {
  BM_STR_EXECUTABLE = 1,  /* process.executable */
  BM_STR_ARG = 2,         /* process.args[i], repeated in order */
  BM_STR_CWD = 3,         /* process.working_directory */
  BM_STR_PATH = 4,        /* file.path */
  BM_STR_TARGET_PATH = 5, /* file.target_path (rename destination) */
  BM_STR_SIGNING_ID = 6,  /* macOS code signing id */
  BM_STR_TEAM_ID = 7,     /* macOS team id */
  BM_STR_CDHASH = 8,      /* macOS cdhash, lowercase hex */
  BM_STR_TTY = 9,         /* controlling tty path */
  BM_STR_XATTR = 10,      /* extended attribute name */
  BM_STR_LAUNCH_ITEM = 11,       /* macOS BTM item plist or executable */
  BM_STR_PARENT_EXECUTABLE = 12, /* process.parent.executable when known */
  BM_STR_ENV = 13,               /* process.env_vars[i]: "NAME=value", repeated */
  BM_STR_SCRIPT = 14,            /* process.script: the #! script this image (its interpreter) runs */
};

/*
 * Statistics: the counters of SensorStats (src/sensor/sensor.ts), in order,
 * then extras. bm_sensor_get_stats copies min(size, sizeof) bytes so older
 * callers keep working when fields are appended.
 */
typedef struct bm_sensor_stats {
  uint64_t events;             /* records delivered to the agent (drained) */
  uint64_t auth_by_agent;      /* auth events answered by the agent in time */
  uint64_t auth_by_watchdog;   /* answered by the watchdog with the default */
  uint64_t late_answers;       /* agent answers after the watchdog (or unknown id) */
  uint64_t dropped;            /* notify events dropped: ring full */
  uint64_t auth_ring_full;     /* auth events answered at once: ring full */
  uint64_t enrichment_misses;  /* /proc reads that lost the race with an exit */
  uint64_t fast_path_answers;  /* auth answered in C by the allow cache or deny tables */
  uint64_t own_pid_skips;      /* auth events of the agent (or its child's exec), allowed at once */
  uint64_t held_now;           /* auth events currently waiting */
  uint64_t queue_errors;       /* OS queue overflows / read errors reported by the kernel */
  uint64_t answer_failures;    /* answers the OS refused, after one retry (Linux: write(2) failed) */
  uint64_t auth_by_guardian;   /* Linux: answered by bm_guardian (agent dead, stopped or late) */
  uint64_t guardian_restarts;  /* Linux: bm_guardian found dead and started again */
  uint64_t guardian_pid;       /* Linux: the running bm_guardian's pid, 0 none */
  uint64_t env_misses;         /* execs whose environment could not be read whole (gone, > 64 KiB) */
  uint64_t exec_followers;     /* Linux: loader / #! interpreter opens answered as part of their exec */
  uint64_t filtered;           /* notify records the interest filter dropped (bm_sensor_set_interest) */
  uint64_t held_records;       /* records held by an "hN" pattern instead of sent */
  uint64_t held_released;      /* held records sent (BM_FLAG_LATE) before an exec of their path */
  uint64_t held_forgotten;     /* held records forgotten: their file unlinked, their time up, the filter replaced */
  uint64_t hold_full;          /* records an "hN" pattern would hold, sent because the hold table was full */
} bm_sensor_stats;

typedef struct bm_sensor bm_sensor; /* opaque */

/* Returns BM_SENSOR_ABI_VERSION of the loaded library. */
BM_API uint32_t bm_sensor_abi_version(void);

/* Wall clock in ms since the epoch (as in record time_ms), sub-ms precision. */
BM_API double bm_sensor_now_ms(void);

/*
 * Opens and starts a sensor. `config` is NUL-terminated text, one key=value a
 * line (unknown keys are an error; every key has a default):
 *   auth_deadline_ms=5000   time an auth event may be held (Linux: bm's own
 *                           deadline; macOS: min(this, ES deadline))
 *   deadline_margin_ms=1000 the watchdog answers at deadline - margin
 *   fail_open=1             default answer of watchdog/ring-full: 1 allow, 0 deny
 *   exec_auth=1             hold execs for an answer (blockExecution); 0 = notify
 *   open_auth=0             hold opens for an answer too
 *   avoid_open_cache=0      never let the OS/allow cache remember open decisions
 *   notify_forks=1          report fork records
 *   notify_files=1          report create/rename/unlink/close_modified records
 *   marks=filesystem        filesystem (each `mount` is marked as a whole
 *                           filesystem; none given = every local filesystem
 *                           mounted now or later, see bm_sensor_marks) or
 *                           mounts (each `mount` only)
 *   mount=/path             repeatable
 *   network=0               with marks=filesystem and no mount: mark network
 *                           filesystems (nfs, cifs, fuse.sshfs...) too
 *   env=NAME                repeatable, at most 16: environment variables an
 *                           exec record carries (BM_STR_ENV, value cut at
 *                           1 KiB; Linux reads at most 64 KiB of
 *                           /proc/PID/environ, macOS takes the ES exec event's)
 *   ring_bytes=8388608      ring buffer capacity
 *   own_pid=N               the agent's pid: never held (default getpid())
 *   guardian=PATH|off       Linux: the bm_guardian program that answers held
 *                           events when the agent is dead or stopped (default:
 *                           bm_guardian beside this library; it must be
 *                           root-owned and not group/world-writable); off =
 *                           none (a guardian that cannot start is retried
 *                           every second and shows as guardian_pid 0)
 *   notify_latency_ms=2     bm_sensor_wait returns at once for auth records;
 *                           notify-only batches may wait this long to grow
 *                           (0 = wake for every record)
 * On failure returns NULL and writes one line (capitalised, no final period)
 * naming what is missing into err[err_len], e.g. "Not running as root" or
 * "Kernel lacks fanotify permission events: ...".
 */
BM_API bm_sensor *bm_sensor_open(const char *config, char *err, uint32_t err_len);

/*
 * Blocks until records are ready (an auth record at once; notify records
 * after notify_latency_ms or a full batch), the timeout (ms, < 0 = forever)
 * passes or the sensor closes. Returns 1 records queued, 0 none, -1 closed.
 * Bind with `nonblocking: true`.
 */
BM_API int32_t bm_sensor_wait(bm_sensor *s, int32_t timeout_ms);

/*
 * Copies as many whole records as fit into buf[cap] (cap >= 64 KiB advised;
 * a record never exceeds BM_RECORD_HEADER_SIZE + 256 KiB). Returns bytes
 * written (0 = none ready), -1 when closed.
 */
BM_API int32_t bm_sensor_drain(bm_sensor *s, uint8_t *buf, uint32_t cap);

/*
 * Answers a held auth event. allow: 1/0. cache: 1 lets the allow cache (and,
 * where safe, the OS) remember an allow for this file until it changes or the
 * cache is cleared. Returns 0 answered, 1 too late or unknown id (counted in
 * late_answers), -1 bad handle.
 */
BM_API int32_t bm_sensor_respond(bm_sensor *s, uint32_t auth_id, int32_t allow, int32_t cache);

/* Push-down tables, answered in C without waking the agent. */
/* on=1 denies every further exec by pid (and its children forked later); on=0 removes. */
BM_API int32_t bm_sensor_deny_pid(bm_sensor *s, int32_t pid, int32_t on);
/* on=1 denies every exec of this executable path (NUL-terminated); on=0 removes. */
BM_API int32_t bm_sensor_deny_path(bm_sensor *s, const char *path, int32_t on);
/* enabled=1 (default 0): auth events for files in the allow cache are allowed in C. */
BM_API int32_t bm_sensor_allow_cache_enable(bm_sensor *s, int32_t enabled);
/* Forgets every cached allow (rules or settings changed). */
BM_API int32_t bm_sensor_allow_cache_clear(bm_sensor *s);

/*
 * The interest filter: which notify records the agent can use (it compiles
 * this from its rules); the others are dropped in the library, counted in
 * `filtered`, and get no seq (no gap). Auth records always pass. `spec` is
 * NUL-terminated text, one pattern a line,
 * "KIND\tPREFIX\tSUFFIX[\tCONTAINS[\tFLAGS[\tNAMES[\tSIZES]]]]" (KIND a
 * BM_KIND_* number): a record of that kind passes when its file path or
 * rename target starts with PREFIX, ends with SUFFIX and contains CONTAINS,
 * and FLAGS allow ("i": ASCII letters compare without case; "mN": the
 * record's file mode has one of the bits N, decimal; "e": the path is the
 * process's executable; "hN": hold, see below), NAMES allow ("a/b": the process's name, the base
 * name of its executable as the agent knows it from the exec, fork and exit
 * records before, is one of them; "!a/b": none of them; an unknown one
 * passes either way) and SIZES allow
 * ("68,73": the size of file.path, the record's or an lstat's, is one of
 * them; a file that cannot be stat'ed passes). A path with a byte above 127
 * or a backslash (the agent matches its text form, \xNN and \\) passes
 * whatever its mode, names and sizes allow. A
 * line with every field empty passes every record of the kind. Kinds no line names are dropped, kinds above 31
 * always pass, and so does a path longer than 4096 bytes or a record of a
 * named kind without a path.
 * Hold ("hN", N ms): a record that only such patterns pass is not sent but
 * held (at most 24,576, N ms each; a fuller table sends it): an exec record
 * whose executable, file path or script is the held record's file.path sends
 * it first, flagged BM_FLAG_LATE, with its own time, process and file fields
 * (its seq is the one it gets then); an unlink of the path forgets it, and so
 * does time. Made for a rule that needs a written file only if it is then run
 * (a drop-then-exec pair), so a tree written and removed in /tmp never
 * reaches the agent. The exec and exit records of a process that wrote held
 * records carry BM_FLAG_HELD_WRITES.
 * NULL = no filter (the default). Replaces the
 * previous filter at once. Returns 0, or -1 with a one-line reason in
 * err[err_len] (the previous filter stays) or on a bad handle.
 */
BM_API int32_t bm_sensor_set_interest(bm_sensor *s, const char *spec, char *err, uint32_t err_len);

/* Copies counters into out (min(size, sizeof(bm_sensor_stats)) bytes). Returns bytes copied. */
BM_API int32_t bm_sensor_get_stats(bm_sensor *s, bm_sensor_stats *out, uint32_t size);

/*
 * What the sensor marks (Linux): one line per filesystem, fields separated by
 * tabs, "marked\tMOUNT_POINT\tTYPE\n" or
 * "unmarked\tMOUNT_POINT\tTYPE\tREASON\n"; tab, newline and backslash in a
 * mount point are written as \011, \012, \134. Writes whole lines into
 * buf[cap] while they fit. Returns bytes written (0 on macOS), -1 bad handle.
 */
BM_API int32_t bm_sensor_marks(bm_sensor *s, uint8_t *buf, uint32_t cap);

/* Stops the sensor: answers every held event with the default, wakes waiters, frees. */
BM_API void bm_sensor_close(bm_sensor *s);

/*
 * Process inspection for the kill response (no sensor handle needed; safe to
 * call from any thread). Struct layouts stay in C, compiled against the OS
 * headers (macOS: libproc; Linux: /proc).
 *
 * bm_proc_info: parent pid, start time (ms since the epoch) and a one-letter
 * state like /proc's ('R' running, 'S' sleeping, 'T' stopped, 'Z' zombie,
 * Linux also 'D', 'I', ...; '?' unknown). Returns 0 ok, 1 no such process,
 * -1 error (e.g. not permitted, or a NULL out pointer).
 */
BM_API int32_t bm_proc_info(int32_t pid, int32_t *ppid, double *start_ms, uint8_t *state);
/*
 * Writes up to cap direct child pids of pid into out. Returns the number
 * written (0 when pid has none or does not exist; == cap may mean truncated:
 * retry with more room), -1 error.
 */
BM_API int32_t bm_proc_children(int32_t pid, int32_t *out, int32_t cap);

#ifdef __cplusplus
}
#endif
#endif /* BM_SENSOR_H */
