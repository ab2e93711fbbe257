/**
 * A place in the file system for the vault to move a file out of or into: a
 * checked parent directory and a name in it. The path is in the text form of
 * src/sensor/path_codec.ts. A path whose bytes are UTF-8 goes through node:fs
 * by name (every platform); one that is not (Linux) through an open descriptor
 * of its parent and `*at` calls on the exact bytes (ffi/libc_fs.ts), since
 * Deno's file APIs cannot name it.
 */
import * as fs from "node:fs";
import {
  AT_FDCWD,
  type ByteStat,
  closeFd,
  fsyncFd,
  linkAt,
  lstatAt,
  O,
  openAt,
  openBytes,
  readLinkBytes,
  renameAt,
  unlinkAt,
} from "../../ffi/libc_fs.ts";
import { bytesToPath, pathToBytes, pathToOsString } from "../sensor/path_codec.ts";
import { errText } from "../store/state_dir.ts";
import { BmError } from "../errors.ts";

/** What lstat tells of a place: ffi's ByteStat, whichever way the path went, less the mtime. */
export type PlaceStat = Omit<ByteStat, "mtimeMs">;

export interface Place {
  /** The path in its text form (for messages and the store). */
  readonly path: string;
  /** lstat of the name; throws (with `code`) when there is nothing. */
  lstat(): PlaceStat;
  /** Renames the name to `to`, a path Deno can name (the vault). */
  renameTo(to: string): void;
  /** Renames `from` (a path Deno can name) to the name, replacing what is there. */
  renameFrom(from: string): void;
  /** Hard-links `from` to the name; EEXIST when it exists. */
  linkFrom(from: string): void;
  unlink(): void;
  /** Opens the name O_RDONLY|O_NOFOLLOW; a node:fs descriptor. */
  openRead(): number;
  /** A path Deno can name for `name` (plain ASCII) in the same directory. */
  sibling(name: string): string;
  /** fsync of the parent directory. */
  syncDir(): void;
  close(): void;
}

/**
 * The place `path` names, after checking it: absolute, a real file name, and
 * every directory on the way its own real path (no symlink, no `..`). Throws a
 * refusal (exit 2) naming `verb` otherwise.
 */
export function openPlace(path: string, verb: string): Place {
  if (!path.startsWith("/")) throw refuse(verb, path, "not an absolute path");
  const cut = path.lastIndexOf("/");
  const parent = cut <= 0 ? "/" : path.slice(0, cut);
  const base = path.slice(cut + 1);
  if (base === "" || base === "." || base === "..") throw refuse(verb, path, "not a file name");
  const osPath = pathToOsString(path);
  return osPath === undefined
    ? new BytePlace(path, parent, base, verb)
    : namedPlace(path, osPath, verb);
}

function toStat(s: fs.Stats): PlaceStat {
  return {
    isFile: s.isFile(),
    isDirectory: s.isDirectory(),
    isSymbolicLink: s.isSymbolicLink(),
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    ino: s.ino,
    dev: s.dev,
  };
}

function namedPlace(path: string, osPath: string, verb: string): Place {
  const i = osPath.lastIndexOf("/");
  const parent = i <= 0 ? "/" : osPath.slice(0, i);
  let real: string;
  try {
    real = fs.realpathSync(parent);
  } catch (e) {
    throw refuse(verb, path, `directory "${dirText(path)}": ${errText(e)}`);
  }
  if (real !== parent) {
    throw refuse(
      verb,
      path,
      `directory "${dirText(path)}" goes through a symlink (to "${real}")`,
    );
  }
  return {
    path,
    lstat: () => toStat(fs.lstatSync(osPath)),
    renameTo: (to) => fs.renameSync(osPath, to),
    renameFrom: (from) => fs.renameSync(from, osPath),
    linkFrom: (from) => fs.linkSync(from, osPath),
    unlink: () => fs.unlinkSync(osPath),
    openRead: () => fs.openSync(osPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW),
    sibling: (name) => `${parent === "/" ? "" : parent}/${name}`,
    syncDir: () => {
      const fd = fs.openSync(parent, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    },
    close: () => {},
  };
}

function dirText(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

// The vault and /proc paths are OS strings (UTF-8), not the text form.
const utf8 = new TextEncoder();

/** A name that is not UTF-8: the parent stays open and every call is relative to it. */
class BytePlace implements Place {
  readonly path: string;
  #dir: number;
  #name: Uint8Array;

  constructor(path: string, parent: string, base: string, verb: string) {
    this.path = path;
    this.#name = pathToBytes(base);
    let dir: number;
    try {
      dir = openBytes(pathToBytes(parent), O.RDONLY | O.DIRECTORY);
    } catch (e) {
      throw refuse(verb, path, `directory "${parent}": ${errText(e)}`);
    }
    // The directory opened must be the one named: the kernel's path of the
    // descriptor is the real path, so any symlink or `..` on the way shows.
    let real: string;
    try {
      real = bytesToPath(readLinkBytes(`/proc/self/fd/${dir}`));
    } catch (e) {
      closeFd(dir);
      throw refuse(verb, path, `directory "${parent}": ${errText(e)}`);
    }
    if (real !== parent) {
      closeFd(dir);
      throw refuse(verb, path, `directory "${parent}" goes through a symlink (to "${real}")`);
    }
    this.#dir = dir;
  }

  lstat(): PlaceStat {
    return lstatAt(this.#dir, this.#name);
  }

  renameTo(to: string): void {
    renameAt(this.#dir, this.#name, AT_FDCWD, utf8.encode(to));
  }

  renameFrom(from: string): void {
    renameAt(AT_FDCWD, utf8.encode(from), this.#dir, this.#name);
  }

  linkFrom(from: string): void {
    linkAt(AT_FDCWD, utf8.encode(from), this.#dir, this.#name);
  }

  unlink(): void {
    unlinkAt(this.#dir, this.#name);
  }

  openRead(): number {
    const raw = openAt(this.#dir, this.#name, O.RDONLY | O.NOFOLLOW);
    try {
      // Opening the descriptor's /proc link opens the same file, by a name Deno can pass.
      return fs.openSync(`/proc/self/fd/${raw}`, fs.constants.O_RDONLY);
    } finally {
      closeFd(raw);
    }
  }

  sibling(name: string): string {
    return `/proc/self/fd/${this.#dir}/${name}`;
  }

  syncDir(): void {
    fsyncFd(this.#dir);
  }

  close(): void {
    if (this.#dir >= 0) closeFd(this.#dir);
    this.#dir = -1;
  }
}

/** A refusal (the path or what is there) is bad input, exit 2; a failure of the OS is exit 1. */
export function refuse(verb: string, path: string, why: string, exitCode: 1 | 2 = 2): BmError {
  return new BmError(`Cannot ${verb} "${path}": ${why}`, exitCode);
}
