/**
 * Files bm loads (configuration, rule files, the RTP blocklist, the native
 * library) must be changeable by root alone (invariant 7). One check serves
 * them all: open the file, check owner and mode on the open descriptor
 * (fstat: the file checked is the file read, no check-then-open race), check
 * the directory it really sits in, then read from the same descriptor.
 *
 * The rules: the file is owned by root and writable by neither its group nor
 * other users; its directory is owned by root and either not writable by
 * others or sticky (like /tmp: only a file's owner may rename or delete it
 * there, so a root-owned file cannot be swapped by another user).
 */
import fs from "node:fs";
import { PermissionError } from "./errors.ts";

export interface TrustOptions {
  /** false: read without the ownership checks (tests, offline tools on the user's own files). */
  check?: boolean;
  /** The uid that counts as root (tests); 0 unless told. */
  rootUid?: number;
}

/** A file (or its directory) another user could change: refused. */
export class UntrustedFileError extends PermissionError {
  constructor(readonly path: string, readonly reason: string) {
    super(`Refusing "${path}": ${reason}`);
  }
}

/** Why a file with this owner and mode is unsafe to load, or undefined. */
export function ownershipProblem(
  info: { uid: number | null; mode: number | null },
  rootUid = 0,
): string | undefined {
  if (info.uid !== null && info.uid !== rootUid) {
    return `owned by uid ${info.uid}, not root: only root may be able to change it`;
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    const who = (info.mode & 0o002) !== 0 ? "every user" : "its group";
    return `writable by ${who} (mode ${modeText(info.mode)}): only root may be able to change it`;
  }
  return undefined;
}

/** Why the directory holding a loaded file is unsafe (others could replace the file), or undefined. */
export function directoryProblem(
  info: { uid: number | null; mode: number | null },
  rootUid = 0,
): string | undefined {
  if (info.uid !== null && info.uid !== rootUid) {
    return `its directory is owned by uid ${info.uid}, not root: only root may be able to change it`;
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0) {
    return `its directory is writable by other users (mode ${
      modeText(info.mode)
    }): only root may be able to change it`;
  }
  return undefined;
}

/**
 * Opens `path` for reading and checks it (see the module comment). Returns
 * the open descriptor; the caller closes it. Throws UntrustedFileError when
 * refused, Deno.errors.NotFound / PermissionDenied / IsADirectory or another
 * Error when it cannot be opened.
 */
export function openTrustedFile(path: string, options: TrustOptions = {}): number {
  let fd: number;
  try {
    // Nonblocking: opening a FIFO must not wait for a writer (it is refused below).
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw denoError(e, path);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error("not a regular file");
    if (options.check === false) return fd;
    const rootUid = options.rootUid ?? 0;
    const why = ownershipProblem(st, rootUid) ??
      directoryProblem(directoryInfo(realDirectory(path, fd)), rootUid);
    if (why !== undefined) throw new UntrustedFileError(path, why);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Reads a checked file whole (see `openTrustedFile` for what is refused and thrown). */
export function readTrustedFileSync(path: string, options: TrustOptions = {}): Uint8Array {
  const fd = openTrustedFile(path, options);
  try {
    return new Uint8Array(fs.readFileSync(fd));
  } catch (e) {
    throw denoError(e, path);
  } finally {
    fs.closeSync(fd);
  }
}

/** `readTrustedFileSync` for async callers: the files bm loads are small. */
export function readTrustedFile(path: string, options: TrustOptions = {}): Promise<Uint8Array> {
  try {
    return Promise.resolve(readTrustedFileSync(path, options));
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * A path naming the open descriptor itself, for loaders that only take a path
 * (dlopen): Linux's /proc/self/fd, else the path as given.
 */
export function descriptorPath(path: string, fd: number): string {
  if (Deno.build.os === "linux") {
    const p = `/proc/self/fd/${fd}`;
    try {
      Deno.statSync(p);
      return p;
    } catch { /* no /proc: the path as given */ }
  }
  return path;
}

/** The directory the open file really sits in (symlinks resolved). */
function realDirectory(path: string, fd: number): string {
  let real = path;
  try {
    real = Deno.build.os === "linux"
      ? Deno.readLinkSync(`/proc/self/fd/${fd}`)
      : Deno.realPathSync(path);
  } catch { /* no /proc: the directory of the path as given */ }
  const slash = real.lastIndexOf("/");
  return slash > 0 ? real.slice(0, slash) : slash === 0 ? "/" : ".";
}

function directoryInfo(dir: string): { uid: number | null; mode: number | null } {
  try {
    const st = Deno.statSync(dir);
    return { uid: st.uid, mode: st.mode };
  } catch (e) {
    throw new UntrustedFileError(dir, `cannot read its directory: ${(e as Error).message}`);
  }
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** node:fs errors as the Deno error classes the loaders already handle. */
function denoError(e: unknown, path: string): unknown {
  const code = (e as { code?: string }).code;
  if (code === "ENOENT") return new Deno.errors.NotFound(`No such file: "${path}"`);
  if (code === "EACCES" || code === "EPERM") {
    return new Deno.errors.PermissionDenied(`Permission denied: "${path}"`);
  }
  if (code === "EISDIR") return new Deno.errors.IsADirectory(`Is a directory: "${path}"`);
  return e;
}
