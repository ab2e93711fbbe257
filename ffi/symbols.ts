/**
 * The C ABI of dylib/include/bm_sensor.h as a Deno FFI symbol table.
 *
 * Per-batch calls (wait, drain, respond) take only 32-bit integers, pointers
 * and buffers: 64-bit integers would arrive as BigInt and cost 5-10x.
 * `bm_sensor_wait` blocks, so it runs on Deno's blocking pool
 * (`nonblocking: true`) and resolves a promise.
 *
 * Only the functions of bm_sensor.h, which is all a shipped library exports
 * (ffi/abi_exports_test.ts checks both); the test build's hooks are bound by
 * ffi/synthetic_test_utils.ts.
 */
export const SYMBOLS = {
  bm_sensor_abi_version: { parameters: [], result: "u32" },
  bm_sensor_now_ms: { parameters: [], result: "f64" },
  bm_sensor_open: { parameters: ["buffer", "buffer", "u32"], result: "pointer" },
  bm_sensor_wait: { parameters: ["pointer", "i32"], result: "i32", nonblocking: true },
  bm_sensor_wait_sync: { name: "bm_sensor_wait", parameters: ["pointer", "i32"], result: "i32" },
  bm_sensor_drain: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  bm_sensor_respond: { parameters: ["pointer", "u32", "i32", "i32"], result: "i32" },
  bm_sensor_deny_pid: { parameters: ["pointer", "i32", "i32"], result: "i32" },
  bm_sensor_deny_path: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  bm_sensor_allow_cache_enable: { parameters: ["pointer", "i32"], result: "i32" },
  bm_sensor_allow_cache_clear: { parameters: ["pointer"], result: "i32" },
  bm_sensor_get_stats: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  bm_sensor_marks: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  bm_sensor_set_interest: { parameters: ["pointer", "buffer", "buffer", "u32"], result: "i32" },
  bm_sensor_close: { parameters: ["pointer"], result: "void" },
  bm_proc_info: { parameters: ["i32", "buffer", "buffer", "buffer"], result: "i32" },
  bm_proc_children: { parameters: ["i32", "buffer", "i32"], result: "i32" },
} as const;

/** The ABI version this binding speaks (BM_SENSOR_ABI_VERSION). */
export const ABI_VERSION = 1;

/** Record layout constants (see bm_sensor.h). */
export const RECORD_VERSION = 1;
export const HEADER_SIZE = 88;

export const OFF = {
  size: 0,
  version: 4,
  kind: 6,
  flags: 7,
  seq: 8,
  authId: 12,
  time: 16,
  deadline: 24,
  start: 32,
  pid: 40,
  ppid: 44,
  uid: 48,
  euid: 52,
  aux: 56,
  responsiblePid: 60,
  fileUid: 64,
  fileMode: 68,
  fileSize: 72,
  stdinKind: 80,
  stdoutKind: 81,
  nstr: 82,
} as const;

export const FLAG = {
  auth: 1,
  platformBinary: 2,
  enrichMiss: 4,
  dir: 8,
  late: 16,
  heldWrites: 32,
} as const;

export const STR = {
  executable: 1,
  arg: 2,
  cwd: 3,
  path: 4,
  targetPath: 5,
  signingId: 6,
  teamId: 7,
  cdhash: 8,
  tty: 9,
  xattr: 10,
  launchItem: 11,
  parentExecutable: 12,
  env: 13,
  script: 14,
} as const;

/** bm_sensor_stats: u64 fields in this order. */
export const STATS_FIELDS = [
  "events",
  "authByAgent",
  "authByWatchdog",
  "lateAnswers",
  "dropped",
  "authRingFull",
  "enrichmentMisses",
  "fastPathAnswers",
  "ownPidSkips",
  "heldNow",
  "queueErrors",
  "answerFailures",
  "authByGuardian",
  "guardianRestarts",
  "guardianPid",
  "envMisses",
  "execFollowers",
  "filtered",
  "heldRecords",
  "heldReleased",
  "heldForgotten",
  "holdFull",
] as const;
