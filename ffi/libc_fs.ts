/**
 * File calls on byte names (Linux libc through FFI). Deno's file APIs take
 * strings, which cannot name a file whose name is not UTF-8; these calls take
 * the exact bytes (src/sensor/path_codec.ts). Directory-relative (`*at`) so a
 * caller opens the parent once, checks it, and acts on the name inside it.
 *
 * Failures throw an Error with the errno's `code` ("ENOENT", "EXDEV", ...), as
 * node:fs does, so callers handle both alike.
 */
import * as fs from "node:fs";
import { BmError } from "../src/errors.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  fsync: { parameters: ["i32"], result: "i32" },
  renameat: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  linkat: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** Linux (x86_64 and aarch64 share these values). */
export const AT_FDCWD = -100;
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  CREAT: 0o100,
  EXCL: 0o200,
  NOFOLLOW: 0o400000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  CLOEXEC: 0o2000000,
} as const;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS = 0x7ff;

const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  13: "EACCES",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  39: "ENOTEMPTY",
  40: "ELOOP",
  95: "EOPNOTSUPP",
};
const MESSAGE: Record<string, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EEXIST: "file exists",
  EXDEV: "cross-device link",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  ENAMETOOLONG: "file name too long",
};

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Lib | undefined;

function libc(): Lib {
  if (lib) return lib;
  if (Deno.build.os !== "linux") {
    throw new BmError("File names that are not UTF-8 are supported on Linux only");
  }
  // The C library Deno itself runs on (already loaded, so no new code is trusted).
  lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

/** NUL-terminated copy of `b`. */
function cstr(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

function fail(call: string): never {
  const p = libc().__errno_location();
  const errno = p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
  const code = ERRNO[errno] ?? `errno ${errno}`;
  const e = new Error(`${call}: ${MESSAGE[code] ?? code}`) as Error & { code: string };
  e.code = code;
  throw e;
}

function check(r: number, call: string): number {
  if (r < 0) fail(call);
  return r;
}

/** open(2) on a byte path; returns the descriptor. */
export function openBytes(path: Uint8Array, flags: number, mode = 0): number {
  return check(libc().open(cstr(path), flags | O.CLOEXEC, mode), "open");
}

/** openat(2) of `name` in the directory `dir`; returns the descriptor. */
export function openAt(dir: number, name: Uint8Array, flags: number, mode = 0): number {
  return check(libc().openat(dir, cstr(name), flags | O.CLOEXEC, mode), "openat");
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

export function fsyncFd(fd: number): void {
  check(libc().fsync(fd), "fsync");
}

/** renameat(2); a string side is an absolute path Deno can name (the vault). */
export function renameAt(
  fromDir: number,
  from: Uint8Array,
  toDir: number,
  to: Uint8Array,
): void {
  check(libc().renameat(fromDir, cstr(from), toDir, cstr(to)), "rename");
}

/** linkat(2) without following a symlink at `from`. */
export function linkAt(fromDir: number, from: Uint8Array, toDir: number, to: Uint8Array): void {
  check(libc().linkat(fromDir, cstr(from), toDir, cstr(to), 0), "link");
}

export function unlinkAt(dir: number, name: Uint8Array): void {
  check(libc().unlinkat(dir, cstr(name), 0), "unlink");
}

/** readlink(2): the bytes of the link (for /proc/self/fd/N, the path of what N opens). */
export function readLinkBytes(path: string): Uint8Array {
  const buf = new Uint8Array(4097);
  const n = Number(libc().readlink(cstr(new TextEncoder().encode(path)), buf, BigInt(buf.length)));
  if (n < 0) fail("readlink");
  if (n >= buf.length) throw new Error("readlink: path too long");
  return buf.slice(0, n);
}

/** What lstat tells of a file, in node:fs terms (`dev` as st_dev encodes it). */
export interface ByteStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  dev: number;
  /** Last modification, ms since the epoch with the nanoseconds as the fraction. */
  mtimeMs: number;
}

/** statx(2) of `name` in `dir`, not following a symlink. */
export function lstatAt(dir: number, name: Uint8Array): ByteStat {
  check(
    libc().statx(dir, cstr(name), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, statxBuf),
    "stat",
  );
  return fromStatx();
}

/** fstat of an open descriptor (statx with AT_EMPTY_PATH). */
export function fstatFd(fd: number): ByteStat {
  check(libc().statx(fd, EMPTY, AT_EMPTY_PATH, STATX_BASIC_STATS, statxBuf), "fstat");
  return fromStatx();
}

/** read(2) of at most `len` bytes into `buf`; returns how many (0 at the end). */
export function readFd(fd: number, buf: Uint8Array<ArrayBuffer>, len: number): number {
  if (len > buf.length) throw new RangeError(`read: ${len} bytes into a ${buf.length}-byte buffer`);
  const n = Number(libc().read(fd, buf, BigInt(len)));
  if (n < 0) fail("read");
  return n;
}

// struct statx has one layout on every Linux architecture; one buffer, read at once.
const statxBuf = new Uint8Array(256);
const statxView = new DataView(statxBuf.buffer);
const EMPTY = new Uint8Array(1);

function fromStatx(): ByteStat {
  const dv = statxView;
  const mode = dv.getUint16(0x1c, true);
  const major = dv.getUint32(0x88, true);
  const minor = dv.getUint32(0x8c, true);
  const type = mode & 0o170000;
  return {
    isFile: type === 0o100000,
    isDirectory: type === 0o040000,
    isSymbolicLink: type === 0o120000,
    mode,
    uid: dv.getUint32(0x14, true),
    gid: dv.getUint32(0x18, true),
    size: Number(dv.getBigUint64(0x28, true)),
    ino: Number(dv.getBigUint64(0x20, true)),
    // The kernel's new_encode_dev, which st_dev (and so node:fs) carries.
    dev: (minor & 0xff) | (major << 8) | ((minor & ~0xff) * 4096),
    mtimeMs: Number(dv.getBigInt64(0x70, true)) * 1000 + dv.getUint32(0x78, true) / 1e6,
  };
}

/**
 * Opens the byte path with libc (`flags`, O_NOFOLLOW honoured) and hands back
 * a node:fs descriptor of the same open file: reopening /proc/self/fd/N opens
 * what N opened, by a name Deno can pass. `reopenFlags` are for node:fs.
 */
export function openForNode(path: Uint8Array, flags: number, reopenFlags: number): number {
  const raw = openBytes(path, flags);
  try {
    return fs.openSync(`/proc/self/fd/${raw}`, reopenFlags);
  } finally {
    closeFd(raw);
  }
}
